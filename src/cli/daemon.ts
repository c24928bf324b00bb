import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { createLogger, reopenLogFile } from '../log';
import { startDaemon } from '../scheduler/daemon';
import { jobRunners } from '../jobs/registry';
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
      // Handlers first: a signal during start-up must still stop cleanly, not kill the process.
      let signals = 0;
      let stopWith: NodeJS.Signals | undefined;
      const started: { daemon?: Awaited<ReturnType<typeof startDaemon>> } = {};
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
        stopWith = signal;
        void started.daemon?.stop(signal);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // For a logrotate outside the container (postrotate: kill -HUP): reopen keepsake.log.
      const onHangup = () => void reopenLogFile(log).then((reopened) => log.info({ reopened }, 'SIGHUP: log file reopened'));
      process.on('SIGHUP', onHangup);
      const daemon = await startDaemon({ config, storages: context.storages(), log, runners: jobRunners() });
      started.daemon = daemon;
      if (stopWith) void daemon.stop(stopWith);
      await daemon.stopped;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangup);
      if (daemon.lostLock) throw new KeepsakeError('Stopped: another keepsake daemon took over STATE_DIR; run one daemon per STATE_DIR', 'busy');
    });
}
