import type { Cron } from 'croner';
import type { JobName } from '../config';
import { readCatalog } from '../catalog/catalog';
import { coerceError } from '../errors';
import type { Deps } from '../deps';
import { ownBackup } from '../sources';

const BACKUP_JOBS = ['daily', 'weekly', 'monthly', 'yearly'] as const;

/**
 * Backup tiers whose last scheduled slot passed without a backup (the sidecar was down, say):
 * each runs once at start, so a restart over 02:00 does not skip a day.
 */
export async function catchUpJobs(deps: Deps, crons: Map<JobName, Cron>): Promise<{ job: JobName; why: string }[]> {
  const missed: { job: JobName; why: string }[] = [];
  let backups;
  const ours = ownBackup(deps.config);
  try {
    backups = (await readCatalog(deps.storages)).backups.filter((entry) => ours(entry.manifest));
  } catch (error) {
    deps.log.error({ err: coerceError(error) }, 'catch-up skipped: could not list backups');
    return missed;
  }
  for (const job of BACKUP_JOBS) {
    const cron = crons.get(job);
    const lastSlot = cron?.previousRuns(1, new Date())[0];
    if (!lastSlot) continue;
    const newest = backups.find((entry) => entry.manifest.tier === job);
    if (!newest || Date.parse(newest.manifest.startedAt) < lastSlot.getTime()) {
      missed.push({ job, why: `catch-up: no ${job} backup since its slot at ${lastSlot.toISOString()}` });
    }
  }
  return missed;
}
