import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** Field names whose values are never written, whatever object they are nested in. */
const REDACT_PATHS = ['password', '*.password', 'secretAccessKey', '*.secretAccessKey', 'PGPASSWORD', '*.PGPASSWORD', 'env', '*.env'];

/**
 * JSON logs. The daemon logs to stdout (docker logs); manual commands give their own stream, which
 * shows people lines on stderr (cli/terminal-log.ts). With LOG_DIR, lines also go to keepsake.log there.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logDir'>, to: 'stdout' | 'stderr' | pino.DestinationStream = 'stderr'): Logger {
  const console = typeof to === 'string' ? pino.destination({ fd: to === 'stdout' ? 1 : 2, sync: true }) : to;
  const streams: pino.StreamEntry[] = [{ level: config.logLevel === 'silent' ? 'fatal' : config.logLevel, stream: console }];
  let file: ReturnType<typeof pino.destination> | undefined;
  if (config.logDir) {
    // Logs name hosts, databases and errors: 0750/0640 like STATE_DIR's files, and like logrotate's
    // `create 0640`. A folder that exists keeps its mode (LOG_DIR may be a shared /var/log).
    mkdirSync(config.logDir, { recursive: true, mode: 0o750 });
    const path = join(config.logDir, LOG_FILE_NAME);
    try {
      chmodSync(path, 0o640); // a file an earlier version created world-readable
    } catch {
      // not there yet (created below with 0640), or not ours to change
    }
    file = pino.destination({ dest: path, append: true, mkdir: true, sync: false, mode: 0o640 });
    streams.push({ level: config.logLevel === 'silent' ? 'fatal' : config.logLevel, stream: file });
  }
  const logger = pino(
    { level: config.logLevel, base: { app: 'keepsake' }, redact: { paths: REDACT_PATHS, censor: '***' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
  if (file) logFiles.set(logger, file);
  return logger;
}

export const LOG_FILE_NAME = 'keepsake.log';
const logFiles = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

/**
 * After log rotation renamed keepsake.log: lines written since went on into the renamed file (the
 * open descriptor follows it), and from now on they go to a fresh keepsake.log. Nothing is lost.
 */
export async function reopenLogFile(logger: Logger): Promise<boolean> {
  const file = logFiles.get(logger);
  if (!file) return false;
  // The reopen happens once a write in flight has finished; 'ready' says the new file is open.
  return new Promise<boolean>((resolve) => {
    const done = (reopened: boolean) => {
      clearTimeout(timer);
      file.off('ready', onReady);
      resolve(reopened);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), 5_000);
    file.once('ready', onReady);
    file.reopen();
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
