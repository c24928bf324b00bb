import { TIERS } from '../backup/keys';
import { planBackups, type BackupDecision, type BackupFacts, type RetentionInput, type RetentionPolicy } from './plan';

/** A backup and the targets holding a complete copy of it. */
export interface HeldBackup extends BackupFacts {
  targets: string[];
}

/** A decision for the copies of one backup on `targets`: the targets whose rules agree on it. */
export interface TargetedDecision extends BackupDecision {
  targets: string[];
}

export interface TargetRules {
  name: string;
  policy: Pick<RetentionPolicy, 'keep' | 'maxAgeMs'>;
}

/**
 * Plans each target on its own, with its own rules, over the copies it holds: an off-site target
 * may keep 12 monthly backups where the primaries keep 3, and the safety rules (never the newest,
 * the newest good, the newest proven) hold on every target by itself, so no target is ever left
 * without its last good backup. Targets that decide the same for a backup share one decision, so
 * with one set of rules everywhere the plan reads as it did before targets had their own.
 */
export function planBackupsPerTarget(backups: HeldBackup[], targets: TargetRules[], input: Pick<RetentionInput, 'now' | 'failedTiers'>): TargetedDecision[] {
  const merged = new Map<string, TargetedDecision>();
  for (const target of targets) {
    const held = backups.filter((backup) => backup.targets.includes(target.name));
    const policy = { ...target.policy, restoreTestKeepMs: 0, incompleteAfterMs: 0 };
    for (const decision of planBackups({ backups: held, policy, now: input.now, failedTiers: input.failedTiers })) {
      const key = [decision.tier, decision.id, decision.action, decision.rule, decision.reason].join('\u0000');
      const existing = merged.get(key);
      if (existing) existing.targets.push(target.name);
      else merged.set(key, { ...decision, targets: [target.name] });
    }
  }
  // As planBackups orders them: tier, database, newest first; a backup's rows in the targets' order.
  return [...merged.values()].sort(
    (a, b) =>
      TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) ||
      a.database.localeCompare(b.database) ||
      Date.parse(b.startedAt) - Date.parse(a.startedAt) ||
      b.id.localeCompare(a.id),
  );
}
