import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

/** The total the last storage report showed (its growth is measured from it); undefined when none. */
export async function readLastStorageTotal(stateDir: string): Promise<number | undefined> {
  return readFile(statePaths.storageReportMemory(stateDir), 'utf8').then((text) => (JSON.parse(text) as { totalBytes: number }).totalBytes, () => undefined);
}

export async function rememberStorageTotal(stateDir: string, totalBytes: number, at = new Date()): Promise<void> {
  await writeFileAtomic(statePaths.storageReportMemory(stateDir), JSON.stringify({ totalBytes, at: at.toISOString() }));
}
