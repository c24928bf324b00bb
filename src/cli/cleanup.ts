import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { formatBytes, formatTimestamp, table } from '../format';
import type { CleanupSummary } from '../retention/apply';
import { renderWalCleanup } from '../pitr/archive/render-cleanup';
import { cleanupAndReport } from '../jobs/cleanup';
import { failedBackupTiers, readState } from '../state/daemon-state';
import type { CommandContext } from './context';
import { withJobLock } from './job-lock';

export function registerCleanup(program: Command, context: CommandContext): void {
  program
    .command('cleanup')
    .description('apply the retention policy: delete old backups, old recovery-test records, incomplete leftovers and archived WAL no kept base backup needs')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--json', 'print the plan and its outcome as JSON')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (options: { dryRun?: boolean; json?: boolean; wait: boolean }) => {
      const config = context.config();
      // Tiers whose last scheduled backup failed (from the daemon's state, read once we hold the
      // lock, so a backup failing meanwhile counts) keep everything.
      const run = async () => {
        const failedTiers = failedBackupTiers(await readState(config.stateDir));
        return cleanupAndReport({ config, storages: context.storages(), log: context.log() }, { dryRun: options.dryRun, failedTiers });
      };
      const summary = options.dryRun ? await run() : await withJobLock(context, 'cleanup', { wait: options.wait }, run);
      for (const problem of summary.problems) context.err(`warning: ${problem}`);
      context.out(options.json ? JSON.stringify(summary, null, 2) : renderCleanup(summary));
      if (summary.errors.length) {
        for (const error of summary.errors) context.err(`error: could not delete ${error.key} on ${error.target}: ${error.message}`);
        throw new KeepsakeError(
          `Cleanup could not delete ${summary.errors.length} object${summary.errors.length === 1 ? '' : 's'} (listed above); whatever was not deleted stays complete. Fix the storage and run \`keepsake cleanup\` again`,
          'ioError',
        );
      }
    });
}

/** Every backup with KEEP/DELETE and its rule, then leftovers and records, then one summary line. */
export function renderCleanup(summary: CleanupSummary): string {
  const { dryRun, totals } = summary;
  const verb = (action: string, done: boolean) => (action === 'keep' ? 'KEEP' : dryRun || done ? 'DELETE' : 'FAILED');
  const sections: string[] = [];
  if (summary.backups.length) {
    // With several targets each row says whose copies it is about: their rules may differ.
    const several = new Set(summary.backups.flatMap((backup) => backup.targets)).size > 1;
    const rows = [['ACTION', 'TIER', 'ID', 'STARTED (UTC)', 'SIZE', ...(several ? ['TARGETS'] : []), 'RULE']];
    for (const backup of summary.backups) {
      const targets = several ? [backup.targets.join(',')] : [];
      rows.push([verb(backup.action, backup.done), backup.tier, backup.id, formatTimestamp(backup.startedAt), formatBytes(backup.storedBytes), ...targets, backup.reason]);
    }
    sections.push(table(rows));
  } else {
    sections.push('No backups yet.');
  }
  if (summary.leftovers.length) {
    const rows = [['ACTION', 'TARGET', 'INCOMPLETE LEFTOVER', 'SIZE', 'RULE']];
    for (const leftover of summary.leftovers) rows.push([verb(leftover.action, leftover.done), leftover.target, leftover.key, formatBytes(leftover.size), leftover.reason]);
    sections.push(table(rows));
  }
  if (summary.restoreTests.length) {
    const rows = [['ACTION', 'RECOVERY-TEST RECORD', 'RULE']];
    for (const record of summary.restoreTests) rows.push([verb(record.action, record.done), record.key, record.reason]);
    sections.push(table(rows));
  }
  if (summary.wal) sections.push(renderWalCleanup(summary.wal, dryRun));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const line = [
    `${dryRun ? 'Dry run, nothing deleted: would delete' : 'Deleted'} ${totals.deleted} of ${plural(summary.backups.length, 'backup')}`,
    `${plural(totals.leftoversDeleted, 'incomplete leftover')}`,
    `${plural(totals.restoreTestsDeleted, 'recovery-test record')}`,
  ].join(', ');
  const failed = summary.errors.length ? `; ${plural(summary.errors.length, 'deletion')} FAILED` : '';
  const wal = summary.wal ? `; ${dryRun ? 'would delete' : 'deleted'} ${plural(summary.wal.totals.deleted, 'WAL file')} (${formatBytes(summary.wal.totals.bytesFreed)})` : '';
  sections.push(`${line} (${formatBytes(totals.bytesFreed)} ${dryRun ? 'to free' : 'freed'}); kept ${totals.kept}${wal}${failed}.`);
  return sections.join('\n\n');
}
