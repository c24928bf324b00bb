/** Reports say what a backup left out, where the counts are: a reader must not take it for a full backup. */
import type { BackupSucceededEvent, RestoreTestEvent } from '../../src/report/events';
import { renderReport } from '../../src/report/render';
import { SAMPLE_EVENTS, SAMPLE_NOW } from '../../src/report/render/samples';

const render = (event: BackupSucceededEvent | RestoreTestEvent) => renderReport(event, { subjectPrefix: '[keepsake]', now: SAMPLE_NOW });
const succeeded = SAMPLE_EVENTS['backup-succeeded'] as BackupSucceededEvent;
const passed = SAMPLE_EVENTS['restore-test-passed'] as RestoreTestEvent;

describe('reports of selective backups', () => {
  test('a schema-only backup says so in the subject and its contents, and claims no rows', () => {
    const manifest = { ...succeeded.manifest, contents: { schemaOnly: true, excludedTableData: [] } };
    const report = render({ ...succeeded, manifest });
    expect(report.subject).toMatch(/daily backup .* \(schema only\):/);
    expect(report.text).toMatch(/Contents: +\d+ tables[^,]*, \d+ schemas?: schema only \(no table data\)/);
    expect(report.text).not.toMatch(/Contents.* rows/);
  });

  test('a backup with excluded table data names the tables, and a full one does not mention contents', () => {
    const manifest = { ...succeeded.manifest, contents: { schemaOnly: false, excludedTableData: ['public.events', 'audit.log'] } };
    expect(render({ ...succeeded, manifest }).text).toContain('data of 2 tables excluded: public.events, audit.log (they restore empty)');
    expect(render(succeeded).text).not.toContain('excluded');
  });

  test('the restore test report says which tables were expected empty, and that a schema-only test counted nothing', () => {
    const result = passed.result;
    const excluded = { ...result, backup: { ...result.backup, contents: { schemaOnly: false, excludedTableData: ['public.events'] } }, tables: [...result.tables, { schema: 'public', name: 'events', kind: 'table', expected: 0, actual: 0, ok: true, dataExcluded: true }] };
    const text = render({ ...passed, result: excluded }).text;
    expect(text).toContain('data of 1 table excluded: public.events');
    expect(text).toContain('(1 with excluded data: expected empty)');
    expect(text).toContain('data excluded from the backup (PGDUMP_EXCLUDE_TABLE_DATA): restored empty');
    const schemaOnly = { ...result, backup: { ...result.backup, contents: { schemaOnly: true, excludedTableData: [] } } };
    const schemaText = render({ ...passed, result: schemaOnly }).text;
    expect(schemaText).toContain('(schema only: no row counts to check)');
    expect(schemaText).toContain('it holds no data to count');
  });
});
