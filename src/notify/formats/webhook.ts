import type { Notice } from '../notice';
import { cut } from './text';
import type { FormatMessage } from './types';

/**
 * The generic webhook's JSON, schema `keepsake.notification/v1` (README "Notification channels").
 * Within v1 fields are only ever added; a change that could break a receiver gets a v2. `id` is the
 * delivery's id, the same on every retry, so a receiver can drop a duplicate. Signed by the sender
 * (webhook-signature.ts), not here: the signature's timestamp is the attempt's.
 */
export const WEBHOOK_SCHEMA = 'keepsake.notification/v1';

/** A chatty child's error output is bounded already; this keeps even a pathological one to a sane body. */
const MAX_ERROR = 32_000;

export interface WebhookBody extends Omit<Notice, 'event'> {
  schema: typeof WEBHOOK_SCHEMA;
  id: string;
  event: Notice['event'];
}

export const webhookFormat: FormatMessage = (notice, { deliveryId }) => {
  const body: WebhookBody = {
    schema: WEBHOOK_SCHEMA,
    id: deliveryId,
    event: notice.event,
    status: notice.status,
    occurredAt: notice.occurredAt,
    sidecar: notice.sidecar,
    title: notice.title,
    summary: notice.summary,
    nextStep: notice.nextStep,
    error: notice.error === undefined ? undefined : cut(notice.error, MAX_ERROR),
    hints: notice.hints,
    facts: notice.facts,
    backup: notice.backup,
    durationMs: notice.durationMs,
    checks: notice.checks,
    links: notice.links,
  };
  return {
    body: JSON.stringify(body),
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': `keepsake/${notice.sidecar.version}`,
      'X-Keepsake-Event': notice.event,
      'X-Keepsake-Delivery': deliveryId,
    },
  };
};
