/** What the restore test's replay found, and how it is told (pure: the report renders it). */

/** The restore test's proof of point-in-time recovery: the newest base backup replayed with every archived WAL file. */
export interface ReplayResult {
  ok: boolean;
  base: { id: string; finishedAt: string; startSegment: string };
  /** The newest archived WAL file: where the archive, and so the replay, ends. */
  archiveEnd?: string;
  walFiles?: number;
  /** Starting the recovered server to its promotion: the replay alone. */
  recoveryMs?: number;
  /** Unpacking the base plus the replay. */
  totalMs?: number;
  /** The last commit replayed (null: none since the base backup). */
  pointReached?: string | null;
  /** `ok`, or why pg_verifybackup did not run. */
  verifyBackup?: string;
  /** Tables of the newest dump's inventory found in the recovered cluster. */
  tablesFound?: number;
  tablesExpected?: number;
  problems: string[];
  error?: string;
}

/** The replay in a few lines, for the CLI and the report: what was replayed, how long it took, where it got to. */
export function describeReplay(replay: ReplayResult, formatDuration: (ms: number) => string): string[] {
  const lines = [`base backup ${replay.base.id} replayed with every archived WAL file from ${replay.base.startSegment} to ${replay.archiveEnd ?? 'the end of the archive'}`];
  if (replay.recoveryMs !== undefined) lines.push(`recovery time ${formatDuration(replay.recoveryMs)} (${replay.walFiles ?? 0} WAL files; ${formatDuration(replay.totalMs ?? replay.recoveryMs)} with unpacking the base)`);
  if (replay.pointReached !== undefined) lines.push(`recovery point reached: ${replay.pointReached ?? 'no transaction after the base backup'}`);
  if (replay.verifyBackup !== undefined) lines.push(`pg_verifybackup: ${replay.verifyBackup}`);
  if (replay.tablesExpected !== undefined) lines.push(`${replay.tablesFound} of ${replay.tablesExpected} tables of the newest dump exist in the recovered cluster`);
  if (replay.error) lines.push(`FAILED: ${replay.error}`);
  for (const problem of replay.problems) lines.push(`FAILED: ${problem}`);
  return lines;
}
