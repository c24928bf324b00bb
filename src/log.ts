import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** Field names whose values are never written, whatever object they are nested in. */
const REDACT_PATHS = ['password', '*.password', 'secretAccessKey', '*.secretAccessKey', 'PGPASSWORD', '*.PGPASSWORD', 'env', '*.env'];

/**
 * JSON logs. The daemon logs to stdout (docker logs); manual commands log to stderr so their
 * stdout stays clean for humans and `--json`. With LOG_DIR, lines also go to keepsake.log there.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logDir'>, to: 'stdout' | 'stderr' = 'stderr'): Logger {
  const streams: pino.StreamEntry[] = [{ level: config.logLevel === 'silent' ? 'fatal' : config.logLevel, stream: pino.destination({ fd: to === 'stdout' ? 1 : 2, sync: true }) }];
  if (config.logDir) {
    mkdirSync(config.logDir, { recursive: true });
    streams.push({ level: config.logLevel === 'silent' ? 'fatal' : config.logLevel, stream: pino.destination({ dest: join(config.logDir, 'keepsake.log'), append: true, mkdir: true, sync: false }) });
  }
  return pino(
    { level: config.logLevel, base: { app: 'keepsake' }, redact: { paths: REDACT_PATHS, censor: '***' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
