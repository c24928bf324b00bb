import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { silentLogger } from '../../src/log';
import { findWalGaps } from '../../src/pitr/archive/gaps';
import { startWalStreaming, type WalStreaming } from '../../src/pitr/receive';
import { listWalArchive } from '../../src/pitr/wal-archive';
import { walManifestKey } from '../../src/pitr/wal-names';
import { listOutbox } from '../../src/state/outbox';
import { archiveCurrentAt, readWalStatus } from '../../src/state/wal-status';
import { createStorages, type Storage } from '../../src/storage';
import { databaseEnv } from '../support/cli';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { startTestS3, type TestS3 } from '../support/s3';
import { makeWorkspace } from '../support/workspace';

jest.setTimeout(120_000);

/** Seconds instead of minutes: polls, backoffs and the outage grace. */
const OPTIONS = { pollMs: 200, outageGraceMs: 1_500, outageCheckMs: 250, receiverBackoffMs: 200, receiverStableMs: 500, shipBackoffMs: 200 };

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('WAL streaming (PITR=on): pg_receivewal into the spool, shipped to local disk and S3', () => {
  let pg: TestPostgres;
  let s3: TestS3;
  let s3Dir: string;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let config: Config;
  let storages: Storage[];
  let streaming: WalStreaming;
  let firstSegment: string;
  const key = { id: 'walkey', secret: 'wal-secret-key-123' };

  const sql = async (text: string) => pg.query(pg.admin, text);
  /** Some rows, then a WAL switch: the segment it completes. */
  const writeAndSwitch = async (rows = 500) => {
    await sql(`INSERT INTO events (at, note) SELECT now(), repeat('x', 200) FROM generate_series(1, ${rows})`);
    return (await sql('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name as string;
  };
  const archived = async (storage: Storage) => (await listWalArchive(storage)).map((entry) => entry.file);
  const holdsEverywhere = (name: string) => async () => {
    for (const storage of storages) if (!(await archived(storage)).some((file) => file.name === name)) return false;
    return true;
  };
  const spoolFiles = async () => (await readdir(config.pitr.spoolDir)).sort();
  const filed = async () => (await listOutbox(config.stateDir)).map((item) => item.event);
  const expectNoGap = async () => {
    for (const storage of storages) expect(findWalGaps(await archived(storage), firstSegment)).toEqual([]);
  };

  beforeAll(async () => {
    [pg, workspace, s3Dir] = await Promise.all([startTestPostgres({ settings: PITR_SERVER_SETTINGS }), makeWorkspace(), mkdtemp(join(tmpdir(), 'keepsake-wal-s3-'))]);
    s3 = await startTestS3({ dir: s3Dir, key });
    await sql('CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL, note text)');
    config = loadConfig({
      ...databaseEnv(pg.admin),
      BACKUP_DIR: workspace.backupDir,
      STATE_DIR: workspace.stateDir,
      ...s3.env('wal-streaming'),
      BACKUP_TARGETS: 'local,s3',
      PITR: 'on',
      WAL_SHIP_INTERVAL: '1s',
      HEALTH_ALERT_REPEAT: '1h',
    });
    storages = createStorages(config);
    streaming = await startWalStreaming({ config, storages, log: silentLogger }, OPTIONS);
    await waitFor('pg_receivewal streaming', async () => (await readWalStatus(config.stateDir))?.receiver.state === 'streaming');
  });
  afterAll(async () => {
    await streaming?.stop(5_000);
    await Promise.all([pg?.stop(), s3?.stop()]);
    await Promise.all([workspace?.remove(), rm(s3Dir, { recursive: true, force: true })]);
  });

  it('archives each completed segment on every target, manifest last, and empties the spool', async () => {
    firstSegment = await writeAndSwitch();
    const second = await writeAndSwitch();
    await waitFor(`${second} on local and s3`, holdsEverywhere(second));
    for (const storage of storages) {
      const manifest = JSON.parse((await storage.readAll(walManifestKey({ name: firstSegment, kind: 'segment', timeline: 1 }))).toString('utf8'));
      expect(manifest).toMatchObject({ name: firstSegment, kind: 'segment', rawBytes: 16 * 1024 * 1024 });
    }
    await waitFor('no completed segment in the spool', async () => (await spoolFiles()).every((name) => name.endsWith('.partial')));
    const status = await waitFor('the status names the last segment', async () => {
      const read = await readWalStatus(config.stateDir);
      return read?.lastShipped?.name === second && read;
    });
    expect(status.receiver.state).toBe('streaming');
    await expectNoGap();
  });

  it('archives the partial segment within WAL_SHIP_INTERVAL, and drops it once the segment is complete', async () => {
    await sql("INSERT INTO events (at, note) VALUES (now(), 'the last commit')");
    const current = (await sql('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name'))[0]!.name as string;
    const started = Date.now();
    await waitFor(`${current}.partial archived`, holdsEverywhere(`${current}.partial`), 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor('the status names the partial', async () => (await readWalStatus(config.stateDir))?.partial?.name === `${current}.partial`);

    expect(await writeAndSwitch(10)).toBe(current);
    await waitFor(`${current} archived`, holdsEverywhere(current));
    await waitFor(`${current}.partial gone`, async () => {
      for (const storage of storages) if ((await archived(storage)).some((file) => file.name === `${current}.partial`)) return false;
      return true;
    });
  });

  it('restarts pg_receivewal when it is killed: nothing is lost, and a restart in seconds is not reported', async () => {
    const before = (await readWalStatus(config.stateDir))!.receiver.restarts;
    await writeAndSwitch();
    streaming.receiver.current()!.killGroup('SIGKILL');
    const written = await writeAndSwitch();
    await waitFor('restarted and streaming', async () => {
      const status = await readWalStatus(config.stateDir);
      return status?.receiver.state === 'streaming' && status.receiver.restarts > before;
    });
    await waitFor(`${written} archived after the restart`, holdsEverywhere(written));
    await expectNoGap();
    expect(await filed()).toEqual([]);
  });

  it('starts again beside a segment file pg_receivewal was cut off preallocating, which it would refuse', async () => {
    await sql("INSERT INTO events (at, note) VALUES (now(), 'opens the next segment')");
    await waitFor('the segment being written in the spool', async () => (await spoolFiles()).some((name) => name.endsWith('.partial')));
    await streaming.stop(5_000);
    // Killed while filling a new segment file to its full size, pg_receivewal leaves it short and then refuses to start.
    const partial = (await spoolFiles()).find((name) => name.endsWith('.partial'))!;
    await truncate(join(config.pitr.spoolDir, partial), 5 * 1024 * 1024);
    streaming = await startWalStreaming({ config, storages, log: silentLogger }, OPTIONS);
    const written = await writeAndSwitch();
    await waitFor(`${written} archived after the start`, holdsEverywhere(written));
    expect((await readWalStatus(config.stateDir))?.receiver).toMatchObject({ state: 'streaming', restarts: 0 });
    await expectNoGap();
    expect(await filed()).toEqual([]);
  });

  it('keeps streaming across a server restart: the outage is reported once it outlasts the grace, then its end; no gap', async () => {
    const before = await writeAndSwitch();
    await waitFor(`${before} archived`, holdsEverywhere(before));
    await pg.pause!();
    await waitFor('wal-streaming-failed filed', async () => (await filed()).includes('wal-streaming-failed'));
    const down = await readWalStatus(config.stateDir);
    expect(down?.receiver).toMatchObject({ state: 'down', lastError: expect.stringMatching(/pg_receivewal|connect/) });
    // The WAL lag keeps growing while nothing streams: the archive is not "caught up" with a receiver that is down.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stillDown = await readWalStatus(config.stateDir);
    expect(stillDown?.receiver.state).toBe('down');
    expect(archiveCurrentAt(stillDown!)).toBe(archiveCurrentAt(down!));
    expect(Date.parse(stillDown!.updatedAt)).toBeGreaterThan(Date.parse(archiveCurrentAt(stillDown!)!));
    await pg.resume!();
    const after = await writeAndSwitch();
    await waitFor(`${after} archived after the server came back`, holdsEverywhere(after), 30_000);
    await waitFor('wal-streaming-recovered filed', async () => (await filed()).includes('wal-streaming-recovered'));
    expect(await filed()).toEqual(['wal-streaming-failed', 'wal-streaming-recovered']);
    await expectNoGap();
    const [failed] = await listOutbox(config.stateDir);
    expect(failed!.text).not.toContain(pg.admin.password!);
  });

  it('holds WAL in the spool while S3 is down and catches up in order once it is back; reported both ways', async () => {
    const reportsBefore = (await filed()).length;
    await s3.stop();
    const during = [await writeAndSwitch(), await writeAndSwitch()];
    const failing = await waitFor('shipping fails', async () => {
      const status = await readWalStatus(config.stateDir);
      return status?.shipError && status.spool.files >= 2 ? status : undefined;
    });
    expect(failing.shipError).toMatch(/s3|S3|connect|ECONNREFUSED/);
    await waitFor('wal-streaming-failed filed for S3', async () => (await filed()).length > reportsBefore);
    expect((await spoolFiles()).filter((name) => !name.endsWith('.partial'))).toEqual(expect.arrayContaining(during));

    s3 = await startTestS3({ dir: s3Dir, port: s3.port, key });
    await waitFor(`${during[1]} on S3 after it came back`, holdsEverywhere(during[1]!), 30_000);
    await waitFor('spool emptied', async () => (await spoolFiles()).every((name) => name.endsWith('.partial')));
    await waitFor('wal-streaming-recovered filed for S3', async () => (await filed()).length === reportsBefore + 2);
    expect((await filed()).slice(reportsBefore)).toEqual(['wal-streaming-failed', 'wal-streaming-recovered']);
    const status = await readWalStatus(config.stateDir);
    expect(status?.shipError).toBeUndefined();
    await expectNoGap();
  });
});
