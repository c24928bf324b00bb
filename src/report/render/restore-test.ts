import { formatBytes, formatDuration } from '../../format';
import type { TableCheck } from '../../restore/check-restored';
import { describeContents } from '../../backup/contents';
import { describeReplay } from '../../pitr/recover/replay-summary';
import type { RestoreTestEvent } from '../events';
import { at, humanTimes, oneLine, ratio, sidecarName, subjectLine } from './common';
import { capRows, facts, plural, type Block, type ReportDocument, type Section, type TableRow } from './document';
import { checksFor, describeFailure } from './hints';

/** Enough rows to see the shape of the database; more would push the mail past 100 KB. */
const MAX_TABLE_ROWS = 100;

export const restoreTestChecks = (name: string) => [
  `\`keepsake verify ${name}\` re-reads every stored copy: size, sha256 and the archive itself`,
  `run \`keepsake restore-test ${name}\` by hand to watch it with the full output`,
];

/**
 * The recovery time is what rebuilding the database from this backup costs: fetch (download,
 * sha256, decompress) plus pg_restore. The test's own work (starting the throwaway server, the
 * row-count check) is not part of it, so the report shows both numbers and says which is which.
 */
function timingFacts(timings: RestoreTestEvent['result']['timings']) {
  const recoveryMs = (timings.fetchMs ?? 0) + (timings.restoreMs ?? 0);
  const parts = [
    timings.fetchMs !== undefined && `fetch, checksum and decompress ${formatDuration(timings.fetchMs)}`,
    timings.restoreMs !== undefined && `pg_restore ${formatDuration(timings.restoreMs)}`,
  ].filter((part): part is string => Boolean(part));
  const otherMs = Math.max(0, timings.totalMs - recoveryMs - (timings.verifyMs ?? 0));
  const testParts = [
    recoveryMs > 0 && `recovery ${formatDuration(recoveryMs)}`,
    timings.verifyMs !== undefined && `row-count check ${formatDuration(timings.verifyMs)}`,
    `throwaway server and clean-up ${formatDuration(otherMs)}`,
  ].filter((part): part is string => Boolean(part));
  return {
    recoveryMs,
    recovery: recoveryMs > 0 ? { label: 'Recovery time', value: `${formatDuration(recoveryMs)} (${parts.join(' + ')})` } : undefined,
    whole: { label: 'Whole test', value: `${formatDuration(timings.totalMs)} (${testParts.join(' + ')})` },
  };
}

export function restoreTest(event: RestoreTestEvent, prefix: string): ReportDocument {
  const { result } = event;
  const passed = event.kind === 'restore-test-passed';
  const { backup } = result;
  const where = sidecarName(event.sidecar, { database: backup.database })!;
  const name = `${backup.tier}/${backup.id}`;
  const matching = result.tables.filter((table) => table.ok).length;
  const failureText = result.error ?? result.problems[0] ?? 'restore test failed';
  const failure = describeFailure(failureText);
  const timing = timingFacts(result.timings);
  const contents = describeContents(backup);
  const schemaOnly = Boolean(backup.contents?.schemaOnly);

  const headline = oneLine(failure.what, 120);
  const why = result.error ? failure.what : result.problems.join('; ') || failure.what;
  const blocks: Block[] = [];
  // The headline says why; the whole story here only when the headline had to cut it short.
  if (!passed && why !== headline) blocks.push({ type: 'callout', tone: 'fail', title: 'Why it failed', text: why });
  blocks.push(
    facts(
      { label: 'Backup', value: name, mono: true },
      { label: 'Database', value: where },
      { label: 'Backup taken', value: at(backup.startedAt) },
      { label: 'Backup size', value: `${formatBytes(backup.storedBytes)} stored, ${formatBytes(backup.rawBytes)} raw (${ratio(backup.rawBytes, backup.storedBytes)})` },
      { label: 'Restored from', value: backup.location, mono: true },
      result.restoredInto !== undefined && { label: 'Restored into', value: result.restoredInto },
      { label: 'Tested', value: at(result.startedAt) },
      timing.recovery,
      timing.whole,
      result.restoredBytes !== undefined && { label: 'Restored size', value: formatBytes(result.restoredBytes) },
      contents !== undefined && { label: 'Contents', value: contents },
      result.tables.length > 0 && { label: 'Tables', value: tablesVerdict(result, matching) },
      { label: 'sha256', value: backup.sha256, mono: true },
    ),
  );
  if (passed && timing.recovery) {
    blocks.push({
      type: 'paragraph',
      text: `Recovery time is what rebuilding ${backup.database} from this backup took here: download and decompress, then pg_restore. Plan for about that, plus starting a new host. The row-count check is the test's own.`,
    });
  }

  const sections: Section[] = [{ blocks }];
  const details = restoreDetails(result.problems, result.notes, failure.stderr, failure.command);
  if (details.length) sections.push({ title: passed ? 'Notes' : 'Problems', blocks: details });
  if (result.replay) sections.push({ title: 'Point-in-time recovery', blocks: [{ type: 'list', items: describeReplay(result.replay, formatDuration) }] });
  if (result.tables.length) sections.push({ title: 'Tables (in schema public unless named)', blocks: [tableResults(result.tables)] });
  if (!passed) sections.push({ title: 'What to check', blocks: [{ type: 'list', items: checksFor(failureText, restoreTestChecks(name)) }] });

  return {
    subject: passed
      ? subjectLine(prefix, 'OK', `restore test ${where} ${name}: ${plural(result.tables.length, 'table')} verified, recovery ${formatDuration(timing.recoveryMs || result.timings.totalMs)}`)
      : subjectLine(prefix, 'FAILED', `restore test ${where} ${name}: ${failure.what}`),
    sidecar: where,
    tone: passed ? 'ok' : 'fail',
    headline: passed ? 'Restore test passed' : `Restore test failed: ${headline}`,
    summary: passed
      ? schemaOnly
        ? `${name} (schema only) restored into a throwaway PostgreSQL and every schema, table and sequence it lists exists; it holds no data to count.`
        : `${name} restored into a throwaway PostgreSQL and every table has the row count recorded at backup time${contents ? `; ${contents}, and those restored empty as expected` : ''}.`
      : `${name} could not be proven restorable.`,
    sections,
  };
}

