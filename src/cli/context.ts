import { loadConfigFromEnvironment, type Config } from '../config';
import { createLogger, type Logger } from '../log';
import { createStorages, type Storage } from '../storage';
import { recordRunsIn } from '../state/run-record';
import { TerminalLog } from './terminal-log';

/** What every command needs, built on first use so `--help` works without any configuration. */
export interface CommandContext {
  config(): Config;
  /** The configuration if a command loaded it (never loads it: that may fail). */
  loadedConfig?(): Config | undefined;
  log(): Logger;
  storages(): Storage[];
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  /** --verbose: the log's info lines and error stacks on stderr too. */
  verbose?: boolean;
  /** At the command's end: prints the errors it logged on the way that are not `failure` itself. */
  finish?(failure?: unknown): void;
  /** A verdict that is not an error (`keepsake health`: 1 unhealthy, 2 warnings); 0 when unset. */
  exitCode?: number;
  /** The command running (`restore-test`, `outbox flush`): names this run in STATE_DIR/processes. */
  command?: string;
}

export function createContext(): CommandContext {
  let config: Config | undefined;
  let log: Logger | undefined;
  let storages: Storage[] | undefined;
  // People read stderr; the JSON lines go to LOG_DIR/keepsake.log only.
  const terminal = new TerminalLog((line) => context.err(line), () => Boolean(context.verbose));
  const context: CommandContext = {
    config: () => {
      if (!config) {
        config = loadConfigFromEnvironment();
        // From now on children and temp folders are recorded, for the next run should this one be killed.
        recordRunsIn(config.stateDir, context.command ?? 'keepsake');
      }
      return config;
    },
    loadedConfig: () => config,
    log: () => (log ??= createLogger(context.config(), terminal)),
    storages: () => (storages ??= createStorages(context.config())),
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTTY: Boolean(process.stderr.isTTY),
    verbose: false,
    finish: (failure) => terminal.finish(failure),
  };
  return context;
}
