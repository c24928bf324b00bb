import type { ChannelConfig, Config, ReportEventName } from '../config';
import { channelHost } from '../config/channels';
import { coerceError } from '../errors';
import type { Logger } from '../log';
import { describePrune } from '../report/outbox-prune';
import { listChannelOutbox, putInChannelOutbox } from '../state/channel-outbox';
import { LockBusyError, acquireLock, type LockHolder } from '../state/job-lock';
import { statePaths } from '../state/paths';
import { MAX_REFUSALS, flushChannel, httpPoster, type ChannelFlushResult } from './channel-flush';
import { pruneChannelOutbox } from './channel-prune';
import type { Notice } from './notice';

/** How long a report's first attempt waits for a flush of the same channel to finish. */
const NOTIFY_LOCK_WAIT_MS = 15_000;

export interface ChannelDeps {
  config: Pick<Config, 'report' | 'stateDir'>;
  log: Logger;
  /** One POST's limit (http-send.ts HTTP_TIMEOUT_MS); tests shorten it. */
  httpTimeoutMs?: number;
}

/**
 * Prunes, then delivers what is due in one channel; logs what happened by channel name and host
 * only. One process at a time per channel (the daemon's flush, a job's report, `outbox flush`):
 * two flushes at once would post each message twice, and one could file back a message the other
 * had just delivered. The one that finds the channel busy leaves its messages to the holder and
 * the next flush.
 */
export async function deliverChannel(deps: ChannelDeps, channel: ChannelConfig, options: { force?: boolean; only?: string; lockWaitMs?: number } = {}): Promise<ChannelFlushResult> {
  const { config, log } = deps;
  const where = { channel: channel.name, host: channelHost(channel.url) };
  let release: () => Promise<void>;
  let holder: LockHolder | undefined;
  try {
    const path = statePaths.channelLock(config.stateDir, channel.name);
    const wait = Boolean(options.lockWaitMs);
    const signal = wait ? AbortSignal.timeout(options.lockWaitMs!) : undefined;
    release = await acquireLock(config.stateDir, `delivering to channel ${channel.name}`, { wait, signal, pollMs: 100, path, onWait: (busy) => (holder = busy) });
  } catch (error) {
    const busy = error instanceof LockBusyError ? error.holder : holder;
    if (!busy) throw error;
    const waiting = (await listChannelOutbox(config.stateDir, channel.name)).length;
    return { channel: channel.name, sent: [], failed: [], givenUp: [], waiting, digested: 0, busy: `pid ${busy.pid} has been delivering since ${busy.since}` };
  }
  try {
    const limits = config.report.outbox;
    const pruned = await pruneChannelOutbox(config.stateDir, channel.name, limits);
    if (pruned.dropped) log.warn({ ...where, dropped: pruned.dropped, failures: pruned.failures }, describePrune(pruned, limits, `the outbox of channel ${channel.name}`));
    const result = await flushChannel(config.stateDir, channel, { ...options, digestAfter: limits.digestAfter, post: httpPoster({ timeoutMs: deps.httpTimeoutMs }) });
    for (const given of result.givenUp) log.error({ ...where, id: given.id, error: given.error }, `gave up a message to channel ${channel.name} after it was refused ${MAX_REFUSALS} times; it is kept in STATE_DIR/outbox/${channel.name}/given-up`);
    return result;
  } finally {
    await release();
  }
}

/** Every channel's due messages, each channel on its own: one that is down holds up no other. */
export async function deliverAllChannels(deps: ChannelDeps, options: { force?: boolean } = {}): Promise<ChannelFlushResult[]> {
  const results = await Promise.all(
    deps.config.report.channels.map((channel) =>
      deliverChannel(deps, channel, options).catch((error): ChannelFlushResult => {
        deps.log.error({ channel: channel.name, err: coerceError(error) }, `could not flush the outbox of channel ${channel.name}`);
        return { channel: channel.name, sent: [], failed: [{ id: '', error: coerceError(error).message }], givenUp: [], waiting: 0, digested: 0 };
      }),
    ),
  );
  for (const result of results) {
    if (result.sent.length || result.failed.length || result.givenUp.length) {
      deps.log.info({ channel: result.channel, sent: result.sent.length, digested: result.digested, failed: result.failed.length, givenUp: result.givenUp.length, waiting: result.waiting }, `outbox of channel ${result.channel} flushed`);
    }
  }
  return results;
}

/**
 * Files the notice for every channel that wants the event, then tries each once right away, in
 * parallel. Never throws. When a channel takes it, what waited there goes too (as one digest for
 * chat channels when there is much).
 */
export async function notifyChannels(deps: ChannelDeps, event: ReportEventName, notice: () => Notice): Promise<void> {
  const wanting = deps.config.report.channels.filter((channel) => channel.events.includes(event));
  if (!wanting.length) return;
  let built: Notice;
  try {
    built = notice();
  } catch (error) {
    deps.log.error({ err: coerceError(error), event }, 'could not make the notice for the notification channels');
    return;
  }
  await Promise.all(wanting.map((channel) => notifyChannel(deps, channel, built)));
}

async function notifyChannel(deps: ChannelDeps, channel: ChannelConfig, notice: Notice): Promise<void> {
  const where = { channel: channel.name, host: channelHost(channel.url), event: notice.event };
  try {
    const item = await putInChannelOutbox(deps.config.stateDir, channel.name, notice);
    // A flush of this channel may be running (the daemon's minute round): wait for it a little,
    // as a report's first attempt should not wait a minute for the next round.
    const result = await deliverChannel(deps, channel, { only: item.id, force: true, lockWaitMs: NOTIFY_LOCK_WAIT_MS });
    if (result.sent.length) {
      // The channel works (again): what waited from before goes now, as one digest when there is much.
      if ((await listChannelOutbox(deps.config.stateDir, channel.name)).length) await deliverChannel(deps, channel, { force: true });
      return;
    }
    if (result.failed.length) deps.log.warn({ ...where, error: result.failed[0]!.error }, `message to channel ${channel.name} not delivered now; it waits in the outbox and is retried`);
  } catch (error) {
    deps.log.error({ ...where, err: coerceError(error) }, `could not file the message for channel ${channel.name} in the outbox`);
  }
}
