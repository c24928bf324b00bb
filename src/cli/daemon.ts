import type { Command } from 'commander';
import { createLogger } from '../log';
import { startDaemon } from '../scheduler/daemon';
import { jobRunners } from '../scheduler/jobs';
import type { CommandContext } from './context';

/**
 * `keepsake daemon`: the container's main process. First SIGTERM/SIGINT: stop scheduling and let
 * the running job finish within SHUTDOWN_GRACE (then abort it cleanly); exit 0. A second one
 * exits at once.
 */
export function registerDaemon(program: Command, context: CommandContext): void {
  program
    .command('daemon')
    .description('run the scheduler: backups, restore tests, cleanup and health on their schedules')
    .action(async () => {
      const config = context.config();
      const log = createLogger(config, 'stdout');
      const daemon = await startDaemon({ config, storages: context.storages(), log, runners: jobRunners() });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
        void daemon.stop(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      await daemon.stopped;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
}
