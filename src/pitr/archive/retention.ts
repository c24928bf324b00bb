import type { Action } from '../../retention/plan';
import { parseWalName, type WalFileName } from '../wal-names';

/**
 * The WAL retention planner: pure, like retention/plan.ts. A WAL file is deleted only when no kept
 * base backup can need it: it lies strictly before that base backup's first segment (segment
 * numbers compared, as positions are global across timelines) on a timeline no newer than the
 * base backup's. History files are never deleted (they are tiny and recovery to any later timeline
 * reads them all). Nothing at all is deleted while no base backup is kept, while a kept base
 * backup's start is unknown, or while the newest base backup attempt failed: the WAL after the old
 * bases is then the only way to a recent point.
 */

/** A kept base backup, as much of its manifest's `physical` as WAL retention needs. */
export interface KeptBase {
  id: string;
  timeline?: number;
  /** The first WAL file it needs (manifest.physical.startSegment); undefined: unknown, so nothing goes. */
  startSegment?: string;
}

export type WalRule = 'before-oldest-base' | 'needed' | 'history' | 'no-base' | 'base-failed' | 'unknown-start';

export interface WalDecision<T extends { file: WalFileName }> {
  wal: T;
  action: Action;
  rule: WalRule;
  reason: string;
}

export interface WalRetentionInput<T extends { file: WalFileName }> {
  archived: readonly T[];
  keptBases: readonly KeptBase[];
  /** The newest base backup attempt failed: keep everything, as the backup plan's tier-failed rule does. */
  baseFailed?: boolean;
  segmentBytes?: number;
}

export interface WalRetentionPlan<T extends { file: WalFileName }> {
  /** In the order of `archived`. */
  decisions: WalDecision<T>[];
  /** The oldest kept base backup's first segment: WAL from it on stays. Undefined when everything stays. */
  keptFrom?: { segment: string; base: string };
}

interface BaseStart {
  id: string;
  timeline: number;
  segno: bigint;
  segment: string;
}

export function planWalRetention<T extends { file: WalFileName }>(input: WalRetentionInput<T>): WalRetentionPlan<T> {
  const keepAll = (rule: WalRule, reason: string): WalRetentionPlan<T> => ({
    decisions: input.archived.map((wal) => ({ wal, action: 'keep', rule: wal.file.kind === 'history' ? 'history' : rule, reason: wal.file.kind === 'history' ? HISTORY_REASON : reason })),
  });
  if (!input.keptBases.length) return keepAll('no-base', 'no base backup is kept: all WAL stays until one is');
  if (input.baseFailed) return keepAll('base-failed', "the newest base backup attempt failed: no WAL is deleted until one succeeds");
  const starts: BaseStart[] = [];
  for (const base of input.keptBases) {
    const start = base.startSegment === undefined ? undefined : parseWalName(base.startSegment, input.segmentBytes);
    if (start?.kind !== 'segment' || start.segno === undefined) return keepAll('unknown-start', `kept base backup ${base.id} does not say which WAL segment it starts at: all WAL stays`);
    starts.push({ id: base.id, timeline: start.timeline, segno: start.segno, segment: start.name });
  }
  const oldest = starts.reduce((first, base) => (base.segno < first.segno || (base.segno === first.segno && base.timeline < first.timeline) ? base : first));
  const decisions = input.archived.map((wal): WalDecision<T> => {
    const { file } = wal;
    if (file.kind === 'history' || file.segno === undefined) return { wal, action: 'keep', rule: 'history', reason: HISTORY_REASON };
    const needer = starts.find((base) => needs(base, file));
    if (needer) {
      const why = file.timeline > needer.timeline ? `timeline ${file.timeline} is newer than its timeline ${needer.timeline}` : `at or after its first segment ${needer.segment}`;
      return { wal, action: 'keep', rule: 'needed', reason: `needed by base backup ${needer.id} (${why})` };
    }
    return { wal, action: 'delete', rule: 'before-oldest-base', reason: `before ${oldest.segment}, the first segment of the oldest kept base backup ${oldest.id}` };
  });
  return { decisions, keptFrom: { segment: oldest.segment, base: oldest.id } };
}

const HISTORY_REASON = 'timeline history file: never deleted';

/** Recovery from `base` replays its first segment and everything after it, on its timeline and any later one. */
function needs(base: BaseStart, file: WalFileName): boolean {
  return file.timeline > base.timeline || file.segno! >= base.segno;
}

/** A base backup as the catalog lists it: the targets holding a complete copy, and where its WAL starts. */
export interface ListedBase {
  id: string;
  targets: readonly string[];
  physical?: { timeline: number; startSegment: string };
}

/**
 * The base backups a target keeps after the backup plan: every base backup listed on it that the
 * plan does not delete there. A base backup the plan does not mention (another sidecar's retention
 * manages it) counts as kept: WAL it needs never goes because of a plan that did not look at it.
 */
export function keptBasesOn(target: string, bases: readonly ListedBase[], deletions: readonly { tier: string; id: string; action: Action; targets: readonly string[] }[]): KeptBase[] {
  const deleted = new Set(deletions.filter((d) => d.tier === 'base' && d.action === 'delete' && d.targets.includes(target)).map((d) => d.id));
  return bases.filter((base) => base.targets.includes(target) && !deleted.has(base.id)).map((base) => ({ id: base.id, timeline: base.physical?.timeline, startSegment: base.physical?.startSegment }));
}
