import { readFile } from 'node:fs/promises';
import type { AlertSpell } from '../health/alerts';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

/**
 * What the daemon's WAL receiver and shipper (PITR=on) last said about themselves, for `health`,
 * `status` and `/metrics`, which may run in other processes. Written by src/pitr/receive/ on every
 * change and at least every few seconds while it runs (`updatedAt`), so a reader can tell a
 * receiver that stopped saying anything (the daemon is gone) from one that streams.
 */
export interface WalStatus {
  receiver: {
    state: 'streaming' | 'down' | 'stopped';
    /** When it entered this state. */
    since: string;
    /** Why it is down (pg_receivewal's last words, or the connection error), without secrets. */
    lastError?: string;
    /** How many times pg_receivewal was restarted since the daemon started. */
    restarts: number;
  };
  /** The newest completed WAL file every primary target holds. */
  lastShipped?: { name: string; timeline: number; at: string };
  /** The segment being written, as last archived (`.partial`). */
  partial?: { name: string; shippedAt: string };
  /** What waits in WAL_SPOOL_DIR to be archived. */
  spool: { files: number; bytes: number; oldest?: string };
  /** Why shipping fails, when it does (a target is down). */
  shipError?: string;
  /** Since when shipping has failed without a success in between. */
  shipFailingSince?: string;
  /**
   * When the archive last held everything pg_receivewal had written (no completed file waiting,
   * the partial archived as it is): on an idle server nothing new is shipped, yet nothing lags.
   */
  caughtUpAt?: string;
  /** The wal-streaming report spell (health alerts' rules), kept across daemon restarts. */
  alert?: AlertSpell & { troubleSince?: string };
  updatedAt: string;
}

export async function readWalStatus(stateDir: string): Promise<WalStatus | undefined> {
  try {
    return JSON.parse(await readFile(statePaths.walStatus(stateDir), 'utf8')) as WalStatus;
  } catch {
    return undefined;
  }
}

export async function writeWalStatus(stateDir: string, status: WalStatus): Promise<void> {
  await writeFileAtomic(statePaths.walStatus(stateDir), `${JSON.stringify(status, null, 2)}\n`);
}

/** A status not rewritten for this long comes from a receiver that is gone (the daemon stopped or hangs). */
export const WAL_STATUS_STALE_MS = 30_000;

/**
 * When the archive last held all the WAL the receiver had: the newest of the last segment shipped,
 * the last partial shipped and the last moment nothing waited. The age of this is the WAL lag.
 */
export function archiveCurrentAt(status: WalStatus): string | undefined {
  const times = [status.lastShipped?.at, status.partial?.shippedAt, status.caughtUpAt].filter((time): time is string => Boolean(time));
  return times.sort().pop();
}

/** pg_receivewal streams, as a status written recently says. */
export function receiverUp(status: WalStatus, now: Date): boolean {
  return status.receiver.state === 'streaming' && now.getTime() - Date.parse(status.updatedAt) < WAL_STATUS_STALE_MS;
}
