import { parseWalName, segmentName, type WalFileName } from '../wal-names';

/** A hole in the archive: WAL files recovery would need and no target holds. */
export interface WalGap {
  timeline: number;
  /** The first missing segment. */
  from: string;
  /** The last missing segment (the one before the next archived one). */
  to: string;
  /** How many segments are missing. */
  missing: number;
}

/**
 * Segment continuity from `startSegment` (a base backup's first WAL file) to the newest archived
 * segment: every segment in between must be archived, on the timeline in force at that point. A
 * timeline switch (a newer timeline's first segment, with its .history file archived) continues
 * the chain on the new timeline from the segment where it branched. Partial segments are left out:
 * one is only ever the end of the chain, never a filler in the middle. Pure: takes names, returns holes.
 */
export function findWalGaps(archived: readonly WalFileName[], startSegment: string, segmentBytes?: number): WalGap[] {
  const start = parseWalName(startSegment, segmentBytes);
  if (start?.segno === undefined) throw new Error(`not a WAL segment name: ${startSegment}`);
  const segments = new Map<number, Set<bigint>>();
  let newest: WalFileName | undefined;
  for (const file of archived) {
    // Partial segments never fill a hole, and the chain is checked up to the newest whole segment.
    if (file.kind !== 'segment') continue;
    if (!segments.has(file.timeline)) segments.set(file.timeline, new Set());
    segments.get(file.timeline)!.add(file.segno!);
    if (file.timeline >= start.timeline && (!newest || file.timeline > newest.timeline || (file.timeline === newest.timeline && file.segno! > newest.segno!))) newest = file;
  }
  if (!newest) return [];
  const has = (timeline: number, segno: bigint) => segments.get(timeline)?.has(segno) ?? false;
  // Highest timeline holding a segment at this position, not above the newest timeline reached.
  const timelineAt = (segno: bigint, current: number) => {
    for (let tl = newest!.timeline; tl > current; tl -= 1) if (has(tl, segno)) return tl;
    return current;
  };
  const gaps: WalGap[] = [];
  let timeline = start.timeline;
  let open: WalGap | undefined;
  for (let segno = start.segno; segno <= newest.segno!; segno += 1n) {
    timeline = timelineAt(segno, timeline);
    if (has(timeline, segno)) {
      if (open) gaps.push(open);
      open = undefined;
      continue;
    }
    const name = segmentName(timeline, segno, segmentBytes);
    if (open && open.timeline === timeline) {
      open.to = name;
      open.missing += 1;
    } else {
      if (open) gaps.push(open);
      open = { timeline, from: name, to: name, missing: 1 };
    }
  }
  if (open) gaps.push(open);
  return gaps;
}

/** "000000010000000000000005..000000010000000000000007 (3 segments) on timeline 1" */
export function describeGap(gap: WalGap): string {
  return gap.missing === 1 ? `${gap.from} on timeline ${gap.timeline}` : `${gap.from}..${gap.to} (${gap.missing} segments) on timeline ${gap.timeline}`;
}
