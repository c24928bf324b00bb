import type { Command } from 'commander';
import { VerifyError } from '../errors';
import { restoreTestAndReport } from '../jobs/restore-test';
import { describeReplay } from '../pitr/recover/replay-summary';
import { describeContents } from '../backup/contents';
import type { CommandContext } from './context';
import { formatBytes, formatDuration } from '../format';
import { interruptOnSignals } from './signals';
import { withJobLock } from './job-lock';

export function registerRestoreTest(program: Command, context: CommandContext): void {
  program
    .command('restore-test')
    .description('prove a backup restores: restore it into a throwaway PostgreSQL and check every table\'s row count')
    .argument('[backup]', 'latest, a number from `keepsake list`, or an id', 'latest')
    .option('--from <target>', 'restore the copy on this target (a name from BACKUP_TARGETS or OFFSITE_TARGETS)')
    .option('--db <name>', 'the source whose backup `latest` means: a database of POSTGRES_DB, globals, or a SQLite file by its stem (default: the first database)')
    .option('--with-globals', 'apply the globals backed up nearest in time first, then restore with owners and grants (RESTORE_TEST_MODE=ephemeral)')
    .option('--json', 'print the result as JSON ("ok": true|false)')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (selector: string, options: { from?: string; json?: boolean; wait: boolean; db?: string; withGlobals?: boolean }) => {
      const interrupt = interruptOnSignals(context);
      try {
        const { result, failure } = await withJobLock(context, 'restore-test', { wait: options.wait, signal: interrupt.signal }, () =>
          restoreTestAndReport({ config: context.config(), storages: context.storages(), log: context.log() }, { selector, from: options.from, db: options.db, withGlobals: options.withGlobals, signal: interrupt.signal }),
        );
        if (options.json) context.out(JSON.stringify(result, null, 2));
        else {
          const t = result.timings;
          context.out(`${result.ok ? 'PASSED' : 'FAILED'} restore test of ${result.backup.tier}/${result.backup.id} (${formatBytes(result.backup.storedBytes)}) into ${result.restoredInto ?? 'nothing'}`);
          const stages = [t.fetchMs !== undefined && `fetch+decompress ${formatDuration(t.fetchMs)}`, t.restoreMs !== undefined && `restore ${formatDuration(t.restoreMs)}`, t.verifyMs !== undefined && `verify ${formatDuration(t.verifyMs)}`];
          context.out(`  ${[...stages.filter(Boolean), `total ${formatDuration(t.totalMs)}`].join(', ')}${result.restoredBytes ? `; restored size ${formatBytes(result.restoredBytes)}` : ''}`);
          const partial = describeContents(result.backup);
          if (partial) context.out(`  contents: ${partial}`);
          const matching = result.tables.filter((table) => table.ok).length;
          if (result.tables.length && result.backup.contents?.schemaOnly) context.out(`  ${matching} of ${result.tables.length} tables exist (schema only: no row counts to check)`);
          else if (result.tables.length) {
            const excluded = result.tables.filter((table) => table.dataExcluded).length;
            context.out(`  ${matching} of ${result.tables.length} tables match the row counts recorded at backup time${excluded ? ` (${excluded} with excluded data: expected empty)` : ''}`);
          }
          if (result.replay) for (const line of describeReplay(result.replay, formatDuration)) context.out(`  point-in-time: ${line}`);
          for (const problem of result.problems) context.out(`  FAIL ${problem}`);
          for (const note of result.notes) context.out(`  note: ${note}`);
        }
        if (failure) throw failure;
        if (!result.ok) throw new VerifyError(`Restore test of ${result.backup.id} failed: ${result.problems.join('; ')}`);
      } finally {
        interrupt.dispose();
      }
    });
}
