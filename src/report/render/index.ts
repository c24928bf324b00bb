import { KEEPSAKE_VERSION } from '../../version';
import type { ReportEvent } from '../events';
import { backupFailed, backupSucceeded } from './backup';
import { backupRun } from './backup-run';
import { baseBackupFailed, baseBackupSucceeded } from './base-backup';
import { cleanupSummary } from './cleanup';
import { at } from './common';
import type { ReportDocument } from './document';
import { health, testReport } from './health';
import { toHtml } from './html';
import { offsiteReport } from './offsite';
import { restoreTest } from './restore-test';
import { storageReport } from './storage';
import { toText } from './text';
import { walStreaming } from './wal-streaming';

export { escapeHtml } from './html';

export interface RenderOptions {
  /** MAIL_SUBJECT_PREFIX, e.g. "[keepsake]"; empty for none. */
  subjectPrefix: string;
  /**
   * When the report is rendered: only the footer and the test e-mail show it (and the storage chart
   * of a report filed before events carried their own time). Ages are measured between the
   * event's own times, never from this clock, so a report says the same whenever it is sent.
   */
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
  const footer = `keepsake ${KEEPSAKE_VERSION} · report generated ${at(options.now.toISOString())}`;
  return { subject: doc.subject, html: toHtml(doc, footer), text: toText(doc, footer) };
}

/** The report as a document: what the e-mail serializes, and what a channel's notice (src/notify) reads its title from. */
export function documentFor(event: ReportEvent, prefix: string, now: Date): ReportDocument {
  switch (event.kind) {
    case 'backup-succeeded':
      return backupSucceeded(event, prefix);
    case 'backup-failed':
      return backupFailed(event, prefix);
    case 'backup-run':
      return backupRun(event, prefix);
    case 'restore-test-passed':
    case 'restore-test-failed':
      return restoreTest(event, prefix);
    case 'cleanup-summary':
      return cleanupSummary(event, prefix);
    case 'health-alert':
    case 'health-recovered':
      return health(event, prefix);
    case 'storage-report':
      return storageReport(event, prefix, now);
    case 'offsite-succeeded':
    case 'offsite-failed':
      return offsiteReport(event, prefix);
    case 'base-backup-succeeded':
      return baseBackupSucceeded(event, prefix);
    case 'base-backup-failed':
      return baseBackupFailed(event, prefix);
    case 'test':
      return testReport(event, prefix, now);
    case 'wal-streaming-failed':
    case 'wal-streaming-recovered':
      return walStreaming(event, prefix);
  }
}
