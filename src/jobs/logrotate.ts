import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Config } from '../config';
import { reopenLogFile, type Logger } from '../log';
import { runCapture } from '../process/run-process';
import { writeFileAtomic } from '../state/files';
import { statePaths } from '../state/paths';
import type { JobRunner } from './job';

/** The rules shipped with keepsake; in the image they sit beside dist/, as here. */
export const SHIPPED_LOGROTATE_CONFIG = join(__dirname, '..', '..', 'logrotate', 'keepsake');
const SHIPPED_LOG_DIR = '/var/log/keepsake';

/** logrotate lives in /usr/sbin, which a non-root user's PATH on Debian lacks. */
function logrotateBinary(): string {
  // eslint-disable-next-line no-restricted-properties -- PATH is where tools live, not configuration
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  return dirs.map((dir) => join(dir, 'logrotate')).find((path) => existsSync(path)) ?? 'logrotate';
}

/** The shipped rules, pointed at LOG_DIR when it is not the image's /var/log/keepsake. */
export async function effectiveLogrotateConfig(logDir: string, shipped = SHIPPED_LOGROTATE_CONFIG): Promise<string> {
  const rules = await readFile(shipped, 'utf8');
  return logDir === SHIPPED_LOG_DIR ? rules : rules.split(`${SHIPPED_LOG_DIR}/`).join(`${logDir.replace(/\/+$/, '')}/`);
}

/**
 * The daemon's log rotation: logrotate with keepsake's own state file (no cron, no root in the
 * container), then a reopen of the log file so new lines go to the fresh keepsake.log. Lines
 * written between logrotate's rename and the reopen land in keepsake.log.1, which delaycompress
 * leaves uncompressed until the next rotation: nothing is lost.
 */
export async function rotateLogs(config: Pick<Config, 'logDir' | 'stateDir'>, log: Logger): Promise<string> {
  if (!config.logDir) return 'LOG_DIR is not set: logs go to stdout only (docker logs rotates them); nothing to rotate';
  const rulesPath = statePaths.logrotateRules(config.stateDir);
  await writeFileAtomic(rulesPath, await effectiveLogrotateConfig(config.logDir));
  await runCapture(logrotateBinary(), ['--state', statePaths.logrotateStatus(config.stateDir), rulesPath]).catch((error: Error) => {
    throw new Error(`logrotate failed: ${error.message}; check ${rulesPath} with \`logrotate -d ${rulesPath}\``, { cause: error });
  });
  const reopened = await reopenLogFile(log);
  return `logrotate ran on ${config.logDir}${reopened ? '; log file reopened' : ''}`;
}

export const logrotateJob: JobRunner = (deps) => rotateLogs(deps.config, deps.log);
