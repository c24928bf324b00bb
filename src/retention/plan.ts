import { TIERS, type Tier } from '../backup/keys';
import type { RetentionConfig } from '../config';

/**
 * The retention planner: a pure function from what exists (and the policy, and the clock) to a
 * keep/delete decision with the rule that made it. It reads nothing and deletes nothing; apply.ts
 * does that. The safety rules live here, once, so every caller (cleanup command, daemon) gets them.
 */

/** What the planner needs to know about one listed (complete) backup. */
export interface BackupFacts {
  id: string;
  tier: Tier;
  database: string;
  /** The manifest's start time. Retention orders by it, never by names: names can lie. */
  startedAt: string;
  /** Its latest restore test failed: it does not count as the newest good backup of its tier. */
  failedRestoreTest?: boolean;
  /** Its latest restore test passed: the newest such backup of a tier is proof worth keeping. */
  passedRestoreTest?: boolean;
}

/** A recovery-test record (`recovery-tests/.../restore_test_*.json`) and when its test ran. */
export interface RecordFacts {
  key: string;
  at: number;
}

/**
 * An object a write left behind: a data object with no manifest, or a local temp file; or an
 * incomplete backup's copy on one target: a manifest whose data object is missing or cut short.
 */
export interface LeftoverFacts {
  target: string;
  /** incomplete: the manifest's key, deleted first. */
  key: string;
  kind: 'no-manifest' | 'temp' | 'incomplete';
  /** Last modified, in ms: a write in progress keeps touching it. */
  modified: number;
  size: number;
  /** incomplete: the data object to delete after the manifest, when there is one. */
  dataKey?: string;
  /** incomplete: tier/id, and what is wrong with it. */
  backup?: string;
  problem?: string;
}

export type RetentionPolicy = Pick<RetentionConfig, 'keep' | 'maxAgeMs' | 'restoreTestKeepMs' | 'incompleteAfterMs'>;

export interface RetentionInput {
  backups: BackupFacts[];
  restoreTests?: RecordFacts[];
  leftovers?: LeftoverFacts[];
  policy: RetentionPolicy;
  now: number;
  /**
   * Tiers whose newest backup attempt failed. Nothing is deleted in them, for every database:
   * the old good backups are worth most exactly when new ones break.
   */
  failedTiers?: ReadonlySet<Tier>;
}

export type Action = 'keep' | 'delete';

/**
 * count/age: the policy's rules. newest, newest-good, tier-failed, unknown-time: safety rules,
 * named only where they overruled a deletion. outside: no rule keeps it.
 */
export type BackupRule = 'count' | 'age' | 'newest' | 'newest-good' | 'newest-proven' | 'tier-failed' | 'unknown-time' | 'outside';

export interface BackupDecision {
  id: string;
  tier: Tier;
  database: string;
  startedAt: string;
  action: Action;
  rule: BackupRule;
  reason: string;
}

export interface RecordDecision {
  key: string;
  at: number;
  action: Action;
  rule: 'newest' | 'age' | 'outside';
  reason: string;
}

export interface LeftoverDecision extends LeftoverFacts {
  action: Action;
  rule: 'grace' | 'outside';
  reason: string;
}

export interface RetentionPlan {
  /** Grouped by tier (in TIERS order), then database, newest first. */
  backups: BackupDecision[];
  restoreTests: RecordDecision[];
  leftovers: LeftoverDecision[];
}

export function planRetention(input: RetentionInput): RetentionPlan {
  return {
    backups: planBackups(input),
    restoreTests: planRestoreTests(input.restoreTests ?? [], input.policy.restoreTestKeepMs, input.now),
    leftovers: planLeftovers(input.leftovers ?? [], input.policy.incompleteAfterMs, input.now),
  };
}

