import { keptName, restoreStamp, restoringName, sideName } from '../../src/restore/database-names';

describe('names of the databases a restore creates', () => {
  const stamp = restoreStamp(new Date('2026-11-22T02:00:09Z'));

  it('stamps them with the UTC time', () => {
    expect(stamp).toBe('20261122_020009');
    expect(restoreStamp(new Date('2026-11-22T02:00:09+05:00'))).toBe('20261121_210009');
  });

  it('names the copy and the kept database after the target', () => {
    expect(restoringName('app', stamp)).toBe('app_restoring_20261122_020009');
    expect(keptName('app', stamp)).toBe('app_pre_restore_20261122_020009');
  });

  it('shortens the database part so PostgreSQL keeps the whole name (63 bytes)', () => {
    const long = 'a'.repeat(60);
    expect(keptName(long, stamp)).toBe(`${'a'.repeat(35)}_pre_restore_20261122_020009`);
    expect(Buffer.byteLength(keptName(long, stamp))).toBe(63);
  });

  it('never cuts a character in half', () => {
    const name = sideName('é'.repeat(30), 'pre_restore', stamp);
    expect(name).toBe(`${'é'.repeat(17)}_pre_restore_20261122_020009`);
    expect(Buffer.byteLength(name)).toBe(62);
  });
});
