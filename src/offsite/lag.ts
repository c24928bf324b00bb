import type { Manifest } from '../backup/manifest';

/** How far behind an off-site target is: plain values (it goes into reports and health). */
export interface OffsiteLag {
  /** Complete backups on the primaries that the off-site target lacks; null when it could not be listed. */
  missing: number | null;
  /** The oldest of those, by its start time. */
  oldestMissing?: { tier: string; id: string; startedAt: string };
  /** Its age at `now`, in ms (0 when none is missing; when the target could not be listed, the age of the oldest primary backup: the worst case). */
  oldestMissingAgeMs: number;
  /** The newest backup the target holds, by its start time. */
  newestHeld?: { tier: string; id: string; startedAt: string };
}

const nameOf = (manifest: Pick<Manifest, 'tier' | 'id'>) => `${manifest.tier}/${manifest.id}`;
const brief = ({ tier, id, startedAt }: Manifest) => ({ tier, id, startedAt });

/**
 * Pure: given the complete backups on the primaries and on one off-site target (undefined when it
 * could not be listed), how far behind the target is. Only backups the primaries still hold
 * count: one retention removed from the primaries is not "missing" off-site.
 */
export function offsiteLag(primary: readonly Manifest[], offsite: readonly Manifest[] | undefined, now: number): OffsiteLag {
  const byAge = (a: Manifest, b: Manifest) => a.startedAt.localeCompare(b.startedAt);
  if (!offsite) {
    const oldest = [...primary].sort(byAge)[0];
    return { missing: null, oldestMissingAgeMs: oldest ? Math.max(0, now - Date.parse(oldest.startedAt)) : 0 };
  }
  const held = new Set(offsite.map(nameOf));
  const missing = primary.filter((manifest) => !held.has(nameOf(manifest))).sort(byAge);
  const newest = [...offsite].sort(byAge).at(-1);
  const oldest = missing[0];
  return {
    missing: missing.length,
    ...(oldest ? { oldestMissing: brief(oldest) } : {}),
    oldestMissingAgeMs: oldest ? Math.max(0, now - Date.parse(oldest.startedAt)) : 0,
    ...(newest ? { newestHeld: brief(newest) } : {}),
  };
}
