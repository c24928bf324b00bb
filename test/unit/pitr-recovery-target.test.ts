import { UsageError } from '../../src/errors';
import { walNeeded } from '../../src/pitr/recover/choose-base';
import { parseRecoveryTarget, postgresTime } from '../../src/pitr/recover/recovery-target';
import type { ArchivedWal } from '../../src/pitr/wal-archive';
import { parseWalName } from '../../src/pitr/wal-names';

describe('restore --at: the time', () => {
  it.each([
    ['2026-11-30 11:59:00+01', '2026-11-30T10:59:00.000Z', '2026-11-30 11:59:00+01'],
    ['2026-11-30T10:59:00Z', '2026-11-30T10:59:00.000Z', '2026-11-30 10:59:00+00'],
    ['2026-11-30T10:59:00.123456z', '2026-11-30T10:59:00.123Z', '2026-11-30 10:59:00.123456+00'],
    ['2026-11-30 05:29-05:30', '2026-11-30T10:59:00.000Z', '2026-11-30 05:29-05:30'],
    ['2026-11-30 12:59:00 +0200', '2026-11-30T10:59:00.000Z', '2026-11-30 12:59:00+0200'],
  ])('reads %s as %s and hands PostgreSQL %s (microseconds kept)', (text, iso, forPostgres) => {
    const target = parseRecoveryTarget(text);
    if (target.kind !== 'time') throw new Error('expected a time');
    expect(target.at.toISOString()).toBe(iso);
    expect(postgresTime(target)).toBe(forPostgres);
  });

  it('takes latest', () => {
    expect(parseRecoveryTarget(' Latest ')).toEqual({ kind: 'latest' });
  });

  it('refuses a time without an offset, saying how to add one', () => {
    expect(() => parseRecoveryTarget('2026-11-30 11:59:00')).toThrow(UsageError);
    expect(() => parseRecoveryTarget('2026-11-30 11:59:00')).toThrow(/has no UTC offset: add one, like "2026-11-30 11:59:00\+00" or "2026-11-30T11:59:00Z"/);
  });

  it.each(['yesterday', '2026-13-45 11:00:00Z', '11:59'])('refuses %s', (text) => {
    expect(() => parseRecoveryTarget(text)).toThrow(UsageError);
  });
});

describe('restore --at: the WAL a time needs', () => {
  const archived = (name: string, at: string): ArchivedWal => ({ file: parseWalName(name)!, dataKey: `wal/00000001/${name}.zst`, archivedAt: new Date(at), storedBytes: 1 });
  const archive = [
    archived('000000010000000000000002', '2026-11-30T10:00:00Z'),
    archived('000000010000000000000003', '2026-11-30T10:05:00Z'),
    archived('000000010000000000000004', '2026-11-30T10:10:00Z'),
    archived('000000010000000000000005', '2026-11-30T10:15:00Z'),
    archived('000000010000000000000006.partial', '2026-11-30T10:16:00Z'),
  ];
  const names = (target: Parameters<typeof parseRecoveryTarget>[0]) => walNeeded(archive, parseRecoveryTarget(target), '000000010000000000000002').map((file) => file.name);

  it('is every segment up to the first one archived at or after the time: that one holds it', () => {
    expect(names('2026-11-30T10:07:00Z')).toEqual(['000000010000000000000002', '000000010000000000000003', '000000010000000000000004']);
    expect(names('2026-11-30T10:05:00Z')).toEqual(['000000010000000000000002', '000000010000000000000003']);
  });

  it('is everything archived, the partial too, for latest or a time after the newest segment', () => {
    expect(names('latest')).toHaveLength(5);
    expect(names('2026-11-30T10:15:30Z')).toHaveLength(5);
  });
});
