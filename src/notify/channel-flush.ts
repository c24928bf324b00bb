import { randomBytes } from 'node:crypto';
import type { ChannelConfig } from '../config';
import { coerceError } from '../errors';
import { retryDelayMs } from '../report/outbox';
import { listChannelOutbox, moveToGivenUp, removeChannelItem, saveChannelItem, updateChannelStatus, type ChannelItem, type ChannelStatus } from '../state/channel-outbox';
import { DIGESTING_FORMATS, digestNotice } from './channel-digest';
import { formatFor } from './formats';
import { sendHttp, type SendOutcome } from './http-send';
import { channelHost } from '../config/channels';
import type { Notice } from './notice';

/** Refusals (404, 401...) a message gets before it is given up: bounded, yet a token fixed meanwhile gets it through. */
export const MAX_REFUSALS = 3;

/** Posts one notice with its delivery id; never throws. */
export type PostNotice = (channel: ChannelConfig, notice: Notice, deliveryId: string) => Promise<SendOutcome>;

export function httpPoster(options: { timeoutMs?: number } = {}): PostNotice {
  return async (channel, notice, deliveryId) => {
    let message;
    try {
      message = formatFor(channel.format)(notice, { deliveryId });
    } catch (error) {
      // A formatter's bug, not the service's refusal: keep the message and try again later.
      return { kind: 'retry', error: `could not format the ${channel.format} message: ${coerceError(error).message}` };
    }
    // The delivery id in a header too, whatever the format's body: receivers and proxies can dedupe on it.
    const headers = { 'X-Keepsake-Delivery': deliveryId, ...message.headers };
    try {
      return await sendHttp(channel, { ...message, headers }, { timeoutMs: options.timeoutMs });
    } catch (error) {
      // sendHttp means never to throw; if it does, its error's text is not shown (it may hold the URL).
      return { kind: 'retry', error: `could not post to ${channelHost(channel.url)} (${coerceError(error).name}); keepsake tries again later` };
    }
  };
}

export interface ChannelFlushResult {
  channel: string;
  sent: string[];
  failed: { id: string; error: string }[];
  /** Moved to given-up/ in this flush. */
  givenUp: { id: string; error: string }[];
  waiting: number;
  /** How many of `sent` went as one digest message (0: each went alone). */
  digested: number;
  /** Another flush of this channel was running (which process, since when): this one sent nothing. */
  busy?: string;
}

export interface ChannelFlushOptions {
  /** Everything, due or not. */
  force?: boolean;
  now?: Date;
  /** This item only (a message just filed), on its own. */
  only?: string;
  /** Chat formats: with this many waiting or more, they go as one digest notice. */
  digestAfter?: number;
  post?: PostNotice;
}

/**
 * Delivers what is due in one channel's outbox, oldest first. The first failure ends the round
 * (the channel is down or refuses: trying the others now only costs time) and reschedules that
 * message with backoff, or Retry-After; once one gets through, the rest go too without waiting
 * out their backoff, as one digest for the chat formats when many wait. A message refused
 * MAX_REFUSALS times is moved to given-up/ and the channel's status says so.
 */
export async function flushChannel(stateDir: string, channel: ChannelConfig, options: ChannelFlushOptions = {}): Promise<ChannelFlushResult> {
  const now = options.now ?? new Date();
  const post = options.post ?? httpPoster();
  const result: ChannelFlushResult = { channel: channel.name, sent: [], failed: [], givenUp: [], waiting: 0, digested: 0 };
  const items = (await listChannelOutbox(stateDir, channel.name)).filter((item) => !options.only || item.id === options.only);
  const due = items.filter((item) => options.force || Date.parse(item.nextAttemptAt) <= now.getTime());
  if (!due.length) return { ...result, waiting: items.length };
  const changes: ((status: ChannelStatus) => void)[] = [];
  const delivered = async (sent: ChannelItem[], deliveryId: string) => {
    for (const item of sent) await removeChannelItem(stateDir, channel.name, item.id);
    result.sent.push(...sent.map((item) => item.id));
    changes.push((status) => (status.lastDelivery = { at: now.toISOString(), id: deliveryId }));
  };
  const failedWith = async (failed: ChannelItem[], outcome: Exclude<SendOutcome, { kind: 'delivered' }>) => {
    for (const item of failed) await recordFailure(stateDir, item, outcome, now, result, changes);
  };

  if (!options.only && options.digestAfter && DIGESTING_FORMATS.has(channel.format) && items.length >= options.digestAfter) {
    const id = `${now.toISOString().replace(/[:.]/g, '-')}-digest-${randomBytes(3).toString('hex')}`;
    const outcome = await post(channel, digestNotice(channel.name, items.map((item) => item.notice), now), id);
    if (outcome.kind === 'delivered') {
      await delivered(items, id);
      result.digested = items.length;
    } else if (outcome.kind === 'retry') {
      await failedWith(due, outcome);
    }
    // A refused digest (too large, say) is no refusal of the messages: they go one by one below.
    if (outcome.kind !== 'permanent') return finish();
  }
  const later = items.filter((item) => !due.includes(item));
  for (const item of [...due, ...later]) {
    if (later.includes(item) && !result.sent.length) break; // still failing: the rest keep their backoff
    const outcome = await post(channel, item.notice, item.id);
    if (outcome.kind === 'delivered') {
      await delivered([item], item.id);
      continue;
    }
    await failedWith([item], outcome);
    break;
  }
  return finish();

  async function finish(): Promise<ChannelFlushResult> {
    if (changes.length) await updateChannelStatus(stateDir, channel.name, (status) => changes.forEach((change) => change(status)), now);
    return { ...result, waiting: items.length - result.sent.length - result.givenUp.length };
  }
}

/** Reschedules a message after a failed attempt, or gives it up after MAX_REFUSALS refusals. */
async function recordFailure(
  stateDir: string,
  item: ChannelItem,
  outcome: Exclude<SendOutcome, { kind: 'delivered' }>,
  now: Date,
  result: ChannelFlushResult,
  changes: ((status: ChannelStatus) => void)[],
): Promise<void> {
  const attempts = item.attempts + 1;
  const refusals = (item.refusals ?? 0) + (outcome.kind === 'permanent' ? 1 : 0);
  const delay = (outcome.kind === 'retry' ? outcome.retryAfterMs : undefined) ?? retryDelayMs(attempts);
  const updated: ChannelItem = { ...item, attempts, refusals, lastError: outcome.error, nextAttemptAt: new Date(now.getTime() + delay).toISOString() };
  const at = now.toISOString();
  changes.push((status) => (status.lastFailure = { at, error: outcome.error, httpStatus: outcome.httpStatus }));
  if (outcome.kind === 'permanent' && refusals >= MAX_REFUSALS) {
    await moveToGivenUp(stateDir, updated);
    result.givenUp.push({ id: item.id, error: outcome.error });
    changes.push((status) => status.givenUp.push({ at, id: item.id, event: item.event, title: item.notice.title, error: outcome.error, httpStatus: outcome.httpStatus }));
    return;
  }
  await saveChannelItem(stateDir, updated);
  result.failed.push({ id: item.id, error: outcome.error });
}
