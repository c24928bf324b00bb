import type { OutboxLimits } from '../config';
import { choosePrunable, type PruneSummary } from '../report/outbox-prune';
import { FAILURE_EVENTS } from '../report/digest';
import { listChannelOutbox, listGivenUp, removeChannelItem, removeGivenUpItem, updateChannelStatus } from '../state/channel-outbox';

/**
 * A channel's outbox within OUTBOX_MAX_AGE and OUTBOX_MAX_REPORTS, by the e-mail's rule (a
 * channel down for weeks must not fill STATE_DIR); the drops are remembered in the channel's
 * status for its health check. Given-up messages get the same bounds, silently: they were
 * reported when they were given up.
 */
export async function pruneChannelOutbox(stateDir: string, channel: string, limits: OutboxLimits, now = new Date()): Promise<Omit<PruneSummary, 'copiesRemoved'>> {
  const { tooOld, overCount } = choosePrunable(await listChannelOutbox(stateDir, channel), limits, now);
  const dropped = [...tooOld, ...overCount];
  for (const item of dropped) await removeChannelItem(stateDir, channel, item.id);
  const givenUp = choosePrunable(await listGivenUp(stateDir, channel), limits, now);
  for (const item of [...givenUp.tooOld, ...givenUp.overCount]) await removeGivenUpItem(stateDir, channel, item.id);
  const failures = dropped.filter((item) => FAILURE_EVENTS.has(item.event)).map((item) => item.notice.title);
  if (dropped.length) {
    await updateChannelStatus(stateDir, channel, (status) => status.dropped.push({ at: now.toISOString(), count: dropped.length, failures: failures.slice(0, 20) }), now);
  }
  return { dropped: dropped.length, tooOld: tooOld.length, overCount: overCount.length, failures };
}
