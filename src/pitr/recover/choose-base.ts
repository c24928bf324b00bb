import { copiesByReadCost, readCatalog, type CatalogEntry } from '../../catalog/catalog';
import type { Manifest } from '../../backup/manifest';
import { NotFoundError, VerifyError } from '../../errors';
import { formatTimestamp } from '../../format';
import type { Storage } from '../../storage';
import { describeGap, findWalGaps, type WalGap } from '../archive/gaps';
import { listWalArchive, type ArchivedWal } from '../wal-archive';
import { parseLsn, parseWalName, segmentName, segnoOfLsn, type WalFileName } from '../wal-names';
import { describeTarget, type RecoveryTarget } from './recovery-target';

export type Physical = NonNullable<Manifest['physical']>;

export interface ChosenBase {
  entry: CatalogEntry;
  manifest: Manifest & { physical: Physical };
  /** The base backup's copies, cheapest to read first. */
  storages: Storage[];
}

/**
 * The newest complete base backup finished at or before the target (for latest: the newest), from
 * the given targets. None old enough: say the oldest point a restore can reach.
 */
export async function chooseBase(storages: Storage[], target: RecoveryTarget): Promise<ChosenBase> {
  const bases = (await readCatalog(storages, { tier: 'base' })).backups.filter((entry) => entry.manifest.physical);
  if (!bases.length) throw new NotFoundError(`There is no base backup on ${storages.map((s) => s.name).join(', ')}: a point-in-time restore starts from one. Run \`keepsake base-backup\` (PITR=on)`);
  const chosen = target.kind === 'latest' ? bases[0] : bases.find((entry) => Date.parse(entry.manifest.finishedAt) <= target.at.getTime());
  if (!chosen) {
    const oldest = bases[bases.length - 1]!.manifest;
    throw new NotFoundError(`No base backup is old enough to restore to ${describeTarget(target)}: the oldest point a restore can reach is ${formatTimestamp(oldest.finishedAt)} (${oldest.finishedAt}, the end of base backup ${oldest.id}); choose a later time`);
  }
  return { entry: chosen, manifest: chosen.manifest as ChosenBase['manifest'], storages: copiesByReadCost(chosen).map((copy) => copy.storage) };
}

/** Every WAL file archived on any of the targets (a file on one is enough: the WAL server reads the next target on failure). */
export async function listArchivedWal(storages: Storage[]): Promise<ArchivedWal[]> {
  const byName = new Map<string, ArchivedWal>();
  for (const storage of storages) {
    for (const archived of await listWalArchive(storage)) {
      const known = byName.get(archived.file.name);
      if (!known || archived.archivedAt < known.archivedAt) byName.set(archived.file.name, archived);
    }
  }
  return [...byName.values()].sort((a, b) => (a.file.name < b.file.name ? -1 : a.file.name > b.file.name ? 1 : 0));
}

/**
 * The WAL a recovery to `target` certainly needs, from the base's first segment: for latest,
 * everything archived; for a time, every segment up to the first one archived at or after it (the
 * segment holding the moment completed after it, so it is that one or a later one). Later segments
 * may be needed too (after an outage, old segments are archived late); PostgreSQL finds that out
 * and refuses to stop short of the target. When none was archived after the time, everything.
 */
export function walNeeded(archived: readonly ArchivedWal[], target: RecoveryTarget, startSegment: string): WalFileName[] {
  if (target.kind === 'latest') return archived.map((entry) => entry.file);
  const start = parseWalName(startSegment)!.segno!;
  const after = archived.filter((entry) => entry.file.kind === 'segment' && entry.file.segno! >= start && entry.archivedAt.getTime() >= target.at.getTime());
  if (!after.length) return archived.map((entry) => entry.file);
  const cutoff = after.reduce((low, entry) => (entry.file.segno! < low ? entry.file.segno! : low), after[0]!.file.segno!);
  return archived.filter((entry) => entry.file.segno === undefined || entry.file.segno <= cutoff).filter((entry) => entry.file.kind !== 'partial').map((entry) => entry.file);
}

/**
 * Throws naming the first hole between the base's first segment and what the target needs (a hole
 * after that is left to PostgreSQL, which refuses to stop short of the target), or when no target
 * holds the base's end yet (checked against the whole archive: `archived`).
 */
export function refuseGaps(base: ChosenBase, files: readonly WalFileName[], target: RecoveryTarget, archived: readonly ArchivedWal[]): WalGap[] {
  const { physical } = base.manifest;
  const gaps = findWalGaps(files, physical.startSegment, physical.segmentBytes);
  // The base is consistent only once its WAL up to the stop position has been replayed. stopLsn is
  // where the server's WAL stood after the backup, which ends with a segment switch: most often the
  // very start of the next, still empty, segment. The end itself lies before it.
  const stopSegno = segnoOfLsn(parseLsn(physical.stopLsn) - 1n, physical.segmentBytes);
  if (!archived.some(({ file }) => file.kind === 'segment' && file.timeline >= physical.timeline && file.segno! >= stopSegno)) {
    throw new VerifyError(`The WAL archive does not hold the end of base backup ${base.manifest.id} yet (segment ${segmentName(physical.timeline, stopSegno, physical.segmentBytes)}): without it the base is not consistent. Wait for the WAL to be shipped (WAL_SHIP_INTERVAL), or restore from an older base backup`);
  }
  if (gaps.length) {
    throw new VerifyError(`The WAL archive has a gap after base backup ${base.manifest.id}: ${gaps.map(describeGap).join('; ')} ${gaps.length === 1 && gaps[0]!.missing === 1 ? 'is' : 'are'} missing, so a restore to ${describeTarget(target)} cannot replay past it; restore to a time before the gap, or from a newer base backup`);
  }
  return gaps;
}
