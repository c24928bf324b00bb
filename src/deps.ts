import type { Config } from './config';
import type { Logger } from './log';
import type { Storage } from './storage';

/**
 * What keepsake's work runs with: the configuration, the storage targets and the log, built once
 * by the CLI (cli/context.ts) or the daemon and passed down. Work that needs more extends it
 * (a backup's clock, a job's next run, the daemon's runners); `C` narrows the configuration for
 * work that reads only part of it (retention: its policy and the database's name).
 */
export interface Deps<C = Config> {
  config: C;
  storages: Storage[];
  log: Logger;
}
