import type { Config, JobName } from '../config';
import { offsiteStorages } from '../storage';
import type { Storage } from '../storage';
import { backupJob } from './backup';
import { cleanupJob } from './cleanup';
import { healthCheckJob } from './health';
import type { JobRunner } from './job';
import { logrotateJob } from './logrotate';
import { offsiteJob } from './offsite';
import { restoreTestJob } from './restore-test';
import { storageReport } from './storage-report';
import { baseBackupJob } from '../pitr/base/job';

/** Every job the daemon schedules, by the name its SCHEDULE_* variable gives it. */
export function jobRunners(): Record<JobName, JobRunner> {
  return {
    daily: backupJob('daily'),
    weekly: backupJob('weekly'),
    monthly: backupJob('monthly'),
    yearly: backupJob('yearly'),
    'restore-test': restoreTestJob,
    cleanup: cleanupJob,
    health: healthCheckJob,
    'storage-report': (deps) => storageReport(deps),
    logrotate: logrotateJob,
    offsite: offsiteJob,
    'base-backup': baseBackupJob,
  };
}

/** Why a job that has a schedule is not scheduled all the same (it has nothing to work on), else undefined. */
export function idleReason(job: JobName, storages: readonly Storage[], config: Pick<Config, 'pitr'>): string | undefined {
  if (job === 'base-backup' && !config.pitr.enabled) return 'PITR is off';
  if (job === 'offsite' && !offsiteStorages(storages).length) return 'no off-site targets';
  return undefined;
}
