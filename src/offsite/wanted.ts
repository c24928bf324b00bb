import { sourceName } from '../backup/manifest';
import type { Manifest } from '../backup/manifest';
import type { RetentionConfig } from '../config';
import { planBackups } from '../retention/plan';

export type TargetRetention = Pick<RetentionConfig, 'keep' | 'maxAgeMs'>;

const nameOf = (manifest: Pick<Manifest, 'tier' | 'id'>) => `${manifest.tier}/${manifest.id}`;

/**
 * Pure: which of the primaries' backups belong on an off-site target, by that target's own
 * retention. Without this an off-site target that keeps fewer backups than the primaries would
 * receive, every run, the copies its cleanup deletes, and would always look behind. The target's
 * rules are applied to what it would hold after the copy (what it holds plus what the primaries
 * have), so "keep the newest 4 weekly" there means the newest 4 of either.
 */
export function wantedOffsite(primary: readonly Manifest[], held: readonly Manifest[], retention: TargetRetention, now: number): (manifest: Manifest) => boolean {
  const union = new Map<string, Manifest>();
  for (const manifest of [...held, ...primary]) union.set(nameOf(manifest), manifest);
  const policy = { ...retention, restoreTestKeepMs: 0, incompleteAfterMs: 0 };
  const decisions = planBackups({ backups: [...union.values()].map((manifest) => ({ id: manifest.id, tier: manifest.tier, database: sourceName(manifest), startedAt: manifest.startedAt })), policy, now });
  const kept = new Set(decisions.filter((decision) => decision.action === 'keep').map(nameOf));
  return (manifest) => kept.has(nameOf(manifest));
}
