import { formatDuration, formatTimestamp } from '../../format';
import type { Sidecar } from '../events';

/*
 * Times: one format everywhere ("2026-11-22 02:00:00Z", UTC like the storage layout), and ages
 * only between two times the event itself holds. The renderer never measures anything against the
 * moment it runs, so a report re-sent from the outbox a day later says what it said at first.
 */

/** "2026-11-22 02:00:00Z"; text that is not a time passes through. */
export function at(iso: string): string {
  return Number.isNaN(Date.parse(iso)) ? iso : formatTimestamp(iso);
}

/** How long from `from` to `to` ("24h00m"), or undefined when either is unknown or the order is wrong. */
export function between(from: string | undefined, to: string | undefined): string | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) || ms < 0 ? undefined : formatDuration(Math.round(ms / 1000) * 1000);
}

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/** Times that other parts of keepsake wrote into a message or value (raw ISO), in the report's format. */
export function humanTimes(text: string): string {
  return text.replace(ISO_TIME, (iso) => formatTimestamp(iso));
}

/** The next scheduled run, or why there is none. */
export function nextRunText(nextRun: string | null | undefined): string {
  if (nextRun === undefined) return 'not known to a manual run: `keepsake status` shows the schedule';
  return nextRun === null ? 'not scheduled (schedule is off)' : at(nextRun);
}

/** "app@db-prod:5432": which sidecar a report is about. */
export function sidecarName(sidecar: Sidecar | undefined, fallback?: { database?: string; host?: string }): string | undefined {
  if (sidecar) return sidecar.label ?? `${sidecar.database}@${sidecar.host}:${sidecar.port}`;
  if (!fallback?.database) return undefined;
  return fallback.host ? `${fallback.database}@${fallback.host}` : fallback.database;
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

/** "[keepsake] FAILED daily backup app@db-prod:5432: …": status, what, which sidecar, then the news. */
export function subjectLine(prefix: string, status: string, rest: string): string {
  return oneLine(`${prefix ? `${prefix} ` : ''}${status} ${rest}`, 200);
}

/** "4.2x": how much compression saved; raw size over stored size. */
export function ratio(rawBytes: number, storedBytes: number): string {
  if (storedBytes <= 0 || rawBytes <= 0) return '-';
  return `${(rawBytes / storedBytes).toFixed(1)}x`;
}
