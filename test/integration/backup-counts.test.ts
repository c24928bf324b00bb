import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL } from '../support/workspace';

describe('the backup and the restore plan count tables the same way', () => {
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario({ sql: FIXTURE_SQL });
    // One database with a single table, for the singular.
    const single = await scenario.pg.createDatabase('single');
    await scenario.pg.query(single, 'CREATE TABLE only_one (id int)');
  });
  afterAll(async () => scenario?.stop());

  it('says how many tables and materialized views the backup holds, and the plan to restore it over its source agrees', async () => {
    // The sample schema: 7 tables (a partitioned one and its 2 partitions among them) and 1 materialized view.
    const backup = await runCli(['backup'], scenario.env);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('; 7 tables and 1 materialized view counted; ');

    // Without a terminal the restore stops at the plan, after printing it.
    const plan = await runCli(['restore', 'latest'], scenario.env);
    expect(plan.code).toBe(64);
    expect(plan.stderr).toMatch(/Backup: {2}manual\/app_\d{8}_\d{6}, taken .* stored, 7 tables and 1 materialized view\n/);
    expect(plan.stderr).toMatch(/Effect: {2}restore the backup beside app \(7 tables, /);
  });

  it('says "1 table", not "1 tables"', async () => {
    const backup = await runCli(['backup'], { ...scenario.env, POSTGRES_DB: 'single' });
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('; 1 table counted; ');
  });
});
