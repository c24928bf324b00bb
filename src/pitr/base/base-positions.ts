/**
 * Where a base backup sits in the WAL, from the two files PostgreSQL puts in its tar: backup_label
 * (the first entry: start position, first segment, timeline) and backup_manifest (the last: its
 * "WAL-Ranges", whose end is where the backup becomes consistent). pg_basebackup -X none prints
 * neither position, and these files are what recovery itself reads, so they are the truth.
 */
export interface BasePositions {
  timeline: number;
  startLsn: string;
  stopLsn: string;
  /** The first WAL file recovery needs, as backup_label names it. */
  startSegment: string;
}

const LSN = '([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8})';
const START = new RegExp(`^START WAL LOCATION: ${LSN} \\(file ([0-9A-F]{24})\\)$`, 'm');
const TIMELINE = /^START TIMELINE: (\d+)$/m;
const RANGE = new RegExp(`"Timeline":\\s*(\\d+),\\s*"Start-LSN":\\s*"${LSN}",\\s*"End-LSN":\\s*"${LSN}"`, 'g');

/** The positions, or a sentence saying which file lacked what. */
export function parseBasePositions(backupLabel: string | undefined, manifestTail: string | undefined): BasePositions | string {
  if (backupLabel === undefined) return 'the tar holds no backup_label';
  if (manifestTail === undefined) return 'the tar holds no backup_manifest';
  const start = START.exec(backupLabel);
  const timeline = TIMELINE.exec(backupLabel);
  if (!start || !timeline) return `backup_label does not say where the backup starts (START WAL LOCATION, START TIMELINE): ${JSON.stringify(backupLabel.slice(0, 300))}`;
  const ranges = [...manifestTail.matchAll(RANGE)];
  const last = ranges[ranges.length - 1];
  if (!last) return 'backup_manifest has no WAL-Ranges: it does not say where the backup ends';
  return { timeline: Number(timeline[1]), startLsn: start[1]!.toUpperCase(), startSegment: start[2]!, stopLsn: last[3]!.toUpperCase() };
}
