import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a configuration error');
};

describe('SQLITE_PATHS', () => {
  it('lists the files, in order, normalized', () => {
    const config = loadConfig({ POSTGRES_DB: 'app', SQLITE_PATHS: ' /data/jobs.sqlite3 , /data/../srv/cache.db ' });
    expect(config.sources.sqlitePaths).toEqual(['/data/jobs.sqlite3', '/srv/cache.db']);
  });

  it('alone, without any PostgreSQL setting, backs up only the files: no databases, no globals', () => {
    const config = loadConfig({ SQLITE_PATHS: '/data/app.db' });
    expect(config.sources).toEqual({ databases: [], excludeDatabases: [], globals: false, sqlitePaths: ['/data/app.db'] });
  });

  it.each(['POSTGRES_HOST', 'POSTGRES_DB', 'DATABASE_URL', 'PGHOST'])('beside %s, backs up the database (and the globals) as well', (name) => {
    const value = name === 'DATABASE_URL' ? 'postgres://u@db/shop' : name.endsWith('DB') ? 'shop' : 'db';
    const config = loadConfig({ SQLITE_PATHS: '/data/app.db', [name]: value });
    expect(config.sources.databases).not.toEqual([]);
    expect(config.sources.globals).toBe(true);
    expect(config.sources.sqlitePaths).toEqual(['/data/app.db']);
  });

  it('is empty when unset: nothing changes for a PostgreSQL sidecar', () => {
    expect(loadConfig({ POSTGRES_DB: 'app' }).sources).toEqual({ databases: ['app'], excludeDatabases: [], globals: true, sqlitePaths: [] });
  });

  it('refuses a relative path, saying to name it from the root', () => {
    expect(problemsOf({ SQLITE_PATHS: '/data/app.db,data/jobs.db' })).toEqual([expect.stringMatching(/^SQLITE_PATHS=.*data\/jobs\.db is not an absolute path: name each file from the root/)]);
  });

  it('refuses a folder', () => {
    expect(problemsOf({ SQLITE_PATHS: '/data/' })).toEqual([expect.stringContaining('/data/ names a folder: name the database file in it')]);
  });

  it.each([
    ['POSTGRES_DB', 'shop,app', 'database app (POSTGRES_DB)'],
    ['POSTGRES_HOST', 'db', 'the globals'],
  ])('refuses a file named like a database or the globals (beside %s=%s)', (name, value, what) => {
    const path = what === 'the globals' ? '/data/globals.db' : '/data/app.db';
    expect(problemsOf({ SQLITE_PATHS: path, [name]: value })).toEqual([expect.stringContaining(`would share its backups' name with ${what}: rename the file`)]);
  });

  it('refuses two files with one stem, since the stem names their backups', () => {
    expect(problemsOf({ SQLITE_PATHS: '/data/app.db,/other/app.sqlite3' })).toEqual([
      expect.stringContaining('/data/app.db and /other/app.sqlite3 share the name "app", which names their backups: rename one of the files'),
    ]);
  });

  it('refuses a database named globals while the globals are backed up: their backups would share names', () => {
    expect(() => loadConfig({ POSTGRES_DB: 'app,globals' })).toThrow(/POSTGRES_DB names a database "globals".*set BACKUP_GLOBALS=false/);
    expect(loadConfig({ POSTGRES_DB: 'app,globals', BACKUP_GLOBALS: 'false' }).sources.databases).toEqual(['app', 'globals']);
  });
});
