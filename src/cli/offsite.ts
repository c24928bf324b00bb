import type { Command } from 'commander';
import { UsageError } from '../errors';
import { offsiteJob } from '../jobs/offsite';
import { offsiteStorages } from '../storage';
import type { CommandContext } from './context';
import { withJobLock } from './job-lock';
import { interruptOnSignals } from './signals';

/** The off-site job by hand: after an outage of the off-site target, or to seed a new one now. */
export function registerOffsite(program: Command, context: CommandContext): void {
  program
    .command('offsite')
    .description('copy now, to every off-site target (OFFSITE_TARGETS), each complete backup it lacks: sha256 checked, manifest last')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .action(async (options: { wait: boolean }) => {
      const config = context.config();
      const storages = context.storages();
      if (!offsiteStorages(storages).length) throw new UsageError('There are no off-site targets: name one in OFFSITE_TARGETS and configure it with TARGET_<NAME>_* (README, "Several targets")');
      const interrupt = interruptOnSignals(context);
      try {
        const summary = await withJobLock(context, 'offsite', { wait: options.wait, signal: interrupt.signal }, () => offsiteJob({ config, storages, log: context.log() }, interrupt.signal));
        context.out(typeof summary === 'string' ? summary : summary.summary);
      } finally {
        interrupt.dispose();
      }
    });
}
