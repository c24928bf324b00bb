import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listWalArchive } from '../../src/pitr/wal-archive';
import { readWalStatus } from '../../src/state/wal-status';
import { loadConfig } from '../../src/config';
import { createStorages } from '../../src/storage';
import { databaseEnv } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { freePort } from '../support/http';
import { parsePrometheusText } from '../support/prometheus';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { makeWorkspace } from '../support/workspace';

// The daemon also takes its first base backup at start (PITR=on, none yet): give a busy machine time.
jest.setTimeout(150_000);

describe('the daemon with PITR=on', () => {
  let pg: TestPostgres;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeAll(async () => {
    [pg, workspace] = await Promise.all([startTestPostgres({ settings: PITR_SERVER_SETTINGS }), makeWorkspace()]);
    await pg.query(pg.admin, 'CREATE TABLE events (id bigserial PRIMARY KEY, note text)');
  });
  afterAll(async () => {
    await pg?.stop();
    await workspace?.remove();
  });

  it('streams WAL from its own slot, serves the WAL metrics, and on SIGTERM ships the partial segment and stops pg_receivewal', async () => {
    const port = await freePort();
    // A long WAL_SHIP_INTERVAL: only the shutdown can archive the partial segment in this test.
    const env = { ...databaseEnv(pg.admin), ...SCHEDULES_OFF, BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir, PITR: 'on', PITR_SLOT: 'sidecar_1', WAL_SHIP_INTERVAL: '1h', HEALTHCHECK_PORT: String(port) };
    const daemon = startDaemonProcess(env);
    try {
      await daemon.waitFor((line) => line.msg === 'WAL streaming');
      // The first base backup, taken at start, ends with a segment switch of its own: let it finish first.
      await daemon.waitFor((line) => line.job === 'base-backup' && line.outcome !== undefined, 90_000);
      // "WAL streaming" is logged when pg_receivewal is started; on a loaded machine it connects a moment later.
      const slotActive = async () => (await pg.query<{ active: boolean }>(pg.admin, "SELECT active FROM pg_replication_slots WHERE slot_name = 'sidecar_1'"))[0]?.active;
      const connectBy = Date.now() + 20_000;
      while (!(await slotActive()) && Date.now() < connectBy) await new Promise((resolve) => setTimeout(resolve, 100));
      // If it is not, the receiver's own lines say why (restarts, pg_receivewal's last words).
      const receiverLines = daemon.lines.filter((line) => /receivewal|WAL streaming|receiver/i.test(String(line.msg))).map((line) => `${String(line.msg)} ${String(line.error ?? '')}`);
      expect({ active: await slotActive(), receiverLines }).toEqual({ active: true, receiverLines: expect.any(Array) });

      await pg.query(pg.admin, "INSERT INTO events (note) SELECT repeat('x', 100) FROM generate_series(1, 1000)");
      const segment = (await pg.query<{ name: string }>(pg.admin, 'SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
      const storage = createStorages(loadConfig(env))[0]!;
      const deadline = Date.now() + 45_000;
      while (!(await listWalArchive(storage)).some((entry) => entry.file.name === segment) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await listWalArchive(storage)).map((entry) => entry.file.name)).toContain(segment);

      const samples = await (async () => {
        for (;;) {
          const parsed = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
          if (parsed.some((sample) => sample.name === 'keepsake_wal_last_shipped_segment_info' && sample.labels.segment! >= segment)) return parsed;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const value = (name: string) => samples.find((sample) => sample.name === name)?.value;
      expect(value('keepsake_wal_receiver_up')).toBe(1);
      expect(value('keepsake_wal_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(value('keepsake_wal_lag_seconds')).toBeLessThan(60);

      await pg.query(pg.admin, "INSERT INTO events (note) VALUES ('written just before the shutdown')");
      // pg_receivewal has it on disk: the test server commits asynchronously, so wait for the insert position, not the write one.
      const inserted = (await pg.query<{ lsn: string }>(pg.admin, 'SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
      for (let tries = 0; !(await pg.query(pg.admin, 'SELECT 1 FROM pg_stat_replication WHERE write_lsn >= $1::pg_lsn', [inserted])).length; tries += 1) {
        if (tries > 300) throw new Error('pg_receivewal did not receive the last insert');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    } finally {
      if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
    }
    const archived = (await listWalArchive(createStorages(loadConfig({ ...databaseEnv(pg.admin), BACKUP_DIR: workspace.backupDir }))[0]!)).map((entry) => entry.file.name);
    const current = (await pg.query<{ name: string }>(pg.admin, 'SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name'))[0]!.name;
    expect(archived).toContain(`${current}.partial`);
    expect(await pg.query(pg.admin, "SELECT active FROM pg_replication_slots WHERE slot_name = 'sidecar_1'")).toEqual([{ active: false }]);
    expect((await readWalStatus(workspace.stateDir))?.receiver.state).toBe('stopped');
    expect((await readdir(join(workspace.stateDir, 'wal-spool'))).filter((name) => !name.endsWith('.partial'))).toEqual([]);
  });
});
