import type { Writable } from 'node:stream';
import type pg from 'pg';
import type { CompressionAlgorithm, DatabaseConfig } from '../../config';
import { UsageError } from '../../errors';
import { findBinaryFor, type PgBinary } from '../../postgres/binaries';
import { connect, libpqEnv, serverVersion, withClient } from '../../postgres/connection';
import { spawnChild, type ChildHandle } from '../../process/run-process';
import type { FinalFacts, Source, SourceSnapshot } from '../../sources/source';
import type { BackupLabel } from './base-positions';
import { refuseWithoutReplication } from './replication-access';
import { checkStoredTar, type StoredTarCheck } from './stored-tar-check';

/** The name of the whole cluster as a source: base backups are `base/YYYY/MM/DD/cluster_<ts>.tar.zst`. */
export const CLUSTER_SOURCE_NAME = 'cluster';

export interface ClusterSourceSettings {
  /** The configured connection (its database is only where keepsake's own queries connect). */
  db: DatabaseConfig;
  pgBinDir?: string;
  compression: CompressionAlgorithm;
}

/** The arguments of pg_basebackup: one tar on stdout (the server's backup_manifest inside), no WAL in it (it comes from the archive). */
export function basebackupArgs(db: Pick<DatabaseConfig, 'host' | 'port' | 'user'>): string[] {
  return ['-D', '-', '-Ft', '-X', 'none', '--checkpoint=fast', '-v', '--no-password', '-h', db.host, '-p', String(db.port), '-U', db.user];
}

const REPLAYED_ELSEWHERE = 'A base backup is not restored on its own: it is replayed with the WAL archive by `keepsake restore --at TIME` and by the restore test (README "Point-in-time recovery")';

/**
 * The whole PostgreSQL cluster as one physical base backup (PITR): `pg_basebackup -D - -Ft -X none`
 * streamed through the backup pipeline. Not one of config.sources: only the base-backup job uses it.
 */
export function clusterSource(settings: ClusterSourceSettings): Source {
  const { db } = settings;
  return {
    kind: 'postgres-cluster',
    name: CLUSTER_SOURCE_NAME,
    format: '.tar',
    describe: () => `cluster ${db.host}:${db.port}`,
    preflight: () => withClient(db, (client) => refuseWithoutReplication(client, db)),
    snapshot: () => snapshotCluster(settings),
    restoreScratch: () => Promise.reject(new UsageError(REPLAYED_ELSEWHERE)),
    verifyRestored: () => Promise.reject(new UsageError(REPLAYED_ELSEWHERE)),
  };
}

async function snapshotCluster(settings: ClusterSourceSettings): Promise<SourceSnapshot> {
  const { db } = settings;
  const client = await connect(db);
  try {
    await refuseWithoutReplication(client, db);
    const server = await serverVersion(client);
    // The same rule as pg_dump's: the server's major or newer (an older pg_basebackup refuses a newer server).
    const pgBasebackup = await findBinaryFor('pg_basebackup', server.major, settings.pgBinDir);
    const databases = await listDatabases(client);
    let check: StoredTarCheck | undefined;
    return {
      facts: { database: db.database, host: db.host, server: { version: server.version, major: server.major }, archiveFormat: 'tar' },
      readInventory: async () => ({ schemas: [], extensions: [], tables: [], sequences: [], databases }),
      dump: (stdout: Writable | 'pipe') => startBasebackup(pgBasebackup, db, stdout),
      // Not optional here: the stored tar's backup_label is where the start position is read from.
      checkStored: () => (check = checkStoredTar(settings.compression)),
      finalFacts: () => clusterFacts(client, pgBasebackup, check!.label()),
      release: () => client.end().catch(() => undefined),
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** pg_basebackup writing the tar to `stdout`; the password only in its environment, its messages in English (for the logs and reports). */
function startBasebackup(pgBasebackup: PgBinary, db: DatabaseConfig, stdout: Writable | 'pipe'): ChildHandle {
  return spawnChild(pgBasebackup.path, basebackupArgs(db), { env: { ...libpqEnv(db), LC_ALL: 'C' }, stdout, stderrTailBytes: 16_384 });
}

async function listDatabases(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE NOT datistemplate ORDER BY 1');
  return rows.map((row) => row.name);
}

/**
 * The manifest's `physical`: where the backup starts (its backup_label), where the server's WAL
 * stood once pg_basebackup had finished (at or just after the backup's end: the server ends a
 * base backup with a segment switch; the exact end is in the tar's backup_manifest), and which
 * cluster it is of.
 */
async function clusterFacts(client: pg.Client, pgBasebackup: PgBinary, label: BackupLabel): Promise<FinalFacts> {
  const { rows } = await client.query<{ system_identifier: string; segment_bytes: string; stop_lsn: string }>(
    `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
            (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS segment_bytes,
            (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS stop_lsn`,
  );
  return {
    physical: {
      timeline: label.timeline,
      startLsn: label.startLsn,
      stopLsn: rows[0]!.stop_lsn.toUpperCase(),
      startSegment: label.startSegment,
      systemIdentifier: rows[0]!.system_identifier,
      segmentBytes: Number(rows[0]!.segment_bytes),
      pgBasebackup: { version: pgBasebackup.version, major: pgBasebackup.major },
    },
  };
}
