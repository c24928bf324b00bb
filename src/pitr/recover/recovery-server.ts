import { chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../config';
import { InterruptedError, UnavailableError, VerifyError } from '../../errors';
import { connect } from '../../postgres/connection';
import type { ChildHandle } from '../../process/run-process';
import { freePort, spawnPostgres, stopPostgres } from '../../restore/ephemeral-postgres';

/** PostgreSQL's own refusal to promote short of recovery_target_time: the archive ends too early. */
export const RECOVERY_ENDED_EARLY = /recovery ended before configured recovery target was reached/;

export interface RecoveringServer {
  /** Connection over the cluster's private socket (trust: nothing else can reach it). */
  readonly database: DatabaseConfig;
  readonly server: ChildHandle;
  stop(): Promise<void>;
}

/**
 * Starts postgres on a recovering data directory, reachable only over a Unix socket in `root`
 * (no TCP) with its own pg_hba (`local all all trust`): the base's pg_hba and passwords are the
 * production server's. Settings that would reach outside (archiving, preloaded libraries, a log
 * collector hiding its messages) are turned off; durability is not needed.
 */
export async function startRecoveringServer(options: { binDir: string; root: string; dataDir: string; user: string; owner?: { uid: number; gid: number } }): Promise<RecoveringServer> {
  const { binDir, root, dataDir, owner } = options;
  const hba = join(root, 'pg_hba.conf');
  await writeFile(hba, 'local all all trust\n', { mode: 0o600 });
  if (owner) await chown(hba, owner.uid, owner.gid);
  const port = await freePort();
  const server = spawnPostgres(
    binDir,
    dataDir,
    {
      port: String(port),
      listen_addresses: '',
      unix_socket_directories: root,
      hba_file: hba,
      logging_collector: 'off',
      log_destination: 'stderr',
      archive_mode: 'off',
      shared_preload_libraries: '',
      ssl: 'off',
      hot_standby: 'off',
      fsync: 'off',
      synchronous_commit: 'off',
      autovacuum: 'off',
    },
    owner,
    64 * 1024,
  );
  const database: DatabaseConfig = { host: root, port, user: options.user, database: 'template1' };
  return { database, server, stop: () => stopPostgres(server) };
}

/**
 * Waits until the server has replayed what it will and promoted (it accepts connections and is not
 * in recovery), then reads the last replayed commit's time. A server that exits instead is said in
 * PostgreSQL's words; "recovery ended before configured recovery target was reached" means the
 * archive ends before the target.
 */
export async function waitForPromotion(recovering: RecoveringServer, options: { signal?: AbortSignal; archiveEnd: string }): Promise<{ pointReached: Date | null }> {
  const { server, database } = recovering;
  let exited = false;
  void server.finished.then(() => (exited = true));
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError('recovery interrupted');
    if (exited) {
      const said = server.stderrTail().trim();
      if (RECOVERY_ENDED_EARLY.test(said)) throw new VerifyError(`PostgreSQL refused to end recovery before the target: "recovery ended before configured recovery target was reached". The WAL archive ends at ${options.archiveEnd}, before the time asked for: choose an earlier time or --at latest`);
      throw new UnavailableError(`the recovering PostgreSQL exited: ${lastLines(said)}`);
    }
    try {
      const client = await connect(database);
      try {
        const { rows } = await client.query<{ recovering: boolean; replayed: Date | null }>('SELECT pg_is_in_recovery() AS recovering, pg_last_xact_replay_timestamp() AS replayed');
        if (!rows[0]!.recovering) return { pointReached: rows[0]!.replayed };
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch {
      // not accepting connections yet: still replaying
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function lastLines(text: string): string {
  return text.split('\n').filter((line) => /FATAL|PANIC|ERROR/.test(line)).slice(-3).join(' / ') || text.split('\n').slice(-5).join(' / ');
}
