/**
 * What a channel is told about each outcome: the e-mail's facts as data, from the same sample
 * events the report previews use. Pure logic: no servers.
 */
import { noticeFor } from '../../src/notify/notice-for';
import { locationHref } from '../../src/notify/notice-parts';
import { REPORT_EVENT_KINDS, type BackupRunEvent, type BackupSucceededEvent, type CleanupSummaryEvent, type HealthEvent, type ReportEvent } from '../../src/report/events';
import { checksFor } from '../../src/report/render/hints';
import { SAMPLE_EVENTS, sampleManifest, sampleNow } from '../../src/report/render/samples';

const notice = (event: ReportEvent, now = sampleNow(event.kind)) => noticeFor(event, { now, hostname: 'backup-1' });
const fact = (n: ReturnType<typeof notice>, label: string) => n.facts.find((f) => f.label === label)?.value;

describe('every sample event', () => {
  it.each(REPORT_EVENT_KINDS.map((kind) => [kind]))('%s: names the sidecar and the machine, carries the status and the filing time, and no secret', (kind) => {
    const event = SAMPLE_EVENTS[kind];
    const n = notice(event);
    expect(n.sidecar).toMatchObject({ name: 'app@db-prod:5432', database: 'app', host: 'db-prod', port: 5432, hostname: 'backup-1' });
    expect(n.occurredAt).toBe(sampleNow(kind).toISOString());
    expect(['ok', 'warn', 'fail', 'info']).toContain(n.status);
    expect(n.title.length).toBeGreaterThan(0);
    // Good news asks nothing of anyone; bad news always says what to do first.
    if (n.status === 'fail') expect(n.nextStep).toEqual(expect.any(String));
    if (n.status === 'ok' || n.status === 'info') expect(n.nextStep).toBeUndefined();
    expect(JSON.stringify(n)).not.toMatch(/password|secret_access|PGPASSWORD/i);
  });

  it('is pure: the same event and time give the same notice', () => {
    for (const kind of REPORT_EVENT_KINDS) expect(notice(SAMPLE_EVENTS[kind])).toEqual(notice(SAMPLE_EVENTS[kind]));
  });
});

