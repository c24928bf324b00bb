import { findWalGaps, describeGap } from '../../src/pitr/archive/gaps';
import { formatLsn, nextSegmentName, parseLsn, parseWalName, segmentName, segnoOfLsn, walDataKey, walFileOfKey, walManifestKey } from '../../src/pitr/wal-names';

const files = (...names: string[]) => names.map((name) => parseWalName(name)!);

describe('WAL names and positions', () => {
  it('reads and writes LSNs as PostgreSQL prints them', () => {
    expect(parseLsn('0/2000028')).toBe(0x2000028n);
    expect(parseLsn('1A/FF000000')).toBe((0x1an << 32n) | 0xff000000n);
    expect(formatLsn(parseLsn('1A/FF000000'))).toBe('1A/FF000000');
    expect(() => parseLsn('2000028')).toThrow(/LSN/);
  });

  it('names the segment holding an LSN, and the one after it across a log boundary', () => {
    expect(segmentName(1, segnoOfLsn(parseLsn('0/2000028')))).toBe('000000010000000000000002');
    expect(segmentName(2, segnoOfLsn(parseLsn('3/FF000000')))).toBe('0000000200000003000000FF');
    expect(nextSegmentName('0000000100000003000000FF')).toBe('000000010000000400000000');
    // 64 MB segments: 64 per log.
    expect(nextSegmentName('00000001000000000000003F', 64 * 1024 * 1024)).toBe('000000010000000100000000');
  });

  it('tells segments, partial segments and history files apart, and nothing else passes', () => {
    expect(parseWalName('000000010000000000000003')).toMatchObject({ kind: 'segment', timeline: 1, segno: 3n });
    expect(parseWalName('000000020000000100000003.partial')).toMatchObject({ kind: 'partial', timeline: 2, segno: 259n });
    expect(parseWalName('00000002.history')).toEqual({ name: '00000002.history', kind: 'history', timeline: 2 });
    expect(parseWalName('000000010000000000000003.tmp')).toBeUndefined();
    expect(parseWalName('backup_label')).toBeUndefined();
  });

  it('files WAL under wal/<timeline>/ and finds the file again from a key', () => {
    const [segment] = files('000000010000000000000003');
    expect(walDataKey(segment!, '.zst', true)).toBe('wal/00000001/000000010000000000000003.zst.age');
    expect(walManifestKey(segment!)).toBe('wal/00000001/000000010000000000000003.json');
    expect(walFileOfKey('wal/00000001/000000010000000000000003.zst.age')).toEqual({ file: segment, manifest: false });
    expect(walFileOfKey('wal/00000001/000000010000000000000003.partial.json')?.file.kind).toBe('partial');
    expect(walFileOfKey('daily/2026/11/30/app_20261130_020000.dump.zst')).toBeUndefined();
  });
});

describe('gaps in the WAL archive', () => {
  it('finds none in an unbroken chain, from the base backup on', () => {
    expect(findWalGaps(files('000000010000000000000001', '000000010000000000000002', '000000010000000000000003'), '000000010000000000000002')).toEqual([]);
  });

  it('names each run of missing segments', () => {
    const gaps = findWalGaps(files('000000010000000000000002', '000000010000000000000005', '000000010000000000000007'), '000000010000000000000002');
    expect(gaps.map(describeGap)).toEqual([
      '000000010000000000000003..000000010000000000000004 (2 segments) on timeline 1',
      '000000010000000000000006 on timeline 1',
    ]);
  });

  it('finds the base backup\'s own first segment missing', () => {
    expect(findWalGaps(files('000000010000000000000003'), '000000010000000000000002').map(describeGap)).toEqual(['000000010000000000000002 on timeline 1']);
  });

  it('follows a timeline switch and does not count the old timeline\'s unfinished segment', () => {
    // Timeline 2 branched inside segment 4: its segment 4 replaces timeline 1's.
    const archive = files('000000010000000000000003', '000000010000000000000004.partial', '00000002.history', '000000020000000000000004', '000000020000000000000005');
    expect(findWalGaps(archive, '000000010000000000000003')).toEqual([]);
  });

  it('does not let a partial segment fill a hole in the middle', () => {
    const archive = files('000000010000000000000003', '000000010000000000000004.partial', '000000010000000000000005');
    expect(findWalGaps(archive, '000000010000000000000003').map(describeGap)).toEqual(['000000010000000000000004 on timeline 1']);
  });
});
