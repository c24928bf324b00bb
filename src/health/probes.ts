import { randomBytes } from 'node:crypto';
import { readdir, stat, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../config';
import { coerceError } from '../errors';
import { formatBytes, formatDuration } from '../format';
import { findPgBinaries, chooseBinaryFor } from '../postgres/binaries';
import { serverVersion, withClient } from '../postgres/connection';
import { readUnreadable } from '../postgres/privileges';
import { privilegesCheck } from './assess';
import type { Storage } from '../storage';
import { fail, ok, warn, type HealthCheckResult } from './report';

/**
 * The half of the health checks that touches the outside world: the database, pg_dump, every
 * storage target, the disks. Each is bounded by a timeout, so a hung server makes a failed
 * check, never a hung health run.
 */

export const PROBE_TIMEOUT_MS = 30_000;

export async function withTimeout<T>(what: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${formatDuration(ms)}`)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const firstLine = (error: unknown) => coerceError(error).message.split('\n')[0]!;

/**
 * Connects, asks the server's version, checks an installed pg_dump can dump it, and that the
 * backup role can read everything pg_dump dumps.
 */
export async function databaseChecks(config: Pick<Config, 'database' | 'pgBinDir'>, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthCheckResult[]> {
  const started = performance.now();
  let server: { version: string; major: number } | undefined;
  let database: HealthCheckResult;
  try {
    server = await withTimeout('the database', timeoutMs, () => withClient(config.database, async (client) => serverVersion(client)));
    const ms = Math.round(performance.now() - started);
    database = ok('database', `PostgreSQL ${server.version} answers`, `${ms} ms`, ms);
  } catch (error) {
    database = fail('database', firstLine(error));
  }
  // Only a server that answered can say what the role may read.
  const unreadable = server ? await withTimeout('the privilege check', timeoutMs, () => withClient(config.database, readUnreadable)).catch(coerceError) : undefined;
  const privileges = privilegesCheck(unreadable);
  const checks = [database, ...(privileges ? [privileges] : [])];
  const installed = await findPgBinaries('pg_dump', { pgBinDir: config.pgBinDir }).catch(() => []);
  if (!server) {
    const have = [...new Set(installed.map((binary) => binary.version))].join(', ') || 'none';
    return [...checks, warn('pg_dump', `not checked against the server, which did not answer (installed: ${have})`)];
  }
  try {
    const pgDump = chooseBinaryFor('pg_dump', installed, server.major);
    return [...checks, ok('pg_dump', `pg_dump ${pgDump.version} can dump PostgreSQL ${server.version}`, pgDump.version)];
  } catch (error) {
    return [...checks, fail('pg_dump', firstLine(error))];
  }
}

/** Writes, reads back and deletes a small object: proves the credentials, the bucket and the disk. */
export async function storageCheck(storage: Storage, timeoutMs = PROBE_TIMEOUT_MS): Promise<HealthCheckResult> {
  const name = `storage:${storage.name}`;
  // Outside keepsake's layout (tiers, recovery-tests), so listings and retention never see it.
  const key = `.keepsake-probe/${hostname()}-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const body = randomBytes(64);
  const started = performance.now();
  try {
    await withTimeout(`${storage.name} storage`, timeoutMs, async () => {
      await storage.put(key, body);
      try {
        const back = await storage.readAll(key);
        if (!back.equals(body)) throw new Error(`the probe object read back from ${storage.location(key)} differs from what was written`);
      } finally {
        await storage.delete(key);
      }
    });
    const ms = Math.round(performance.now() - started);
    return ok(name, `write, read back and delete work at ${storage.location('')}`, `${ms} ms`, ms);
  } catch (error) {
    return fail(name, `${firstLine(error)}`);
  }
}

/** The nearest existing directory: BACKUP_DIR may not exist before the first backup. */
async function existingAncestor(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    if (await stat(current).then(() => true, () => false)) return current;
    if (dirname(current) === current) return current;
  }
}

/** Free space on each filesystem keepsake writes to; places on the same filesystem share a check. */
export async function diskChecks(config: Pick<Config, 'health' | 'targets' | 'stateDir' | 'logDir' | 'restore'>): Promise<HealthCheckResult[]> {
  const places: [string, string][] = [['state', config.stateDir], ['work', config.restore.workDir]];
  // Every target kept in a folder; with several, each is named after its target.
  const folders = config.targets.filter((target) => target.dir !== undefined);
  places.unshift(...folders.map((target): [string, string] => [folders.length > 1 ? `backups-${target.name}` : 'backups', target.dir!]));
  if (config.logDir) places.push(['logs', config.logDir]);
  const byDevice = new Map<number, { labels: string[]; paths: string[]; at: string }>();
  for (const [label, path] of places) {
    const at = await existingAncestor(path);
    const { dev } = await stat(at);
    const entry = byDevice.get(dev) ?? { labels: [], paths: [], at };
    entry.labels.push(label);
    entry.paths.push(path);
    byDevice.set(dev, entry);
  }
  const limit = config.health.minFreeDisk;
  const results: HealthCheckResult[] = [];
  for (const { labels, paths, at } of byDevice.values()) {
    const name = `disk:${labels.join('+')}`;
    try {
      const fs = await statfs(at);
      const free = fs.bavail * fs.bsize;
      const total = fs.blocks * fs.bsize;
      const percent = total ? (free / total) * 100 : 100;
      const value = `${formatBytes(free)} free (${percent.toFixed(0)}%)`;
      const low = 'percent' in limit ? percent < limit.percent : free < limit.bytes;
      const wanted = 'percent' in limit ? `${limit.percent}%` : formatBytes(limit.bytes);
      results.push(
        low
          ? fail(name, `only ${value} on the filesystem of ${paths.join(', ')} (HEALTH_MIN_FREE_DISK ${wanted}); free space or lower the BACKUP_KEEP_* counts`, value, free)
          : ok(name, `enough free space (at least ${wanted}) on the filesystem of ${paths.join(', ')}`, value, free),
      );
    } catch (error) {
      results.push(fail(name, `cannot read free space of ${at}: ${firstLine(error)}`));
    }
  }
  return results;
}

/** The log directory's size: unbounded growth means log rotation is not running. */
export async function logSizeCheck(config: Pick<Config, 'health' | 'logDir'>): Promise<HealthCheckResult[]> {
  if (!config.logDir) return [];
  let bytes = 0;
  const names = await readdir(config.logDir).catch(() => [] as string[]);
  for (const name of names) bytes += await stat(join(config.logDir, name)).then((info) => (info.isFile() ? info.size : 0), () => 0);
  const value = formatBytes(bytes);
  if (bytes > config.health.maxLogBytes) {
    return [warn('logs', `the logs in ${config.logDir} use ${value} (HEALTH_MAX_LOG_SIZE ${formatBytes(config.health.maxLogBytes)}); check that log rotation runs (SCHEDULE_LOGROTATE)`, value, bytes)];
  }
  return [ok('logs', `the logs in ${config.logDir} use ${value}`, value, bytes)];
}