/** Per database and tier: keep the N newest and (when a max age is set) the young ones. */
export function planBackups({ backups, policy, now, failedTiers = new Set() }: RetentionInput): BackupDecision[] {
  const groups = new Map<string, BackupFacts[]>();
  for (const backup of backups) {
    const group = `${TIERS.indexOf(backup.tier)}\u0000${backup.database}`;
    const members = groups.get(group) ?? [];
    members.push(backup);
    groups.set(group, members);
  }
  const decisions: BackupDecision[] = [];
  for (const group of [...groups.keys()].sort()) {
    const members = groups.get(group)!;
    const decide = (backup: BackupFacts, action: Action, rule: BackupRule, reason: string) =>
      decisions.push({ id: backup.id, tier: backup.tier, database: backup.database, startedAt: backup.startedAt, action, rule, reason });
    // A start time that does not parse cannot be ordered: keeping it is the only safe answer.
    for (const backup of members.filter((b) => Number.isNaN(Date.parse(b.startedAt)))) decide(backup, 'keep', 'unknown-time', `start time "${backup.startedAt}" unreadable: kept`);
    const ordered = members.filter((b) => !Number.isNaN(Date.parse(b.startedAt))).sort(newestFirst);
    const tier = ordered[0]?.tier;
    if (!tier) continue;
    const keep = policy.keep[tier];
    const maxAge = policy.maxAgeMs[tier];
    const newestGood = ordered.find((b) => !b.failedRestoreTest);
    const newestProven = ordered.find((b) => b.passedRestoreTest);
    ordered.forEach((backup, index) => {
      const age = now - Date.parse(backup.startedAt);
      if (index < keep) return decide(backup, 'keep', 'count', `among the ${keep} newest ${tier}`);
      if (maxAge !== undefined && age < maxAge) return decide(backup, 'keep', 'age', `younger than ${formatAge(maxAge)} (${formatAge(age)} old)`);
      // The policy would delete it; the safety rules get the last word.
      if (index === 0) return decide(backup, 'keep', 'newest', 'newest of its tier: never deleted');
      if (backup === newestGood) return decide(backup, 'keep', 'newest-good', `newest ${tier} whose restore test did not fail: never deleted`);
      if (backup === newestProven) return decide(backup, 'keep', 'newest-proven', `newest ${tier} that passed a restore test: never deleted`);
      if (failedTiers.has(tier)) return decide(backup, 'keep', 'tier-failed', `tier's newest backup failed: nothing deleted`);
      const limit = maxAge === undefined ? '' : `, limit ${formatAge(maxAge)}`;
      decide(backup, 'delete', 'outside', `outside every rule (${ordinal(index + 1)} newest ${tier}, ${formatAge(age)} old${limit})`);
    });
  }
  return decisions;
}

/** Keeps records younger than RESTORE_TEST_KEEP, and always the newest: the latest proof stays. */
export function planRestoreTests(records: RecordFacts[], keepMs: number, now: number): RecordDecision[] {
  const ordered = [...records].sort((a, b) => b.at - a.at || b.key.localeCompare(a.key));
  return ordered.map(({ key, at }, index) => {
    // Only the facts, never the caller's extras (its Storage objects): decisions end up in --json.
    const record = { key, at };
    const age = now - at;
    if (index === 0) return { ...record, action: 'keep', rule: 'newest', reason: 'newest recovery-test record: always kept' };
    if (age < keepMs) return { ...record, action: 'keep', rule: 'age', reason: `younger than ${formatAge(keepMs)} (${formatAge(age)} old)` };
    return { ...record, action: 'delete', rule: 'outside', reason: `${formatAge(age)} old, limit ${formatAge(keepMs)}` };
  });
}

/**
 * Objects without a manifest, and incomplete backups, are never listed, so nobody can restore
 * them; they go once the grace period has passed. Within it they may belong to a write still in
 * progress.
 */
export function planLeftovers(leftovers: LeftoverFacts[], graceMs: number, now: number): LeftoverDecision[] {
  const what = (leftover: LeftoverFacts) =>
    ({ 'no-manifest': 'data object without manifest', temp: 'temp file of an unfinished write', incomplete: `incomplete backup ${leftover.backup} (${leftover.problem})` })[leftover.kind];
  return [...leftovers]
    .sort((a, b) => a.target.localeCompare(b.target) || a.key.localeCompare(b.key))
    .map((leftover) => {
      const age = now - leftover.modified;
      if (age > graceMs) return { ...leftover, action: 'delete', rule: 'outside', reason: `${what(leftover)}, ${formatAge(age)} old: past the ${formatAge(graceMs)} grace` };
      // A manifest is written last, so an incomplete backup is no write in progress; it is kept a while all the same, for a look.
      const wait = leftover.kind === 'incomplete' ? `removed once past the ${formatAge(graceMs)} grace` : `may still be being written (grace ${formatAge(graceMs)})`;
      return { ...leftover, action: 'keep', rule: 'grace', reason: `${what(leftover)}, ${formatAge(age)} old: ${wait}` };
    });
}

/** Newest first by the manifest's instant (offsets honoured), then by id for a stable order. */
function newestFirst(a: BackupFacts, b: BackupFacts): number {
  return Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.id.localeCompare(a.id);
}

/** "45m", "20h", "9d": whole units, rounded down, so "30d" is never shown for 29.9 days. */
export function formatAge(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(0, Math.floor(ms / 60_000))}m`;
  if (ms < 48 * 3_600_000) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / 86_400_000)}d`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}
