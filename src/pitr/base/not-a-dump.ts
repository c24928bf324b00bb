import type { Manifest } from '../../backup/manifest';
import { UsageError } from '../../errors';

/**
 * The dump commands (restore, restore-test of one backup) refuse a base backup with what to run
 * instead: it holds the whole cluster's files, recovered with the WAL archive to a point in time.
 */
export function refuseBaseBackup(manifest: Pick<Manifest, 'id' | 'tier' | 'archiveFormat'>, command: 'restore' | 'restore-test'): void {
  if (manifest.archiveFormat !== 'tar') return;
  const instead =
    command === 'restore'
      ? 'restore to a point in time with `keepsake restore --at TIME` (or `--at latest`), which picks the base backup and replays the WAL'
      : 'the restore test replays base backups with the WAL archive by itself; test a dump here (`keepsake restore-test latest`)';
  throw new UsageError(`${manifest.tier}/${manifest.id} is a base backup (PITR), not a dump: ${instead}`);
}
