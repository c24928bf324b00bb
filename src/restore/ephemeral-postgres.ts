import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DatabaseConfig } from '../config';
import { UnavailableError } from '../errors';
import { connect } from '../postgres/connection';
import { chooseBinaryFor, findPgBinaries } from '../postgres/binaries';
import { spawnChild, type ChildHandle } from '../process/run-process';
import { cleanupOnExit } from '../process/exit-cleanup';
import { forgetFolder, noteFolder } from '../state/run-record';

export interface EphemeralPostgres {
  readonly major: number;
  readonly version: string;
  readonly binDir: string;
  /** Superuser connection over loopback TCP with a password, like a real server. */
  readonly database: DatabaseConfig;
  readonly socketDir: string;
  /** Stops the server and removes every file it had; safe to call more than once. */
  stop(): Promise<void>;
  /** Stops the server process only (fast shutdown), keeping its data directory: a server down for maintenance. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same data directory and port. */
  resume(): Promise<void>;
}

export interface EphemeralPostgresOptions {
  /** Oldest acceptable server major (a restore needs the backup's major or newer). */
  minMajor?: number;
  pgBinDir?: string;
  /** Extra server settings, e.g. { max_connections: '50' }. */
  settings?: Record<string, string>;
  startTimeoutMs?: number;
  /** Where the cluster's temp directory goes (default: the system temp dir). */
  parentDir?: string;
  /** 'disposable' (default) trades durability for speed; 'default' keeps PostgreSQL's own settings (benchmarks' baseline). */
  tuning?: 'disposable' | 'default';
}

// A disposable cluster needs no durability: these make restores several times faster.
const DISPOSABLE_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  autovacuum: 'off',
  wal_level: 'minimal',
  max_wal_senders: '0',
  archive_mode: 'off',
  max_wal_size: '4GB',
  checkpoint_timeout: '1h',
  maintenance_work_mem: '512MB',
  shared_buffers: '128MB',
  max_locks_per_transaction: '256',
  // Docker gives a container 64 MB of /dev/shm; parallel index builds during pg_restore can need
  // more. Files in the (throwaway) data directory have no such limit.
  dynamic_shared_memory_type: 'mmap',
};

/** The account that owns the cluster: postgres refuses to run as root. */
export async function clusterOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === 'postgres');
  if (!entry) throw new UnavailableError('keepsake runs as root but there is no "postgres" user to run a throwaway PostgreSQL as; create one or run keepsake as a non-root user');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function waitUntilReady(database: DatabaseConfig, server: ChildHandle, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.finished.then(() => (exited = true));
  for (;;) {
    if (exited) throw new UnavailableError(`throwaway PostgreSQL exited during start: ${server.stderrTail().trim()}`);
    try {
      const client = await connect(database);
      await client.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new UnavailableError(`throwaway PostgreSQL did not accept connections within ${timeoutMs / 1000}s: ${server.stderrTail().trim()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Starts `postgres` on a data directory with these settings on its command line (they win over its files). */
export function spawnPostgres(binDir: string, dataDir: string, settings: Record<string, string>, owner?: { uid: number; gid: number }, stderrTailBytes?: number): ChildHandle {
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  // Should keepsake die, SIGQUIT: an immediate shutdown that also removes its shared memory.
  return spawnChild(join(binDir, 'postgres'), args, { ...owner, stdout: 'ignore', env: { LC_ALL: 'C' }, stopSignal: 'SIGQUIT', stderrTailBytes });
}

/** Fast shutdown (SIGINT: disconnect clients, no checkpoint wait), SIGKILL after 10 s. */
export async function stopPostgres(server: ChildHandle): Promise<void> {
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await server.finished;
  clearTimeout(timer);
}

/**
 * initdb a new cluster in a temp directory and start it on a unix socket and a free loopback port.
 * Used by restore tests, the test suite and the demo. Always torn down by stop(), and on process
 * exit as a last resort, so no cluster or temp directory outlives keepsake.
 */
export async function startEphemeralPostgres(options: EphemeralPostgresOptions = {}): Promise<EphemeralPostgres> {
  const initdb = chooseBinaryFor('initdb', await findPgBinaries('initdb', { pgBinDir: options.pgBinDir }), options.minMajor ?? 0);
  const binDir = dirname(initdb.path);
  const owner = await clusterOwner();
  const root = await mkdtemp(join(options.parentDir ?? tmpdir(), 'keepsake-pg-'));
  const dataDir = join(root, 'data');
  const password = randomBytes(18).toString('base64url');
  let server: ChildHandle | undefined;

  // Recorded in STATE_DIR until removed: a keepsake killed before stop() leaves it to the next run.
  noteFolder(root, 'throwaway PostgreSQL cluster');
  const unregister = cleanupOnExit(() => {
    server?.killGroup('SIGKILL');
    rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    if (server) await stopPostgres(server);
    await rm(root, { recursive: true, force: true });
    forgetFolder(root);
  };

  try {
    const pwfile = join(root, 'pwfile');
    await writeFile(pwfile, password, { mode: 0o600 });
    if (owner) {
      await chown(root, owner.uid, owner.gid);
      await chown(pwfile, owner.uid, owner.gid);
    }
    await spawnChild(
      initdb.path,
      ['-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...owner, env: { LC_ALL: 'C' } },
    ).succeeded();
    await rm(pwfile);

    const port = await freePort();
    const tuning = options.tuning === 'default' ? { listen_addresses: '127.0.0.1' } : DISPOSABLE_SETTINGS;
    const settings = { ...tuning, ...options.settings, port: String(port), unix_socket_directories: root };
    const database: DatabaseConfig = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' };
    const launch = async () => {
      server = spawnPostgres(binDir, dataDir, settings, owner);
      await waitUntilReady(database, server, options.startTimeoutMs ?? 30_000);
    };
    const pause = async () => {
      const running = server;
      server = undefined;
      if (running) await stopPostgres(running);
    };
    await launch();
    return { major: initdb.major, version: initdb.version, binDir, database, socketDir: root, stop, pause, resume: launch };
  } catch (error) {
    await stop();
    throw error;
  }
}
