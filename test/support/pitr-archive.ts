import { execFileSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config, DatabaseConfig } from '../../src/config';
import { withClient } from '../../src/postgres/connection';
import { clusterOwner, freePort, spawnPostgres, stopPostgres } from '../../src/restore/ephemeral-postgres';
import { libpqEnv } from '../../src/postgres/connection';
import { spawnChild, type ChildHandle } from '../../src/process/run-process';
import { storeWalFile } from '../../src/pitr/wal-archive';
import { parseWalName } from '../../src/pitr/wal-names';
import type { Storage } from '../../src/storage';
import type { TestPostgres } from './postgres';

const BIN = '/usr/lib/postgresql/15/bin';

/** pg_receivewal streaming the test server's WAL into a spool, from a slot made first (nothing is recycled before it is streamed). */
export interface WalStream {
  spool: string;
  /** Ends the current segment (pg_switch_wal) and waits until the spool holds it whole; returns its name. */
  switchAndWait(): Promise<string>;
  /** Archives every whole segment in the spool not archived yet, and the partial one when asked. */
  ship(storages: Storage[], config: Config, options?: { partial?: boolean }): Promise<string[]>;
  stop(): Promise<void>;
}

export async function streamWal(pg: TestPostgres, spool: string, slot = 'keepsake_test'): Promise<WalStream> {
  await mkdir(spool, { recursive: true });
  const env = { ...libpqEnv(pg.admin), LC_ALL: 'C' };
  await spawnChild(join(BIN, 'pg_receivewal'), ['--create-slot', '--if-not-exists', '--slot', slot, '-w'], { env }).succeeded();
  const receiver: ChildHandle = spawnChild(join(BIN, 'pg_receivewal'), ['-D', spool, '--slot', slot, '--no-loop', '-w', '--status-interval', '1'], { env });
  const shipped = new Set<string>();
  return {
    spool,
    async switchAndWait() {
      const name = (await pg.query<{ name: string }>(pg.admin, 'SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
      const deadline = Date.now() + 20_000;
      while (!(await readdir(spool)).includes(name)) {
        if (Date.now() > deadline) throw new Error(`pg_receivewal did not write ${name} within 20 s: ${receiver.stderrTail()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return name;
    },
    async ship(storages, config, options = {}) {
      const names: string[] = [];
      for (const name of (await readdir(spool)).sort()) {
        const file = parseWalName(name);
        if (!file || (file.kind === 'partial' && !options.partial) || shipped.has(name)) continue;
        if ((await stat(join(spool, name))).size === 0) continue;
        await storeWalFile(storages, { compression: config.compression, encryption: config.encryption }, file, join(spool, name));
        if (file.kind !== 'partial') shipped.add(name);
        names.push(name);
      }
      return names;
    },
    async stop() {
      receiver.kill('SIGINT');
      await receiver.finished;
      await pg.query(pg.admin, 'SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    },
  };
}

/** Starts the test machine's PostgreSQL on a data directory keepsake wrote (--data-dir), as its owner, and waits until it has recovered and promoted. */
export async function startPostgresOn(dataDir: string): Promise<{ database(name: string): DatabaseConfig; stop(): Promise<void> }> {
  const owner = await clusterOwner();
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dataDir]);
  const sockets = await mkdtemp(join(tmpdir(), 'keepsake-sock-'));
  if (owner) await chown(sockets, owner.uid, owner.gid);
  const port = await freePort();
  const server = spawnPostgres(BIN, dataDir, { port: String(port), listen_addresses: '', unix_socket_directories: sockets, max_locks_per_transaction: '256' }, owner); // the test server's own command-line value: recovery needs at least the primary's
  const database = (name: string): DatabaseConfig => ({ host: sockets, port, user: 'postgres', database: name });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const recovering = await withClient(database('postgres'), async (client) => (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r).catch(() => true);
    if (!recovering) break;
    if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`PostgreSQL did not recover from ${dataDir}: ${server.stderrTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { database, stop: async () => (await stopPostgres(server), await rm(sockets, { recursive: true, force: true })) };
}
