import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type DatabaseConfig } from '../../src/config';
import { databaseFromUrl } from '../../src/config/database-url';
import { explainConnectionError } from '../../src/postgres/connection';

/**
 * A failed login names the setting the password actually came from: the variable, the URL or the
 * command-line option, and the .env file when one set it. The driver's error codes are plain data.
 */
const WRONG_PASSWORD = { code: '28P01', message: 'password authentication failed for user "app"' };

const explain = (db: DatabaseConfig, error: object) => explainConnectionError(db, error).message;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepsake-db-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a wrong password names where it came from', () => {
  it.each([
    [{ DATABASE_URL: 'postgres://app:wrong@db/app', POSTGRES_PASSWORD: 'unused' }, 'check the password in DATABASE_URL'],
    [{ POSTGRES_PASSWORD: 'wrong' }, 'check POSTGRES_PASSWORD'],
    [{ PGPASSWORD: 'wrong' }, 'check PGPASSWORD'],
    // DATABASE_URL without a password: the password is POSTGRES_PASSWORD's.
    [{ DATABASE_URL: 'postgres://app@db/app', POSTGRES_PASSWORD: 'wrong' }, 'check POSTGRES_PASSWORD'],
  ])('%j: %s', (env, hint) => {
    const message = explain(loadConfig(env).database, WRONG_PASSWORD);
    expect(message).toBe(`Cannot connect to PostgreSQL: password authentication failed for user "${loadConfig(env).database.user}"; ${hint}`);
  });

  it('names POSTGRES_PASSWORD_FILE when the password was read from a secret file', () => {
    const secret = join(dir, 'pw');
    writeFileSync(secret, 'wrong\n');
    expect(explain(loadConfig({ POSTGRES_PASSWORD_FILE: secret }).database, WRONG_PASSWORD)).toMatch(/; check POSTGRES_PASSWORD_FILE$/);
  });

  it('names the .env file that set the password', () => {
    const dotenvPath = join(dir, '.env');
    writeFileSync(dotenvPath, 'POSTGRES_PASSWORD=wrong\nPOSTGRES_USER=app\n');
    expect(explain(loadConfig({}, { dotenvPath }).database, WRONG_PASSWORD)).toMatch(new RegExp(`; check POSTGRES_PASSWORD \\(set in ${dotenvPath}\\)$`));
    // The real environment wins over .env, and is then what the message names.
    expect(explain(loadConfig({ POSTGRES_PASSWORD: 'wrong' }, { dotenvPath }).database, WRONG_PASSWORD)).toMatch(/; check POSTGRES_PASSWORD$/);
  });

  it('names RESTORE_TEST_DATABASE_URL for the restore-test server', () => {
    const config = loadConfig({ RESTORE_TEST_MODE: 'server', RESTORE_TEST_DATABASE_URL: 'postgres://admin:wrong@scratch/postgres', POSTGRES_PASSWORD: 'other' });
    expect(explain(config.restore.testServer!, WRONG_PASSWORD)).toMatch(/; check the password in RESTORE_TEST_DATABASE_URL$/);
  });

  it('names --target-url, or the configured password it falls back to when the URL has none', () => {
    const configured = loadConfig({ POSTGRES_PASSWORD: 'pw' }).database;
    const withPassword = databaseFromUrl('postgres://app:wrong@other/app', { name: '--target-url' }, configured);
    expect(withPassword.password).toBe('wrong');
    expect(explain(withPassword, WRONG_PASSWORD)).toMatch(/; check the password in --target-url$/);

    const withoutPassword = databaseFromUrl('postgres://app@other/app', { name: '--target-url' }, configured);
    expect(withoutPassword.password).toBe('pw');
    expect(explain(withoutPassword, WRONG_PASSWORD)).toMatch(/; check POSTGRES_PASSWORD$/);
  });
});

describe('a refused user names where the user came from', () => {
  const REFUSED_USER = { code: '28000', message: 'no pg_hba.conf entry for host "10.0.0.5", user "app"' };

  it.each([
    [{ DATABASE_URL: 'postgres://app:pw@db/app' }, 'check pg_hba.conf and the user in DATABASE_URL'],
    [{ PGUSER: 'app' }, 'check pg_hba.conf and PGUSER'],
  ])('%j: %s', (env, hint) => {
    expect(explain(loadConfig(env).database, REFUSED_USER)).toMatch(new RegExp(`; ${hint}$`));
  });

  it('a connection built without configuration (a throwaway cluster) keeps the POSTGRES_* names', () => {
    const db: DatabaseConfig = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };
    expect(explain(db, WRONG_PASSWORD)).toMatch(/; check POSTGRES_PASSWORD$/);
    expect(explain(db, REFUSED_USER)).toMatch(/; check pg_hba.conf and POSTGRES_USER$/);
  });
});
