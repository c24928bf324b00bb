import { readFile } from 'node:fs/promises';
import type { RestoreTestResult } from '../restore/restore-test';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

/** The last restore test this sidecar ran, as recorded in STATE_DIR; undefined when none (or unreadable). */
export async function readLatestRestoreTest(stateDir: string): Promise<RestoreTestResult | undefined> {
  return readFile(statePaths.latestRestoreTest(stateDir), 'utf8').then((text) => JSON.parse(text) as RestoreTestResult, () => undefined);
}

/** `body` is the result as stored on the targets, byte for byte. */
export async function writeLatestRestoreTest(stateDir: string, body: Buffer): Promise<void> {
  await writeFileAtomic(statePaths.latestRestoreTest(stateDir), body);
}
