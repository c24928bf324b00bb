import type { Notice, NoticeStatus } from '../notice';
import { cut, cutBytes, statusWord } from './text';
import type { FormatMessage } from './types';

/**
 * ntfy: the message is the body, plain text, at most 4096 bytes (beyond, ntfy.sh keeps it as an
 * attachment instead of showing it); the title, priority and tags are headers.
 * Priority: 5 (urgent) for an outage that lasts (health alert, WAL streaming down), 4 (high) for a
 * failed job and for warnings, 3 (default) for good news and reports.
 * Tags: an emoji by status (rotating_light, warning, white_check_mark, information_source), then the
 * event's name as a plain tag to filter on. The access token (NOTIFY_<NAME>_SECRET) is the sender's.
 */
const MAX_BODY_BYTES = 4096;
const EMOJI: Record<NoticeStatus, string> = { fail: 'rotating_light', warn: 'warning', ok: 'white_check_mark', info: 'information_source' };

function ntfyPriority(notice: Pick<Notice, 'status' | 'event'>): number {
  if (notice.status === 'fail') return notice.event === 'health-alert' || notice.event === 'wal-streaming-failed' ? 5 : 4;
  return notice.status === 'warn' ? 4 : 3;
}

/**
 * A header value must be latin1 and a line of its own. ASCII passes as is; anything else (an "…",
 * a database named "café") becomes an RFC 2047 encoded-word, which ntfy decodes for Title.
 */
export function headerText(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (/^[\x20-\x7e]*$/.test(flat)) return flat;
  // RFC 2047 keeps an encoded-word within 75 characters: 45 bytes each (60 in base64), split between
  // whole characters; a decoder joins adjacent words and drops the spaces between them.
  const words: string[] = [];
  let chunk = '';
  for (const char of flat) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}

function message(notice: Notice): string {
  const parts = [
    notice.summary,
    notice.nextStep && `Next step: ${notice.nextStep}`,
    notice.error && `Error: ${notice.error}`,
    notice.facts.length ? notice.facts.map((fact) => `${fact.label}: ${fact.value}`).join('\n') : undefined,
  ];
  return cutBytes(parts.filter(Boolean).join('\n\n'), MAX_BODY_BYTES);
}

export const ntfyFormat: FormatMessage = (notice) => ({
  body: message(notice),
  headers: {
    'Content-Type': 'text/plain; charset=utf-8',
    Title: headerText(cut(`${statusWord(notice)} ${notice.sidecar.name}: ${notice.title}`, 200)),
    Priority: String(ntfyPriority(notice)),
    Tags: [EMOJI[notice.status], notice.event].join(','),
  },
});
