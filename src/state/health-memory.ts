import { readFile } from 'node:fs/promises';
import type { HealthMemory } from '../health/alerts';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

/** STATE_DIR/health.json: the last health run as the daemon remembers it (health/alerts.ts says what it holds). */
export async function readHealthMemory(stateDir: string): Promise<HealthMemory | undefined> {
  try {
    return JSON.parse(await readFile(statePaths.healthMemory(stateDir), 'utf8')) as HealthMemory;
  } catch {
    // Missing or damaged: the next run starts a fresh memory (at worst one extra alert).
    return undefined;
  }
}

export async function writeHealthMemory(stateDir: string, memory: HealthMemory): Promise<void> {
  await writeFileAtomic(statePaths.healthMemory(stateDir), `${JSON.stringify(memory, null, 2)}\n`);
}
