import type { RestoreTestEvent } from '../../src/report/events';
import { renderReport } from '../../src/report/render';
import { SAMPLE_EVENTS, SAMPLE_NOW } from '../../src/report/render/samples';

const options = { subjectPrefix: '[keepsake]', now: SAMPLE_NOW };
const passed = SAMPLE_EVENTS['restore-test-passed'] as RestoreTestEvent;
const replay = {
  ok: true,
  base: { id: 'cluster_20261122_010000', finishedAt: '2026-11-22T01:04:00.000Z', startSegment: '000000010000000000000012' },
  archiveEnd: '00000001000000000000003A',
  walFiles: 41,
  recoveryMs: 38_000,
  totalMs: 95_000,
  pointReached: '2026-11-22T02:59:41.123Z',
  verifyBackup: 'ok',
  tablesFound: 13,
  tablesExpected: 13,
  problems: [],
};

describe('restore test report: the point-in-time replay', () => {
  it('gives the recovery time, the point reached, pg_verifybackup and the tables found', () => {
    const { text } = renderReport({ ...passed, result: { ...passed.result, replay } }, options);
    expect(text).toMatch(/point-in-time recovery/i);
    expect(text).toContain('base backup cluster_20261122_010000 replayed with every archived WAL file from 000000010000000000000012 to 00000001000000000000003A');
    expect(text).toContain('recovery time 38.0s (41 WAL files; 1m35s with unpacking the base)');
    expect(text).toContain('recovery point reached: 2026-11-22T02:59:41.123Z');
    expect(text).toContain('pg_verifybackup: ok');
    expect(text).toContain('13 of 13 tables of the newest dump exist in the recovered cluster');
  });

  it('names the gap when the replay failed on one', () => {
    const failed = SAMPLE_EVENTS['restore-test-failed'] as RestoreTestEvent;
    const gap = { ...replay, ok: false, recoveryMs: undefined, totalMs: undefined, pointReached: undefined, verifyBackup: undefined, tablesFound: undefined, tablesExpected: undefined, error: 'the WAL archive has a gap after base backup cluster_20261122_010000: 000000010000000000000020 on timeline 1 missing' };
    const { text } = renderReport({ ...failed, result: { ...failed.result, replay: gap } }, options);
    expect(text).toContain('FAILED: the WAL archive has a gap after base backup cluster_20261122_010000: 000000010000000000000020 on timeline 1 missing');
  });

  it('says nothing of point-in-time recovery when it was not tested', () => {
    expect(renderReport(passed, options).text).not.toMatch(/point-in-time/i);
  });
});
