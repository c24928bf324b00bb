'use strict';
/**
 * `npm run demo`: keepsake end to end with no Docker, no configuration and no network.
 * Starts a throwaway PostgreSQL with the sample schema and an SMTP sink on loopback, then runs the
 * daemon's jobs once, in order, through the real CLI (child processes, as an operator would):
 * daily backup, list, verify, restore-test, a restore beside the original, cleanup, health and the
 * storage report. Each e-mailed report lands in <demo>/mail/<n>-<event>.html.
 * Everything it writes is under ./demo (or KEEPSAKE_DEMO_DIR, which the test suite uses so it does
 * not clobber a developer's demo); the database and the mail server are gone when it ends.
 */
const { spawn } = require('node:child_process');
const { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { constants, tmpdir } = require('node:os');
const { dirname, join, relative, resolve } = require('node:path');
const pg = require('pg');
const { simpleParser } = require('mailparser');
const { SMTPServer } = require('smtp-server');
const { startEphemeralPostgres } = require('../dist/restore/ephemeral-postgres');
const { missingTools } = require('./demo-tools');

const ROOT = resolve(__dirname, '..');
// For PostgreSQL outside Debian's /usr/lib/postgresql/<major>/bin and PATH (Homebrew, a source build).
const PG_BIN_DIR = process.env.PG_BIN_DIR || undefined;
const DEMO = resolve(process.env.KEEPSAKE_DEMO_DIR || join(ROOT, 'demo'));
const DIRS = { mail: 'mail', backups: 'backups', state: 'state', logs: 'logs', work: 'work' };
for (const name of Object.keys(DIRS)) DIRS[name] = join(DEMO, DIRS[name]);
const DATABASE = 'shop';
const STEPS_LOG = join(DIRS.logs, 'demo-steps.log');

const show = (path) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.');
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

/**
 * The event a report is about: the X-Keepsake-Event header the transport sets; failing that (a
 * build from before the header), the subject, which the renderer builds as "[prefix] STATUS what...".
 */
function eventOf(mail) {
  const header = mail.headers.get('x-keepsake-event');
  if (typeof header === 'string' && /^[a-z-]+$/.test(header)) return header;
  const match = /^(?:\[[^\]]*\]\s*)?(OK|WARNING|FAILED|ALERT|RECOVERED|REPORT|TEST)\s+(.*)$/s.exec(mail.subject || '');
  if (!match) return 'message';
  const [, status, rest] = match;
  const failed = status === 'FAILED';
  if (/^restore test\b/.test(rest)) return failed ? 'restore-test-failed' : 'restore-test-passed';
  if (/^\S+ backup\b/.test(rest)) return failed ? 'backup-failed' : 'backup-succeeded';
  if (/^cleanup\b/.test(rest)) return 'cleanup-summary';
  if (/^health\b/.test(rest)) return status === 'RECOVERED' ? 'health-recovered' : 'health-alert';
  if (/^storage\b/.test(rest)) return 'storage-report';
  return status === 'TEST' ? 'test' : 'message';
}

/** A mail server on loopback that saves every message's HTML part, numbered in arrival order. */
async function startMailSink(dir) {
  const saved = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1000, // nodemailer hangs up after each message; nothing worth waiting 30 s for
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        const file = join(dir, `${String(saved.length + 1).padStart(2, '0')}-${eventOf(mail)}.html`);
        saved.push(file);
        writeFileSync(file, mail.html || mail.textAsHtml || '');
        callback(); // accepted only once it is on disk, so the CLI step ends after its mail exists
      }, callback);
    },
  });
  const port = await new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePort(server.server.address().port));
  });
  return { port, saved, close: () => new Promise((done) => server.close(() => done())) };
}

/**
 * As root, the throwaway clusters run as the postgres user, which must be able to walk down to
 * RESTORE_WORK_DIR; a checkout under a private home directory falls back to the system temp dir.
 */
function workDirForClusters() {
  if (process.getuid?.() !== 0) return DIRS.work;
  for (let dir = DEMO; dir !== dirname(dir); dir = dirname(dir)) {
    let mode;
    try {
      mode = statSync(dir).mode;
    } catch {
      continue; // not created yet: mkdir makes it 0755
    }
    if (!(mode & 0o001)) return tmpdir();
  }
  return DIRS.work;
}

let interrupted;
let running; // the CLI child being waited for, to pass a signal on to

/** `node dist/cli.js ...args` with the demo's environment; output is kept, not shown. */
function keepsake(args, env) {
  return new Promise((done) => {
    // Its own process group: Ctrl-C reaches it once, from us, not twice (a second one forces an exit).
    // In the demo's folder: a .env in the checkout (the compose quick start's) must not reach it.
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { env, cwd: DEMO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => (stderr += `${error.message}\n`));
    child.on('close', (code, signal) => {
      running = undefined;
      done({ code: code ?? 128 + (constants.signals[signal] ?? 0), stdout, stderr }); // 143 = killed by SIGTERM
    });
  });
}

