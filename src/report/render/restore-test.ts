import { formatBytes, formatDuration } from '../../format';
import type { TableCheck } from '../../restore/check-restored';
import type { RestoreTestEvent } from '../events';
import { oneLine, ratio, subjectLine, when } from './common';
import { capRows, facts, plural, type Block, type ReportDocument, type Section } from './document';
import { checksFor, hintFor, splitError } from './hints';

/** Enough rows to see the shape of the database; more would push the mail past 100 KB. */
const MAX_TABLE_ROWS = 100;

const restoreTestChecks = (name: string) => [
  `\`keepsake verify ${name}\` re-reads every stored copy: size, sha256 and the archive itself`,
  `run \`keepsake restore-test ${name}\` by hand to watch it with the full output`,
];

export function restoreTest(event: RestoreTestEvent, prefix: string, now: Date): ReportDocument {
  const { result } = event;
  const passed = event.kind === 'restore-test-passed';
  const { backup, timings } = result;
  const name = `${backup.tier}/${backup.id}`;
  const matching = result.tables.filter((table) => table.ok).length;
  const failure = result.error ?? result.problems[0] ?? 'restore test failed';
  const short = (result.error && hintFor(result.error)?.label) ?? oneLine(splitError(failure).cause, 80);
  // What a real recovery costs: download and decompress, then pg_restore; the row-count check is the test's own.
  const recoveryMs = (timings.fetchMs ?? 0) + (timings.restoreMs ?? 0);

  const stages = [
    timings.fetchMs !== undefined && `fetch, checksum and decompress ${formatDuration(timings.fetchMs)}`,
    timings.restoreMs !== undefined && `pg_restore ${formatDuration(timings.restoreMs)}`,
    timings.verifyMs !== undefined && `row-count check ${formatDuration(timings.verifyMs)}`,
  ].filter((stage): stage is string => Boolean(stage));

  const blocks: Block[] = [];
  if (!passed) blocks.push({ type: 'callout', tone: 'fail', title: 'Why it failed', text: result.error ? splitError(result.error).cause : result.problems.join('; ') || failure });
  blocks.push(
    facts(
      { label: 'Backup', value: name, mono: true },
      { label: 'Database', value: backup.database },
      { label: 'Backup taken', value: when(backup.startedAt, now) },
      { label: 'Backup size', value: `${formatBytes(backup.storedBytes)} stored, ${formatBytes(backup.rawBytes)} raw (${ratio(backup.rawBytes, backup.storedBytes)})` },
      { label: 'Restored from', value: backup.location, mono: true },
      result.restoredInto !== undefined && { label: 'Restored into', value: result.restoredInto },
      { label: 'Tested', value: when(result.startedAt, now) },
      { label: 'Timings', value: [...stages, `total ${formatDuration(timings.totalMs)}`].join(', ') },
      result.restoredBytes !== undefined && { label: 'Restored size', value: formatBytes(result.restoredBytes) },
      result.tables.length > 0 && { label: 'Tables', value: `${matching} of ${plural(result.tables.length, 'table')} match the row counts recorded at backup time` },
      { label: 'sha256', value: backup.sha256, mono: true },
    ),
  );
  if (passed && recoveryMs > 0) {
    blocks.push({
      type: 'callout',
      tone: 'info',
      title: `Expected recovery time: about ${formatDuration(recoveryMs)}`,
      text: `Restoring this backup took ${formatDuration(recoveryMs)} here (download and decompress, then pg_restore). Plan for about that, plus the time to start on a new host, if this database must be rebuilt.`,
    });
  }

  const sections: Section[] = [{ blocks }];
  const details = restoreDetails(result.problems, result.notes, result.error);
  if (details.length) sections.push({ title: passed ? 'Notes' : 'Problems', blocks: details });
  if (result.tables.length) sections.push({ title: 'Tables', blocks: [tableResults(result.tables)] });
  if (!passed) sections.push({ title: 'What to check', blocks: [{ type: 'list', items: checksFor(failure, restoreTestChecks(name)) }] });

  return {
    subject: passed
      ? subjectLine(prefix, 'OK', `restore test ${name}: ${plural(result.tables.length, 'table')} verified, recovery ${formatDuration(recoveryMs || timings.totalMs)}`)
      : subjectLine(prefix, 'FAILED', `restore test ${name}: ${short}`),
    tone: passed ? 'ok' : 'fail',
    headline: passed ? 'Restore test passed' : 'Restore test failed',
    summary: passed
      ? `${name} restored into a throwaway PostgreSQL and every table has the row count recorded at backup time.`
      : `${name} could not be proven restorable: ${oneLine(short, 120)}.`,
    sections,
  };
}

function restoreDetails(problems: string[], notes: string[], error: string | undefined): Block[] {
  const blocks: Block[] = [];
  const detail = error ? splitError(error).detail : undefined;
  if (detail) blocks.push({ type: 'code', lines: detail.split('\n') });
  const shownProblems = capRows(problems, 25, 'problems');
  if (problems.length) blocks.push({ type: 'list', items: [...shownProblems.rows, ...(shownProblems.note ? [shownProblems.note] : [])] });
  const shownNotes = capRows(notes, 20, 'notes');
  if (notes.length) blocks.push({ type: 'list', items: [...shownNotes.rows.map((note) => `note: ${note}`), ...(shownNotes.note ? [shownNotes.note] : [])] });
  return blocks;
}

/** Mismatches first (each one matters), then the largest tables: the ones a reader knows. */
function tableResults(tables: TableCheck[]): Block {
  const ordered = [...tables.filter((table) => !table.ok), ...tables.filter((table) => table.ok).sort((a, b) => (b.expected ?? 0) - (a.expected ?? 0))];
  const count = (rows: number | null) => (rows === null ? '-' : rows.toLocaleString('en-US'));
  const hidden = ordered.slice(MAX_TABLE_ROWS);
  const hiddenFailures = hidden.filter((table) => !table.ok).length;
  return {
    type: 'table',
    head: ['', 'Table', 'Expected', 'Restored'],
    numeric: [2, 3],
    rows: ordered.slice(0, MAX_TABLE_ROWS).map((table) => ({ cells: [table.ok ? 'ok' : 'FAIL', `${table.schema}.${table.name}`, count(table.expected), count(table.actual)], tone: table.ok ? undefined : 'fail' })),
    note: hidden.length
      ? `… and ${plural(hidden.length, 'more table')} not shown${hiddenFailures ? ` (${hiddenFailures} of them FAILED; the full list is in the result stored under recovery-tests/)` : ', all matched'}.`
      : undefined,
  };
}
