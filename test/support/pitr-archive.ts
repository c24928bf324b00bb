import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CountingStream } from '../../src/backup/digest';
import { backupId, dataKey, manifestKeyFor } from '../../src/backup/keys';
import { serializeManifest, type Manifest } from '../../src/backup/manifest';
import type { Config, DatabaseConfig } from '../../src/config';
import { withClient } from '../../src/postgres/connection';
import { clusterOwner, freePort, spawnPostgres, stopPostgres } from '../../src/restore/ephemeral-postgres';
import { libpqEnv } from '../../src/postgres/connection';
import { spawnChild, type ChildHandle } from '../../src/process/run-process';
import { storeWalFile } from '../../src/pitr/wal-archive';
import { parseLsn, parseWalName, segmentName, segnoOfLsn } from '../../src/pitr/wal-names';
import type { Storage } from '../../src/storage';
import type { TestPostgres } from './postgres';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * What `keepsake base-backup` will store, made by hand until it lands (engineer "base"):
 * `pg_basebackup -D - -Ft -X none --checkpoint=fast -v | zstd` under base/YYYY/MM/DD/cluster_<ts>.tar.zst
 * on every storage, then its manifest with `physical` read from pg_basebackup's stderr.
 */
export async function takeBaseBackup(pg: TestPostgres, storages: Storage[], config: Config, at = new Date()): Promise<Manifest> {
  const startedAt = new Date();
  const admin = pg.admin;
  const basebackup = spawnChild(join(BIN, 'pg_basebackup'), ['-D', '-', '-Ft', '-X', 'none', '--checkpoint=fast', '-v', '-w'], { env: { ...libpqEnv(admin), LC_ALL: 'C' }, stdout: 'pipe', stderrTailBytes: 16384 });
  const zstd = spawnChild('zstd', ['-q', '-c', '-3'], { stdin: 'pipe', stdout: 'pipe' });
  const chunks: Buffer[] = [];
  const raw = new CountingStream();
  zstd.child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  await Promise.all([pipeline(basebackup.child.stdout!, raw, zstd.child.stdin!), basebackup.succeeded(), zstd.succeeded()]);
  const rawBytes = raw.bytes;
  const stored = Buffer.concat(chunks);
  // With -X none pg_basebackup -v does not print the WAL range; the server's backup_manifest in the tar has it.
  const backupManifest = JSON.parse(execFileSync('sh', ['-c', 'zstd -dc | tar -xOf - backup_manifest'], { input: stored, maxBuffer: 1 << 28 }).toString('utf8')) as { 'WAL-Ranges': { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[] };
  const range = backupManifest['WAL-Ranges'][0]!;
  const start = [range['Start-LSN'], range['Start-LSN'], String(range.Timeline)];
  const end = [range['End-LSN'], range['End-LSN']];
  const systemIdentifier = (await pg.query<{ id: string }>(admin, 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  const version = (await pg.query<{ version: string }>(admin, "SELECT current_setting('server_version') AS version"))[0]!.version;
  const key = dataKey('base', 'cluster', at, 'zstd', false, '.tar');
  const timeline = Number(start[2]);
  const manifest: Manifest = {
    format: 1,
    id: backupId('cluster', at),
    tier: 'base',
    source: { kind: 'postgres-cluster', name: 'cluster' },
    database: 'postgres',
    host: admin.host,
    key,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    server: { version: version, major: pg.major },
    archiveFormat: 'tar',
    physical: {
      timeline,
      startLsn: start[1]!,
      stopLsn: end[1]!,
      startSegment: segmentName(timeline, segnoOfLsn(parseLsn(start[1]!))),
      systemIdentifier: systemIdentifier,
      segmentBytes: 16 * 1024 * 1024,
      pgBasebackup: { version: version, major: pg.major },
    },
    compression: { algorithm: 'zstd', level: 3 },
    rawBytes,
    storedBytes: stored.length,
    sha256: createHash('sha256').update(stored).digest('hex'),
    inventory: { schemas: [], extensions: [], tables: [], sequences: [], databases: [] },
    targets: storages.map((storage) => ({ target: storage.name, location: storage.location(key) })),
    keepsake: { version: 'test' },
  };
  for (const storage of storages) {
    await storage.put(key, stored);
    await storage.put(manifestKeyFor(key), serializeManifest(manifest));
  }
  return manifest;
}

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
