import { listOutbox, removeOutboxItem, saveOutboxItem, type OutboxItem } from '../state/outbox';
import type { SendReport } from './transport';
import { explainSendError } from './transport';
import { renderDigest } from './digest';

/** 1 min, 2, 4, ... capped at 1 h, with jitter so a fleet does not retry in step. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface FlushResult {
  sent: string[];
  failed: { id: string; error: string }[];
  waiting: number;
  /** How many of `sent` went as one digest mail (0: each went alone). */
  digested: number;
}

export interface FlushOptions {
  /** Everything, due or not. */
  force?: boolean;
  now?: Date;
  /** This item only (a report just filed), on its own. */
  only?: string;
  /** With this many reports waiting or more, they go as one digest mail (renderDigest). */
  digest?: { after: number; subjectPrefix: string };
}

/**
 * A report waits in the outbox (state/outbox.ts) until the SMTP server accepted it: one that
 * cannot be sent now survives restarts and is sent later.
 * Sends what is due (everything with `force`), oldest first; failures are rescheduled with backoff.
 * Once one is accepted, mail works again: the rest go too, without waiting for their backoff. Many
 * waiting reports go as one digest, so a relay that comes back after a week brings one mail.
 */
export async function flushOutbox(stateDir: string, send: SendReport, options: FlushOptions = {}): Promise<FlushResult> {
  const now = options.now ?? new Date();
  const result: FlushResult = { sent: [], failed: [], waiting: 0, digested: 0 };
  const items = (await listOutbox(stateDir)).filter((item) => !options.only || item.id === options.only);
  const due = items.filter((item) => options.force || Date.parse(item.nextAttemptAt) <= now.getTime());
  if (!due.length) return { ...result, waiting: items.length };
  if (options.digest && !options.only && items.length >= options.digest.after) {
    try {
      await send({ ...renderDigest(items, { subjectPrefix: options.digest.subjectPrefix, now }), event: 'digest' });
    } catch (error) {
      for (const item of due) result.failed.push({ id: item.id, error: await reschedule(stateDir, item, error, now) });
      return { ...result, waiting: items.length };
    }
    for (const item of items) await removeOutboxItem(stateDir, item.id);
    return { ...result, sent: items.map((item) => item.id), digested: items.length };
  }
  const later = items.filter((item) => !due.includes(item));
  for (const item of [...due, ...later]) {
    if (later.includes(item) && !result.sent.length) break; // mail still failing: the rest keep their backoff
    try {
      await send(item);
      await removeOutboxItem(stateDir, item.id);
      result.sent.push(item.id);
    } catch (error) {
      result.failed.push({ id: item.id, error: await reschedule(stateDir, item, error, now) });
    }
  }
  return { ...result, waiting: items.length - result.sent.length };
}

/** Records a failed attempt and when to try again; returns the error, explained. */
async function reschedule(stateDir: string, item: OutboxItem, error: unknown, now: Date): Promise<string> {
  const attempts = item.attempts + 1;
  const message = explainSendError(error);
  await saveOutboxItem(stateDir, { ...item, attempts, lastError: message, nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts)).toISOString() });
  return message;
}
