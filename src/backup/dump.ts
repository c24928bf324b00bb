import type { Writable } from 'node:stream';
import type { DatabaseConfig } from '../config';
import { libpqEnv } from '../postgres/connection';
import type { PgBinary } from '../postgres/binaries';
import { contentsArgs, type ContentsRequest } from './contents';
import { spawnChild, type ChildHandle } from '../process/run-process';

export function dumpArgs(snapshotId: string, extraArgs: readonly string[], contents: ContentsRequest): string[] {
  // -Z0: compression happens downstream, multi-threaded; --snapshot: the data the row counts saw.
  return ['--format=custom', '-Z0', `--snapshot=${snapshotId}`, '--no-password', ...contentsArgs(contents), ...extraArgs];
}

/** Starts pg_dump writing the archive to `stdout`. The password goes through the environment. */
export function startDump(pgDump: PgBinary, db: DatabaseConfig, args: string[], stdout: Writable | 'pipe'): ChildHandle {
  return spawnChild(pgDump.path, args, { env: libpqEnv(db), stdout, stderrTailBytes: 8192 });
}
