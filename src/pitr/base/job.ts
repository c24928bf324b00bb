import { UsageError } from '../../errors';
import type { JobRunner } from '../../jobs/job';

/** The base-backup job (PITR=on). Filled in by the base-backup work; until then it says so plainly. */
export const baseBackupJob: JobRunner = async () => {
  throw new UsageError('Base backups are not built yet');
};
