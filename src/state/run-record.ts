import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { judgeProcess, ownIdentity, type ProcessIdentity } from '../process/identity';
import { watchdogPid } from '../process/watchdog';
import { statePaths } from './paths';

/**
 * What a running keepsake process has out in the world: its children (each leads its own process
 * group) and its temp folders (throwaway clusters, restore work folders). Kept in
 * STATE_DIR/processes/<token>.json while there is something in it, so the next run can clean up
 * after a keepsake that was killed before it could (see process/reaper.ts). The file's mtime is the
 * process's heartbeat, refreshed every HEARTBEAT_MS: it tells whether the process lives when its
 * pid cannot be checked (another container, another host).
 */
export interface RunRecord extends ProcessIdentity {
  format: 1;
  token: string;
  /** The command (`restore-test`, `daemon`...): never its arguments, which may hold a URL with a password. */
  command: string;
  startedAt: string;
  watchdogPid?: number;
  children: { pid: number; startTicks?: number; what: string; stopSignal: NodeJS.Signals }[];
  folders: { path: string; what: string }[];
}

export const HEARTBEAT_MS = 10_000;
/** Three missed heartbeats: the process is gone. */
export const HEARTBEAT_STALE_MS = 3 * HEARTBEAT_MS;

let stateDir: string | undefined;
let record: RunRecord | undefined;
let written = false;
let saving: Promise<void> = Promise.resolve();
let heartbeat: NodeJS.Timeout | undefined;

/** Turns the record on for this process (the CLI does, once the configuration names STATE_DIR). */
export function recordRunsIn(dir: string, command: string): void {
  if (stateDir) return;
  stateDir = dir;
  const identity = ownIdentity();
  record = { format: 1, token: randomBytes(8).toString('hex'), command, startedAt: new Date().toISOString(), ...identity, children: [], folders: [] };
  // Last resort at exit: an empty record goes; one that still lists something stays for the reaper.
  process.on('exit', () => {
    if (written && record && !record.children.length && !record.folders.length) {
      try {
        unlinkSync(statePaths.runRecord(dir, record.token));
      } catch {
        // already gone
      }
    }
  });
}

/** This process's token (the daemon lock names it), or undefined when records are off. */
export function runToken(): string | undefined {
  return record?.token;
}

/**
 * Writes the record now (the daemon needs it at once: it is its heartbeat). Failures throw here;
 * elsewhere a record that cannot be written is skipped: the watchdog still stops the children,
 * and a read-only STATE_DIR must not fail a `verify`.
 */
export async function saveRunRecord(): Promise<void> {
  if (!stateDir || !record) return;
  const dir = stateDir;
  const current = record;
  const write = async () => {
    current.watchdogPid = watchdogPid();
    await mkdir(statePaths.runRecords(dir), { recursive: true, mode: 0o700 });
    const path = statePaths.runRecord(dir, current.token);
    // No fsync: after a power cut there is nothing running to stop, and temp folders in /tmp are gone.
    const temp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temp, JSON.stringify(current), { mode: 0o600 });
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    written = true;
    if (!heartbeat) {
      heartbeat = setInterval(() => void beat(dir, current.token), HEARTBEAT_MS);
      heartbeat.unref();
    }
  };
  saving = saving.then(write, write);
  return saving;
}

async function beat(dir: string, token: string): Promise<void> {
  const now = new Date();
  // Gone (removed by hand, or by a reaper that judged this process dead): write it again.
  await utimes(statePaths.runRecord(dir, token), now, now).catch(() => saveRunRecord().catch(() => undefined));
}

function changed(): void {
  saveRunRecord().catch(() => undefined);
}

export function noteChild(pid: number, startTicks: number | undefined, what: string, stopSignal: NodeJS.Signals): void {
  if (!record) return;
  record.children.push({ pid, startTicks, what, stopSignal });
  changed();
}

export function forgetChild(pid: number): void {
  if (!record) return;
  record.children = record.children.filter((child) => child.pid !== pid);
  changed();
}

export function noteFolder(path: string, what: string): void {
  if (!record) return;
  record.folders.push({ path, what });
  changed();
}

export function forgetFolder(path: string): void {
  if (!record) return;
  record.folders = record.folders.filter((folder) => folder.path !== path);
  changed();
}

/** Every record in STATE_DIR with the time of its last heartbeat; unreadable ones are skipped. */
export async function readRunRecords(dir: string): Promise<{ record: RunRecord; heartbeatAt: number; path: string }[]> {
  const names = await readdir(statePaths.runRecords(dir)).catch(() => [] as string[]);
  const found: { record: RunRecord; heartbeatAt: number; path: string }[] = [];
  for (const name of names.filter((entry) => entry.endsWith('.json'))) {
    const path = join(statePaths.runRecords(dir), name);
    try {
      const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      found.push({ record: JSON.parse(text) as RunRecord, heartbeatAt: info.mtimeMs, path });
    } catch {
      // written whole by rename(); one that vanished in between was just removed by its owner
    }
  }
  return found;
}

export async function readRunRecord(dir: string, token: string): Promise<{ record: RunRecord; heartbeatAt: number } | undefined> {
  const path = statePaths.runRecord(dir, token);
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { record: JSON.parse(text) as RunRecord, heartbeatAt: info.mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * Whether the process behind a record runs: by its pid and start time when this process can see
 * it (judgeProcess), else by its heartbeat: 'beating' while the record's mtime is fresh.
 */
export function judgeRun(entry: { record: ProcessIdentity; heartbeatAt: number }, now = Date.now()): 'alive' | 'dead' | 'beating' {
  const seen = judgeProcess(entry.record);
  if (seen !== 'unknown') return seen;
  return now - entry.heartbeatAt < HEARTBEAT_STALE_MS ? 'beating' : 'dead';
}
