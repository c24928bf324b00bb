import { loadConfig } from '../../src/config';
import { planGlobalsApply } from '../../src/sources/globals/apply-plan';

describe('POSTGRES_DB names the databases to back up', () => {
  const base = { POSTGRES_HOST: 'db', POSTGRES_USER: 'backup' };

  it('one name: the connection and the sources are what they always were, plus the globals', () => {
    const config = loadConfig({ ...base, POSTGRES_DB: 'app' });
    expect(config.database.database).toBe('app');
    expect(config.sources).toEqual({ databases: ['app'], excludeDatabases: [], globals: true, sqlitePaths: [] });
  });

  it('a comma list: each in order, connecting through the first', () => {
    const config = loadConfig({ ...base, POSTGRES_DB: 'app, analytics,app', BACKUP_GLOBALS: 'false' });
    expect(config.database.database).toBe('app');
    expect(config.sources).toEqual({ databases: ['app', 'analytics'], excludeDatabases: [], globals: false, sqlitePaths: [] });
  });

  it('all: listed at each run through the postgres database, minus POSTGRES_EXCLUDE_DB', () => {
    const config = loadConfig({ ...base, POSTGRES_DB: 'all', POSTGRES_EXCLUDE_DB: 'scratch, old' });
    expect(config.database.database).toBe('postgres');
    expect(config.sources).toEqual({ databases: 'all', excludeDatabases: ['scratch', 'old'], globals: true, sqlitePaths: [] });
  });
});

describe('planGlobalsApply', () => {
  const dumped = [
    'CREATE ROLE alice;',
    "ALTER ROLE alice WITH NOSUPERUSER INHERIT LOGIN PASSWORD 'SCRAM-SHA-256$x';",
    'CREATE ROLE postgres;',
    'ALTER ROLE postgres WITH SUPERUSER INHERIT LOGIN;',
    'CREATE ROLE "Report Team";',
    "CREATE TABLESPACE fast OWNER alice LOCATION '/mnt/fast';",
    'GRANT readers TO alice GRANTED BY postgres;',
  ].join('\n');

  it('creates only missing roles, leaves the restoring role as it is, and on a scratch target no tablespaces', () => {
    const plan = planGlobalsApply(dumped, { existingRoles: new Set(['postgres', 'Report Team']), self: 'postgres', skipTablespaces: true });
    expect(plan.sql.split('\n')).toEqual(['CREATE ROLE alice;', "ALTER ROLE alice WITH NOSUPERUSER INHERIT LOGIN PASSWORD 'SCRAM-SHA-256$x';", 'GRANT readers TO alice GRANTED BY postgres;']);
    expect(plan.skipped).toEqual(['role postgres (the role restoring) kept its own attributes and password', "tablespace fast not created: its folder exists only on the source's host"]);
  });

  it('on a real server, keeps the tablespaces', () => {
    expect(planGlobalsApply(dumped, { existingRoles: new Set(), self: 'admin', skipTablespaces: false }).sql).toBe(dumped);
  });
});
