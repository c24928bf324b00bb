import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenderedReport } from '../report/transport';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

/**
 * The outbox's files: a report is written here before anything tries to send it, and removed only
 * once the SMTP server accepted it (report/outbox.ts sends, report/outbox-prune.ts bounds it).
 * Without SMTP configured a readable .html copy also lands in STATE_DIR/reports.
 */
export interface OutboxItem extends RenderedReport {
  id: string;
  event: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

/** Recent prunings, for the health check's warning (health reads it; kept a week). */
export interface PruneMemory {
  drops: { at: string; count: number; failures: string[] }[];
}

export async function putInOutbox(stateDir: string, event: string, report: RenderedReport, options: { keepHtmlCopy: boolean; now?: Date }): Promise<OutboxItem> {
  const now = options.now ?? new Date();
  const id = `${now.toISOString().replace(/[:.]/g, '-')}-${event}-${randomBytes(3).toString('hex')}`;
  const item: OutboxItem = { id, event, createdAt: now.toISOString(), attempts: 0, nextAttemptAt: now.toISOString(), ...report };
  await saveOutboxItem(stateDir, item);
  if (options.keepHtmlCopy) {
    await mkdir(statePaths.reportCopies(stateDir), { recursive: true, mode: 0o700 });
    await writeFile(statePaths.reportCopy(stateDir, id), report.html, { mode: 0o600 });
  }
  return item;
}

/**
 * Every *.json item in `dir`, oldest first (ids begin with their time). A file that does not parse
 * is left where it is for a person to read, and named in `damaged` (health's outbox:damaged check).
 */
export async function readJsonItems<T>(dir: string): Promise<{ items: T[]; damaged: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], damaged: [] };
    throw error;
  }
  const items: T[] = [];
  const damaged: string[] = [];
  for (const name of names) {
    try {
      items.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as T);
    } catch {
      damaged.push(name);
    }
  }
  return { items, damaged };
}

/** The e-mail outbox, oldest first. */
export async function listOutbox(stateDir: string): Promise<OutboxItem[]> {
  return (await readJsonItems<OutboxItem>(statePaths.outbox(stateDir))).items;
}

/** Outbox files (e-mail, each channel's, given-up) that cannot be read, as paths under STATE_DIR/outbox. */
export async function findDamagedOutboxFiles(stateDir: string): Promise<string[]> {
  const root = statePaths.outbox(stateDir);
  const channels = (await readdir(root, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const dirs = ['', ...channels.flatMap((channel) => [channel, join(channel, 'given-up')])];
  const found = await Promise.all(dirs.map(async (dir) => (await readJsonItems(join(root, dir)).catch(() => ({ damaged: [] as string[] }))).damaged.map((name) => join(dir, name))));
  return found.flat();
}

/** Writes the item anew (after a failed attempt: its count and next attempt). */
export async function saveOutboxItem(stateDir: string, item: OutboxItem): Promise<void> {
  await writeFileAtomic(statePaths.outboxItem(stateDir, item.id), JSON.stringify(item));
}

export async function removeOutboxItem(stateDir: string, id: string): Promise<void> {
  await unlink(statePaths.outboxItem(stateDir, id)).catch(() => undefined);
}

export async function removeReportCopy(stateDir: string, id: string): Promise<void> {
  await unlink(statePaths.reportCopy(stateDir, id)).catch(() => undefined);
}

/**
 * Removes the .html copies beyond the newest `keep` and those older than `cutoff` (ms since the
 * epoch): those of delivered reports stay after their outbox item is gone. Returns how many went.
 */
export async function pruneReportCopies(stateDir: string, keep: number, cutoff: number): Promise<number> {
  const dir = statePaths.reportCopies(stateDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.html')).sort();
  const excess = new Set(names.slice(0, Math.max(0, names.length - keep)));
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    const old = excess.has(name) || (await stat(path).then((info) => info.mtimeMs < cutoff, () => false));
    if (old && (await unlink(path).then(() => true, () => false))) removed++;
  }
  return removed;
}

export async function readPruneMemory(stateDir: string): Promise<PruneMemory> {
  return readFile(statePaths.outboxPruned(stateDir), 'utf8').then((text) => JSON.parse(text) as PruneMemory, () => ({ drops: [] }));
}

export async function writePruneMemory(stateDir: string, memory: PruneMemory): Promise<void> {
  await writeFileAtomic(statePaths.outboxPruned(stateDir), JSON.stringify(memory));
}
