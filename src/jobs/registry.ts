import type { JobName } from '../config';
import { backupJob } from './backup';
import { cleanupJob } from './cleanup';
import { healthCheckJob } from './health';
import type { JobRunner } from './job';
import { logrotateJob } from './logrotate';
import { restoreTestJob } from './restore-test';
import { storageReport } from './storage-report';

/** Every job the daemon schedules, by the name its SCHEDULE_* variable gives it. */
export function jobRunners(): Record<JobName, JobRunner> {
  return {
    daily: backupJob('daily'),
    weekly: backupJob('weekly'),
    monthly: backupJob('monthly'),
    'restore-test': restoreTestJob,
    cleanup: cleanupJob,
    health: healthCheckJob,
    'storage-report': (deps) => storageReport(deps),
    logrotate: logrotateJob,
  };
}
