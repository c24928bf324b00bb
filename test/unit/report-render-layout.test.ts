/**
 * The reports as a phone shows them: every event rendered, opened in headless Chromium (Debian's,
 * through playwright-core: scripts/report-browser.js) at 400 and 800 px wide, and measured. No
 * check name, number, id, hash or command may break inside a word (it must sit on one line, or in
 * a box that scrolls sideways), and nothing but such a box may be wider than the screen.
 * Screenshots are made by scripts/report-screenshots.js, not here.
 */
import type { Browser } from 'playwright-core';
import { manualRestoreCommands } from '../../src/backup/manifest';
import { REPORT_EVENT_KINDS, type ReportEvent } from '../../src/report/events';
import { renderReport } from '../../src/report/render';
import { tableName } from '../../src/report/render/restore-test';
import { SAMPLE_EVENTS, SAMPLE_SIDECAR, sampleNow } from '../../src/report/render/samples';
import { launchReportBrowser, openReport, WIDTHS } from '../../scripts/report-browser';
import { findBrokenWords, horizontalOverflow } from '../support/report-layout-probe';

const SIDECAR = `${SAMPLE_SIDECAR.database}@${SAMPLE_SIDECAR.host}:${SAMPLE_SIDECAR.port}`;
const failedBackup = SAMPLE_EVENTS['backup-failed'] as Extract<ReportEvent, { kind: 'backup-failed' }>;

/** The samples `keepsake report preview` shows, and failures whose messages are long or odd. */
const EVENTS: [string, ReportEvent][] = [
  ...REPORT_EVENT_KINDS.map((kind): [string, ReportEvent] => [kind, SAMPLE_EVENTS[kind]]),
  [
    'backup-failed (row count)',
    {
      ...failedBackup,
      error:
        'cannot count the rows of app.items: relation "lookup" does not exist (SQL function "label" during inlining); a function used by an index, constraint or policy on that table names a table without its schema; schema-qualify it in the function or give the function SET search_path',
    },
  ],
  ['backup-failed (no database)', { ...failedBackup, error: 'Cannot connect to PostgreSQL: database "app" does not exist on db-prod:5432; check POSTGRES_DB', lastGood: null }],
];

/** What the reader copies or scans for: names, ids, hashes, locations and commands, from the event itself. */
function tokensOf(event: ReportEvent, text: string): string[] {
  const tokens = [SIDECAR, SAMPLE_SIDECAR.host, ...[...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!)];
  switch (event.kind) {
    case 'health-alert':
    case 'health-recovered':
      return [...tokens, ...event.checks.map((check) => check.name)];
    case 'backup-succeeded': {
      const { manifest } = event;
      const file = manifest.key.split('/').pop()!;
      return [...tokens, manifest.id, manifest.sha256, file, ...manifest.targets.map((target) => target.location), ...manualRestoreCommands(manifest, file)];
    }
    case 'backup-failed':
      return event.lastGood ? [...tokens, event.lastGood.id] : tokens;
    case 'restore-test-passed':
    case 'restore-test-failed': {
      const { backup } = event.result;
      return [...tokens, `${backup.tier}/${backup.id}`, backup.sha256, backup.location, ...event.result.tables.map(tableName)];
    }
    case 'cleanup-summary':
      return [...tokens, ...event.summary.backups.map((backup) => `${backup.tier}/${backup.id}`), ...event.summary.leftovers.map((leftover) => leftover.key)];
    default:
      return tokens;
  }
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchReportBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(EVENTS)('%s', (_name, event) => {
  const rendered = renderReport(event, { subjectPrefix: '[keepsake]', now: sampleNow(event.kind) });

  test('the subject names the sidecar: database@host:port', () => {
    expect(rendered.subject).toContain(SIDECAR);
  });

  test.each(Object.entries(WIDTHS))('at %s width (%i px) no name, number, id, hash or command breaks, and nothing but a scrolling box is wider than the screen', async (_label, width) => {
    const page = await openReport(browser, rendered.html, width);
    try {
      expect(await page.evaluate(findBrokenWords, tokensOf(event, rendered.text))).toEqual([]);
      expect(await page.evaluate(horizontalOverflow)).toBeLessThanOrEqual(0);
    } finally {
      await page.close();
    }
  });
});
