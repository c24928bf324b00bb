import { REPORT_EVENT_KINDS, type ReportEvent, type RestoreTestEvent } from '../../src/report/events';
import { escapeHtml, renderReport } from '../../src/report/render';
import { sizeAnomaly } from '../../src/report/render/anomaly';
import { oneLine } from '../../src/report/render/common';
import { SAMPLE_EVENTS, SAMPLE_NOW, sampleManifest } from '../../src/report/render/samples';
import { weeklySizes } from '../../src/report/render/storage';

const options = { subjectPrefix: '[keepsake]', now: SAMPLE_NOW };
const render = (event: ReportEvent) => renderReport(event, options);
const TAGS = new Set(['html', 'head', 'meta', 'title', 'body', 'div', 'span', 'code', 'table', 'tr', 'td', 'th', 'p', 'ul', 'li', 'pre']);
const tagsOf = (html: string) => [...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((match) => match[1]!.toLowerCase());

/** HTML output shows a fact escaped (perhaps with a word in a span of its own); the text part shows it as is. */
const expectFact = ({ html, text }: { html: string; text: string }, fact: string) => {
  expect(html.replace(/<[^>]*>/g, '')).toContain(escapeHtml(fact));
  expect(text).toContain(fact);
};

describe('renderReport: every event', () => {
  test.each(REPORT_EVENT_KINDS.map((kind) => [kind]))('%s renders an email-safe subject, HTML and text', (kind) => {
    const { subject, html, text } = render(SAMPLE_EVENTS[kind]);
    expect(subject).toMatch(/^\[keepsake\] [A-Z]+ /);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('max-width:600px');
    expect(html).toContain(`<title>${escapeHtml(subject)}</title>`);
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    expect(html).not.toMatch(/<(script|link|img|style|iframe|object)\b/i);
    expect(html).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    expect(html).not.toMatch(/\b(src|href|background)=/i);
    expect(new Set(tagsOf(html))).toEqual(new Set([...tagsOf(html)].filter((tag) => TAGS.has(tag))));
    expect(text.length).toBeGreaterThan(50);
    expect(text).not.toMatch(/<\/?(html|table|td|div|p|pre)\b/i);
  });
});

describe('subjects: status first, then what and where', () => {
  const failed = (error: string): ReportEvent => ({ ...(SAMPLE_EVENTS['backup-failed'] as Extract<ReportEvent, { kind: 'backup-failed' }>), error });
  test.each<[string, ReportEvent, string | RegExp]>([
    ['backup succeeded', SAMPLE_EVENTS['backup-succeeded'], '[keepsake] OK daily backup app@db-prod:5432: 42.1 MB in 1m13s'],
    ['backup failed, connection refused', SAMPLE_EVENTS['backup-failed'], '[keepsake] FAILED daily backup app@db-prod:5432: pg_dump: connection to server at "db-prod" (10.0.3.7), port 5432 failed: Connection refused'],
    ['password', failed('connection to "db-prod" failed: FATAL: password authentication failed for user "app"'), /FAILED daily backup app@db-prod:5432: .*password authentication failed for user "app"$/],
    ['missing database', failed('pg_dump exited with code 1: pg_dump: error: FATAL: database "ap" does not exist'), /: pg_dump: FATAL: database "ap" does not exist$/],
    ['full disk', failed('write /backups/x.tmp: ENOSPC: no space left on device'), /: write \/backups\/x\.tmp: ENOSPC: no space left on device$/],
    ['permission', failed('open /backups/daily: EACCES: permission denied'), /: EACCES: permission denied$/],
    ['pg_dump version', failed('pg_dump exited with code 1: pg_dump: error: aborting because of server version mismatch'), /: pg_dump: aborting because of server version mismatch$/],
    ['unknown error, long', failed(`zstd exited with code 1: ${'frame corrupted '.repeat(20)}`), /^\[keepsake\] FAILED daily backup app@db-prod:5432: zstd: frame corrupted .{0,140}…$/],
    ['restore test passed', SAMPLE_EVENTS['restore-test-passed'], /^\[keepsake\] OK restore test app@db-prod:5432 daily\/app_20261122_020000: 13 tables verified, recovery 2m08s$/],
    ['restore test failed', SAMPLE_EVENTS['restore-test-failed'], /^\[keepsake\] FAILED restore test app@db-prod:5432 daily\/app_20261122_020000: table public\.order_items/],
    ['cleanup', SAMPLE_EVENTS['cleanup-summary'], /^\[keepsake\] OK cleanup app@db-prod:5432: deleted 2 of 9 backups, freed .* kept 7$/],
    ['health alert', SAMPLE_EVENTS['health-alert'], '[keepsake] ALERT health app@db-prod:5432: database, last-run:daily failing; 7 warnings'],
    ['health recovered', SAMPLE_EVENTS['health-recovered'], '[keepsake] RECOVERED health app@db-prod:5432: all 19 checks ok'],
    ['storage report', SAMPLE_EVENTS['storage-report'], /^\[keepsake\] REPORT storage app@db-prod:5432: 1\.35 GB in 17 backups \(\+12\.6 MB since last report\)$/],
    ['test', SAMPLE_EVENTS.test, /^\[keepsake\] TEST /],
  ])('%s', (_name, event, expected) => {
    const { subject } = render(event);
    if (typeof expected === 'string') expect(subject).toBe(expected);
    else expect(subject).toMatch(expected);
  });

  test('the prefix comes from the options, and may be empty', () => {
    expect(renderReport(SAMPLE_EVENTS.test, { subjectPrefix: '[db-prod backups]', now: SAMPLE_NOW }).subject).toMatch(/^\[db-prod backups\] TEST /);
    expect(renderReport(SAMPLE_EVENTS.test, { subjectPrefix: '', now: SAMPLE_NOW }).subject).toMatch(/^TEST /);
  });

  test.each([
    ['short', 'connection refused', 80, 'connection refused'],
    ['newlines collapsed', 'a\nb\r\nc', 80, 'a b c'],
    ['cut at a word', 'one two three four five six', 15, 'one two three…'],
  ])('oneLine: %s', (_name, input, max, expected) => expect(oneLine(input, max)).toBe(expected));
});

describe('facts appear in both the HTML and the text part', () => {
  test.each<[string, ReportEvent, string[]]>([
    [
      'backup succeeded',
      SAMPLE_EVENTS['backup-succeeded'],
      ['app@db-prod:5432', 'daily/app_20261122_020000', '2026-11-22 02:00:00Z', '1m13s', '42.1 MB', '4.5x', sampleManifest.sha256, 's3://acme-backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst',
        '/backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst', '2026-11-23 02:00:00Z', 'deleted 2 daily backups', 'zstd -dc app_20261122_020000.dump.zst | pg_restore --no-owner --no-privileges -d app_restored', 'createdb app_restored'],
    ],
    ['backup failed', SAMPLE_EVENTS['backup-failed'], ['app@db-prod:5432', 'daily/app_20261121_020000, taken 24h00m before this attempt, on local and s3', 'Connection refused', 'Is the server running on that host', 'POSTGRES_HOST', '1.2s', '2026-11-23 02:00:00Z']],
    ['restore test passed', SAMPLE_EVENTS['restore-test-passed'], ['daily/app_20261122_020000', 'order_items', '512,907', '13 of 13 tables match', 'pg_restore 1m58s', '2m32s', '402.7 MB']],
    ['restore test failed', SAMPLE_EVENTS['restore-test-failed'], ['FAIL', '498,112', 'the backup recorded 512907', 'keepsake verify']],
    ['cleanup', SAMPLE_EVENTS['cleanup-summary'], ['app_20261115_020000', 'outside every rule (8th newest daily, 7d old, limit 7d)', '182.9 MB', 'db-backups/daily/2026/11/20/app_20261120_020000.dump.zst']],
    ['health alert', SAMPLE_EVENTS['health-alert'], ['last-run:daily', 'Cannot connect to PostgreSQL: connection refused at db-prod:5432', 'freshness:weekly', '2026-11-22 02:00:02Z', '10 other checks ok']],
    ['health recovered', SAMPLE_EVENTS['health-recovered'], ['Healthy again', 'freshness:weekly', '16m']],
    ['storage report', SAMPLE_EVENTS['storage-report'], ['app@db-prod:5432', '1.35 GB', 'weekly', '324.0 MB', '2026-W47', '+12.6 MB']],
  ])('%s', (_name, event, facts) => {
    const rendered = render(event);
    for (const fact of facts) expectFact(rendered, fact);
  });
});

describe('backup totals', () => {
  it('counts a partitioned table\'s rows once: the parent\'s count already covers its partitions', () => {
    const backup = SAMPLE_EVENTS['backup-succeeded'] as Extract<ReportEvent, { kind: 'backup-succeeded' }>;
    const tables = [
      { schema: 'shop', name: 'customers', kind: 'table' as const, rows: 10 },
      { schema: 'shop', name: 'orders', kind: 'partitioned' as const, rows: 100 },
      { schema: 'shop', name: 'orders_2025', kind: 'table' as const, rows: 60 },
      { schema: 'shop', name: 'orders_2026', kind: 'table' as const, rows: 40 },
      { schema: 'shop', name: 'revenue', kind: 'matview' as const, rows: 4 },
    ];
    const event = { ...backup, manifest: { ...backup.manifest, inventory: { ...backup.manifest.inventory, schemas: ['shop'], tables } } };
    expectFact(render(event), '4 tables and 1 materialized view, 110 rows, 1 schema');
  });
});

describe('escaping: hostile names and errors cannot inject markup', () => {
  const hostile = `<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)> 🐘`;
  const manifest = { ...sampleManifest, database: hostile, host: hostile, key: `daily/${hostile}.dump.zst`, targets: [{ target: hostile, location: hostile }] };
  const restore = SAMPLE_EVENTS['restore-test-failed'] as RestoreTestEvent;
  const cleanup = SAMPLE_EVENTS['cleanup-summary'] as Extract<ReportEvent, { kind: 'cleanup-summary' }>;
  const cases: [string, ReportEvent][] = [
    ['backup succeeded', { kind: 'backup-succeeded', manifest, nextRun: null, recentSizes: [], retention: hostile }],
    ['backup failed', { kind: 'backup-failed', tier: hostile, database: hostile, host: hostile, startedAt: SAMPLE_NOW.toISOString(), error: `${hostile}: ${hostile}\n${hostile}` }],
    ['restore test', { ...restore, result: { ...restore.result, error: `${hostile}: ${hostile}`, restoredInto: hostile, problems: [hostile], notes: [hostile], backup: { ...restore.result.backup, database: hostile, id: hostile, location: hostile }, tables: [{ schema: hostile, name: hostile, kind: 'table', expected: 1, actual: 0, ok: false }] } }],
    ['cleanup', { kind: 'cleanup-summary', summary: { ...cleanup.summary, backups: cleanup.summary.backups.map((backup) => ({ ...backup, database: hostile, id: hostile, reason: hostile })), errors: [{ target: hostile, key: hostile, message: hostile }], problems: [hostile] } }],
    ['health alert', { kind: 'health-alert', checks: [{ name: hostile, status: 'fail', message: hostile, value: hostile }] }],
    ['storage report', { kind: 'storage-report', tiers: [{ tier: hostile, count: 1, bytes: 1 }], totalBytes: 1, history: [{ startedAt: SAMPLE_NOW.toISOString(), storedBytes: 1, tier: hostile }] }],
  ];
  test.each(cases)('%s', (_name, event) => {
    const { subject, html, text } = render(event);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(tagsOf(html).every((tag) => TAGS.has(tag))).toBe(true);
    // No real tag carries an event handler; the escaped text may mention one harmlessly.
    for (const tag of html.match(/<[^>]*>/g)!) expect(tag).not.toMatch(/\son\w+=/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;');
    expect(html).toContain('🐘');
    expect(text).toContain(hostile);
    expect(subject).not.toMatch(/[\r\n]/);
  });

  test.each([
    ['<', '&lt;'],
    ['>', '&gt;'],
    ['&', '&amp;'],
    ['"', '&quot;'],
    ["'", '&#39;'],
    ['&amp;', '&amp;amp;'],
    ['🐘 café', '🐘 café'],
  ])('escapeHtml(%j) is %j', (input, expected) => expect(escapeHtml(input)).toBe(expected));
});

describe('size: under 100 KB, where Gmail clips', () => {
  const base = (SAMPLE_EVENTS['restore-test-passed'] as RestoreTestEvent).result;
  const tables = (ok: boolean) => Array.from({ length: 500 }, (_, index) => ({ schema: 'public', name: `table_with_a_long_name_${index}`, kind: 'table', expected: index * 1000, actual: ok ? index * 1000 : 1, ok }));
  test.each([
    ['500 matching tables', true],
    ['500 failing tables', false],
  ])('a restore test with %s', (_name, ok) => {
    const result = { ...base, ok, tables: tables(ok), problems: ok ? [] : tables(false).map((table) => `table public.${table.name} has 1 rows, the manifest recorded ${table.expected}`) };
    const { html, text } = render({ kind: ok ? 'restore-test-passed' : 'restore-test-failed', result });
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    expectFact({ html, text }, '… and 400 more tables not shown');
    expect(text).toContain(ok ? 'all matched' : '400 of them FAILED');
  });

  test('a backup error with a huge stderr keeps its end', () => {
    const error = `pg_dump exited with code 1: ${'pg_dump: warning: x\n'.repeat(20_000)}pg_dump: error: the real cause`;
    const { html } = render({ kind: 'backup-failed', tier: 'daily', database: 'app', host: 'db', startedAt: SAMPLE_NOW.toISOString(), error });
    expect(Buffer.byteLength(html)).toBeLessThan(100_000);
    expect(html).toContain('the real cause');
  });
});

describe('size anomaly in success reports', () => {
  const recent = (...sizes: number[]) => sizes.map((storedBytes, index) => ({ startedAt: `2026-11-${String(10 + index).padStart(2, '0')}T02:00:00.000Z`, storedBytes }));
  test.each<[string, number, { startedAt: string; storedBytes: number }[], string | undefined]>([
    ['steady', 100, recent(100, 98, 103, 101), undefined],
    ['less than half the median', 40, recent(100, 98, 103, 101), 'smaller'],
    ['exactly half: not flagged', 50, recent(100, 100, 100), undefined],
    ['more than twice the median', 250, recent(100, 98, 103), 'larger'],
    ['exactly twice: not flagged', 200, recent(100, 100, 100), undefined],
    ['fewer than 3 recent backups: no yardstick', 1, recent(100, 100), undefined],
    ['the backup itself is not its own yardstick', 10, [...recent(100, 100), { startedAt: sampleManifest.startedAt, storedBytes: 10 }], undefined],
    ['median, not mean: one outlier does not move it', 40, recent(100, 100, 100, 10_000), 'smaller'],
  ])('%s', (_name, storedBytes, recentSizes, expected) => {
    expect(sizeAnomaly({ startedAt: sampleManifest.startedAt, storedBytes }, recentSizes)?.direction).toBe(expected);
    const rendered = render({ kind: 'backup-succeeded', manifest: { ...sampleManifest, storedBytes }, recentSizes });
    if (expected) {
      expect(rendered.subject).toMatch(new RegExp(`^\\[keepsake\\] WARNING daily backup app@db-prod: .*, .* ${expected} than usual$`));
      expectFact(rendered, 'Size anomaly:');
      expectFact(rendered, `${expected} than usual`);
    } else {
      expect(rendered.subject).toMatch(/^\[keepsake\] OK /);
      expect(rendered.text).not.toContain('anomaly');
    }
  });
});

describe('storage chart', () => {
  test('one bar per week for the last 8 weeks, oldest first, empty weeks shown as such', () => {
    const bars = weeklySizes([{ startedAt: '2026-11-21T02:00:00.000Z', storedBytes: 2_000_000, tier: 'daily' }, { startedAt: '2025-01-01T02:00:00.000Z', storedBytes: 9, tier: 'daily' }], SAMPLE_NOW);
    expect(bars.map((bar) => bar.label)).toEqual(['2026-W40', '2026-W41', '2026-W42', '2026-W43', '2026-W44', '2026-W45', '2026-W46', '2026-W47']);
    expect(bars.at(-1)).toEqual({ label: '2026-W47', value: 2_000_000, display: '2.00 MB (1)' });
    expect(bars[0]!.display).toBe('no backups');
  });

  test('bars are table cells sized in percent, no images', () => {
    const { html } = render(SAMPLE_EVENTS['storage-report']);
    expect(html).toMatch(/<td width="100%" style="background:#1d4ed8;/);
    expect(html).toMatch(/<td width="\d{1,2}%" style="background:#1d4ed8;/);
  });
});
