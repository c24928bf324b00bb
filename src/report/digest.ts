import { formatTimestamp } from '../format';
import { KEEPSAKE_VERSION } from '../version';
import { subjectLine } from './render/common';
import { plural, type ReportDocument, type Section } from './render/document';
import { toHtml } from './render/html';
import { toText } from './render/text';
import type { RenderedReport } from './transport';

/** Reports that are bad news: a digest carries them in full; an outbox over its limits drops them last. */
export const FAILURE_EVENTS: ReadonlySet<string> = new Set(['backup-failed', 'restore-test-failed', 'health-alert']);

export interface WaitingReport extends RenderedReport {
  event: string;
  createdAt: string;
}

/** "48 backups OK", "2 backups failed"...: what each kind of report means, counted. */
const COUNTED: Record<string, [string, string]> = {
  'backup-succeeded': ['backup OK', 'backups OK'],
  'backup-failed': ['backup failed', 'backups failed'],
  'restore-test-passed': ['restore test passed', 'restore tests passed'],
  'restore-test-failed': ['restore test failed', 'restore tests failed'],
  'cleanup-summary': ['cleanup', 'cleanups'],
  'storage-report': ['storage report', 'storage reports'],
  'health-alert': ['health alert', 'health alerts'],
  'health-recovered': ['health recovery', 'health recoveries'],
  test: ['test mail', 'test mails'],
};

export function countReports(reports: readonly { event: string }[]): string {
  const counts = new Map<string, number>();
  for (const report of reports) counts.set(report.event, (counts.get(report.event) ?? 0) + 1);
  const order = Object.keys(COUNTED);
  return [...counts.entries()]
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map(([event, count]) => {
      const [one, many] = COUNTED[event] ?? [event, event];
      return `${count} ${count === 1 ? one : many}`;
    })
    .join(', ');
}

/**
 * Pure: the reports that waited while mail was failing, as one mail. Every failure in full (its
 * text version: the error, the stderr tail, what to do), every other report as one line. So the
 * relay's return brings one mail, not hundreds of stale ones, and no bad news is lost.
 */
export function renderDigest(reports: readonly WaitingReport[], options: { subjectPrefix: string; now: Date }): RenderedReport {
  const sorted = [...reports].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const failures = sorted.filter((report) => FAILURE_EVENTS.has(report.event));
  const others = sorted.filter((report) => !FAILURE_EVENTS.has(report.event));
  const counted = countReports(sorted);
  const from = formatTimestamp(sorted[0]?.createdAt ?? options.now.toISOString());
  const to = formatTimestamp(sorted.at(-1)?.createdAt ?? options.now.toISOString());
  const sections: Section[] = failures.map((report) => ({ title: `${report.subject} (${formatTimestamp(report.createdAt)})`, blocks: [{ type: 'code', lines: report.text.trimEnd().split('\n') }] }));
  if (others.length) sections.push({ title: `The other ${plural(others.length, 'report')}`, blocks: [{ type: 'list', items: others.map((report) => `${formatTimestamp(report.createdAt)}  ${report.subject}`) }] });
  const doc: ReportDocument = {
    subject: subjectLine(options.subjectPrefix, failures.length ? 'FAILED' : 'OK', `while mail was failing: ${counted}`),
    tone: failures.length ? 'fail' : 'info',
    headline: `While mail was failing: ${counted}`,
    summary: `${plural(sorted.length, 'report')} from ${from} to ${to} waited in the outbox; here they are in one mail${failures.length ? `, ${failures.length === 1 ? 'the failure' : 'the failures'} in full` : ''}.`,
    sections,
  };
  const footer = `keepsake ${KEEPSAKE_VERSION} · digest generated ${formatTimestamp(options.now.toISOString())}`;
  return { subject: doc.subject, html: toHtml(doc, footer), text: toText(doc, footer) };
}
