import type { Command } from 'commander';
import { Option } from 'commander';
import { TIERS, type Tier } from '../backup/keys';
import { sourceName, type Manifest } from '../backup/manifest';
import { sourceNamed } from '../sources';
import { SourcesFailedError, backupSources } from '../jobs/backup';
import { describeTables } from '../postgres/relations';
import { describeContents } from '../backup/contents';
import { UsageError } from '../errors';
import type { CommandContext } from './context';
import { formatBytes, formatDuration } from '../format';
import { interruptOnSignals } from './signals';
import { withJobLock } from './job-lock';

// Base backups are physical (keepsake base-backup): a dump filed under base would pass for one.
const MANUAL_TIERS = TIERS.filter((tier) => tier !== 'pre-restore' && tier !== 'base');

export function registerBackup(program: Command, context: CommandContext): void {
  program
    .command('backup')
    .description('back up every source now (each database, the globals), compress, store on every target, write each manifest last')
    .addOption(new Option('--tier <tier>', 'tier to file the backup under').choices(MANUAL_TIERS).default('manual'))
    .option('--db <name>', 'back up only this source: a database of POSTGRES_DB, globals, or a SQLite file by its stem')
    .option('--schema-only', 'dump the schema without any data (manual tier only; scheduled tiers: BACKUP_SCHEMA_ONLY_TIERS)')
    .option('--json', 'print the manifest as JSON')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (options: { tier: Tier; json?: boolean; wait: boolean; db?: string; schemaOnly?: boolean }) => {
      if (options.schemaOnly && options.tier !== 'manual') {
        // A daily, weekly, monthly or yearly backup stands in for that tier in health checks and retention: one without data would too.
        throw new UsageError(`--schema-only makes manual backups only, not ${options.tier} ones; to make every ${options.tier} backup schema-only set BACKUP_SCHEMA_ONLY_TIERS=${options.tier}`);
      }
      const config = context.config();
      const interrupt = interruptOnSignals(context);
      let lastDraw = 0;
      const progress = context.isTTY && !options.json
        ? ({ storedBytes }: { storedBytes: number }) => {
            if (Date.now() - lastDraw < 250) return;
            lastDraw = Date.now();
            const rate = storedBytes / Math.max(0.001, (Date.now() - started) / 1000);
            process.stderr.write(`\r  stored ${formatBytes(storedBytes)}, ${formatBytes(rate)}/s compressed   `);
          }
        : undefined;
      const started = Date.now();
      const print = (manifest: Manifest) => {
        const ratio = manifest.storedBytes ? (manifest.rawBytes / manifest.storedBytes).toFixed(1) : '-';
        const contents = manifest.inventory.roles ? `${manifest.inventory.roles.length} roles` : `${describeTables(manifest.inventory.tables)} ${manifest.contents?.schemaOnly ? 'defined' : 'counted'}`;
        context.out(
          `OK ${manifest.tier} backup ${manifest.id} of ${sourceNamed(config, sourceName(manifest)).describe()}: ${formatBytes(manifest.rawBytes)} dumped, ` +
            `${formatBytes(manifest.storedBytes)} stored (${ratio}x) in ${formatDuration(manifest.durationMs)}; ` +
            `${contents}; sha256 ${manifest.sha256}`,
        );
        const partial = describeContents(manifest);
        if (partial) context.out(`  contents: ${partial}`);
        for (const target of manifest.targets) context.out(`  ${target.target}: ${target.location}`);
      };
      try {
        let manifests: Manifest[];
        try {
          ({ manifests } = await withJobLock(context, `${options.tier} backup`, { wait: options.wait, signal: interrupt.signal }, () =>
            backupSources({ config, storages: context.storages(), log: context.log() }, { tier: options.tier, schemaOnly: options.schemaOnly, signal: interrupt.signal, onProgress: progress, only: options.db }),
          ));
        } catch (error) {
          // What was stored is listed before the failures are: the others' backups are real.
          if (error instanceof SourcesFailedError && !options.json) error.manifests.forEach(print);
          throw error;
        }
        if (progress) process.stderr.write('\n');
        // One source prints its manifest as always; several print an array.
        if (options.json) return context.out(JSON.stringify(manifests.length === 1 ? manifests[0] : manifests, null, 2));
        manifests.forEach(print);
      } finally {
        interrupt.dispose();
      }
    });
}
