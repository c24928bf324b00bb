'use strict';
/**
 * `npm run demo`: keepsake end to end with no Docker, no configuration and no network.
 * Starts a throwaway PostgreSQL with a sample schema, then runs the real CLI against it:
 * backup, a second backup in the daily tier, list, verify, a restore test into a second throwaway
 * cluster, a restore into a new database beside the original, a retention dry run, and how to
 * restore by hand.
 * Backups stay in ./demo-output/backups to look at; the database is removed at the end.
 */
const { spawnSync } = require('node:child_process');
const { readFileSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const pg = require('pg');
const { startEphemeralPostgres } = require('../dist/restore/ephemeral-postgres');

const ROOT = resolve(__dirname, '..');
const OUTPUT = join(ROOT, 'demo-output');

function keepsake(args, env) {
  console.log(`\n$ keepsake ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`keepsake ${args.join(' ')} exited with ${result.status}`);
}

async function main() {
  rmSync(OUTPUT, { recursive: true, force: true });
  console.log('Starting a throwaway PostgreSQL (initdb in a temp directory)...');
  const cluster = await startEphemeralPostgres();
  try {
    const admin = new pg.Client(cluster.database);
    await admin.connect();
    await admin.query('CREATE DATABASE shop');
    await admin.end();
    const shop = new pg.Client({ ...cluster.database, database: 'shop' });
    await shop.connect();
    await shop.query(readFileSync(join(__dirname, 'sample-schema.sql'), 'utf8'));
    await shop.end();
    console.log(`PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.database.port} with database "shop" (sample schema loaded)`);

    const env = {
      PATH: process.env.PATH,
      POSTGRES_HOST: cluster.database.host,
      POSTGRES_PORT: String(cluster.database.port),
      POSTGRES_USER: cluster.database.user,
      POSTGRES_PASSWORD: cluster.database.password,
      POSTGRES_DB: 'shop',
      BACKUP_DIR: join(OUTPUT, 'backups'),
      STATE_DIR: join(OUTPUT, 'state'),
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    keepsake(['backup'], env);
    keepsake(['backup', '--tier', 'daily'], env);
    keepsake(['list'], env);
    keepsake(['verify', 'latest'], env);
    keepsake(['restore-test', 'latest'], env);
    keepsake(['restore', 'latest', '--target-db', 'shop_copy', '--yes'], env);
    keepsake(['cleanup', '--dry-run'], env);

    console.log(`\nBackups are in ${env.BACKUP_DIR}. To restore one by hand with standard tools:`);
    console.log('  zstd -dc <file>.dump.zst | pg_restore --no-owner --no-privileges -d <new database>');
  } finally {
    await cluster.stop();
    console.log('\nThrowaway PostgreSQL stopped and removed.');
  }
}

main().catch((error) => {
  console.error(`demo failed: ${error.message}`);
  process.exitCode = 1;
});
