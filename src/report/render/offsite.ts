import { formatBytes, formatDuration } from '../../format';
import type { OffsiteLag } from '../../offsite/lag';
import type { OffsiteResult } from '../../offsite/copy-to-offsite';
import type { OffsiteEvent } from '../events';
import { at, between, sidecarName, subjectLine } from './common';
import { capRows, facts, plural, type Block, type ReportDocument, type Section } from './document';

const MAX_ROWS = 60;

/** "up to date", or how many backups the target lacks and since when. */
export function lagText(lag: OffsiteLag | undefined): string {
  if (!lag || lag.missing === null) return 'unknown: the target could not be listed';
  if (!lag.missing) return 'up to date';
  const oldest = lag.oldestMissing ? `, the oldest ${lag.oldestMissing.tier}/${lag.oldestMissing.id} (${formatDuration(lag.oldestMissingAgeMs)} old)` : '';
  return `${plural(lag.missing, 'backup')} missing${oldest}`;
}

/** "corrupted on local: sha256 ... where ..." -> "corrupted on local". */
const gist = (note: string) => note.split(':')[0]!;

const troubled = (result: OffsiteResult) => Boolean(result.error) || result.failed.length > 0;

function targetSection(result: OffsiteResult): Section {
  const bytes = result.copied.reduce((sum, copy) => sum + copy.bytes, 0);
  const blocks: Block[] = [];
  if (result.error) {
    blocks.push({ type: 'callout', tone: 'fail', title: `${result.target} failed`, text: `${result.error}. Backups on the primaries are not affected; the next off-site run copies what is missing.` });
  }
  blocks.push(
    facts(
      { label: 'Where', value: result.location, mono: true },
      { label: 'Copied', value: `${plural(result.copied.length, 'backup')}, ${formatBytes(bytes)} in ${formatDuration(result.durationMs)}` },
      result.failed.length > 0 && { label: 'Failed', value: plural(result.failed.length, 'backup') },
      { label: 'Behind afterwards', value: lagText(result.lag) },
    ),
  );
  if (result.copied.length) {
    const shown = capRows(result.copied, MAX_ROWS, 'copied backups');
    blocks.push({
      type: 'table',
      head: ['Copied', 'Size', 'Took'],
      numeric: [1, 2],
      rows: shown.rows.map((copy) => ({
        cells: [`${copy.tier}/${copy.id}`, formatBytes(copy.bytes), formatDuration(copy.durationMs)],
        tone: copy.notes?.length ? ('warn' as const) : undefined,
        // Only the gist ("corrupted on local") here: the full reason, with its hashes, follows as code that scrolls.
        detail: [copy.method === 'server-side' ? `server-side copy from ${copy.from}, read back and checked by sha256` : `streamed from ${copy.from}, checked by sha256`, ...(copy.notes ?? []).map(gist)].join('; '),
      })),
      note: shown.note,
    });
    const notes = result.copied.flatMap((copy) => (copy.notes ?? []).map((note) => `${copy.tier}/${copy.id}: ${note}`));
    if (notes.length) blocks.push({ type: 'paragraph', text: 'Source copies passed over:' }, { type: 'code', lines: capRows(notes, 30, 'notes').rows });
  }
  if (result.failed.length) {
    const shown = capRows(result.failed, MAX_ROWS, 'failed backups');
    blocks.push({
      type: 'table',
      head: ['Not copied', 'Size'],
      numeric: [1],
      // The reason names keys and URLs: one line that scrolls, never a path broken across lines.
      rows: shown.rows.map((failed) => ({ cells: [`${failed.tier}/${failed.id}`, formatBytes(failed.bytes)], tone: 'fail' as const, detail: failed.error, detailMono: true })),
      note: shown.note,
    });
  }
  return { title: `Off-site target ${result.target}`, blocks };
}

export function offsiteReport(event: OffsiteEvent, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar);
  const scope = where ? ` ${where}` : '';
  const bad = event.targets.filter(troubled);
  const copied = event.targets.reduce((sum, result) => sum + result.copied.length, 0);
  const bytes = event.targets.reduce((sum, result) => sum + result.copied.reduce((total, copy) => total + copy.bytes, 0), 0);
  const failed = event.kind === 'offsite-failed';
  const names = event.targets.map((result) => result.target).join(', ');
  const line = `${plural(copied, 'backup')} copied (${formatBytes(bytes)}) to ${names || 'no target'}`;
  // The target's own error already names it ("cold failed 2 times in a row ...").
  const trouble = bad.map((result) => result.error ?? `${result.target}: ${plural(result.failed.length, 'backup')} not copied`).join('; ');
  // The subject stays short enough for an inbox: per troubled target how many did not arrive.
  const brief = bad.map((result) => (result.failed.length ? `${result.target}: ${plural(result.failed.length, 'backup')} not copied` : `${result.target} failed`)).join('; ');
  return {
    subject: subjectLine(prefix, failed ? 'FAILED' : 'OK', `off-site copy${scope}: ${failed ? `${brief}; ` : ''}${line}`),
    sidecar: where,
    tone: failed ? 'fail' : 'ok',
    headline: failed ? 'Off-site copy incomplete' : 'Off-site copies up to date',
    summary: `${line}${failed ? `; ${trouble}` : ''}.`,
    sections: [
      { blocks: [facts({ label: 'Ran', value: at(event.startedAt) }, { label: 'Took', value: between(event.startedAt, event.finishedAt) ?? '-' }, { label: 'Copied', value: line })] },
      ...event.targets.map(targetSection),
    ],
  };
}
