import type { ReportEventName } from '../config';

/**
 * What a webhook, chat or push channel is told about one outcome: the same facts as the e-mail,
 * as data rather than a document. Built once when the report is filed (noticeFor) and stored in
 * the channel's outbox, so a message retried a day later says what it said at first.
 * Holds plain values only (ISO strings, numbers): it is stored as JSON.
 */
export type NoticeStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Notice {
  /** The NOTIFY_ON name; `digest` for several waiting notices sent as one chat message. */
  event: ReportEventName | 'digest';
  status: NoticeStatus;
  /** When it happened (the report's time), ISO. */
  occurredAt: string;
  /** Which sidecar: "app@db-prod:5432", and the machine keepsake runs on. */
  sidecar: { name: string; database?: string; host?: string; port?: number; hostname: string; version: string };
  /** What happened, in a few words (the e-mail's banner): "Backup failed: connection refused". */
  title: string;
  /** One sentence: the e-mail's summary. */
  summary: string;
  /** The one thing to do now, when something is wrong. */
  nextStep?: string;
  /** The error, as keepsake reported it. */
  error?: string;
  /** What to check, most likely first. */
  hints: string[];
  /** A few short label/value pairs for a chat card (tier, size, took, checks failing). */
  facts: { label: string; value: string }[];
  /** The backup the event is about, when there is one. */
  backup?: {
    id: string;
    tier: string;
    source: string;
    startedAt: string;
    finishedAt?: string;
    durationMs?: number;
    rawBytes?: number;
    storedBytes?: number;
    sha256?: string;
  };
  /** How long the job took, when known. */
  durationMs?: number;
  /** Health events: each check that is not ok, failures first (on recovery: every check, all ok now). */
  checks?: { name: string; status: 'ok' | 'warn' | 'fail'; message: string }[];
  /** Where to look: stored objects (`s3://bucket/key`, `file:///backups/...`) and the like. */
  links: { rel: string; href: string; title?: string }[];
}
