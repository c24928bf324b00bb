import { formatTimestamp } from '../format';
import { countReports, FAILURE_EVENTS } from '../report/digest';
import { plural } from '../report/render/document';
import type { Notice } from './notice';

/** The chat formats: people read them, so many waiting messages go as one. The generic webhook never digests. */
export const DIGESTING_FORMATS: ReadonlySet<string> = new Set(['slack', 'discord', 'teams', 'ntfy']);

/**
 * Pure: the notices that waited while a chat channel was failing, as one notice: how many of
 * each kind, and every failure by its title, so the channel's return brings one message, not
 * hundreds of stale ones, and no bad news is lost.
 */
export function digestNotice(channel: string, waiting: readonly Notice[], now: Date): Notice {
  const sorted = [...waiting].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  const failures = sorted.filter((notice) => FAILURE_EVENTS.has(notice.event) || notice.status === 'fail');
  const counted = countReports(sorted);
  const newest = sorted.at(-1);
  const from = formatTimestamp(sorted[0]?.occurredAt ?? now.toISOString());
  const to = formatTimestamp(newest?.occurredAt ?? now.toISOString());
  return {
    event: 'digest',
    status: failures.length ? 'fail' : 'info',
    occurredAt: now.toISOString(),
    sidecar: newest?.sidecar ?? { name: 'keepsake', hostname: 'unknown', version: 'unknown' },
    title: `While ${channel} was failing: ${counted}`,
    summary: `${plural(sorted.length, 'message')} from ${from} to ${to} waited in the outbox; here they are in one${failures.length ? `. ${failures.length === 1 ? 'The failure' : 'The failures'}: ${failures.map((notice) => notice.title).join('; ')}` : ''}.`,
    hints: [],
    facts: failures.slice(0, 20).map((notice) => ({ label: formatTimestamp(notice.occurredAt), value: notice.title })),
    links: [],
  };
}
