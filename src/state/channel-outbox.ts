import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import type { Notice } from '../notify/notice';
import { writeFileAtomic } from './files';
import { readJsonItems } from './outbox';
import { statePaths } from './paths';

/**
 * A channel's outbox (webhook, chat, push): like the e-mail's (outbox.ts), a message is written
 * to STATE_DIR/outbox/<channel>/ before anything tries to deliver it, and removed only once the
 * receiver answered 2xx. The notice is stored, not re-made: a retry a day later says the same.
 * The item's id is the delivery id receivers see, the same on every retry.
 */
export interface ChannelItem {
  id: string;
  channel: string;
  event: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  /** Answers that will not get better by waiting (404, 401...): after a few, the message is given up. */
  refusals?: number;
  notice: Notice;
}

/** What health, metrics and `outbox list` know of a channel besides its waiting messages. */
export interface ChannelStatus {
  lastDelivery?: { at: string; id: string };
  lastFailure?: { at: string; error: string; httpStatus?: number };
  /** Messages given up in the last 7 days. */
  givenUp: { at: string; id: string; event: string; title: string; error: string; httpStatus?: number }[];
  /** Undelivered messages dropped to keep the outbox bounded, in the last 7 days. */
  dropped: { at: string; count: number; failures: string[] }[];
}

export const CHANNEL_MEMORY_MS = 7 * 86_400_000;

export async function putInChannelOutbox(stateDir: string, channel: string, notice: Notice, now = new Date()): Promise<ChannelItem> {
  const id = `${now.toISOString().replace(/[:.]/g, '-')}-${notice.event}-${randomBytes(3).toString('hex')}`;
  const item: ChannelItem = { id, channel, event: notice.event, createdAt: now.toISOString(), attempts: 0, nextAttemptAt: now.toISOString(), notice };
  await saveChannelItem(stateDir, item);
  return item;
}

async function readItems(dir: string): Promise<ChannelItem[]> {
  return (await readJsonItems<ChannelItem>(dir)).items;
}

/** The channel's waiting messages, oldest first (ids begin with their time). */
export function listChannelOutbox(stateDir: string, channel: string): Promise<ChannelItem[]> {
  return readItems(statePaths.channelOutbox(stateDir, channel));
}

export function listGivenUp(stateDir: string, channel: string): Promise<ChannelItem[]> {
  return readItems(statePaths.channelGivenUp(stateDir, channel));
}

export async function saveChannelItem(stateDir: string, item: ChannelItem): Promise<void> {
  await writeFileAtomic(statePaths.channelOutboxItem(stateDir, item.channel, item.id), JSON.stringify(item));
}

export async function removeChannelItem(stateDir: string, channel: string, id: string): Promise<void> {
  await unlink(statePaths.channelOutboxItem(stateDir, channel, id)).catch(() => undefined);
}

export async function removeGivenUpItem(stateDir: string, channel: string, id: string): Promise<void> {
  await unlink(statePaths.channelGivenUpItem(stateDir, channel, id)).catch(() => undefined);
}

/** Moves a message the channel refused for good aside, where a person can still read it. */
export async function moveToGivenUp(stateDir: string, item: ChannelItem): Promise<void> {
  await mkdir(statePaths.channelGivenUp(stateDir, item.channel), { recursive: true, mode: 0o700 });
  await saveChannelItem(stateDir, item);
  await rename(statePaths.channelOutboxItem(stateDir, item.channel, item.id), statePaths.channelGivenUpItem(stateDir, item.channel, item.id));
}

/**
 * Puts the given-up messages back in the outbox, due now and with their refusals forgotten: the
 * channel took a test message, so what it refused before (a wrong token, a deleted webhook) should
 * go through now. Returns how many.
 */
export async function requeueGivenUp(stateDir: string, channel: string, now = new Date()): Promise<number> {
  const items = await listGivenUp(stateDir, channel);
  for (const item of items) {
    await saveChannelItem(stateDir, { ...item, refusals: 0, nextAttemptAt: now.toISOString() });
    await removeGivenUpItem(stateDir, channel, item.id);
  }
  return items.length;
}

export async function readChannelStatus(stateDir: string, channel: string): Promise<ChannelStatus> {
  const empty: ChannelStatus = { givenUp: [], dropped: [] };
  return readFile(statePaths.channelStatus(stateDir, channel), 'utf8').then((text) => ({ ...empty, ...(JSON.parse(text) as Partial<ChannelStatus>) }), () => empty);
}

/**
 * Changes the channel's status file (atomically); entries older than 7 days go. Only one process
 * flushes a channel at a time in practice (the daemon, or a command); a lost update costs a line.
 */
export async function updateChannelStatus(stateDir: string, channel: string, change: (status: ChannelStatus) => void, now = new Date()): Promise<void> {
  const status = await readChannelStatus(stateDir, channel);
  change(status);
  const recent = (at: string) => now.getTime() - Date.parse(at) < CHANNEL_MEMORY_MS;
  status.givenUp = status.givenUp.filter((entry) => recent(entry.at)).slice(-50);
  status.dropped = status.dropped.filter((entry) => recent(entry.at)).slice(-50);
  await writeFileAtomic(statePaths.channelStatus(stateDir, channel), JSON.stringify(status));
}
