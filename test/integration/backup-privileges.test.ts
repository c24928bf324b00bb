import type { HealthReport } from '../../src/health/report';
import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

/** README "Minimal grants for the backup role", for servers without pg_read_all_data (13). */
const GRANTS_13 = (role: string) => `
  GRANT CONNECT ON DATABASE app TO ${role};
  GRANT USAGE ON SCHEMA public, shop TO ${role};
  GRANT SELECT ON ALL TABLES IN SCHEMA public, shop TO ${role};
  GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, shop TO ${role};`;

/** ...and its large-object step, which every major needs (pg_read_all_data does not cover them). */
const LARGE_OBJECT_GRANTS = (role: string) => `
  DO $$ DECLARE lo oid; BEGIN
    FOR lo IN SELECT oid FROM pg_largeobject_metadata LOOP EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO ${role}', lo); END LOOP;
  END $$;`;

describe('a backup role that cannot read everything is told so before the dump', () => {
  let scenario: Scenario;
  const as = (role: string) => ({ ...scenario.env, POSTGRES_USER: role, POSTGRES_PASSWORD: 'role-secret-pw' });

  beforeAll(async () => {
    scenario = await startScenario({ sql: FIXTURE_SQL });
    const { pg, db } = scenario;
    await pg.query(db, `
      CREATE ROLE reader LOGIN PASSWORD 'role-secret-pw';
      GRANT pg_read_all_data TO reader;
      CREATE ROLE partial LOGIN PASSWORD 'role-secret-pw';
      GRANT USAGE ON SCHEMA shop TO partial;
      GRANT SELECT ON shop.customers, shop.orders TO partial;
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO partial;
      CREATE ROLE granted LOGIN PASSWORD 'role-secret-pw';
      ${GRANTS_13('granted')}
      ${LARGE_OBJECT_GRANTS('granted')}`);
  });
  afterAll(async () => scenario?.stop());

  async function expectNothingStored(): Promise<void> {
    expect(await allFiles(scenario.workspace.backupDir)).toEqual([]);
  }

  it('says up front that pg_read_all_data does not cover large objects (exit 69), instead of dying mid-dump', async () => {
    const result = await runCli(['backup'], as('reader'));
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/keepsake: The backup role "reader" cannot read everything pg_dump must dump: no SELECT on 1 large object \(\d+\): pg_read_all_data does not cover large objects\. Grant what is missing \(README "Minimal grants for the backup role"\)/);
    expect(result.stderr).not.toContain('role-secret-pw');
    await expectNothingStored();
  });

  it('lists the tables, partitions, sequences and large objects a role may not read, not a snapshot error', async () => {
    const result = await runCli(['backup'], as('partial'));
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(
      'no SELECT on tables shop.orders_2025, shop.orders_2026, shop.revenue_by_status; no SELECT on sequences public.invoice_numbers, shop.customers_id_seq, shop.orders_id_seq; no SELECT on 1 large object',
    );
    expect(result.stderr).not.toContain('could not import the requested snapshot');
    await expectNothingStored();
  });

  it('names row-level security, which pg_dump refuses to dump partially, and BYPASSRLS as the fix', async () => {
    const { pg, db } = scenario;
    await pg.query(db, `ALTER TABLE public.documents ENABLE ROW LEVEL SECURITY; ${LARGE_OBJECT_GRANTS('reader')}`);
    try {
      const result = await runCli(['backup'], as('reader'));
      expect(result.code).toBe(69);
      expect(result.stderr).toContain('row-level security applies to public.documents, which pg_dump will not dump partially (ALTER ROLE reader BYPASSRLS, or back up as the owner)');
      await expectNothingStored();
    } finally {
      await pg.query(db, 'ALTER TABLE public.documents DISABLE ROW LEVEL SECURITY');
    }
  });

  it('backs up with the README\'s minimal grants: pg_read_all_data plus large objects, or per-schema grants', async () => {
    await scenario.pg.query(scenario.db, LARGE_OBJECT_GRANTS('reader'));
    for (const role of ['reader', 'granted']) {
      const result = await runCli(['backup', '--json'], as(role));
      expect({ role, code: result.code, stderr: result.stderr }).toEqual({ role, code: 0, stderr: '' });
    }
  });

  it('fails the health check "privileges" with the same message, and passes it for a role that can read all', async () => {
    const health = async (role: string) => (JSON.parse((await runCli(['health', '--json'], as(role))).stdout) as HealthReport).checks.find((check) => check.name === 'privileges');
    expect(await health('partial')).toMatchObject({ status: 'fail', message: expect.stringContaining('The backup role "partial" cannot read everything pg_dump must dump: no SELECT on tables shop.orders_2025') });
    expect(await health('granted')).toMatchObject({ status: 'ok', message: '"granted" can read all 7 tables, 1 materialized view, 3 sequences and 1 large object' });
  });
});
