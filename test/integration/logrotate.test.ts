import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { effectiveLogrotateConfig, SHIPPED_LOGROTATE_CONFIG } from '../../src/jobs/logrotate';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { startScenario, type Scenario } from '../support/scenario';


describe('log rotation by the daemon', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ sql: 'CREATE TABLE t (id int)' });
  });
  afterAll(async () => s?.stop());

  it('points the shipped rules at LOG_DIR', async () => {
    const rules = await effectiveLogrotateConfig('/data/logs/');
    expect(rules).toContain('/data/logs/*.log {');
    expect(rules).not.toMatch(/^\/var\/log\/keepsake/m);
    expect(await effectiveLogrotateConfig('/var/log/keepsake')).toBe(await readFile(SHIPPED_LOGROTATE_CONFIG, 'utf8'));
  });

  it('rotates keepsake.log on schedule, reopens it, and loses no line', async () => {
    const logDir = join(s.workspace.root, 'logs');
    await mkdir(s.workspace.stateDir, { recursive: true });
    // logrotate's memory says the log was last rotated two days ago, so the daily rule is due now.
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    const stamp = `${twoDaysAgo.getFullYear()}-${twoDaysAgo.getMonth() + 1}-${twoDaysAgo.getDate()}-0:0:0`;
    await writeFile(join(s.workspace.stateDir, 'logrotate.status'), `logrotate state -- version 2\n"${logDir}/keepsake.log" ${stamp}\n`, { mode: 0o600 });

    const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false', LOG_DIR: logDir, SCHEDULE_LOGROTATE: '*/2 * * * * *' });
    await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'logrotate' && line.outcome === 'ok', 15_000);
    // Lines after the rotation: the next run of the job.
    await daemon.waitFor((line) => line.msg === 'job started' && line.job === 'logrotate' && daemon.lines.some((l) => l.msg === 'job finished'), 15_000);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const files = (await readdir(logDir)).sort();
    expect(files).toEqual(['keepsake.log', 'keepsake.log.1']);
    const rotated = (await readFile(join(logDir, 'keepsake.log.1'), 'utf8')).split('\n').filter(Boolean);
    const current = (await readFile(join(logDir, 'keepsake.log'), 'utf8')).split('\n').filter(Boolean);
    expect(rotated.length).toBeGreaterThan(0);
    expect(current.length).toBeGreaterThan(0);
    // Every line the daemon wrote to stdout is in the files, in order, exactly once.
    const stdoutLines = daemon.lines.map((line) => JSON.stringify(line));
    expect([...rotated, ...current].map((text) => JSON.stringify(JSON.parse(text)))).toEqual(stdoutLines);
    const finished = daemon.lines.find((line) => line.msg === 'job finished' && line.job === 'logrotate');
    expect(finished?.summary).toMatch(/logrotate ran on .*; log file reopened/);
  });
});
