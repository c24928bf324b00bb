import { formatDuration, formatTimestamp } from '../../format';

/** "2026-11-22 02:00:00Z (in 23h58m)": absolute for the record, relative for a quick read. */
export function when(iso: string, now: Date): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now.getTime();
  if (Math.abs(delta) < 1000) return `${formatTimestamp(iso)} (just now)`;
  const span = formatDuration(Math.round(Math.abs(delta) / 1000) * 1000);
  return `${formatTimestamp(iso)} (${delta > 0 ? `in ${span}` : `${span} ago`})`;
}

/** The next scheduled run, or why there is none. */
export function nextRunText(nextRun: string | null | undefined, now: Date): string | undefined {
  if (nextRun === undefined) return undefined;
  return nextRun === null ? 'not scheduled (schedule is off)' : when(nextRun, now);
}

/**
 * One line for a subject: whitespace collapsed (a newline in a header is an injection), cut at a
 * word boundary with an ellipsis so the inbox shows a whole word, never half of one.
 */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

export function subjectLine(prefix: string, status: string, rest: string): string {
  return oneLine(`${prefix ? `${prefix} ` : ''}${status} ${rest}`, 200);
}

/** "4.2x": how much compression saved; raw size over stored size. */
export function ratio(rawBytes: number, storedBytes: number): string {
  if (storedBytes <= 0 || rawBytes <= 0) return '-';
  return `${(rawBytes / storedBytes).toFixed(1)}x`;
}
