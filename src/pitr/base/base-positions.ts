/**
 * Where a base backup starts in the WAL, from the backup_label PostgreSQL puts first in its tar
 * (pg_basebackup -X none prints no positions):
 *   START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
 *   START TIMELINE: 1
 * The end is in the tar's last entry, backup_manifest ("WAL-Ranges"), which recovery and
 * pg_verifybackup read; keepsake records where the server's WAL stood once the backup had ended.
 */
export interface BackupLabel {
  timeline: number;
  startLsn: string;
  /** The first WAL file recovery needs. */
  startSegment: string;
}

const START = /^START WAL LOCATION: ([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}) \(file ([0-9A-F]{24})\)$/m;
const TIMELINE = /^START TIMELINE: (\d+)$/m;

/** The start, or a sentence saying what the label lacks. */
export function parseBackupLabel(text: string): BackupLabel | string {
  const start = START.exec(text);
  const timeline = TIMELINE.exec(text);
  if (!start || !timeline) return `backup_label does not say where the backup starts (START WAL LOCATION, START TIMELINE): ${JSON.stringify(text.slice(0, 300))}`;
  return { timeline: Number(timeline[1]), startLsn: start[1]!.toUpperCase(), startSegment: start[2]! };
}
