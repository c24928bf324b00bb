import { UsageError } from '../../errors';

/** Where a recovery stops: at a moment (the last commit at or before it), or at the end of the archive. */
export type RecoveryTarget = { kind: 'latest' } | { kind: 'time'; at: Date; text: string };

// "2026-11-30 11:59:00+01", "2026-11-30T10:59:00Z", "2026-11-30T10:59:00.250+00:00"
const WITH_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * `--at latest` or a time with its offset. A time without one is refused rather than read in some
 * zone: the sidecar's TZ is rarely the operator's, and an hour off is a silent wrong restore.
 */
export function parseRecoveryTarget(text: string): RecoveryTarget {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'latest') return { kind: 'latest' };
  const match = WITH_OFFSET.exec(trimmed);
  if (!match) {
    const hint = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed) ? ` has no UTC offset: add one, like "${trimmed}+00" or "${trimmed.replace(' ', 'T')}Z"` : ' is not a time';
    throw new UsageError(`--at "${text}"${hint}; give --at latest or a time like "2026-11-30 11:59:00+01" or 2026-11-30T10:59:00Z`);
  }
  const [, date, clock, zone] = match;
  const offset = zone!.toUpperCase() === 'Z' ? 'Z' : zone!.length === 3 ? `${zone}:00` : zone!.includes(':') ? zone : `${zone!.slice(0, 3)}:${zone!.slice(3)}`;
  const at = new Date(`${date}T${clock!.length === 5 ? `${clock}:00` : clock}${offset}`);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at "${text}" is not a valid time; give a time like "2026-11-30 11:59:00+01"`);
  return { kind: 'time', at, text: trimmed };
}

/** The moment as PostgreSQL's recovery_target_time reads it, to the microsecond the text gave. */
export function postgresTime(target: Extract<RecoveryTarget, { kind: 'time' }>): string {
  const match = WITH_OFFSET.exec(target.text)!;
  const zone = match[3]!.toUpperCase() === 'Z' ? '+00' : match[3]!;
  return `${match[1]} ${match[2]}${zone}`;
}

export function describeTarget(target: RecoveryTarget): string {
  return target.kind === 'latest' ? 'the end of the archive (latest)' : target.at.toISOString();
}
