import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { withClient } from '../../src/postgres/connection';
import { startEphemeralPostgres, type EphemeralPostgres } from '../../src/restore/ephemeral-postgres';
import { environmentOf, interpolate, readCompose, readEnvExample, readImage } from '../support/deployment-files';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'postgres-allow-replication.sh');

/**
 * The compose example's `db` lets keepsake stream WAL (PITR=on) from its own container: the init
 * script it mounts adds a replication line PostgreSQL accepts, and the backup service's settings
 * with PITR switched on pass keepsake's configuration and keep the spool on the state volume.
 */
describe('the compose example works with PITR=on', () => {
  let server: EphemeralPostgres;
  beforeAll(async () => {
    server = await startEphemeralPostgres();
  }, 60_000);
  afterAll(async () => server?.stop());

  it("mounts the replication script into the db's init folder, and PostgreSQL accepts the line it adds", async () => {
    const compose = readCompose();
    expect(compose.services.db!.volumes).toContain('./scripts/postgres-allow-replication.sh:/docker-entrypoint-initdb.d/02-allow-replication.sh:ro');

    // As the image's entrypoint runs it: with PGDATA set, against the freshly made data directory.
    const run = spawnSync('sh', [SCRIPT], { env: { PATH: process.env.PATH, PGDATA: join(server.socketDir, 'data') }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const rules = await withClient(server.database, async (client) => {
      await client.query('SELECT pg_reload_conf()');
      return (await client.query<{ type: string; database: string[]; address: string; auth_method: string; error: string | null }>('SELECT type, database, address, auth_method, error FROM pg_hba_file_rules')).rows;
    });
    expect(rules.filter((rule) => rule.error)).toEqual([]);
    expect(rules.at(-1)).toMatchObject({ type: 'host', database: ['replication'], address: 'all', auth_method: 'scram-sha-256' });
  });

  it('the backup service with its commented PITR line switched on passes the configuration, its spool on the state volume', () => {
    const compose = readCompose();
    const commented = /^\s*# PITR: "(on)"$/m.exec(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'));
    expect(commented).not.toBeNull();
    const envExample = readEnvExample();
    const env: Record<string, string> = { ...readImage().env, PITR: commented![1]! };
    for (const [name, value] of Object.entries(environmentOf(compose.services.backup!))) {
      if (name.endsWith('_FILE')) env[name.slice(0, -'_FILE'.length)] = 'from-a-secret';
      else env[name] = interpolate(value, envExample);
    }
    const config = loadConfig(env);
    expect(config.pitr.enabled).toBe(true);
    expect(compose.services.backup!.volumes).toContain(`keepsake-state:${config.stateDir}`);
    expect(config.pitr.spoolDir.startsWith(`${config.stateDir}/`)).toBe(true);
  });
});
