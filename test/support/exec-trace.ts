/**
 * Runs keepsake under strace to record every program it starts, with the exact argv and
 * environment each was given: the only honest way to see what a child that lives for 5 ms got.
 * Only execve is traced (with a seccomp filter), so the traced run is barely slower.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { followJsonLog, type RunningDaemon } from './daemon';
import type { CliResult } from './cli';
import { outputOf } from './child-output';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export interface ExecRecord {
  pid: number;
  file: string;
  argv: string[];
  env: string[];
}

function straceArgs(traceDir: string): string[] {
  // -ff: one file per process, so lines of concurrent children never interleave.
  return ['-f', '-ff', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-v', '-s', '1000000', '-o', join(traceDir, 'exec'), '--', process.execPath, CLI];
}

function baseEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env };
}

/** `keepsake <args>` under strace; its exec records are read with readExecs(traceDir). */
export function runTracedCli(args: string[], env: Record<string, string>, traceDir: string): Promise<CliResult> {
  return outputOf(spawn('strace', [...straceArgs(traceDir), ...args], { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** `keepsake daemon` under strace. stop() sends SIGTERM to keepsake itself, not to strace. */
export function startTracedDaemon(env: Record<string, string>, traceDir: string): RunningDaemon & { stop(): Promise<number | null> } {
  const child = spawn('strace', [...straceArgs(traceDir), 'daemon'], { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon = followJsonLog(child);
  return {
    ...daemon,
    async stop() {
      const pid = execFileSync('pgrep', ['-P', String(child.pid)]).toString().trim().split('\n')[0];
      process.kill(Number(pid), 'SIGTERM');
      return daemon.exited;
    },
  };
}

/** Every execve the traced run made, keepsake's own first (the one strace started). */
export async function readExecs(traceDir: string): Promise<ExecRecord[]> {
  const records: ExecRecord[] = [];
  for (const name of await readdir(traceDir)) {
    const match = /^exec\.(\d+)$/.exec(name);
    if (!match) continue;
    const text = await readFile(join(traceDir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.startsWith('execve(')) continue;
      records.push({ pid: Number(match[1]), ...parseExecve(line) });
    }
  }
  return records.sort((a, b) => a.pid - b.pid);
}

/** Parses `execve("/bin/x", ["x", "-a"], ["A=1", ...]) = 0` as strace -v prints it. */
export function parseExecve(line: string): Omit<ExecRecord, 'pid'> {
  let at = 'execve('.length;
  const readString = (): string => {
    if (line[at] !== '"') throw new Error(`expected a string at ${at}: ${line.slice(at, at + 40)}`);
    at++;
    let out = '';
    while (line[at] !== '"') {
      const ch = line[at++]!;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const next = line[at++]!;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f', '"': '"', '\\': '\\' };
      if (next in simple) out += simple[next];
      else if (next === 'x') {
        out += String.fromCharCode(parseInt(line.slice(at, at + 2), 16));
        at += 2;
      } else {
        const octal = /^[0-7]{1,3}/.exec(line.slice(at - 1))![0];
        out += String.fromCharCode(parseInt(octal, 8));
        at += octal.length - 1;
      }
    }
    at++;
    // A string cut at -s would end in "...": the limit is far above anything keepsake passes.
    if (line.startsWith('...', at)) throw new Error('strace truncated a string; raise -s');
    return out;
  };
  const readArray = (): string[] => {
    if (line[at] !== '[') throw new Error(`expected an array at ${at}: ${line.slice(at, at + 40)}`);
    at++;
    const items: string[] = [];
    while (line[at] !== ']') {
      items.push(readString());
      if (line.startsWith(', ', at)) at += 2;
      else if (line[at] !== ']') throw new Error(`unexpected ${line.slice(at, at + 20)} in an array`);
    }
    at++;
    return items;
  };
  const file = readString();
  at += 2;
  const argv = readArray();
  at += 2;
  const env = readArray();
  return { file, argv, env };
}