function restoreDetails(problems: string[], notes: string[], stderr: string | undefined, command: string | undefined): Block[] {
  const blocks: Block[] = [];
  if (stderr) blocks.push({ type: 'paragraph', text: `${command}'s error output (stderr):` }, { type: 'code', lines: stderr.split('\n') });
  const shownProblems = capRows(problems, 25, 'problems');
  if (problems.length) blocks.push({ type: 'list', items: [...shownProblems.rows, ...(shownProblems.note ? [shownProblems.note] : [])] });
  const shownNotes = capRows(notes, 20, 'notes');
  if (notes.length) blocks.push({ type: 'list', items: [...shownNotes.rows.map((note) => `note: ${humanTimes(note)}`), ...(shownNotes.note ? [shownNotes.note] : [])] });
  return blocks;
}

/** "7 of 7 tables match the row counts...", or what a schema-only or partial backup's check proved. */
function tablesVerdict(result: RestoreTestEvent['result'], matching: number): string {
  const all = plural(result.tables.length, 'table');
  if (result.backup.contents?.schemaOnly) return `${matching} of ${all} exist (schema only: no row counts to check)`;
  const excluded = result.tables.filter((table) => table.dataExcluded).length;
  return `${matching} of ${all} match the row counts recorded at backup time${excluded ? ` (${excluded} with excluded data: expected empty)` : ''}`;
}

/** What a row's numbers mean when they are not plain counts: materialized views, tables whose data was left out. */
function tableDetail(table: TableCheck): string | undefined {
  if (table.dataExcluded) return 'data excluded from the backup (PGDUMP_EXCLUDE_TABLE_DATA): restored empty';
  if (table.kind !== 'matview') return undefined;
  if (table.expected === null) return 'materialized view not populated when dumped (WITH NO DATA): nothing to count';
  if (table.actual !== table.expected) return 'materialized view: refreshed from the restored tables on restore, so its count may differ';
  return undefined;
}

export const tableName = (table: { schema: string; name: string }) => (table.schema === 'public' ? table.name : `${table.schema}.${table.name}`);

/** Mismatches first (each one matters), then the largest tables: the ones a reader knows. */
function tableResults(tables: TableCheck[]): Block {
  const ordered = [...tables.filter((table) => !table.ok), ...tables.filter((table) => table.ok).sort((a, b) => (b.expected ?? 0) - (a.expected ?? 0))];
  const count = (rows: number | null) => (rows === null ? '-' : rows.toLocaleString('en-US'));
  const hidden = ordered.slice(MAX_TABLE_ROWS);
  const hiddenFailures = hidden.filter((table) => !table.ok).length;
  // No status column and no "public." (where unqualified names live): a phone needs the width for
  // the names. A mismatch is marked and says so under it.
  const row = (table: TableCheck): TableRow => ({
    cells: [tableName(table), count(table.expected), count(table.actual)],
    tone: table.ok ? undefined : 'fail',
    detail: table.ok ? tableDetail(table) : `FAIL: ${table.actual === null ? 'missing after the restore' : 'the restored row count differs'}`,
  });
  return {
    type: 'table',
    head: ['Table', 'Expected', 'Restored'],
    numeric: [1, 2],
    // A name longer than a phone is wide may break; every shorter one fits beside the numbers.
    nowrap: [],
    rows: ordered.slice(0, MAX_TABLE_ROWS).map(row),
    note: hidden.length
      ? `… and ${plural(hidden.length, 'more table')} not shown${hiddenFailures ? ` (${hiddenFailures} of them FAILED; the full list is in the result stored under recovery-tests/)` : ', all matched'}.`
      : undefined,
  };
}
