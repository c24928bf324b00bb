/**
 * What each report says, for the operator reading it on a phone: the news first, the sidecar named,
 * failures in their own words, one time format, and nothing measured against the moment of sending.
 */
import { loadConfig } from '../../src/config';
import { assess, type HealthFacts } from '../../src/health/assess';
import { ProcessFailedError } from '../../src/process/run-process';
import { REPORT_EVENT_KINDS, type BackupFailedEvent, type HealthEvent, type ReportEvent, type RestoreTestEvent, type StorageReportEvent } from '../../src/report/events';
import { renderReport } from '../../src/report/render';
import { SAMPLE_EVENTS, SAMPLE_NOW, sampleManifest } from '../../src/report/render/samples';
import { validManifest } from './manifest-fixture';

const render = (event: ReportEvent, now = SAMPLE_NOW) => renderReport(event, { subjectPrefix: '[keepsake]', now });
/** The HTML as a reader sees it: tags gone, entities back. */
const visible = (html: string) => html.replace(/<[^>]*>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const failedBackup = SAMPLE_EVENTS['backup-failed'] as BackupFailedEvent;
const failedWith = (error: string): BackupFailedEvent => ({ ...failedBackup, error });
const processError = (command: string, stderrTail: string) => new ProcessFailedError({ command, exitCode: 1, signal: null, stderrTail } as ConstructorParameters<typeof ProcessFailedError>[0]).message;

describe('the health alert leads with what fails', () => {
  const alert = render(SAMPLE_EVENTS['health-alert']);
  const text = alert.text;

  test('failing checks, then warnings, then one line for the passing ones, which are not listed', () => {
    const failing = text.indexOf('FAILING (2)');
    const warnings = text.indexOf('WARNINGS (7)');
    expect(failing).toBeGreaterThan(-1);
    expect(warnings).toBeGreaterThan(failing);
    expect(text.indexOf('10 other checks ok.')).toBeGreaterThan(warnings);
    for (const passing of ['storage:local', 'size:daily', 'scheduler', 'disk:logs']) expect(text).not.toContain(passing);
  });

  test('names the sidecar in the subject and the banner, and counts warnings in the plural', () => {
    expect(alert.subject).toContain('app@db-prod:5432');
    expect(alert.html).toMatch(/<td style="background:#b91c1c;[^"]*"><div style="[^"]*">app@db-prod:5432<\/div>/);
    expect(alert.text).toContain('7 warnings');
    expect(alert.text).not.toMatch(/\b6 warning\b/);
  });

  test('a reminder names the sidecar even with nothing but warnings', () => {
    const warnOnly: HealthEvent = { ...(SAMPLE_EVENTS['health-alert'] as HealthEvent), checks: [{ name: 'logs', status: 'warn', message: 'big' }] };
    expect(render(warnOnly).subject).toBe('[keepsake] WARNING health app@db-prod:5432: 1 warning');
  });

  test('the samples use the check names src/health gives', () => {
    const config = loadConfig({ SMTP_HOST: 'mail.local', MAIL_TO: 'ops@example.com' });
    const facts = (backups: HealthFacts['backups']): HealthFacts => ({ now: SAMPLE_NOW.getTime(), config, backups, state: { jobs: {} }, outbox: { count: 0 }, inDaemon: true });
    const tiers = ['daily', 'weekly', 'monthly', 'yearly'] as const;
    const assessed = new Set([...assess(facts([])), ...assess(facts(tiers.map((tier) => validManifest({ tier }))))].map((check) => check.name));
    // The probes' names (src/health/probes.ts): they touch the world, so they are not run here.
    const probe = /^(database|privileges|pg_dump|logs|storage:(local|s3)|disk:(backups|state|work|logs)(\+(backups|state|work|logs))*)$/;
    for (const kind of ['health-alert', 'health-recovered'] as const) {
      for (const { name } of (SAMPLE_EVENTS[kind] as HealthEvent).checks) expect(assessed.has(name) || probe.test(name) ? name : `${name} (not a check src/health runs)`).toBe(name);
    }
  });
});

describe('a failed backup says what failed, in its own words', () => {
  test('the last good backup comes first: id, age at the failure, where', () => {
    const { text } = render(failedBackup);
    const firstFact = text.split('\n\n')[2]!.split('\n')[0];
    expect(firstFact).toBe('Last good backup: daily/app_20261121_020000, taken 24h00m before this attempt, on local and s3');
    expect(render({ ...failedBackup, lastGood: null }).text).toContain('Last good backup: none: there is no complete backup of app yet');
  });

  test('the headline names the failure; the stderr block holds the child\'s stderr and nothing else', () => {
    const error = processError('pg_dump', 'pg_dump: error: connection to server at "db" (10.0.0.1), port 5432 failed: FATAL:  database "x" does not exist');
    const { html, text } = render(failedWith(error));
    expect(visible(html)).toContain('Backup failed: pg_dump: connection to server at "db" (10.0.0.1), port 5432 failed: FATAL: database "x" does not exist');
    expect(text).toContain("PG_DUMP'S ERROR OUTPUT (STDERR)");
    expect(text).toContain('    pg_dump: error: connection to server');
    expect(text).not.toContain('    pg_dump exited with code 1');
  });

  test("keepsake's own message is no stderr: no stderr block, its advice goes to what to check", () => {
    const { html, text, subject } = render(failedWith('Cannot connect to PostgreSQL: database "x" does not exist on db-prod:5432; check POSTGRES_DB'));
    expect(subject).toBe('[keepsake] FAILED daily backup app@db-prod:5432: Cannot connect to PostgreSQL: database "x" does not exist on db-prod:5432');
    expect(visible(html)).toContain('Backup failed: Cannot connect to PostgreSQL: database "x" does not exist');
    expect(text).not.toMatch(/stderr/i);
    expect(text).not.toContain('<pre');
    expect(text).toMatch(/WHAT TO CHECK\n-+\n {2}- check POSTGRES_DB\n/);
    expect(text).not.toMatch(/S3_BUCKET|S3_REGION|BACKUP_DIR is mounted/);
  });

  test('a failed row count is not a missing database', () => {
    const { text, subject } = render(
      failedWith('cannot count the rows of app.items: relation "lookup" does not exist (SQL function "label" during inlining); a function used by an index, constraint or policy on that table names a table without its schema; schema-qualify it in the function or give the function SET search_path'),
    );
    expect(subject).toContain(': cannot count the rows of app.items: relation "lookup" does not exist');
    expect(text).not.toMatch(/POSTGRES_DB|database does not exist|S3_BUCKET/);
    expect(text).toContain('names a table without its schema');
  });

  test.each([
    ['a missing database', 'FATAL: database "x" does not exist', /POSTGRES_DB/, /S3_|BACKUP_DIR/],
    ['a missing role', 'FATAL: role "bob" does not exist', /POSTGRES_USER/, /POSTGRES_DB|S3_/],
    ['a missing bucket', 'Cannot list s3://b/p/: the bucket does not exist (NoSuchBucket)', /S3_BUCKET/, /POSTGRES_/],
    ['a table the role may not read', processError('pg_dump', 'pg_dump: error: query failed: ERROR:  permission denied for table payments'), /pg_read_all_data/, /S3|STATE_DIR/],
  ])('hints fit the failure: %s', (_name, error, expected, unexpected) => {
    const { text } = render(failedWith(error));
    const checks = text.slice(text.indexOf('WHAT TO CHECK'));
    expect(checks).toMatch(expected);
    expect(checks).not.toMatch(unexpected);
  });
});

describe('code is set as code', () => {
  test.each(REPORT_EVENT_KINDS.map((kind) => [kind]))('%s: no literal backtick reaches the HTML', (kind) => {
    expect(visible(render(SAMPLE_EVENTS[kind]).html)).not.toContain('`');
  });

  test('a hint\'s command is a <code> element', () => {
    expect(render(failedBackup).html).toMatch(/<code [^>]*>pg_isready -h &lt;host&gt; -p &lt;port&gt;<\/code>/);
  });
});

describe('times: one format, and ages only between the event\'s own times', () => {
  test.each(REPORT_EVENT_KINDS.map((kind) => [kind]))('%s says the same whenever it is sent (only the footer differs) and shows no raw ISO time', (kind) => {
    const body = (now: Date) => render(SAMPLE_EVENTS[kind], now).text.split('\n--\n')[0];
    if (kind !== 'test') expect(body(new Date('2027-03-01T00:00:00Z'))).toBe(body(SAMPLE_NOW));
    expect(render(SAMPLE_EVENTS[kind]).text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d|just now|\.\d{3}Z/);
  });

  test.each([
    ['succeeded, from the daemon', SAMPLE_EVENTS['backup-succeeded'], 'Next run:     2026-11-23 02:00:00Z'],
    ['succeeded, by hand', { ...SAMPLE_EVENTS['backup-succeeded'], nextRun: undefined }, 'not known to a manual run: `keepsake status` shows the schedule'],
    ['failed, schedule off', { ...failedBackup, nextRun: null }, 'not scheduled (schedule is off)'],
  ])('a backup report has a next run row: %s', (_name, event, expected) => {
    expect(render(event as ReportEvent).text).toMatch(new RegExp(`Next run: +${expected.replace(/^Next run: +/, '').replace(/[()`]/g, '\\$&')}`));
  });
});

describe('restore test', () => {
  const passed = SAMPLE_EVENTS['restore-test-passed'] as RestoreTestEvent;

  test('one recovery time, defined, beside the whole test\'s time', () => {
    const { text } = render(passed);
    expect(text).toMatch(/Recovery time: +2m08s \(fetch, checksum and decompress 9\.8s \+ pg_restore 1m58s\)/);
    expect(text).toMatch(/Whole test: +2m32s \(recovery 2m08s \+ row-count check 23\.0s \+ throwaway server and clean-up 420ms\)/);
    expect(text).not.toMatch(/Expected recovery time/);
  });

  test('an unpopulated materialized view says why it has no counts', () => {
    expect(render(passed).text).toMatch(/monthly_revenue +- +-\n +materialized view not populated when dumped \(WITH NO DATA\): nothing to count/);
  });
});

describe('cleanup and storage', () => {
  test('the rule goes under the backup, not in a third column', () => {
    const { text } = render(SAMPLE_EVENTS['cleanup-summary']);
    expect(text).toMatch(/Backup +Size\n/);
    expect(text).toMatch(/daily\/app_20261115_020000 +\d+\.\d MB\n {4}outside every rule \(8th newest daily, 7d old, limit 7d\)/);
  });

  test('with a WAL archive: how many WAL files and bytes went, and from which segment WAL is kept', () => {
    const event = SAMPLE_EVENTS['cleanup-summary'] as Extract<ReportEvent, { kind: 'cleanup-summary' }>;
    const file = { name: '000000010000000000000003', action: 'delete' as const, rule: 'before-oldest-base' as const, reason: 'before 000000010000000000000004', storedBytes: 4_000_000, done: true };
    const wal = { totals: { deleted: 3, bytesFreed: 12_000_000 }, targets: [{ target: 'local', keptFrom: { segment: '000000010000000000000004', base: 'cluster_20261122_010000' }, deleted: 3, bytesFreed: 12_000_000, kept: 9, files: [file] }] };
    expect(render({ ...event, summary: { ...event.summary, wal } }).text).toMatch(/Archived WAL: +3 files \(12\.0 MB\) removed; kept from 000000010000000000000004 on/);
    expect(render(event).text).not.toMatch(/Archived WAL/);
  });

  const storage = SAMPLE_EVENTS['storage-report'] as StorageReportEvent;
  test('one backup takes, several take', () => {
    expect(render({ ...storage, tiers: [{ tier: 'daily', count: 1, bytes: 10 }], totalBytes: 10 }).text).toContain('1 backup takes 10 B');
    expect(render(storage).text).toContain('17 backups take 1.35 GB');
  });

  test('per-target totals and free space: local disk measured, S3 unknown', () => {
    expect(render(storage).text).toMatch(/Target +Copies +Size +Free\nlocal +17 +674\.6 MB +41\.3 GB\ns3 +17 +674\.6 MB +unknown/);
  });
});

describe('backups as before', () => {
  test('the success report still names the backup id and hash', () => {
    const { text } = render(SAMPLE_EVENTS['backup-succeeded']);
    expect(text).toContain(`daily/${sampleManifest.id}`);
    expect(text).toContain(sampleManifest.sha256);
  });
});