describe('backups', () => {
  it('a stored backup: its manifest facts, and a link to every stored copy', () => {
    const n = notice(SAMPLE_EVENTS['backup-succeeded']);
    expect(n.backup).toEqual({
      id: 'app_20261122_020000', tier: 'daily', source: 'app', startedAt: sampleManifest.startedAt, finishedAt: sampleManifest.finishedAt,
      durationMs: 72_506, rawBytes: 187_402_113, storedBytes: 42_108_554, sha256: sampleManifest.sha256,
    });
    expect(n.durationMs).toBe(72_506);
    expect(n.facts).toEqual([
      { label: 'Backup', value: 'daily/app_20261122_020000' },
      { label: 'Size', value: '42.1 MB' },
      { label: 'Took', value: '1m13s' },
      { label: 'Targets', value: 'local, s3' },
    ]);
    expect(n.links).toEqual([
      { rel: 'stored', href: 'file:///backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst', title: 'local' },
      { rel: 'stored', href: 's3://acme-backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst', title: 's3' },
    ]);
  });

  it('a backup much smaller than usual is a warning with a next step, its size saying so', () => {
    const event = SAMPLE_EVENTS['backup-succeeded'] as BackupSucceededEvent;
    const n = notice({ ...event, manifest: { ...event.manifest, storedBytes: 4_000_000 } });
    expect(n.status).toBe('warn');
    expect(fact(n, 'Size')).toBe('4.00 MB (90% smaller than usual)');
    expect(n.nextStep).toMatch(/lost data/);
  });

  it('a failed backup: the error as reported, the e-mail\'s hints with the first as next step, the last good backup', () => {
    const event = SAMPLE_EVENTS['backup-failed'] as Extract<ReportEvent, { kind: 'backup-failed' }>;
    const n = notice(event);
    expect(n.error).toBe(event.error);
    expect(n.hints).toEqual(checksFor(event.error));
    expect(n.nextStep).toBe(n.hints[0]);
    expect(n.nextStep).toMatch(/pg_isready/);
    expect(fact(n, 'Last good backup')).toBe('daily/app_20261121_020000 (local, s3)');
    expect(fact(n, 'Failed after')).toBe('1.2s');
    expect(n.backup).toBeUndefined();
  });

  it('a base backup that failed: the replication hint first, base-backup advice after', () => {
    const n = notice(SAMPLE_EVENTS['base-backup-failed']);
    expect(n.nextStep).toMatch(/replication line for this role in pg_hba\.conf/);
    expect(n.hints).toContain('run `keepsake base-backup` by hand to watch it fail with the full output');
    expect(fact(n, 'Last good base backup')).toBe('base/cluster_20261115_010000 (local, s3)');
  });

  it('a run of several sources is one notice naming each failed source, with links to what was stored', () => {
    const event = SAMPLE_EVENTS['backup-run'] as BackupRunEvent;
    const twoFailed: BackupRunEvent = { ...event, outcomes: [...event.outcomes, { source: 'billing', describe: 'billing@db-prod:5432', error: 'pg_dump exited with code 1: pg_dump: error: permission denied for table invoices' }] };
    const n = notice(twoFailed);
    expect(n.event).toBe('backup-failed');
    expect(n.title).toBe('Backup failed for analytics, billing');
    expect(n.error).toBe('analytics: Cannot connect to PostgreSQL: database "analytics" does not exist on db-prod:5432; check POSTGRES_DB\nbilling: pg_dump exited with code 1: pg_dump: error: permission denied for table invoices');
    expect(fact(n, 'Sources')).toBe('4, 2 failed: analytics (Cannot connect to PostgreSQL: database "analytics" does not exist on db-prod:5432); billing (pg_dump: permission denied for table invoices)');
    // Each failure's own hints, each once.
    expect(n.nextStep).toBe('check POSTGRES_DB');
    expect(n.hints.some((hint) => hint.includes('pg_read_all_data'))).toBe(true);
    expect(new Set(n.hints).size).toBe(n.hints.length);
    expect(n.links.map((link) => link.title)).toEqual(['app on local', 'app on s3', 'globals on local', 'globals on s3']);
    expect(n.backup).toBeUndefined();
  });

  it('a run where every source worked is good news', () => {
    const event = SAMPLE_EVENTS['backup-run'] as BackupRunEvent;
    const n = notice({ ...event, outcomes: event.outcomes.filter((outcome) => outcome.manifest) });
    expect(n).toMatchObject({ event: 'backup-succeeded', status: 'ok', hints: [] });
    expect(n.error).toBeUndefined();
    expect(fact(n, 'Sources')).toBe('2');
  });
});

describe('health', () => {
  it('an alert carries the checks that are not ok, failures first, and the first failure\'s message as next step', () => {
    const n = notice(SAMPLE_EVENTS['health-alert']);
    expect(n.checks?.map((check) => `${check.status} ${check.name}`)).toEqual([
      'fail database', 'fail last-run:daily', 'warn pg_dump', 'warn freshness:weekly', 'warn freshness:monthly', 'warn freshness:yearly', 'warn last-run:weekly', 'warn restore-test', 'warn logs',
    ]);
    expect(n.nextStep).toBe('Cannot connect to PostgreSQL: connection refused at db-prod:5432; check POSTGRES_HOST and POSTGRES_PORT and that the server is running');
    expect(fact(n, 'Failing')).toBe('database, last-run:daily');
    expect(fact(n, 'Unhealthy for')).toBe('1m28s');
    // Times inside messages read as in the e-mail.
    expect(n.checks?.find((check) => check.name === 'freshness:weekly')?.message).toContain('2026-11-23 03:00:00Z');
  });

  it('an alert of warnings only leads with the first warning', () => {
    const event = SAMPLE_EVENTS['health-alert'] as HealthEvent;
    const n = notice({ ...event, checks: event.checks.filter((check) => check.status !== 'fail') });
    expect(n.status).toBe('warn');
    expect(n.nextStep).toBe('not checked against the server, which did not answer (installed: 17.2)');
  });

  it('a recovery is good news with every check, all ok, and how long it lasted', () => {
    const n = notice(SAMPLE_EVENTS['health-recovered']);
    expect(n.checks?.every((check) => check.status === 'ok')).toBe(true);
    expect(n.checks).toHaveLength((SAMPLE_EVENTS['health-recovered'] as HealthEvent).checks.length);
    expect(fact(n, 'Unhealthy for')).toBe('1h01m');
  });
});

