'use strict';
/**
 * The servers the bench runs against, each stopped and removed by the cleanup registry: throwaway
 * PostgreSQL clusters (the product's own module, from dist/) and the loopback S3 server from scripts/.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { ROOT, BUCKET, log, mib } = require('./common');
const { onCleanup, mustRun, cleanEnv } = require('./processes');

/**
 * A throwaway cluster: `tuning: 'default'` keeps PostgreSQL's own settings, otherwise it is the
 * disposable (fsync off) tuning. Returns the cluster, libpq env for a database, and binary paths.
 */
async function startPostgres(options = {}) {
  const { startEphemeralPostgres } = require('../../dist/restore/ephemeral-postgres');
  const pg = await startEphemeralPostgres(options);
  onCleanup(() => pg.stop());
  const db = pg.database;
  const env = (database) => cleanEnv({ PGHOST: db.host, PGPORT: String(db.port), PGUSER: db.user, PGPASSWORD: db.password, PGDATABASE: database });
  const bin = (name) => path.join(pg.binDir, name);
  const serverVersion = (await mustRun('psql', bin('psql'), ['-XAtc', 'SHOW server_version'], { env: env('postgres') })).stdout.trim();
  return { pg, db, env, bin, serverVersion };
}

/** Creates `name` and fills it with bench/generate.sql up to about sizeMb on disk. */
async function generateDatabase(cluster, name, sizeMb) {
  const psql = cluster.bin('psql');
  await mustRun('createdb', psql, ['-XqAtc', `CREATE DATABASE ${name}`], { env: cluster.env('postgres') });
  const generated = await mustRun('generate.sql', psql, ['-Xq', '-v', 'ON_ERROR_STOP=1', '-v', `size_mb=${sizeMb}`, '-f', path.join(ROOT, 'bench/generate.sql')], { env: cluster.env(name) });
  const stats = (await mustRun('psql', psql, ['-XAtc', `SELECT pg_database_size(current_database()), (SELECT sum(n_live_tup) FROM pg_stat_user_tables)`], { env: cluster.env(name) })).stdout.trim().split('|');
  const database = { targetMb: sizeMb, bytes: Number(stats[0]), rows: Number(stats[1]), generateSeconds: generated.seconds };
  log(`generated ${name}: ${mib(database.bytes).toFixed(0)} MiB on disk, ${database.rows} rows, in ${generated.seconds.toFixed(1)}s`);
  return database;
}

async function startS3Server() {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(ROOT, 'scripts/s3-test-server.js'), '--bucket', BUCKET], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'], // stdin stays open: the server exits when it closes
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onCleanup(async () => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const line = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (text) => {
      lines.close();
      resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`s3-test-server exited (${code}) before it was ready`)));
    child.once('error', reject);
  });
  return JSON.parse(line);
}

/** Empties the bucket between runs (multipart data lives on s3rver's disk). */
async function emptyBucket(s3) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // node 20 nag, this process only
  const { S3Client, ListObjectsV2Command, DeleteObjectCommand } = require('@aws-sdk/client-s3');
  const client = (emptyBucket.client ??= new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  }));
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const object of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: object.Key }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

module.exports = { startPostgres, generateDatabase, startS3Server, emptyBucket };
