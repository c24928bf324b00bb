import { formatTimestamp } from '../../format';
import { KEEPSAKE_VERSION } from '../../version';
import type { ReportEvent } from '../events';
import { backupFailed, backupSucceeded } from './backup';
import { cleanupSummary } from './cleanup';
import type { ReportDocument } from './document';
import { health, testReport } from './health';
import { toHtml } from './html';
import { restoreTest } from './restore-test';
import { storageReport } from './storage';
import { toText } from './text';

export { escapeHtml } from './html';

export interface RenderOptions {
  /** MAIL_SUBJECT_PREFIX, e.g. "[keepsake]"; empty for none. */
  subjectPrefix: string;
  /** The clock: relative times ("in 23h58m") and the footer are measured from it. */
  now: Date;
}

export interface RenderedReport {
  subject: string;
  html: string;
  text: string;
}

/**
 * Pure: the same event and options always give the same email. It reads no files, no clock and
 * no configuration, so the outbox can re-render a stored event and tests need no setup.
 */
export function renderReport(event: ReportEvent, options: RenderOptions): RenderedReport {
  const doc = documentFor(event, options.subjectPrefix, options.now);
  const footer = `keepsake ${KEEPSAKE_VERSION} · report generated ${formatTimestamp(options.now.toISOString())}`;
  return { subject: doc.subject, html: toHtml(doc, footer), text: toText(doc, footer) };
}

function documentFor(event: ReportEvent, prefix: string, now: Date): ReportDocument {
  switch (event.kind) {
    case 'backup-succeeded':
      return backupSucceeded(event, prefix, now);
    case 'backup-failed':
      return backupFailed(event, prefix, now);
    case 'restore-test-passed':
    case 'restore-test-failed':
      return restoreTest(event, prefix, now);
    case 'cleanup-summary':
      return cleanupSummary(event, prefix, now);
    case 'health-alert':
    case 'health-recovered':
      return health(event, prefix, now);
    case 'storage-report':
      return storageReport(event, prefix, now);
    case 'test':
      return testReport(event, prefix, now);
  }
}
