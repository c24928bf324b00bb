import type { Command } from 'commander';
import { IncompleteBackupError, incompleteCopiesOf, readCatalog, selectBackup, type CatalogEntry, type IncompleteCopy } from '../catalog/catalog';
import { VerifyError } from '../errors';
import { checkDecryptionKeys, missingDecryptionKey } from '../encryption/keys-check';
import { incompleteCopyVerification, verifyCopy, type CopyVerification } from '../restore/verify-archive';
import { storagesFrom } from '../storage';
import type { CommandContext } from './context';
import { formatDuration } from '../format';
import { defaultSourceName } from '../sources';

export function registerVerify(program: Command, context: CommandContext): void {
  program
    .command('verify')
    .description('re-read a backup from every target: size, sha256, decryption (with AGE_IDENTITY_FILE or AGE_PASSPHRASE), decompression, pg_restore --list; an incomplete copy fails')
    .argument('[backup]', 'latest, a number from `keepsake list`, or an id (an incomplete backup\'s too)', 'latest')
    .option('--from <target>', 'verify only the copy on this target (a name from BACKUP_TARGETS or OFFSITE_TARGETS)')
    .option('--db <name>', 'the source whose backup `latest` means: a database of POSTGRES_DB, globals, or a SQLite file by its stem (default: the first database)')
    .option('--json', 'print the result as JSON')
    .action(async (selector: string, options: { from?: string; db?: string; json?: boolean }) => {
      const config = context.config();
      const storages = storagesFrom(context.storages(), options.from);
      const catalog = await readCatalog(storages);
      // An incomplete backup is verified too: each of its copies fails, saying what is wrong.
      let entry: CatalogEntry | undefined;
      let broken: IncompleteCopy[];
      try {
        entry = selectBackup(catalog, selector, { database: options.db ?? defaultSourceName(config) });
        broken = incompleteCopiesOf(catalog, entry.manifest);
      } catch (error) {
        if (!(error instanceof IncompleteBackupError)) throw error;
        broken = error.copies;
      }
      const manifest = entry?.manifest ?? broken[0]!.manifest;
      // A wrong identity is a configuration problem (exit 78), not damage: said before anything is read.
      if (!missingDecryptionKey(manifest, config.encryption)) await checkDecryptionKeys(manifest, config.encryption);
      const copies: CopyVerification[] = [];
      // In the targets' order, whole copies and incomplete ones alike.
      for (const storage of storages) {
        if (entry?.copies.some((copy) => copy.storage === storage)) copies.push(await verifyCopy(entry, storage, { pgBinDir: config.pgBinDir, encryption: config.encryption, workDir: config.restore.workDir }));
        for (const copy of broken.filter((b) => b.storage === storage)) copies.push(incompleteCopyVerification(copy));
      }
      const ok = copies.every((copy) => copy.ok);
      if (options.json) {
        context.out(JSON.stringify({ ok, id: manifest.id, tier: manifest.tier, copies }, null, 2));
      } else {
        for (const copy of copies) {
          context.out(`${copy.ok ? 'OK' : 'FAILED'} ${manifest.tier}/${manifest.id} on ${copy.target} (${copy.location}) in ${formatDuration(copy.durationMs)}`);
          for (const check of copy.checks) context.out(`  ${check.skipped ? 'skip' : check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
        }
      }
      if (!entry) throw new IncompleteBackupError(broken);
      if (!ok) throw new VerifyError(`Backup ${manifest.id} failed verification on ${copies.filter((c) => !c.ok).map((c) => c.target).join(', ')}`);
    });
}
