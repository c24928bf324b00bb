import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/files';
import type { HealthReport } from './report';

/**
 * The last health run as the daemon remembers it (STATE_DIR/health.json): what --quick, /healthz
 * and /metrics read, and what keeps alerts to transitions instead of one mail an hour.
 */
export interface HealthMemory extends HealthReport {
  /** When the current unhealthy spell began; unset while healthy. */
  unhealthySince?: string;
  /** When the last alert (or reminder) about this spell was sent. */
  lastAlertAt?: string;
}

export type AlertDecision = { send: 'alert' | 'reminder' | 'recovered' | undefined; memory: HealthMemory };

/**
 * Unhealthy means a failing check; warnings alone show in `keepsake health` and /healthz but
 * send no mail. One alert when the state turns unhealthy, a reminder every `repeatMs` while it
 * stays so, one recovery mail when it heals.
 */
export function decideAlert(previous: HealthMemory | undefined, report: HealthReport, repeatMs: number): AlertDecision {
  const now = report.checkedAt;
  const wasUnhealthy = previous?.unhealthySince !== undefined;
  if (report.status === 'fail') {
    if (!wasUnhealthy) return { send: 'alert', memory: { ...report, unhealthySince: now, lastAlertAt: now } };
    const lastAlert = previous.lastAlertAt ?? previous.unhealthySince!;
    if (Date.parse(now) - Date.parse(lastAlert) >= repeatMs) return { send: 'reminder', memory: { ...report, unhealthySince: previous.unhealthySince, lastAlertAt: now } };
    return { send: undefined, memory: { ...report, unhealthySince: previous.unhealthySince, lastAlertAt: lastAlert } };
  }
  if (wasUnhealthy) return { send: 'recovered', memory: { ...report } };
  return { send: undefined, memory: { ...report } };
}

export const healthMemoryPath = (stateDir: string) => join(stateDir, 'health.json');

export async function readHealthMemory(stateDir: string): Promise<HealthMemory | undefined> {
  try {
    return JSON.parse(await readFile(healthMemoryPath(stateDir), 'utf8')) as HealthMemory;
  } catch {
    // Missing or damaged: the next run starts a fresh memory (at worst one extra alert).
    return undefined;
  }
}

export async function writeHealthMemory(stateDir: string, memory: HealthMemory): Promise<void> {
  await writeFileAtomic(healthMemoryPath(stateDir), `${JSON.stringify(memory, null, 2)}\n`);
}
