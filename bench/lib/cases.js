'use strict';
/**
 * The backup cases. Each is { id, label, command, run(database) } where run() times one backup of
 * `database` and removes what it wrote:
 *   pg_dump          pg_dump -Fc -Z0 > /dev/null                     (what dumping alone costs)
 *   zstd pipeline    pg_dump -Fc -Z0 | zstd -3 -T0 > file
 *   gzip pipeline    pg_dump -Fc -Z0 | gzip -6 > file                (the same archive, gzip'd)
 *   keepsake local   keepsake backup --tier manual --json, BACKUP_TARGETS=local
 *   keepsake s3      the same with BACKUP_TARGETS=s3 (loopback s3rver)
 * keepsake's peak RSS comes from a --require preload that records process.resourceUsage() on exit
 * (the node process only, not its pg_dump/zstd children).
 */
const fsp = require('node:fs/promises');
const path = require('node:path');
const { ROOT, BUCKET, sq } = require('./common');
const { mustRun, cleanEnv, emptyDir } = require('./processes');
const { emptyBucket } = require('./servers');

const PRELOAD = `'use strict';
// Written by bench/run.js: records this node process's own peak RSS and CPU time on exit.
process.on('exit', () => {
  const usage = process.resourceUsage();
  require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, JSON.stringify({
    maxRssKb: usage.maxRSS, userCpuUs: usage.userCPUTime, systemCpuUs: usage.systemCPUTime,
  }));
});
`;

/** keepsake's environment: the bench cluster's `database`, one target, the bench's own dirs. */
function keepsakeEnv({ cluster, s3, dirs }, { database, target, backupDir = dirs.local, rssFile }) {
  const db = cluster.db;
  return cleanEnv({
    BACKUP_TARGETS: target,
    BACKUP_DIR: backupDir,
    STATE_DIR: dirs.state,
    LOG_LEVEL: 'warn',
    POSTGRES_HOST: db.host,
    POSTGRES_PORT: String(db.port),
    POSTGRES_USER: db.user,
    POSTGRES_PASSWORD: db.password,
    POSTGRES_DB: database,
    PGPASSWORD: db.password,
    ...(rssFile ? { BENCH_RSS_FILE: rssFile } : {}),
    ...(target === 's3'
      ? { S3_BUCKET: BUCKET, S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_REGION: 'us-east-1' }
      : {}),
  });
}

/** `pg_dump -Fc -Z0` of the bench cluster, quoted for bash. */
const dumpCommand = (cluster) => `${sq(cluster.bin('pg_dump'))} --format=custom -Z0 --no-password`;

/** The five backup cases, in their round-one order. `context`: { cluster, s3, dirs, preload }. */
function backupCases(context) {
  const { cluster, s3, dirs, preload } = context;
  const dumpCmd = dumpCommand(cluster);
  const shellCase = (id, label, command, file) => ({
    id,
    label,
    command: command.replace(sq(cluster.bin('pg_dump')), 'pg_dump').replace(/'[^']*\/out\/[^']*'/, 'FILE'),
    async run(database) {
      const result = await mustRun(label, 'bash', ['-o', 'pipefail', '-c', command], { env: cluster.env(database) });
      const size = file ? (await fsp.stat(file)).size : undefined;
      if (file) await fsp.rm(file, { force: true });
      return { seconds: result.seconds, outputBytes: size };
    },
  });
  const keepsakeCase = (id, label, target, extraEnv = {}) => ({
    id,
    label,
    command: `keepsake backup --tier manual --json   (BACKUP_TARGETS=${target}${Object.keys(extraEnv).map((name) => `, ${name}`).join('')})`,
    async run(database) {
      const rssFile = path.join(dirs.rss, `${id}.json`);
      await fsp.rm(rssFile, { force: true });
      const result = await mustRun(label, process.execPath, ['--require', preload, path.join(ROOT, 'dist/cli.js'), 'backup', '--tier', 'manual', '--json'], {
        env: { ...keepsakeEnv(context, { database, target, rssFile }), ...extraEnv },
      });
      const manifest = JSON.parse(result.stdout);
      const usage = JSON.parse(await fsp.readFile(rssFile, 'utf8'));
      if (target === 'local') await emptyDir(dirs.local);
      else await emptyBucket(s3);
      return {
        seconds: result.seconds,
        outputBytes: manifest.storedBytes,
        rawBytes: manifest.rawBytes,
        pipelineSeconds: manifest.durationMs / 1000,
        peakRssMb: usage.maxRssKb / 1024,
        nodeCpuSeconds: (usage.userCpuUs + usage.systemCpuUs) / 1e6,
      };
    },
  });
  if (context.encryption) return encryptionCases(keepsakeCase, context.encryption);
  const zstdFile = path.join(dirs.out, 'bench.dump.zst');
  const gzipFile = path.join(dirs.out, 'bench.dump.gz');
  return [
    shellCase('pg_dump', 'pg_dump alone', `${dumpCmd} > /dev/null`),
    shellCase('zstd', 'zstd pipeline', `${dumpCmd} | zstd -3 -T0 -q > ${sq(zstdFile)}`, zstdFile),
    shellCase('gzip', 'gzip pipeline', `${dumpCmd} | gzip -6 > ${sq(gzipFile)}`, gzipFile),
    keepsakeCase('local', 'keepsake local', 'local'),
    keepsakeCase('s3', 'keepsake s3', 's3'),
  ];
}

/**
 * `npm run bench:encryption`: keepsake local backups plain, to an age public key (the age tool) and
 * with a passphrase (age-encryption in a child), side by side in one run.
 */
function encryptionCases(keepsakeCase, { recipient, passphrase }) {
  return [
    keepsakeCase('local', 'plain', 'local'),
    keepsakeCase('age', 'age recipient', 'local', { BACKUP_ENCRYPTION: 'age', AGE_RECIPIENTS: recipient }),
    keepsakeCase('age-passphrase', 'age passphrase', 'local', { BACKUP_ENCRYPTION: 'age', AGE_PASSPHRASE: passphrase }),
  ];
}

/** The raw size of the bench database's -Fc -Z0 archive (also warms the page cache). */
async function rawDumpBytes(cluster, database) {
  const result = await mustRun('raw size', 'bash', ['-o', 'pipefail', '-c', `${dumpCommand(cluster)} | wc -c`], { env: cluster.env(database) });
  return Number(result.stdout.trim());
}

module.exports = { PRELOAD, keepsakeEnv, dumpCommand, backupCases, rawDumpBytes };
