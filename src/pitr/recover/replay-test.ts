import { access } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { readCatalog } from '../../catalog/catalog';
import type { Manifest } from '../../backup/manifest';
import type { DatabaseConfig } from '../../config';
import type { Deps } from '../../deps';
import { VerifyError, coerceError } from '../../errors';
import { withClient } from '../../postgres/connection';
import { spawnChild } from '../../process/run-process';
import { describeGap, findWalGaps } from '../archive/gaps';
import { listArchivedWal } from './choose-base';
import { recoverToPoint, recoveryStorages } from './recover';
import type { ReplayResult } from './replay-summary';

export type { ReplayResult } from './replay-summary';

async function verifyBase(dataDir: string, binDir: string): Promise<string> {
  const tool = join(binDir, 'pg_verifybackup');
  if (!(await access(tool).then(() => true, () => false))) return `skipped: pg_verifybackup is not installed beside ${join(binDir, 'postgres')}`;
  // -n: the WAL is not in the base (pg_basebackup -X none); the replay itself checks it.
  await spawnChild(tool, ['-n', '-q', dataDir], { env: { LC_ALL: 'C' } }).succeeded();
  return 'ok';
}

/** The tables of `tables` that the recovered database lacks. */
async function missingTables(database: DatabaseConfig, tables: Manifest['inventory']['tables']): Promise<string[]> {
  return withClient(database, async (client) => {
    const missing: string[] = [];
    for (const table of tables) {
      const { rows } = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [`${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`]);
      if (!rows[0]!.found) missing.push(`${table.schema}.${table.name}`);
    }
    return missing;
  });
}

/**
 * Replays the newest base backup with all archived WAL (`--at latest`) in a throwaway cluster:
 * first the archive must have no gap from the base's first segment to the newest segment (a gap is
 * named), then pg_verifybackup checks the unpacked base against its backup_manifest, PostgreSQL
 * replays and promotes, and every table of `dump`'s inventory (the newest dump of the database)
 * must exist. Undefined when there is no base backup yet.
 */
export async function replayNewestBase(deps: Deps, request: { from?: string; dump: Manifest; signal?: AbortSignal }): Promise<ReplayResult | undefined> {
  const storages = recoveryStorages(deps.storages, request.from);
  const newest = (await readCatalog(storages, { tier: 'base' })).backups.find((entry) => entry.manifest.physical);
  if (!newest) return undefined;
  const physical = newest.manifest.physical!;
  const result: ReplayResult = { ok: false, base: { id: newest.manifest.id, finishedAt: newest.manifest.finishedAt, startSegment: physical.startSegment }, problems: [] };
  try {
    const archived = await listArchivedWal(storages);
    result.archiveEnd = archived.filter((entry) => entry.file.kind !== 'history').pop()?.file.name;
    const gaps = findWalGaps(archived.map((entry) => entry.file), physical.startSegment, physical.segmentBytes);
    if (gaps.length) throw new VerifyError(`the WAL archive has a gap after base backup ${newest.manifest.id}: ${gaps.map(describeGap).join('; ')} missing; recovery cannot replay past it (the next base backup starts a clean chain)`);
    const recovered = await recoverToPoint(deps, {
      target: { kind: 'latest' },
      from: request.from,
      signal: request.signal,
      afterExtract: async (dataDir, binDir) => {
        result.verifyBackup = await verifyBase(dataDir, binDir);
      },
    });
    try {
      Object.assign(result, { recoveryMs: recovered.recoveryMs, totalMs: recovered.totalMs, pointReached: recovered.pointReached?.toISOString() ?? null, walFiles: recovered.walServed.files });
      const tables = request.dump.inventory.tables;
      const missing = await missingTables({ ...recovered.database, database: request.dump.database }, tables);
      result.tablesExpected = tables.length;
      result.tablesFound = tables.length - missing.length;
      if (missing.length) result.problems.push(`the recovered cluster lacks ${missing.length} table(s) of ${request.dump.id}: ${missing.slice(0, 10).join(', ')}`);
    } finally {
      await recovered.stop();
    }
    result.ok = result.problems.length === 0;
  } catch (error) {
    result.error = coerceError(error).message;
  }
  return result;
}
