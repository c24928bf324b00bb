import type pg from 'pg';
import type { DatabaseConfig } from '../../config';
import { UnavailableError } from '../../errors';
import { DEFAULT_SEGMENT_BYTES } from '../wal-names';

/** The pg_hba.conf line a base backup (and WAL streaming) needs, for this role. */
export const hbaReplicationLine = (db: Pick<DatabaseConfig, 'user'>) => `host replication ${db.user} <sidecar network>/24 scram-sha-256`;

/** What keeps this role on this server from taking a base backup, as sentences that say what to change; empty when nothing does. */
export async function replicationProblems(client: pg.Client, db: Pick<DatabaseConfig, 'user'>): Promise<string[]> {
  const { rows } = await client.query<{ can_replicate: boolean; max_wal_senders: string; wal_level: string; segment_bytes: string }>(
    `SELECT (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user) AS can_replicate,
            current_setting('max_wal_senders') AS max_wal_senders, current_setting('wal_level') AS wal_level,
            (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS segment_bytes`,
  );
  const row = rows[0]!;
  const problems: string[] = [];
  if (!row.can_replicate) problems.push(`role "${db.user}" may not replicate: run \`ALTER ROLE ${quoteIdent(db.user)} REPLICATION;\` as a superuser`);
  if (Number(row.max_wal_senders) <= 0) problems.push('the server has max_wal_senders = 0: set it to 10 (the default) and restart PostgreSQL');
  if (row.wal_level === 'minimal') problems.push('the server has wal_level = minimal: set wal_level = replica (the default) and restart PostgreSQL');
  // The WAL archive's continuity and retention count segments of 16 MiB; another size would be miscounted.
  if (Number(row.segment_bytes) !== DEFAULT_SEGMENT_BYTES) problems.push(`the server's WAL segments are ${Number(row.segment_bytes) / 1024 / 1024} MiB (initdb --wal-segsize); keepsake's PITR supports only the default 16 MiB so far: leave PITR off for this server`);
  return problems;
}

/** Refuses, naming everything to change at once (and the pg_hba line, which no query can see). */
export async function refuseWithoutReplication(client: pg.Client, db: Pick<DatabaseConfig, 'user'>): Promise<void> {
  const problems = await replicationProblems(client, db);
  if (!problems.length) return;
  throw new UnavailableError(
    `Base backups (PITR) need a role that may replicate: ${problems.join('; ')}. The server's pg_hba.conf also needs a replication line for it, e.g. \`${hbaReplicationLine(db)}\` (README "Point-in-time recovery")`,
  );
}

const quoteIdent = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);
