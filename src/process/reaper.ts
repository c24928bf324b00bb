import { basename } from 'node:path';
import { rm, stat, unlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatBytes, formatTimestamp } from '../format';
import { judgeProcess, type ProcessIdentity } from './identity';
import { judgeRun, readRunRecords, runToken, type RunRecord } from '../state/run-record';

/**
 * Cleans up after keepsake runs that died without doing it themselves (SIGKILL, out of memory, a
 * container killed): children still running are stopped (when their pid can be checked: same
 * kernel and pid namespace, and the same start time, so a reused pid is never hit) and temp
 * folders removed. Returns one sentence per dead run it cleaned up after, for the caller to say.
 * Runs whose owner still lives (or still beats, elsewhere) are left alone.
 */
export async function reapLeftovers(stateDir: string, options: { knownDead?: readonly string[]; now?: number } = {}): Promise<string[]> {
  const said: string[] = [];
  for (const entry of await readRunRecords(stateDir)) {
    const { record } = entry;
    if (record.token === runToken()) continue;
    if (!options.knownDead?.includes(record.token) && judgeRun(entry, options.now) !== 'dead') continue;
    const done = [...(await stopChildren(record)), ...(await removeFolders(record))];
    await unlink(entry.path).catch(() => undefined);
    if (done.length) said.push(describe(record, done));
  }
  return said;
}

function describe(record: RunRecord, done: string[]): string {
  const run = `an earlier \`keepsake ${record.command}\` (pid ${record.pid} on ${record.host}, started ${formatTimestamp(record.startedAt)})`;
  const hint = record.command === 'restore' ? '; the database it was restoring into may be half restored: run the restore again' : '';
  return `cleaned up after ${run}, which ended without cleaning up (killed or crashed): ${done.join('; ')}${hint}`;
}

async function stopChildren(record: RunRecord): Promise<string[]> {
  const stopped: string[] = [];
  for (const child of record.children) {
    const identity: ProcessIdentity = { ...record, pid: child.pid, startTicks: child.startTicks };
    if (judgeProcess(identity) !== 'alive') continue;
    signalGroup(child.pid, child.stopSignal);
    for (let waited = 0; waited < 2_000 && judgeProcess(identity) === 'alive'; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    signalGroup(child.pid, 'SIGKILL');
    stopped.push(`stopped ${child.what} (pid ${child.pid}), left running`);
  }
  return stopped;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

/** Only keepsake's own temp folders (mkdtemp names starting with "keepsake-") are removed. */
async function removeFolders(record: RunRecord): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of record.folders) {
    if (!basename(folder.path).startsWith('keepsake-')) continue;
    if (!(await stat(folder.path).then((info) => info.isDirectory(), () => false))) continue;
    const size = await folderBytes(folder.path);
    await rm(folder.path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    removed.push(`removed its ${folder.what} ${folder.path}${size === undefined ? '' : ` (${formatBytes(size)})`}`);
  }
  return removed;
}

async function folderBytes(path: string): Promise<number | undefined> {
  try {
    const { stdout } = await promisify(execFile)('du', ['-sk', path]);
    return Number(stdout.split('\t')[0]) * 1024;
  } catch {
    return undefined;
  }
}
