import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { formatBytes, formatDuration } from '../format';
import { baseBackupAndReport } from '../pitr/base/job';
import type { CommandContext } from './context';
import { withJobLock } from './job-lock';
import { interruptOnSignals } from './signals';

export function registerBaseBackup(program: Command, context: CommandContext): void {
  program
    .command('base-backup')
    .description('PITR: take a base backup of the whole cluster now (pg_basebackup), store it on every primary target under base/, manifest last')
    .option('--json', 'print the manifest as JSON')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (options: { json?: boolean; wait: boolean }) => {
      const config = context.config();
      // Without the WAL archive a base backup restores to one moment only: that is what dumps are for.
      if (!config.pitr.enabled) throw new KeepsakeError('Base backups are part of point-in-time recovery, which is off: set PITR=on (README "Point-in-time recovery"); for a backup now without it, run `keepsake backup`', 'config');
      const interrupt = interruptOnSignals(context);
      try {
        const manifest = await withJobLock(context, 'base backup', { wait: options.wait, signal: interrupt.signal }, () =>
          baseBackupAndReport({ config, storages: context.storages(), log: context.log() }, { signal: interrupt.signal }),
        );
        if (options.json) return context.out(JSON.stringify(manifest, null, 2));
        const physical = manifest.physical!;
        context.out(
          `OK base backup ${manifest.id} of ${config.database.host}:${config.database.port}: ${formatBytes(manifest.rawBytes)} read, ${formatBytes(manifest.storedBytes)} stored in ${formatDuration(manifest.durationMs)}; ` +
            `WAL ${physical.startLsn} to ${physical.stopLsn} on timeline ${physical.timeline} (from segment ${physical.startSegment}); sha256 ${manifest.sha256}`,
        );
        for (const target of manifest.targets) context.out(`  ${target.target}: ${target.location}`);
      } finally {
        interrupt.dispose();
      }
    });
}
