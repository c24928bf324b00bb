import { readCatalog } from '../../catalog/catalog';
import type { Deps } from '../../deps';
import { coerceError } from '../../errors';

/**
 * Why the daemon takes a base backup as it starts (PITR=on and none is listed: WAL streamed before
 * the first base backup cannot be replayed), or undefined. A catalog that cannot be read is logged
 * and waits for the schedule: the storage's own checks report it.
 */
export async function baseBackupNeededAtStart(deps: Deps): Promise<string | undefined> {
  if (!deps.config.pitr.enabled) return undefined;
  try {
    const { backups } = await readCatalog(deps.storages, { tier: 'base' });
    return backups.length ? undefined : 'PITR is on and there is no base backup yet';
  } catch (error) {
    deps.log.error({ err: coerceError(error) }, 'could not list base backups at start; the schedule takes the next one');
    return undefined;
  }
}