const lines = (text) => text.split('\n').map((line) => line.trimEnd()).filter(Boolean);
const clip = (text, max = 100) => (text.trim().length > max ? `${text.trim().slice(0, max - 1)}…` : text.trim());

const steps = [];

/** Runs one step and prints one line for it. okCodes: exit codes that count as success (health's 2 = warnings). */
async function step(title, args, env, { okCodes = [0], detail, showOutput = false } = {}) {
  if (interrupted) return undefined;
  const started = Date.now();
  const result = await keepsake(args, env);
  const ms = Date.now() - started;
  appendFileSync(STEPS_LOG, `### keepsake ${args.join(' ')}  (exit ${result.code}, ${seconds(ms)})\n${result.stdout}${result.stderr}\n`);
  let status = okCodes.includes(result.code) ? 'ok' : 'FAILED';
  let note;
  if (status === 'ok') {
    note = detail ? detail(result) : lines(result.stdout)[0];
  } else {
    const errors = lines(result.stderr).filter((line) => !line.startsWith('{')); // JSON log lines are in the log file
    note = errors.at(-1) ?? lines(result.stdout).at(-1)?.trim() ?? `exit ${result.code}`;
  }
  if (interrupted && status !== 'ok') status = 'stopped';
  steps.push({ title, command: `keepsake ${args.join(' ')}`, code: result.code, ms, status });
  console.log(`  ${status.padEnd(8)} ${title.padEnd(28)} ${clip(note ?? '')}`);
  if (showOutput) for (const line of lines(result.stdout + result.stderr).filter((l) => !l.startsWith('{'))) console.log(`             ${line}`);
  return result;
}

async function setup(title, work) {
  if (interrupted) return undefined;
  const started = Date.now();
  try {
    const value = await work();
    steps.push({ title, command: '(setup)', code: 0, ms: Date.now() - started, status: 'ok' });
    return value;
  } catch (error) {
    steps.push({ title, command: '(setup)', code: 1, ms: Date.now() - started, status: interrupted ? 'stopped' : 'FAILED' });
    if (!interrupted) console.log(`  FAILED   ${title.padEnd(28)} ${error.message}`);
    throw Object.assign(error, { reported: true });
  }
}

async function loadSampleData(admin) {
  const server = new pg.Client(admin);
  await server.connect();
  await server.query(`CREATE DATABASE ${DATABASE}`);
  await server.end();
  const shop = new pg.Client({ ...admin, database: DATABASE });
  await shop.connect();
  await shop.query(readFileSync(join(__dirname, 'sample-schema.sql'), 'utf8'));
  await shop.end();
}

async function runJobs(env) {
  const first = (result) => lines(result.stdout)[0] ?? '';
  const last = (result) => (lines(result.stdout).at(-1) ?? '').trim();
  const count = (result) => `${lines(result.stdout).filter((line) => /^\d+\s/.test(line)).length} backup(s) listed`;
  await step('daily backup', ['backup', '--tier', 'daily'], env, { detail: (r) => first(r).replace(/ of \S+?: /, ': ').replace(/;.*$/, '') });
  await step('list', ['list'], env, { detail: count });
  await step('verify latest', ['verify', 'latest'], env, { detail: (r) => first(r).replace(/ \(\/[^)]*\)/, '') });
  await step('restore-test latest', ['restore-test', 'latest'], env, { detail: (r) => `${first(r).split(' ')[0]}: ${last(r)}` });
  await step(`restore into ${DATABASE}_copy`, ['restore', 'latest', '--target-db', `${DATABASE}_copy`, '--yes'], env);
  await step('cleanup', ['cleanup'], env, { detail: last });
  // Without a daemon running, health reports warnings (exit 2): the expected answer here.
  await step('health', ['health'], env, { okCodes: [0, 2], showOutput: true, detail: (r) => `${last(r)} (exit ${r.code})` });
  await step('storage report', ['report', 'storage'], env);
}

