import type { ReportEvent } from '../report/events';
import { reportEventName } from '../report/events';
import { sidecarName } from '../report/render/common';
import { documentFor } from '../report/render';
import { KEEPSAKE_VERSION } from '../version';
import type { Notice } from './notice';
import { backupFailedDetails, backupRunDetails, backupSucceededDetails } from './notice-backups';
import { cleanupDetails, healthDetails, offsiteDetails, restoreTestDetails, storageDetails, walStreamingDetails } from './notice-jobs';
import type { NoticeDetails } from './notice-parts';

export interface NoticeOptions {
  /** When the report is filed: the notice's time. */
  now: Date;
  /** The machine (container) keepsake runs on. */
  hostname: string;
}

/**
 * Pure: the notice a channel is sent for a report event. Its title and summary are the e-mail's
 * banner and summary (one wording everywhere); the rest comes from the event itself, with the
 * e-mail's own hints (src/report/render/hints.ts). No clock, no configuration: `now` is the filing time.
 */
export function noticeFor(event: ReportEvent, options: NoticeOptions): Notice {
  const doc = documentFor(event, '', options.now);
  const sidecar = event.sidecar;
  return {
    event: reportEventName(event),
    status: doc.tone,
    occurredAt: options.now.toISOString(),
    sidecar: { name: sidecarName(sidecar) ?? doc.sidecar ?? options.hostname, database: sidecar?.database, host: sidecar?.host, port: sidecar?.port, hostname: options.hostname, version: KEEPSAKE_VERSION },
    title: doc.headline,
    summary: doc.summary,
    ...detailsFor(event),
  };
}

function detailsFor(event: ReportEvent): NoticeDetails {
  switch (event.kind) {
    case 'backup-succeeded':
    case 'base-backup-succeeded':
      return backupSucceededDetails(event);
    case 'backup-failed':
    case 'base-backup-failed':
      return backupFailedDetails(event);
    case 'backup-run':
      return backupRunDetails(event);
    case 'restore-test-passed':
    case 'restore-test-failed':
      return restoreTestDetails(event);
    case 'cleanup-summary':
      return cleanupDetails(event);
    case 'health-alert':
    case 'health-recovered':
      return healthDetails(event);
    case 'storage-report':
      return storageDetails(event);
    case 'offsite-succeeded':
    case 'offsite-failed':
      return offsiteDetails(event);
    case 'wal-streaming-failed':
    case 'wal-streaming-recovered':
      return walStreamingDetails(event);
    case 'test':
      return { hints: [], facts: [], links: [] };
  }
}
