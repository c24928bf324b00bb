import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/files';
import type { RenderedReport, SendReport } from './transport';
import { explainSendError } from './transport';
import { renderDigest } from './digest';

export interface OutboxItem extends RenderedReport {
  id: string;
  event: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

export const outboxDir = (stateDir: string) => join(stateDir, 'outbox');
export const reportsDir = (stateDir: string) => join(stateDir, 'reports');
const itemPath = (stateDir: string, id: string) => join(outboxDir(stateDir), `${id}.json`);

/** 1 min, 2, 4, ... capped at 1 h, with jitter so a fleet does not retry in step. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * A report is written here before anything tries to send it, and removed only once the SMTP server
 * accepted it: a report that cannot be sent now survives restarts and is sent later.
 * Without SMTP configured it also lands in STATE_DIR/reports as an .html file to read.
 */
export async function putInOutbox(stateDir: string, event: string, report: RenderedReport, options: { keepHtmlCopy: boolean; now?: Date }): Promise<OutboxItem> {
  const now = options.now ?? new Date();
  const id = `${now.toISOString().replace(/[:.]/g, '-')}-${event}-${randomBytes(3).toString('hex')}`;
  const item: OutboxItem = { id, event, createdAt: now.toISOString(), attempts: 0, nextAttemptAt: now.toISOString(), ...report };
  await writeFileAtomic(itemPath(stateDir, id), JSON.stringify(item));
  if (options.keepHtmlCopy) {
    await mkdir(reportsDir(stateDir), { recursive: true, mode: 0o700 });
    await writeFile(join(reportsDir(stateDir), `${id}.html`), report.html, { mode: 0o600 });
  }
  return item;
}

export async function listOutbox(stateDir: string): Promise<OutboxItem[]> {
  let names: string[];
  try {
    names = (await readdir(outboxDir(stateDir))).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const items: OutboxItem[] = [];
  for (const name of names) {
    try {
      items.push(JSON.parse(await readFile(join(outboxDir(stateDir), name), 'utf8')) as OutboxItem);
    } catch {
      // A damaged item is left where it is for a human to look at.
    }
  }
  return items;
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
    for (const item of items) await unlink(itemPath(stateDir, item.id)).catch(() => undefined);
    return { ...result, sent: items.map((item) => item.id), digested: items.length };
  }
  const later = items.filter((item) => !due.includes(item));
  for (const item of [...due, ...later]) {
    if (later.includes(item) && !result.sent.length) break; // mail still failing: the rest keep their backoff
    try {
      await send(item);
      await unlink(itemPath(stateDir, item.id)).catch(() => undefined);
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
  await writeFileAtomic(itemPath(stateDir, item.id), JSON.stringify({ ...item, attempts, lastError: message, nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts)).toISOString() }));
  return message;
}
