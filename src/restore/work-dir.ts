import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config';
import { removeOnExit } from '../process/exit-cleanup';
import { forgetFolder, noteFolder } from '../state/run-record';

/** A private folder under RESTORE_WORK_DIR for archives, removed afterwards whatever happens. */
export async function withWorkDir<T>(config: Config, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(config.restore.workDir, 'keepsake-restore-'));
  noteFolder(dir, 'restore work folder'); // for the next run, should this one be killed
  const unregister = removeOnExit(dir);
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    unregister();
    forgetFolder(dir);
  }
}