function summary(sink, totalMs) {
  const failed = steps.filter((s) => s.status === 'FAILED' || s.status === 'stopped');
  const outcome = interrupted ? `Interrupted (${interrupted})` : failed.length ? `${failed.length} step(s) FAILED` : 'All steps passed';
  console.log(`\n${outcome} in ${seconds(totalMs)}:`);
  const what = (s) => (s.command === '(setup)' ? s.title : s.command);
  const width = Math.max(...steps.map((s) => what(s).length));
  for (const s of steps) console.log(`  ${s.status.padEnd(8)} ${what(s).padEnd(width)}  exit ${String(s.code).padStart(3)}  ${seconds(s.ms).padStart(6)}`);
  console.log('\nWhere to look:');
  const mails = sink ? sink.saved.map((file) => file.slice(DIRS.mail.length + 1)).join(', ') : '';
  const places = [
    [`${show(DIRS.mail)}/*.html`, `the e-mailed reports, open them in a browser${mails ? `: ${mails}` : ''}`],
    [show(DIRS.backups), 'backups (.dump.zst + .manifest.json) and restore-test records'],
    [show(DIRS.state), 'job state and the mail outbox'],
    [show(DIRS.logs), "keepsake.log (JSON lines) and demo-steps.log (each command's full output)"],
  ];
  const pad = Math.max(...places.map(([path]) => path.length));
  for (const [path, text] of places) console.log(`  ${path.padEnd(pad)}  ${text}`);
  console.log('Restore a backup by hand: zstd -dc <file>.dump.zst | pg_restore --no-owner --no-privileges -d <new database>');
  return failed.length ? 1 : 0;
}

async function main() {
  const missing = await missingTools(PG_BIN_DIR);
  if (missing.length) {
    console.error(
      `npm run demo needs PostgreSQL (initdb, postgres, pg_dump, pg_restore) and zstd; missing here: ${missing.join(', ')}. ` +
        'Install them with: bash scripts/install-system-deps.sh (Debian/Ubuntu), or set PG_BIN_DIR to a PostgreSQL bin directory',
    );
    return 1;
  }
  const started = Date.now();
  // Only our own folders: KEEPSAKE_DEMO_DIR may point somewhere that holds other things.
  for (const dir of Object.values(DIRS)) rmSync(dir, { recursive: true, force: true });
  for (const dir of Object.values(DIRS)) mkdirSync(dir, { recursive: true });
  const workDir = workDirForClusters();
  let sink;
  let cluster;
  try {
    console.log(`keepsake demo in ${show(DEMO)}`);
    sink = await setup('start SMTP sink', () => startMailSink(DIRS.mail));
    cluster = await setup('start PostgreSQL, load sample', async () => {
      const server = await startEphemeralPostgres({ parentDir: workDir, pgBinDir: PG_BIN_DIR });
      await loadSampleData(server.database);
      return server;
    });
    if (cluster) console.log(`  ok       throwaway PostgreSQL ${cluster.version} on 127.0.0.1:${cluster.database.port}, database "${DATABASE}"; SMTP sink on 127.0.0.1:${sink.port}`);
    if (cluster && !interrupted) {
      const env = {
        PATH: process.env.PATH,
        POSTGRES_HOST: cluster.database.host,
        POSTGRES_PORT: String(cluster.database.port),
        POSTGRES_USER: cluster.database.user,
        POSTGRES_PASSWORD: cluster.database.password, // only in the children's environment, never printed
        POSTGRES_DB: DATABASE,
        BACKUP_DIR: DIRS.backups,
        STATE_DIR: DIRS.state,
        LOG_DIR: DIRS.logs,
        LOG_LEVEL: 'info',
        RESTORE_WORK_DIR: workDir,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(sink.port),
        SMTP_SECURE: 'none',
        MAIL_TO: 'you@example.com',
        MAIL_FROM: 'keepsake-demo@localhost',
        // The demo runs the daily backup only; with weekly, monthly and yearly schedules on, health
        // would rightly fail because those tiers have no backup.
        SCHEDULE_WEEKLY: 'off',
        SCHEDULE_MONTHLY: 'off',
        SCHEDULE_YEARLY: 'off',
        ...(PG_BIN_DIR && { PG_BIN_DIR }),
      };
      await runJobs(env);
    }
  } catch (error) {
    if (!error.reported) {
      steps.push({ title: 'demo', command: '(setup)', code: 1, ms: 0, status: 'FAILED' });
      console.error(`demo failed: ${error.stack}`);
    }
  } finally {
    await cluster?.stop();
    await sink?.close();
  }
  const code = summary(sink, Date.now() - started);
  if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
  return code;
}

function onSignal(signal) {
  // A second signal: pass it on (the CLI then exits at once, its exit hook removing any throwaway
  // cluster of its own) and leave; our cluster module's exit hook kills our server and removes its files.
  if (interrupted) {
    running?.kill(signal);
    process.exit(130);
  }
  interrupted = signal;
  console.log(`\n${signal}: stopping the running step, then the database and the mail server (again to force)`);
  running?.kill(signal);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`demo failed: ${error.stack}`);
    process.exitCode = 1;
  },
);
