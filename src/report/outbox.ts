import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/files';
import type { RenderedReport, SendReport } from './transport';
import { explainSendError } from './transport';

export interface OutboxItem extends RenderedReport {
  id: string;
  event: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

const outboxDir = (stateDir: string) => join(stateDir, 'outbox');
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
    await mkdir(join(stateDir, 'reports'), { recursive: true, mode: 0o700 });
    await writeFile(join(stateDir, 'reports', `${id}.html`), report.html, { mode: 0o600 });
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
}

/** Sends what is due (everything with `force`), oldest first; failures are rescheduled with backoff. */
export async function flushOutbox(stateDir: string, send: SendReport, options: { force?: boolean; now?: Date; only?: string } = {}): Promise<FlushResult> {
  const now = options.now ?? new Date();
  const result: FlushResult = { sent: [], failed: [], waiting: 0 };
  for (const item of await listOutbox(stateDir)) {
    if (options.only && item.id !== options.only) continue;
    if (!options.force && Date.parse(item.nextAttemptAt) > now.getTime()) {
      result.waiting++;
      continue;
    }
    try {
      await send(item);
      await unlink(itemPath(stateDir, item.id)).catch(() => undefined);
      result.sent.push(item.id);
    } catch (error) {
      const attempts = item.attempts + 1;
      const message = explainSendError(error);
      await writeFileAtomic(itemPath(stateDir, item.id), JSON.stringify({ ...item, attempts, lastError: message, nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts)).toISOString() }));
      result.failed.push({ id: item.id, error: message });
      result.waiting++;
    }
  }
  return result;
}
