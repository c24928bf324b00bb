import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backupId, dataKey, manifestKeyFor } from '../../src/backup/keys';
import { serializeManifest, type Manifest } from '../../src/backup/manifest';
import { loadConfig } from '../../src/config';
import type { HealthReport } from '../../src/health/report';
import type { CleanupSummary } from '../../src/retention/apply';
import type { DaemonState } from '../../src/state/daemon-state';
import { createStorages } from '../../src/storage';
import { validManifest } from '../unit/manifest-fixture';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { useScenario } from '../support/scenario';
import { allFiles } from '../support/workspace';

const SQL = 'CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 50) g;';

interface Listed {
  tier: string;
  id: string;
  startedAt: string;
}

describe('the yearly tier, end to end', () => {
  const scenario = useScenario({ sql: SQL });

  it('backup --tier yearly files the backup under yearly/YYYY/, list shows it, and cleanup keeps BACKUP_KEEP_YEARLY of six years', async () => {
    const s = scenario();
    const backup = await runCli(['backup', '--tier', 'yearly', '--json'], s.env);
    expect([backup.code, backup.stderr]).toEqual([0, '']);
    const manifest = JSON.parse(backup.stdout) as Manifest;
    const year = new Date(manifest.startedAt).getUTCFullYear();
    expect(manifest).toMatchObject({ tier: 'yearly', key: `yearly/${year}/${manifest.id}.dump.zst` });
    await access(join(s.workspace.backupDir, manifest.key));
    await access(join(s.workspace.backupDir, manifestKeyFor(manifest.key)));

    // Five earlier years, Jan 1st 05:00 as SCHEDULE_YEARLY makes them, planted beside the real one.
    const storage = createStorages(loadConfig(s.env))[0]!;
    const earlier = Array.from({ length: 5 }, (_, i) => new Date(Date.UTC(year - 5 + i, 0, 1, 5)));
    for (const at of earlier) {
      const key = dataKey('yearly', 'app', at, 'zstd');
      await storage.put(key, Buffer.alloc(16, 1));
      await storage.put(manifestKeyFor(key), serializeManifest(validManifest({ id: backupId('app', at), tier: 'yearly', database: 'app', key, startedAt: at.toISOString(), finishedAt: at.toISOString(), storedBytes: 16 })));
    }

    const listYearly = async (env: Record<string, string>) => {
      const list = await runCli(['list', '--tier', 'yearly', '--json'], env);
      expect(list.code).toBe(0);
      return (JSON.parse(list.stdout) as Listed[]).map((listed) => `${listed.tier}/${listed.id}`);
    };
    const ids = [manifest.id, ...earlier.map((at) => backupId('app', at)).reverse()].map((id) => `yearly/${id}`);
    expect(await listYearly(s.env)).toEqual(ids);
    const text = await runCli(['list', '--tier', 'yearly'], s.env);
    expect(text.stdout).toContain(manifest.id);

    // The default BACKUP_KEEP_YEARLY (5): the oldest year goes, data object and manifest.
    const cleanup = await runCli(['cleanup', '--json'], s.env);
    expect([cleanup.code, cleanup.stderr]).toEqual([0, '']);
    const summary = JSON.parse(cleanup.stdout) as CleanupSummary;
    expect(summary.backups.map((b) => `${b.tier}/${b.id}:${b.action}`)).toEqual([...ids.slice(0, 5).map((id) => `${id}:keep`), `${ids[5]}:delete`]);
    expect(await listYearly(s.env)).toEqual(ids.slice(0, 5));
    expect((await allFiles(s.workspace.backupDir)).filter((file) => file.startsWith(`yearly/${year - 5}/`))).toEqual([]);

    // BACKUP_KEEP_YEARLY=2 keeps the real backup and last year's.
    const strict = await runCli(['cleanup'], { ...s.env, BACKUP_KEEP_YEARLY: '2' });
    expect(strict.code).toBe(0);
    expect(strict.stdout).toMatch(/DELETE/);
    expect(await listYearly(s.env)).toEqual(ids.slice(0, 2));
    expect((await allFiles(s.workspace.backupDir)).filter((file) => file.startsWith('yearly/')).map((file) => file.split('/')[1]).sort()).toEqual([String(year - 1), String(year - 1), String(year), String(year)]);
  });

  it('the daemon schedules the yearly job, catches up a missed Jan 1st once, and status shows it', async () => {
    const s = scenario();
    // SCHEDULE_YEARLY's default; every other job off.
    const env = { ...s.env, ...SCHEDULES_OFF, SCHEDULE_YEARLY: '0 5 1 1 *' };
    const daemon = startDaemonProcess(env);
    const queued = await daemon.waitFor((line) => line.msg === 'job queued' && line.job === 'yearly');
    const lastSlot = `${new Date().getUTCFullYear()}-01-01T05:00:00.000Z`;
    expect(queued.why).toBe(`catch-up: no yearly backup since its slot at ${lastSlot}`);
    const finished = await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'yearly');
    expect(finished.outcome).toBe('ok');
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const listed = JSON.parse((await runCli(['list', '--json'], s.env)).stdout) as Listed[];
    expect(listed.map((backup) => backup.tier)).toEqual(['yearly']);
    const status = await runCli(['status'], env);
    expect(status.stdout).toMatch(/^yearly +0 5 1 1 \* .* ok /m);
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { jobs: Record<string, { outcome?: string }>; nextRuns: Record<string, string | null> };
    expect(json.jobs.yearly).toMatchObject({ outcome: 'ok' });
    expect(json.nextRuns.yearly).toBe(`${new Date().getUTCFullYear() + 1}-01-01T05:00:00.000Z`);

    // Started again, it has this year's backup: nothing to catch up (the health run at start comes after the catch-up).
    const again = startDaemonProcess({ ...env, SCHEDULE_HEALTH: '0 * * * *' });
    await again.waitFor((line) => line.msg === 'job finished' && line.job === 'health');
    again.process.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(again.lines.filter((line) => line.msg === 'job queued' && line.job === 'yearly')).toEqual([]);
  });

  it('an install upgraded without BACKUP_CATCH_UP is not failed for its missing yearly backup until the tier has been scheduled longer than HEALTH_MAX_AGE_YEARLY', async () => {
    const s = scenario();
    const statePath = join(s.env.STATE_DIR!, 'state.json');
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    // The state an older keepsake left: a daemon first started two years ago, monthly backups made by it.
    expect((await runCli(['backup', '--tier', 'monthly'], s.env)).code).toBe(0);
    const monthly = { lastStart: daysAgo(3), lastEnd: daysAgo(3), outcome: 'ok' };
    await mkdir(s.env.STATE_DIR!, { recursive: true });
    await writeFile(statePath, JSON.stringify({ firstStartedAt: daysAgo(730), startedAt: daysAgo(10), stoppedAt: daysAgo(1), jobs: { monthly } }));

    const env = { ...s.env, ...SCHEDULES_OFF, SCHEDULE_MONTHLY: '0 4 1 * *', SCHEDULE_YEARLY: '0 5 1 1 *', BACKUP_CATCH_UP: 'false' };
    const daemon = startDaemonProcess(env);
    await daemon.waitFor((line) => line.msg === 'scheduled' && line.job === 'yearly');
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as DaemonState;
    expect(state.jobs.monthly?.firstScheduledAt).toBe(state.firstStartedAt);
    expect(Date.now() - Date.parse(state.jobs.yearly!.firstScheduledAt!)).toBeLessThan(86_400_000);

    const freshness = async () => {
      const health = await runCli(['health', '--json'], env);
      return (JSON.parse(health.stdout) as HealthReport).checks.filter((check) => check.name.startsWith('freshness:'));
    };
    const nextJan1st = `${new Date().getUTCFullYear() + 1}-01-01T05:00:00.000Z`;
    expect(await freshness()).toEqual([
      expect.objectContaining({ name: 'freshness:monthly', status: 'ok' }),
      expect.objectContaining({ name: 'freshness:yearly', status: 'warn', message: `no yearly backup yet; the first is due ${nextJan1st} (or run \`keepsake backup --tier yearly\`)` }),
    ]);

    // Scheduled for longer than HEALTH_MAX_AGE_YEARLY (370d) and still no yearly backup: that fails.
    state.jobs.yearly!.firstScheduledAt = daysAgo(371);
    await writeFile(statePath, JSON.stringify(state));
    expect(await freshness()).toEqual([
      expect.objectContaining({ name: 'freshness:monthly', status: 'ok' }),
      expect.objectContaining({ name: 'freshness:yearly', status: 'fail', message: expect.stringMatching(/^there is no yearly backup/) }),
    ]);
  });

  it('a yearly tier named in BACKUP_SCHEMA_ONLY_TIERS is backed up without data', async () => {
    const s = scenario();
    const backup = await runCli(['backup', '--tier', 'yearly', '--json'], { ...s.env, BACKUP_SCHEMA_ONLY_TIERS: 'yearly' });
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout) as Manifest).toMatchObject({ tier: 'yearly', contents: { schemaOnly: true } });
  });
});
