import type { ReportEvent } from '../report/events';
import { reportEventName } from '../report/events';
import { sidecarName } from '../report/render/common';
import { documentFor } from '../report/render';
import { KEEPSAKE_VERSION } from '../version';
import type { Notice } from './notice';

export interface NoticeOptions {
  /** When the report is filed: the notice's time. */
  now: Date;
  /** The machine (container) keepsake runs on. */
  hostname: string;
}

/**
 * Pure: the notice a channel is sent for a report event. Its title and summary are the e-mail's
 * banner and summary (one wording everywhere); the rest comes from the event itself.
 */
export function noticeFor(event: ReportEvent, options: NoticeOptions): Notice {
  const doc = documentFor(event, '', options.now);
  const sidecar = event.sidecar;
  return {
    event: reportEventName(event),
    status: doc.tone,
    occurredAt: options.now.toISOString(),
    sidecar: { name: sidecarName(sidecar) ?? options.hostname, database: sidecar?.database, host: sidecar?.host, port: sidecar?.port, hostname: options.hostname, version: KEEPSAKE_VERSION },
    title: doc.headline,
    summary: doc.summary,
    hints: [],
    facts: [],
    links: [],
  };
}
