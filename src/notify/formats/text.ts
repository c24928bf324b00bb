import type { Notice, NoticeStatus } from '../notice';

/*
 * What every chat and push format shares: the words for a status, its colour, and cutting text to a
 * service's limit. A cut ends in "…" so a reader sees it was cut, and never splits a UTF-16
 * surrogate pair (an emoji cut in half is invalid text that a service may refuse).
 */

/** Cuts to at most `max` characters (UTF-16 units, as the services count), marking the cut with "…". */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end--;
  return `${text.slice(0, end).trimEnd()}…`;
}

/** Cuts to at most `max` UTF-8 bytes (ntfy counts bytes), marking the cut with "…" (3 bytes). */
export function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(cut(text, middle)) <= max) low = middle;
    else high = middle - 1;
  }
  return cut(text, low);
}

/** The word a message leads with: what kind of news it is. */
export function statusWord(notice: Pick<Notice, 'status' | 'event'>): string {
  const ongoing = notice.event === 'health-alert' || notice.event === 'wal-streaming-failed';
  const recovered = notice.event === 'health-recovered' || notice.event === 'wal-streaming-recovered';
  const words: Record<NoticeStatus, string> = { fail: ongoing ? 'ALERT' : 'FAILED', warn: 'WARNING', ok: recovered ? 'RECOVERED' : 'OK', info: notice.event === 'test' ? 'TEST' : 'INFO' };
  return words[notice.status];
}

/** The e-mail's banner colours, so a channel shows a status in the colour the report has. */
export const STATUS_COLORS: Record<NoticeStatus, string> = { fail: '#b91c1c', warn: '#b45309', ok: '#15803d', info: '#1d4ed8' };

/** "FAILED app@db-prod:5432: Backup failed: connection refused": status, database@host, what happened. */
export function headline(notice: Notice): string {
  return `${statusWord(notice)} ${notice.sidecar.name}: ${notice.title}`;
}

/** "keepsake 0.1.0 on backup-1": who sent it, for a footer. */
export function sender(notice: Notice): string {
  return `keepsake ${notice.sidecar.version} on ${notice.sidecar.hostname}`;
}

/** A fenced block cannot be ended early by text that holds a fence itself. */
export function unfenced(text: string): string {
  return text.replace(/```/g, "'''");
}
