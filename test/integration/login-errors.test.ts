import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';

/**
 * A wrong password must be fixed where it was given. Each of the three ways a URL brings one
 * used to be answered with "check POSTGRES_PASSWORD", a variable the user may never have set.
 */
describe('a failed login names the setting the password came from', () => {
  let s: Scenario;
  let url: (password: string) => string;
  beforeAll(async () => {
    s = await startScenario({ sql: 'CREATE TABLE t AS SELECT 1 AS one' });
    url = (password) => `postgres://${s.db.user}:${password}@${s.db.host}:${s.db.port}/${s.db.database}`;
    expect((await runCli(['backup'], s.env)).code).toBe(0);
  });
  afterAll(async () => s?.stop());

  it('DATABASE_URL', async () => {
    const result = await runCli(['backup'], { BACKUP_DIR: s.workspace.backupDir, STATE_DIR: s.workspace.stateDir, DATABASE_URL: url('url-wrong-pw-1') });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(`password authentication failed for user "${s.db.user}"; check the password in DATABASE_URL`);
    expect(result.stderr).not.toContain('url-wrong-pw-1');
  });

  it('restore --target-url', async () => {
    const result = await runCli(['restore', 'latest', '--dry-run', '--target-url', url('target-wrong-pw-2')], s.env);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('; check the password in --target-url');
    expect(result.stderr).not.toContain('target-wrong-pw-2');
  });

  it('RESTORE_TEST_DATABASE_URL', async () => {
    const result = await runCli(['restore-test', 'latest'], { ...s.env, RESTORE_TEST_MODE: 'server', RESTORE_TEST_DATABASE_URL: url('scratch-wrong-pw-3') });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('; check the password in RESTORE_TEST_DATABASE_URL');
    expect(result.stderr).not.toContain('scratch-wrong-pw-3');
  });
});
