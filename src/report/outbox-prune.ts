import type { OutboxLimits } from '../config';
import { formatDuration } from '../format';
import { listOutbox, pruneReportCopies, readPruneMemory, removeOutboxItem, removeReportCopy, writePruneMemory } from '../state/outbox';
import { FAILURE_EVENTS } from './digest';

/** What one pruning dropped: reports that were never delivered. */
export interface PruneSummary {
  dropped: number;
  tooOld: number;
  overCount: number;
  /** Subjects of the failures among them: these are named in the log and the health check. */
  failures: string[];
  /** .html copies removed from STATE_DIR/reports (kept for reading when no SMTP is configured). */
  copiesRemoved: number;
}

export const PRUNE_WARNING_MS = 7 * 86_400_000;

/**
 * Pure: what goes when waiting items (oldest first) are over the limits: those older than
 * OUTBOX_MAX_AGE, then the oldest beyond OUTBOX_MAX_REPORTS, successes before failures. The
 * e-mail's outbox and every channel's (notify/channel-prune.ts) share the rule.
 */
export function choosePrunable<T extends { createdAt: string; event: string }>(items: readonly T[], limits: OutboxLimits, now: Date): { tooOld: T[]; overCount: T[] } {
  const cutoff = now.getTime() - limits.maxAgeMs;
  const tooOld = items.filter((item) => Date.parse(item.createdAt) < cutoff);
  const young = items.filter((item) => Date.parse(item.createdAt) >= cutoff);
  const excess = Math.max(0, young.length - limits.maxReports);
  const overCount = [...young.filter((item) => !FAILURE_EVENTS.has(item.event)), ...young.filter((item) => FAILURE_EVENTS.has(item.event))].slice(0, excess);
  return { tooOld, overCount };
}

/**
 * Keeps STATE_DIR bounded when mail does not go out (no SMTP, or a relay down for weeks): reports
 * older than OUTBOX_MAX_AGE are dropped, then the oldest beyond OUTBOX_MAX_REPORTS, successes
 * before failures. The .html copies in STATE_DIR/reports get the same bounds.
 */
export async function pruneOutbox(stateDir: string, limits: OutboxLimits, now = new Date()): Promise<PruneSummary> {
  const cutoff = now.getTime() - limits.maxAgeMs;
  const { tooOld, overCount } = choosePrunable(await listOutbox(stateDir), limits, now);
  const dropped = [...tooOld, ...overCount];
  for (const item of dropped) {
    await removeOutboxItem(stateDir, item.id);
    await removeReportCopy(stateDir, item.id);
  }
  const summary: PruneSummary = {
    dropped: dropped.length,
    tooOld: tooOld.length,
    overCount: overCount.length,
    failures: dropped.filter((item) => FAILURE_EVENTS.has(item.event)).map((item) => item.subject),
    copiesRemoved: await pruneReportCopies(stateDir, limits.maxReports, cutoff),
  };
  if (summary.dropped) await remember(stateDir, summary, now);
  return summary;
}

async function remember(stateDir: string, summary: PruneSummary, now: Date): Promise<void> {
  const memory = await readPruneMemory(stateDir);
  const recent = memory.drops.filter((drop) => now.getTime() - Date.parse(drop.at) < PRUNE_WARNING_MS);
  recent.push({ at: now.toISOString(), count: summary.dropped, failures: summary.failures.slice(0, 20) });
  await writePruneMemory(stateDir, { drops: recent });
}

/** One line for the log: how many, why, and the failures among them by subject. */
export function describePrune(summary: Omit<PruneSummary, 'copiesRemoved'>, limits: OutboxLimits, what = 'outbox'): string {
  const why = [
    summary.tooOld && `${summary.tooOld} older than ${formatDuration(limits.maxAgeMs)} (OUTBOX_MAX_AGE)`,
    summary.overCount && `${summary.overCount} beyond OUTBOX_MAX_REPORTS=${limits.maxReports}`,
  ].filter(Boolean);
  const failures = summary.failures.length ? `; ${summary.failures.length} of them failures: ${summary.failures.join('; ')}` : '';
  return `${what} over its limits: dropped ${summary.dropped} undelivered report(s) (${why.join(', ')})${failures}`;
}
