/**
 * What pg_basebackup -v says on stderr (run with LC_ALL=C, so in English) about where the backup
 * sits in the WAL:
 *   pg_basebackup: write-ahead log start point: 0/2000028 on timeline 1
 *   pg_basebackup: write-ahead log end point: 0/2000100
 * The server gives these positions only to the client that ran the backup, so they are read here.
 */
export interface BasebackupPositions {
  timeline: number;
  startLsn: string;
  stopLsn: string;
}

const START = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/i;
const END = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/i;

/** The start and end positions, or undefined when pg_basebackup did not print both (an older or localized build). */
export function parseBasebackupPositions(stderr: string): BasebackupPositions | undefined {
  const start = START.exec(stderr);
  const end = END.exec(stderr);
  if (!start || !end) return undefined;
  return { timeline: Number(start[2]), startLsn: start[1]!.toUpperCase(), stopLsn: end[1]!.toUpperCase() };
}
