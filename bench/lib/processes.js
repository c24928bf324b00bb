'use strict';
/**
 * Running commands (with their wall time) and the cleanup registry: everything the bench starts
 * registers its undo with onCleanup(), and cleanup() runs those undos, newest first, on success,
 * failure and SIGINT/SIGTERM. Children still running at that point are stopped first.
 */
const { spawn } = require('node:child_process');
const fsp = require('node:fs/promises');
const { ROOT, log } = require('./common');

/**
 * Children first get a moment to exit on their own: a Ctrl-C reaches the whole process group, and
 * a second signal makes keepsake exit at once instead of cleaning up. Then SIGTERM, then SIGKILL.
 */
const CHILD_OWN_EXIT_MS = 3_000;
const CHILD_SIGTERM_MS = 20_000;

const cleanups = [];
/** child process -> promise of its exit */
const liveChildren = new Map();
let cleanedUp;

function onCleanup(undo) {
  cleanups.push(undo);
}

async function stopChildren() {
  await Promise.all(
    [...liveChildren].map(async ([child, exited]) => {
      const timers = [setTimeout(() => child.kill('SIGTERM'), CHILD_OWN_EXIT_MS), setTimeout(() => child.kill('SIGKILL'), CHILD_OWN_EXIT_MS + CHILD_SIGTERM_MS)];
      await exited;
      for (const timer of timers) clearTimeout(timer);
    }),
  );
}

function cleanup() {
  cleanedUp ??= (async () => {
    await stopChildren();
    for (const undo of cleanups.reverse()) {
      try {
        await undo();
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
    }
  })();
  return cleanedUp;
}

/** The first SIGINT/SIGTERM cleans up and exits 130; later ones must not cut the clean-up short. */
function exitCleanlyOnSignals() {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (cleanedUp) return log(`${signal}: still cleaning up`);
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Runs a command to completion; resolves with its exit status, captured output and wall time. */
function run(file, args, { env, cwd = ROOT, input } = {}) {
  return new Promise((resolve, reject) => {
    // Once cleaning up has begun nothing new may start: it would outlive the clean-up.
    if (cleanedUp) return reject(new Error(`not starting ${file}: cleaning up`));
    const started = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    liveChildren.set(child, new Promise((done) => child.once('exit', done).once('error', done)));
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', (error) => {
      liveChildren.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      resolve({
        code,
        signal,
        seconds: (performance.now() - started) / 1000,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input);
  });
}

async function mustRun(what, file, args, options) {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${what} failed (${result.signal ?? `exit ${result.code}`}): ${result.stderr.trim().slice(-2000)}`);
  }
  return result;
}

/** Environment for children: ours minus anything that could steer keepsake or libpq elsewhere. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(PG|POSTGRES_|DATABASE_URL|BACKUP_|RESTORE_|S3_|AWS_|SCHEDULE_|SMTP_|MAIL_|LOG_|STATE_DIR)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
}

async function emptyDir(dir) {
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
}

/** Runs a benchmark's main: a failure is logged and sets the exit code; cleanup runs either way. */
function runBench(main, log) {
  return main()
    .catch((error) => {
      log(`FAILED: ${error.stack ?? error}`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await cleanup();
      log('cleaned up');
    });
}

module.exports = { onCleanup, cleanup, exitCleanlyOnSignals, run, mustRun, cleanEnv, emptyDir, runBench };
