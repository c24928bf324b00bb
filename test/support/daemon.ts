import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { JOBS } from '../../src/config';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

/** Every job's schedule off: tests switch on the ones they are about. */
export const SCHEDULES_OFF = Object.fromEntries(JOBS.map((job) => [`SCHEDULE_${job.toUpperCase().replace(/-/g, '_')}`, 'off'])) as Record<string, string>;

export interface LogLine {
  msg: string;
  time: string;
  job?: string;
  outcome?: string;
  why?: string;
  [key: string]: unknown;
}

/** `keepsake daemon` as a real process; its JSON log lines are collected as they arrive. */
export interface RunningDaemon {
  process: ChildProcess;
  lines: LogLine[];
  /** Resolves with the first line matching, waiting up to timeoutMs. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
  /** What it printed on stderr so far (a refusal to start, say). */
  stderr(): string;
}

export function startDaemonProcess(env: Record<string, string>): RunningDaemon {
  const child = spawn(process.execPath, [CLI, 'daemon'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return followJsonLog(child);
}

/**
 * Collects the JSON log lines a process prints on stdout: the daemon itself, or `docker logs -f`
 * of a container running it. Every line must be JSON: the daemon prints nothing else on stdout.
 */
export function followJsonLog(child: ChildProcess): RunningDaemon {
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const text of parts.filter(Boolean)) {
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    process: child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(match, timeoutMs = 20_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`daemon log line not seen in ${timeoutMs} ms; stderr: ${stderr}; last lines: ${JSON.stringify(lines.slice(-5))}`)), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}
