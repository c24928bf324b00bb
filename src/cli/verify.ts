import type { Command } from 'commander';
import { readCatalog, selectBackup } from '../catalog/catalog';
import { VerifyError } from '../errors';
import { verifyCopy } from '../restore/verify-archive';
import type { CommandContext } from './context';
import { formatDuration } from '../format';

export function registerVerify(program: Command, context: CommandContext): void {
  program
    .command('verify')
    .description('re-read a backup from every target: size, sha256, decompression, pg_restore --list')
    .argument('[backup]', 'latest, a number from `keepsake list`, or an id', 'latest')
    .option('--json', 'print the result as JSON')
    .action(async (selector: string, options: { json?: boolean }) => {
      const config = context.config();
      const entry = selectBackup(await readCatalog(context.storages()), selector, { database: config.database.database });
      const copies = [];
      for (const copy of entry.copies) copies.push(await verifyCopy(entry, copy.storage, config.pgBinDir));
      const ok = copies.every((copy) => copy.ok);
      if (options.json) {
        context.out(JSON.stringify({ ok, id: entry.manifest.id, tier: entry.manifest.tier, copies }, null, 2));
      } else {
        for (const copy of copies) {
          context.out(`${copy.ok ? 'OK' : 'FAILED'} ${entry.manifest.tier}/${entry.manifest.id} on ${copy.target} (${copy.location}) in ${formatDuration(copy.durationMs)}`);
          for (const check of copy.checks) context.out(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
        }
      }
      if (!ok) throw new VerifyError(`Backup ${entry.manifest.id} failed verification on ${copies.filter((c) => !c.ok).map((c) => c.target).join(', ')}`);
    });
}
