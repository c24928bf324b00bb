import { formatBytes } from '../../format';
import type { WalStreamingEvent } from '../events';
import { at, between, humanTimes, sidecarName, subjectLine } from './common';
import { facts, plural, type ReportDocument } from './document';

/** PITR's WAL streaming: down (or the archive unwritable) longer than the grace, or fine again. */
export function walStreaming(event: WalStreamingEvent, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar);
  const about = where ? ` ${where}` : '';
  const lasted = between(event.since, event.checkedAt);
  const spool = event.spool.files ? `${plural(event.spool.files, 'file')}, ${formatBytes(event.spool.bytes)}${event.spool.oldest ? ` (oldest ${event.spool.oldest})` : ''}` : 'empty';
  const state = facts(
    { label: event.kind === 'wal-streaming-recovered' ? 'Down from' : 'Down since', value: at(event.since) },
    { label: event.kind === 'wal-streaming-recovered' ? 'Recovered' : 'Checked', value: at(event.checkedAt) },
    lasted !== undefined && { label: 'Down for', value: lasted },
    { label: 'Replication slot', value: event.slot, mono: true },
    { label: 'pg_receivewal', value: `${event.receiver.state}, ${plural(event.receiver.restarts, 'restart')}` },
    { label: 'Last archived segment', value: event.lastShipped ? `${event.lastShipped.name} at ${at(event.lastShipped.at)}` : 'none yet', mono: Boolean(event.lastShipped) },
    { label: 'Waiting in the spool', value: spool },
  );
  if (event.kind === 'wal-streaming-recovered') {
    return {
      subject: subjectLine(prefix, 'RECOVERED', `WAL streaming${about}: archiving again`),
      sidecar: where,
      tone: 'ok',
      headline: 'WAL streaming again',
      summary: `pg_receivewal streams and the archive takes WAL again${lasted ? `, after ${lasted}` : ''}. The replication slot kept the server's WAL meanwhile, so the archive has no gap.`,
      sections: [{ blocks: [state] }],
    };
  }
  const first = event.problems[0] ?? 'WAL streaming is down';
  return {
    subject: subjectLine(prefix, 'ALERT', `WAL streaming${about}: ${humanTimes(first)}`),
    sidecar: where,
    tone: 'fail',
    headline: event.reminder ? 'WAL streaming still down' : 'WAL streaming down',
    summary: `Point-in-time recovery cannot reach past ${event.lastShipped ? at(event.lastShipped.at) : 'the last archived WAL'} until this is fixed.`,
    sections: [
      { title: 'What is wrong', blocks: [{ type: 'list', items: event.problems.map(humanTimes) }] },
      { blocks: [state] },
      {
        blocks: [
          {
            type: 'paragraph',
            text: `keepsake keeps restarting pg_receivewal (backoff up to 60 s) and retrying the targets; nothing needs restarting by hand. The replication slot \`${event.slot}\` makes the server keep its WAL meanwhile, so nothing is lost, but the server's disk fills while this lasts: \`keepsake health\` shows how much the slot holds back.`,
          },
        ],
      },
    ],
  };
}
