import type { Command } from 'commander';
import { Option } from 'commander';
import { TIERS, type Tier } from '../backup/keys';
import { backupAndReport } from '../jobs/backup';
import { describeDatabase } from '../postgres/connection';
import { describeTables } from '../postgres/relations';
import { describeContents } from '../backup/contents';
import { UsageError } from '../errors';
import type { CommandContext } from './context';
import { formatBytes, formatDuration } from '../format';
import { interruptOnSignals } from './signals';
import { withJobLock } from './job-lock';

const MANUAL_TIERS = TIERS.filter((tier) => tier !== 'pre-restore');

export function registerBackup(program: Command, context: CommandContext): void {
  program
    .command('backup')
    .description('dump the database now, compress it, store it on every target, write its manifest last')
    .addOption(new Option('--tier <tier>', 'tier to file the backup under').choices(MANUAL_TIERS).default('manual'))
    .option('--schema-only', 'dump the schema without any data (manual tier only; scheduled tiers: BACKUP_SCHEMA_ONLY_TIERS)')
    .option('--json', 'print the manifest as JSON')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (options: { tier: Tier; json?: boolean; wait: boolean; schemaOnly?: boolean }) => {
      if (options.schemaOnly && options.tier !== 'manual') {
        // A daily, weekly or monthly backup stands in for that tier in health checks and retention: one without data would too.
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
      try {
        const manifest = await withJobLock(context, `${options.tier} backup`, { wait: options.wait, signal: interrupt.signal }, () =>
          backupAndReport({ config, storages: context.storages(), log: context.log() }, { tier: options.tier, schemaOnly: options.schemaOnly, signal: interrupt.signal, onProgress: progress }),
        );
        if (progress) process.stderr.write('\n');
        if (options.json) return context.out(JSON.stringify(manifest, null, 2));
        const ratio = manifest.storedBytes ? (manifest.rawBytes / manifest.storedBytes).toFixed(1) : '-';
        context.out(
          `OK ${manifest.tier} backup ${manifest.id} of ${describeDatabase(config.database)}: ${formatBytes(manifest.rawBytes)} dumped, ` +
            `${formatBytes(manifest.storedBytes)} stored (${ratio}x) in ${formatDuration(manifest.durationMs)}; ` +
            `${describeTables(manifest.inventory.tables)} ${manifest.contents?.schemaOnly ? 'defined' : 'counted'}; sha256 ${manifest.sha256}`,
        );
        const partial = describeContents(manifest);
        if (partial) context.out(`  contents: ${partial}`);
        for (const target of manifest.targets) context.out(`  ${target.target}: ${target.location}`);
      } finally {
        interrupt.dispose();
      }
    });
}
