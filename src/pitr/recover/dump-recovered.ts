import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CatalogEntry } from '../../catalog/catalog';
import { DigestStream } from '../../backup/digest';
import type { Manifest } from '../../backup/manifest';
import { NotFoundError } from '../../errors';
import { chooseBinaryFor, findPgBinaries } from '../../postgres/binaries';
import { withClient } from '../../postgres/connection';
import type { Archive } from '../../restore/restore';
import { postgresSource } from '../../sources/postgres/postgres-source';
import { KEEPSAKE_VERSION } from '../../version';
import { backupId } from '../../backup/keys';
import type { RecoveredCluster } from './recover';

/**
 * One database of a recovered cluster as a custom-format archive in the work directory, with a
 * manifest of what it holds (row counts in the dump's own snapshot): what the restore path expects
 * of a fetched backup, so restore --at goes through the same plan, checks, swap and rollback.
 */
export async function dumpRecovered(recovered: RecoveredCluster, database: string, path: string, pgBinDir?: string): Promise<{ archive: Archive; entry: CatalogEntry }> {
  const db = { ...recovered.database, database };
  const present = await withClient(recovered.database, async (client) => (await client.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1')).rows.map((row) => row.name));
  if (!present.includes(database)) throw new NotFoundError(`The recovered cluster has no database ${database} (it has ${present.join(', ')}): name one with --db`);
  const started = new Date();
  const snapshot = await postgresSource({ db, dumpExtraArgs: [], pgBinDir, compression: 'none' }).snapshot();
  let inventory;
  const stored = new DigestStream();
  try {
    const dump = snapshot.dump('pipe');
    [inventory] = await Promise.all([snapshot.readInventory(), pipeline(dump.child.stdout!, stored, createWriteStream(path, { mode: 0o600 })), dump.succeeded()]);
  } finally {
    await snapshot.release();
  }
  const { base } = recovered;
  const at = recovered.pointReached ?? new Date(base.manifest.finishedAt);
  const manifest: Manifest = {
    ...snapshot.facts,
    format: 1,
    id: backupId(`${database}_at`, at),
    tier: 'base',
    source: { kind: 'postgres', name: database },
    database,
    host: base.manifest.host,
    key: path,
    startedAt: at.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started.getTime(),
    compression: { algorithm: 'none', level: 0 },
    rawBytes: stored.bytes,
    storedBytes: stored.bytes,
    sha256: stored.sha256,
    inventory,
    targets: [],
    keepsake: { version: KEEPSAKE_VERSION },
  } as Manifest;
  const pgRestore = chooseBinaryFor('pg_restore', await findPgBinaries('pg_restore', { pgBinDir }), manifest.pgDump!.major);
  return { archive: { path, manifest, pgRestore }, entry: { manifest, copies: base.entry.copies } };
}
