import type { Tier } from '../../src/backup/keys';
import { IncompleteBackupError, selectBackup, type Catalog, type CatalogEntry, type IncompleteCopy } from '../../src/catalog/catalog';
import { EXIT_CODES, NotFoundError, UsageError } from '../../src/errors';
import type { Storage } from '../../src/storage';
import { validManifest } from './manifest-fixture';

/** selectBackup reads manifests only, so entries carry no storage copies. */
function entry(tier: Tier, id: string, startedAt: string): CatalogEntry {
  return { manifest: validManifest({ tier, id, startedAt }), copies: [] };
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

// Newest first, as readCatalog sorts them; app_20261122_020000 is in two tiers.
const newest = entry('daily', 'app_20261123_020000', '2026-11-23T02:00:00.000Z');
const dailyTwin = entry('daily', 'app_20261122_020000', '2026-11-22T02:00:00.000Z');
const weeklyTwin = entry('weekly', 'app_20261122_020000', '2026-11-22T02:00:00.000Z');
const oldest = entry('manual', 'app_20261120_150000', '2026-11-20T15:00:00.000Z');
const catalog: Catalog = { backups: [newest, dailyTwin, weeklyTwin, oldest], incomplete: [], problems: [] };

describe('selectBackup', () => {
  it('picks the newest backup for "latest"', () => {
    expect(selectBackup(catalog, 'latest')).toBe(newest);
  });

  it.each([
    ['1', newest],
    ['2', dailyTwin],
    ['3', weeklyTwin],
    ['4', oldest],
    ['04', oldest],
  ])('picks list number %s, counting from 1', (selector, expected) => {
    expect(selectBackup(catalog, selector)).toBe(expected);
  });

  it.each(['0', '5', '999'])('refuses list number %s outside the list with NotFoundError (exit 66)', (selector) => {
    const error = thrown(() => selectBackup(catalog, selector));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).exitCode).toBe(66);
    expect(error.message).toBe(`There is no backup number ${selector}; \`keepsake list\` shows 4`);
  });

  it('picks a backup by an id that exists in one tier', () => {
    expect(selectBackup(catalog, 'app_20261120_150000')).toBe(oldest);
  });

  it.each([
    ['daily/app_20261122_020000', dailyTwin],
    ['weekly/app_20261122_020000', weeklyTwin],
    ['manual/app_20261120_150000', oldest],
  ])('picks a backup by tier/id %s', (selector, expected) => {
    expect(selectBackup(catalog, selector)).toBe(expected);
  });

  it('refuses an id found in two tiers with UsageError (exit 64) listing the tier/id choices', () => {
    const error = thrown(() => selectBackup(catalog, 'app_20261122_020000'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(EXIT_CODES.usage);
    expect(error.message).toContain('daily/app_20261122_020000, weekly/app_20261122_020000');
  });

  it.each(['app_20201122_020000', 'monthly/app_20261122_020000', 'Latest', 'daily/', ''])(
    'reports an unknown selector %j with NotFoundError (exit 66)',
    (selector) => {
      const error = thrown(() => selectBackup(catalog, selector));
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).exitCode).toBe(66);
      expect(error.message).toContain('`keepsake list` shows the ids');
    },
  );

  it.each(['latest', '1', 'app_20261122_020000'])('tells the user to run a backup first when the catalog is empty (%s)', (selector) => {
    const error = thrown(() => selectBackup({ backups: [], incomplete: [], problems: ['ignored'] }, selector));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('There are no backups yet; run `keepsake backup` first');
  });
});

describe('selectBackup "latest" for one database', () => {
  const safetyCopy = { manifest: validManifest({ tier: 'pre-restore', id: 'app_20261124_090000', startedAt: '2026-11-24T09:00:00.000Z' }), copies: [] };
  const otherDatabase = { manifest: validManifest({ tier: 'manual', id: 'inspect_20261124_080000', database: 'inspect', startedAt: '2026-11-24T08:00:00.000Z' }), copies: [] };
  const mixed: Catalog = { backups: [safetyCopy, otherDatabase, newest, oldest], incomplete: [], problems: [] };

  it('skips pre-restore safety copies and backups of other databases', () => {
    expect(selectBackup(mixed, 'latest', { database: 'app' })).toBe(newest);
  });

  it('still lets a number or an id pick a safety copy on purpose', () => {
    expect(selectBackup(mixed, '1', { database: 'app' })).toBe(safetyCopy);
    expect(selectBackup(mixed, 'pre-restore/app_20261124_090000', { database: 'app' })).toBe(safetyCopy);
  });

  it('says so when the database has no backup of its own yet', () => {
    const error = thrown(() => selectBackup({ backups: [safetyCopy, otherDatabase], incomplete: [], problems: [] }, 'latest', { database: 'app' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('There are no backups of app yet');
  });
});

describe('selectBackup and incomplete backups', () => {
  /** Only the name of a target is read when a copy is explained. */
  const target = (name: 'local' | 's3') => ({ name }) as Storage;
  const broken = (id: string, on: 'local' | 's3', problem: string, tier: Tier = 'daily'): IncompleteCopy => ({
    storage: target(on),
    manifest: validManifest({ tier, id }),
    manifestKey: `${tier}/${id}.manifest.json`,
    modified: new Date(0),
    problem,
  });
  const cut = [broken('app_20261124_020000', 'local', 'its data object is 10 bytes, its manifest says 20 (cut short)'), broken('app_20261124_020000', 's3', 'its data object is missing')];

  it.each(['app_20261124_020000', 'daily/app_20261124_020000'])('refuses %s with what is wrong on each target (exit 65), not "no backups yet"', (selector) => {
    for (const backups of [[], [newest]]) {
      const error = thrown(() => selectBackup({ backups, incomplete: cut, problems: [] }, selector));
      expect(error).toBeInstanceOf(IncompleteBackupError);
      expect((error as IncompleteBackupError).exitCode).toBe(65);
      expect((error as IncompleteBackupError).copies).toEqual(cut);
      expect(error.message).toBe(
        'Backup daily/app_20261124_020000 is incomplete and cannot be used: on local, its data object is 10 bytes, its manifest says 20 (cut short); on s3, its data object is missing. `keepsake cleanup` removes it once it is older than CLEANUP_INCOMPLETE_AFTER; `keepsake list` shows the complete backups',
      );
    }
  });

  it('prefers a complete copy of the same backup: it is listed, and usable', () => {
    const whole = entry('daily', 'app_20261124_020000', '2026-11-24T02:00:00.000Z');
    expect(selectBackup({ backups: [whole], incomplete: cut.slice(0, 1), problems: [] }, 'app_20261124_020000')).toBe(whole);
  });

  it('asks for the tier when an incomplete id is in two tiers', () => {
    const twins = [broken('app_20261124_020000', 'local', 'its data object is missing'), broken('app_20261124_020000', 'local', 'its data object is missing', 'weekly')];
    const error = thrown(() => selectBackup({ backups: [], incomplete: twins, problems: [] }, 'app_20261124_020000'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('daily/app_20261124_020000, weekly/app_20261124_020000');
  });

  it('says "latest" finds no complete backup and names the incomplete ones', () => {
    const error = thrown(() => selectBackup({ backups: [], incomplete: cut, problems: [] }, 'latest'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('There are no complete backups yet (daily/app_20261124_020000 is incomplete: `keepsake list` says why); run `keepsake backup`');
  });
});
