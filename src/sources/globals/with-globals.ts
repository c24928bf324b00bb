import { join } from 'node:path';
import { postgresFacts, sourceOf, type Manifest } from '../../backup/manifest';
import { preferredCopy, readCatalog } from '../../catalog/catalog';
import type { DatabaseConfig } from '../../config';
import type { Deps } from '../../deps';
import { NotFoundError } from '../../errors';
import { findBinaryFor } from '../../postgres/binaries';
import { fetchArchive } from '../../restore/fetch';
import { withWorkDir } from '../../restore/work-dir';
import { storagesFrom } from '../../storage';
import { GLOBALS_NAME, applyGlobals } from './globals-source';

/** The globals backed up closest in time to a database's backup: as a rule, the same run's. */
export async function globalsNear(deps: Deps, near: Manifest, from?: string) {
  const { backups } = await readCatalog(storagesFrom(deps.storages, from));
  const distance = (manifest: Manifest) => Math.abs(Date.parse(manifest.startedAt) - Date.parse(near.startedAt));
  const candidates = backups.filter((entry) => sourceOf(entry.manifest).name === GLOBALS_NAME).sort((a, b) => distance(a.manifest) - distance(b.manifest));
  if (!candidates[0]) throw new NotFoundError('--with-globals: there is no backup of the globals yet; set BACKUP_GLOBALS=true (the default) and run `keepsake backup`');
  return candidates[0];
}

/**
 * --with-globals: the roles (and, on a real server, tablespaces) first, so that the database's
 * owners and grants can be restored as they were. Roles that exist are kept; the connecting role
 * is left as it is (apply-plan.ts).
 */
export async function applyGlobalsNear(deps: Deps, near: Manifest, admin: DatabaseConfig, options: { from?: string; scratch: boolean; signal?: AbortSignal }): Promise<{ id: string; notes: string[] }> {
  const entry = await globalsNear(deps, near, options.from);
  const { manifest } = entry;
  return withWorkDir(deps.config, async (dir) => {
    const fetched = await fetchArchive(preferredCopy(entry), manifest, join(dir, 'globals.sql'), deps.config.encryption, options.signal);
    const psql = await findBinaryFor('psql', postgresFacts(manifest).server.major, deps.config.pgBinDir);
    const notes = await applyGlobals(psql, fetched.path, admin, { skipTablespaces: options.scratch, signal: options.signal });
    return { id: `${manifest.tier}/${manifest.id}`, notes };
  });
}
