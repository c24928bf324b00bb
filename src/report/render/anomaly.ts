/**
 * The size anomaly check. A backup much smaller than usual is the classic sign of lost data or a
 * job dumping the wrong (empty) database; much larger often means runaway logging tables. Both
 * deserve a human look even though the backup itself succeeded.
 */

export interface SizeAnomaly {
  direction: 'smaller' | 'larger';
  medianBytes: number;
  /** storedBytes / median. */
  ratio: number;
  /** How many recent backups the median is taken over. */
  basis: number;
}

/** Below this many recent backups the median is not a yardstick yet. */
export const MIN_RECENT = 3;
export const SMALLER_THAN = 0.5;
export const LARGER_THAN = 2;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `recent` may include the backup itself (same startedAt): it is left out so it cannot vouch for itself. */
export function sizeAnomaly(backup: { startedAt: string; storedBytes: number }, recent: { startedAt: string; storedBytes: number }[]): SizeAnomaly | undefined {
  const others = recent.filter((entry) => entry.startedAt !== backup.startedAt).map((entry) => entry.storedBytes);
  if (others.length < MIN_RECENT) return undefined;
  const medianBytes = median(others);
  if (medianBytes <= 0) return undefined;
  const ratio = backup.storedBytes / medianBytes;
  if (ratio < SMALLER_THAN) return { direction: 'smaller', medianBytes, ratio, basis: others.length };
  if (ratio > LARGER_THAN) return { direction: 'larger', medianBytes, ratio, basis: others.length };
  return undefined;
}

/** "92% smaller than usual" / "3.4x larger than usual". */
export function describeAnomaly(anomaly: SizeAnomaly): string {
  return anomaly.direction === 'smaller' ? `${Math.round((1 - anomaly.ratio) * 100)}% smaller than usual` : `${anomaly.ratio.toFixed(1)}x larger than usual`;
}
