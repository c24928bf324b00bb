import { backupId, dataKey, idOfKey, isManifestKey, isoWeek, manifestKeyFor, safeName, tierFolder, type Tier } from '../../src/backup/keys';

const at = (iso: string) => new Date(iso);

describe('isoWeek', () => {
  it.each([
    ['2026-01-01', 2026, 1], // Thursday: week 1 is the week with the year's first Thursday
    ['2025-12-29', 2026, 1], // Monday of that week belongs to 2026 already
    ['2025-12-28', 2025, 52], // Sunday before it is the last week of 2025
    ['2027-01-01', 2026, 53], // Friday: still in 2026's 53rd week
    ['2027-01-03', 2026, 53], // Sunday
    ['2027-01-04', 2027, 1], // Monday
    ['2024-12-30', 2025, 1], // Monday of 2025's week 1
    ['2024-12-29', 2024, 52],
    ['2021-01-03', 2020, 53], // Sunday
    ['2021-01-04', 2021, 1],
    ['2024-02-29', 2024, 9], // leap day
    ['2026-06-15', 2026, 25],
    ['2026-12-31', 2026, 53],
  ])('puts %s in week %i-W%i', (date, year, week) => {
    expect(isoWeek(at(`${date}T12:00:00Z`))).toEqual({ year, week });
  });

  it('uses the UTC date, not the local one', () => {
    expect(isoWeek(at('2026-01-04T23:59:59Z'))).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(at('2026-01-05T00:00:00Z'))).toEqual({ year: 2026, week: 2 });
    expect(isoWeek(at('2026-01-04T23:30:00-05:00'))).toEqual({ year: 2026, week: 2 });
  });
});

describe('safeName', () => {
  it.each([
    ['app', 'app'],
    ['App_DB-2.v1', 'App_DB-2.v1'],
    ['my db', 'my_db'],
    ['café', 'caf_'],
    ['a/b\\c', 'a_b_c'],
    ['"quoted";drop', '_quoted__drop'],
    ['', '_'],
  ])('turns %j into %j', (name, safe) => {
    expect(safeName(name)).toBe(safe);
  });
});

describe('backupId', () => {
  it('is the safe database name with the UTC date and time', () => {
    expect(backupId('my app', at('2026-11-22T02:00:09.999Z'))).toBe('my_app_20261122_020009');
    expect(backupId('app', at('2026-03-05T07:08:09+02:00'))).toBe('app_20260305_050809');
  });
});

describe('dataKey', () => {
  const when = at('2026-03-05T02:03:04Z');

  it.each<[Tier, string]>([
    ['daily', 'daily/2026/03/05/app_20260305_020304.dump.zst'],
    ['weekly', 'weekly/2026/week-10/app_20260305_020304.dump.zst'],
    ['monthly', 'monthly/2026/03/app_20260305_020304.dump.zst'],
    ['yearly', 'yearly/2026/app_20260305_020304.dump.zst'],
    ['manual', 'manual/2026/03/05/app_20260305_020304.dump.zst'],
    ['pre-restore', 'pre-restore/2026/03/05/app_20260305_020304.dump.zst'],
  ])('files a %s backup as %s', (tier, key) => {
    expect(dataKey(tier, 'app', when, 'zstd')).toBe(key);
  });

  it.each([
    ['zstd', '.dump.zst'],
    ['gzip', '.dump.gz'],
    ['none', '.dump'],
  ] as const)('ends a %s backup in %s', (compression, extension) => {
    expect(dataKey('daily', 'app', when, compression)).toBe(`daily/2026/03/05/app_20260305_020304${extension}`);
  });

  it('files a yearly backup under its calendar year (UTC), not the ISO week-year', () => {
    expect(dataKey('yearly', 'app', at('2026-01-01T05:00:00Z'), 'zstd')).toBe('yearly/2026/app_20260101_050000.dump.zst');
    expect(dataKey('yearly', 'app', at('2027-01-01T00:30:00+02:00'), 'zstd')).toBe('yearly/2026/app_20261231_223000.dump.zst');
    expect(dataKey('yearly', 'globals', at('2026-01-01T05:00:00Z'), 'zstd', true, '.sql')).toBe('yearly/2026/globals_20260101_050000.sql.zst.age');
  });

  it('files a weekly backup under its ISO week-year, which can differ from the calendar year', () => {
    expect(dataKey('weekly', 'app', at('2027-01-01T02:00:00Z'), 'zstd')).toBe('weekly/2026/week-53/app_20270101_020000.dump.zst');
    expect(dataKey('weekly', 'app', at('2024-12-30T02:00:00Z'), 'gzip')).toBe('weekly/2025/week-01/app_20241230_020000.dump.gz');
  });

  it('uses the safe database name so the key has no extra path segments', () => {
    expect(dataKey('daily', 'team/app db', when, 'none')).toBe('daily/2026/03/05/team_app_db_20260305_020304.dump');
  });

  it('pads month, day and week to two digits', () => {
    expect(tierFolder('weekly', at('2026-01-05T00:00:00Z'))).toBe('weekly/2026/week-02');
    expect(tierFolder('daily', at('2026-01-05T00:00:00Z'))).toBe('daily/2026/01/05');
  });
});

describe('manifestKeyFor', () => {
  it.each([
    ['daily/2026/03/05/app_20260305_020304.dump.zst', 'daily/2026/03/05/app_20260305_020304.manifest.json'],
    ['daily/2026/03/05/app_20260305_020304.dump.gz', 'daily/2026/03/05/app_20260305_020304.manifest.json'],
    ['daily/2026/03/05/app_20260305_020304.dump', 'daily/2026/03/05/app_20260305_020304.manifest.json'],
    ['weekly/2026/week-10/my.dump.db_20260305_020304.dump.zst', 'weekly/2026/week-10/my.dump.db_20260305_020304.manifest.json'],
  ])('puts the manifest of %s at %s', (key, manifestKey) => {
    expect(manifestKeyFor(key)).toBe(manifestKey);
    expect(isManifestKey(manifestKey)).toBe(true);
    expect(isManifestKey(key)).toBe(false);
  });
});

describe('keys of other sources', () => {
  const when = at('2026-03-05T02:03:04Z');

  it('files the globals as plain SQL and the SQLite file by its stem, each with its manifest beside it', () => {
    const globals = dataKey('daily', 'globals', when, 'zstd', false, '.sql');
    const sqlite = dataKey('daily', 'app', when, 'gzip', true, '.sqlite');
    expect(globals).toBe('daily/2026/03/05/globals_20260305_020304.sql.zst');
    expect(sqlite).toBe('daily/2026/03/05/app_20260305_020304.sqlite.gz.age');
    expect(idOfKey(globals)).toBe('globals_20260305_020304');
    expect(manifestKeyFor(globals)).toBe('daily/2026/03/05/globals_20260305_020304.manifest.json');
    expect(manifestKeyFor(sqlite)).toBe('daily/2026/03/05/app_20260305_020304.manifest.json');
  });

  it('keeps the keys of a database exactly as before', () => {
    expect(dataKey('daily', 'app', when, 'zstd')).toBe('daily/2026/03/05/app_20260305_020304.dump.zst');
  });
});
