import type { ChannelConfig } from '../config';
import { channelHost, channelVariable } from '../config/channels';
import { formatDuration, formatTimestamp } from '../format';
import { OUTBOX_STALE_MS } from '../health/assess';
import { fail, ok, warn, type HealthCheckResult } from '../health/report';
import { readdir } from 'node:fs/promises';
import { CHANNEL_MEMORY_MS, listChannelOutbox, listGivenUp, readChannelStatus, type ChannelStatus } from '../state/channel-outbox';
import { statePaths } from '../state/paths';

/** What the health check, the metrics and the status know of one channel. */
export interface ChannelFacts {
  name: string;
  host: string;
  waiting: number;
  oldestCreatedAt?: string;
  /** The last error of the oldest waiting message. */
  lastError?: string;
  status: ChannelStatus;
}

export async function gatherChannelFacts(stateDir: string, channels: readonly ChannelConfig[]): Promise<ChannelFacts[]> {
  return Promise.all(
    channels.map(async (channel) => {
      const [items, status] = await Promise.all([listChannelOutbox(stateDir, channel.name), readChannelStatus(stateDir, channel.name)]);
      const oldest = items[0];
      return { name: channel.name, host: channelHost(channel.url), waiting: items.length, oldestCreatedAt: oldest?.createdAt, lastError: oldest?.lastError, status };
    }),
  );
}

/** Messages given up in the last 7 days that no later delivery made good: the channel refuses. */
export function givenUpSinceDelivery(facts: Pick<ChannelFacts, 'status'>, now: number): ChannelStatus['givenUp'] {
  const delivered = facts.status.lastDelivery?.at ?? '';
  return facts.status.givenUp.filter((entry) => entry.at > delivered && now - Date.parse(entry.at) < CHANNEL_MEMORY_MS);
}

/**
 * Pure: one check per channel, `notify:<name>`. Fails when messages were given up since the
 * last delivery (the channel refuses them: say what the status usually means and what to fix),
 * or when a message waited longer than an e-mail report may (OUTBOX_STALE_MS); warns about
 * messages dropped to keep the outbox bounded; otherwise says what waits.
 */
export function channelCheck(facts: ChannelFacts, now: number): HealthCheckResult {
  const name = `notify:${facts.name}`;
  const testIt = `\`keepsake notify test --channel ${facts.name}\``;
  const givenUp = givenUpSinceDelivery(facts, now);
  if (givenUp.length) {
    const latest = givenUp.at(-1)!;
    return fail(name, `${givenUp.length} message(s) given up since the last delivery, the latest "${latest.title}" at ${formatTimestamp(latest.at)}: ${latest.error}; then check with ${testIt} (the given-up messages are kept in STATE_DIR/outbox/${facts.name}/given-up)`, String(givenUp.length), givenUp.length);
  }
  const waited = facts.oldestCreatedAt ? now - Date.parse(facts.oldestCreatedAt) : 0;
  if (facts.waiting && waited > OUTBOX_STALE_MS) {
    return fail(name, `${facts.waiting} message(s) waiting, the oldest for ${formatDuration(waited)}: delivery to ${facts.host} fails${facts.lastError ? ` (${facts.lastError})` : ''}; fix ${channelVariable(facts.name, 'URL')} if needed, check with ${testIt}, then \`keepsake outbox flush\``, String(facts.waiting), facts.waiting);
  }
  const dropped = facts.status.dropped.filter((drop) => now - Date.parse(drop.at) < CHANNEL_MEMORY_MS);
  if (dropped.length) {
    const count = dropped.reduce((sum, drop) => sum + drop.count, 0);
    return warn(name, `${count} undelivered message(s) dropped in the last 7 days to keep the outbox within OUTBOX_MAX_AGE and OUTBOX_MAX_REPORTS: ${facts.host} was not reachable for a long time; check with ${testIt}`, String(facts.waiting), facts.waiting);
  }
  const last = facts.status.lastDelivery ? `; last delivery ${formatTimestamp(facts.status.lastDelivery.at)}` : '';
  if (!facts.waiting) return ok(name, `no messages waiting for ${facts.host}${last}`, '0', 0);
  return ok(name, `${facts.waiting} message(s) waiting to be retried, the oldest for ${formatDuration(waited)}${facts.lastError ? ` (${facts.lastError})` : ''}${last}`, String(facts.waiting), facts.waiting);
}

/**
 * Messages kept for a channel that is no longer configured (renamed, or its NOTIFY_<NAME>_URL
 * removed): nothing delivers, prunes or lists them any more, so health names them.
 */
export async function strandedChannelChecks(stateDir: string, channels: readonly ChannelConfig[]): Promise<HealthCheckResult[]> {
  const configured = new Set(channels.map((channel) => channel.name));
  const entries = await readdir(statePaths.outbox(stateDir), { withFileTypes: true }).catch(() => []);
  const checks: HealthCheckResult[] = [];
  for (const entry of entries.filter((e) => e.isDirectory() && !configured.has(e.name))) {
    const [waiting, givenUp] = await Promise.all([listChannelOutbox(stateDir, entry.name), listGivenUp(stateDir, entry.name)]);
    const count = waiting.length + givenUp.length;
    if (!count) continue;
    checks.push(warn(`notify:${entry.name}`, `${count} message(s) are kept for channel ${entry.name}, which is no longer configured (${channelVariable(entry.name, 'URL')} is not set): set it again to deliver them, or delete STATE_DIR/outbox/${entry.name}`, String(count), count));
  }
  return checks;
}
