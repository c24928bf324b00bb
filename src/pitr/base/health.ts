import type { Manifest } from '../../backup/manifest';
import { formatBytes, formatDuration } from '../../format';
import { fail, ok, warn, type HealthCheckResult } from '../../health/report';
import { CLUSTER_SOURCE_NAME } from './cluster-source';

/** The checks' names: `freshness:<tier>:<source>` and `size:<tier>:<source>`, as per-source checks are named, so /metrics labels them alike. */
export const BASE_FRESHNESS_CHECK = `freshness:base:${CLUSTER_SOURCE_NAME}`;
export const BASE_SIZE_CHECK = `size:base:${CLUSTER_SOURCE_NAME}`;

export interface BaseHealthFacts {
  now: number;
  /** Every listed backup, newest first (only the base tier is looked at). */
  backups: Manifest[];
  /** HEALTH_MAX_AGE_BASE. */
  maxAgeMs: number;
  /** The daemon started less than HEALTH_MAX_AGE_BASE ago: a missing base backup is not overdue yet. */
  daemonIsNew: boolean;
}

/**
 * PITR=on: the newest base backup is younger than HEALTH_MAX_AGE_BASE (recovery replays all WAL
 * since it, so an old one makes recovery slow and keeps much WAL), and its size for /metrics.
 */
export function baseBackupChecks(facts: BaseHealthFacts): HealthCheckResult[] {
  const newest = facts.backups.find((manifest) => manifest.tier === 'base');
  const limit = formatDuration(facts.maxAgeMs);
  if (!newest) {
    if (facts.daemonIsNew) return [warn(BASE_FRESHNESS_CHECK, 'no base backup yet: point-in-time recovery needs one; the daemon takes one at start (or run `keepsake base-backup`)')];
    return [fail(BASE_FRESHNESS_CHECK, 'there is no base backup, so no point-in-time recovery is possible: run `keepsake base-backup` and check the daemon\'s log for why the scheduled ones failed')];
  }
  const elapsed = Math.max(0, facts.now - Date.parse(newest.finishedAt));
  const value = formatDuration(elapsed);
  const size = formatBytes(newest.storedBytes);
  const freshness =
    elapsed > facts.maxAgeMs
      ? fail(BASE_FRESHNESS_CHECK, `the newest base backup is ${value} old (limit ${limit}, HEALTH_MAX_AGE_BASE): recovery must replay all WAL since it; check \`keepsake status\` for the failing base-backup job, or run \`keepsake base-backup\``, value, elapsed)
      : ok(BASE_FRESHNESS_CHECK, `newest base backup ${newest.id} is ${value} old (limit ${limit})`, value, elapsed);
  return [freshness, ok(BASE_SIZE_CHECK, `newest base backup ${newest.id} is ${size}`, size, newest.storedBytes)];
}
