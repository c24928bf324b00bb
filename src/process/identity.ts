import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a keepsake process is, precisely enough to tell later whether it still runs. A pid alone
 * says little in containers: every container's first process has the same pid, a restarted
 * container reuses it, and two containers may even share a host name.
 */
export interface ProcessIdentity {
  pid: number;
  /** For people reading messages; never used to judge liveness. */
  host: string;
  /** The kernel's boot (Linux); with pidNamespace, says whether our pids and its pids are the same. */
  bootId?: string;
  /** The pid namespace the pid is valid in: each container has its own, anew at each start. */
  pidNamespace?: string;
  /** The process's start time in clock ticks since boot: a reused pid has another. */
  startTicks?: number;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read().trim();
  } catch {
    return undefined;
  }
}

/**
 * Field 22 of /proc/<pid>/stat, or undefined when there is no such process (or no /proc). A zombie
 * (exited, not yet reaped by its parent, init for an orphan) counts as no process: it runs nothing.
 */
export function startTicksOf(pid: number): number | undefined {
  const stat = readOrUndefined(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (afterName[0] === 'Z' || afterName[0] === 'X') return undefined;
  const ticks = Number(afterName[19]); // fields 3, 4, ... so field 22 is the 20th
  return Number.isFinite(ticks) ? ticks : undefined;
}

let own: ProcessIdentity | undefined;

export function ownIdentity(): ProcessIdentity {
  own ??= {
    pid: process.pid,
    host: hostname(),
    bootId: readOrUndefined(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOrUndefined(() => readlinkSync('/proc/self/ns/pid')),
    startTicks: startTicksOf(process.pid),
  };
  return own;
}

/**
 * Whether the process `other` names still runs, when this process can tell: same kernel boot and
 * same pid namespace (the daemon and `docker compose exec` commands in one container, or
 * everything on one host). Then the pid and its start time decide exactly, whatever the host
 * names say: a dead daemon's pid reused by another process has another start time.
 * Otherwise 'unknown': another container (or an earlier life of this one, which had its own
 * namespace) or another machine on a shared volume, whose processes we cannot see; the caller
 * judges by a heartbeat.
 */
export function judgeProcess(other: Pick<ProcessIdentity, 'pid' | 'bootId' | 'pidNamespace' | 'startTicks'>, self = ownIdentity()): Liveness {
  if (!other.bootId || !other.pidNamespace || other.bootId !== self.bootId || other.pidNamespace !== self.pidNamespace) return 'unknown';
  if (other.startTicks === undefined) return 'unknown';
  const ticks = other.pid === self.pid ? self.startTicks : startTicksOf(other.pid);
  return ticks === other.startTicks ? 'alive' : 'dead';
}