describe('the other jobs', () => {
  it('a failed restore test: the problem as error, verify first, the tested copy linked', () => {
    const n = notice(SAMPLE_EVENTS['restore-test-failed']);
    expect(n.error).toBe('table public.order_items has 498112 rows, the backup recorded 512907');
    expect(n.nextStep).toMatch(/^`keepsake verify daily\/app_20261122_020000`/);
    expect(fact(n, 'Tables')).toBe('12 of 13 tables match');
    expect(n.links).toEqual([{ rel: 'tested', href: 's3://acme-backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst', title: 'tested copy' }]);
    expect(n.backup?.sha256).toBe(sampleManifest.sha256);
  });

  it('a cleanup whose deletions failed names them, with keepsake\'s own advice first (not a database hint)', () => {
    const event = SAMPLE_EVENTS['cleanup-summary'] as CleanupSummaryEvent;
    const errors = [{ target: 's3', key: 'db-backups/daily/2026/11/14/app.dump.zst', message: 'Cannot delete s3://acme-backups/x: connection refused; check S3_ENDPOINT' }];
    const n = notice({ ...event, summary: { ...event.summary, errors } });
    expect(n.status).toBe('fail');
    expect(n.error).toBe('s3: db-backups/daily/2026/11/14/app.dump.zst: Cannot delete s3://acme-backups/x: connection refused; check S3_ENDPOINT');
    expect(n.nextStep).toBe('check S3_ENDPOINT');
    expect(n.hints.join(' ')).not.toMatch(/PostgreSQL|POSTGRES_HOST/);
    expect(fact(n, 'Failed deletions')).toBe('1');
  });

  it('an incomplete off-site copy: each trouble, keepsake\'s advice, how far behind, where it goes', () => {
    const n = notice(SAMPLE_EVENTS['offsite-failed']);
    expect(n.error?.split('\n')).toHaveLength(3);
    expect(n.nextStep).toBe('check S3_ENDPOINT and that the server is running');
    expect(fact(n, 'Behind on cold')).toMatch(/^5 backups missing/);
    expect(n.links).toEqual([{ rel: 'offsite', href: 's3://acme-cold/db-backups/', title: 'cold' }]);
    expect(n.durationMs).toBe(111_794);
  });

  it('WAL streaming down: the problem, the database hint, how long; recovered: good news', () => {
    const down = notice(SAMPLE_EVENTS['wal-streaming-failed']);
    expect(down.error).toMatch(/^pg_receivewal exited with code 1/);
    expect(down.nextStep).toMatch(/pg_isready/);
    expect(fact(down, 'Down for')).toBe('2m06s');
    const up = notice(SAMPLE_EVENTS['wal-streaming-recovered']);
    expect(up).toMatchObject({ status: 'ok', hints: [] });
  });

  it('the storage report and the test message are information', () => {
    expect(notice(SAMPLE_EVENTS['storage-report'])).toMatchObject({ status: 'info', facts: expect.arrayContaining([{ label: 'Growth', value: '+12.6 MB' }]) });
    expect(notice(SAMPLE_EVENTS.test)).toMatchObject({ status: 'info', title: 'Test email', facts: [], links: [] });
  });

  it('an event filed before sidecars existed still names its database', () => {
    const { sidecar: _, ...old } = SAMPLE_EVENTS['backup-failed'] as Extract<ReportEvent, { kind: 'backup-failed' }>;
    expect(notice(old as ReportEvent).sidecar).toMatchObject({ name: 'app@db-prod', hostname: 'backup-1' });
  });
});

describe('links', () => {
  it.each([
    ['s3://bucket/prefix/key.dump.zst', 's3://bucket/prefix/key.dump.zst'],
    ['/backups/a b/key#1.zst', 'file:///backups/a%20b/key%231.zst'],
    ['relative/path', undefined],
  ])('%s -> %s', (location, href) => {
    expect(locationHref(location)).toBe(href);
  });
});
