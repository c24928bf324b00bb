'use strict';
/**
 * Local S3 endpoint for tests and `npm run bench`:
 *
 *   node --openssl-legacy-provider scripts/s3-test-server.js [--bucket NAME]... [--dir DIR] [--port N] [--key ID:SECRET]
 *
 * --dir and --port let a test stop the server and start it again with the same objects at the
 * same address (a target that was down and comes back). --key adds an access key pair besides
 * s3rver's built-in S3RVER one, for tests that need keys of their own (the secret-leak test uses
 * sentinel keys it then looks for everywhere).
 *
 * Why the flag: s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with DES
 * (lib/controllers/bucket.js). OpenSSL 3 (node >= 17) only offers DES through the
 * legacy provider, so without the flag every truncated ListObjectsV2 page (more
 * keys than MaxKeys, default 1000) fails with 500 InternalError. We keep the flag confined to this child process rather
 * than enabling legacy crypto in the test runner itself; the separate process
 * also gives tests a real server across a real loopback socket.
 *
 * Protocol: once listening, prints exactly one JSON line to stdout
 *   {"port":N,"endpoint":"http://127.0.0.1:N","accessKeyId":"S3RVER","secretAccessKey":"S3RVER"}
 * and nothing else. Exits (closing the server, removing its temp dir) on SIGTERM,
 * SIGINT, or when stdin reaches EOF, so it never outlives a parent that spawned it
 * with stdin as a pipe. Consequence: do not start it with stdin = /dev/null or
 * 'ignore', it would exit immediately.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

// s3rver's built-in account; it checks the key id but (for SigV4) not the signature.
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

function parseArgs(argv) {
  const buckets = [];
  const keys = [];
  let dir;
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--bucket' || arg === '--dir' || arg === '--port' || arg === '--key') && (value === undefined || value.startsWith('--'))) {
      throw new Error(`${arg} needs a value`);
    }
    if (arg === '--bucket') buckets.push(argv[++i]);
    else if (arg === '--dir') dir = argv[++i];
    else if (arg === '--port') port = Number(argv[++i]);
    else if (arg === '--key') {
      const [id, secret] = argv[++i].split(':');
      if (!id || !secret) throw new Error('--key needs ID:SECRET');
      keys.push({ id, secret });
    }
    else throw new Error(`unknown argument: ${arg}`);
  }
  return { buckets, dir, port, keys };
}

// Set once we create a temp dir, so a failed start can still remove it.
let tempDir;

async function main() {
  const { buckets, dir, port: wantedPort, keys } = parseArgs(process.argv.slice(2));
  for (const key of keys) DUMMY_ACCOUNT.createKeyPair(key.id, key.secret);
  const ownsDir = dir === undefined;
  if (ownsDir) tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keepsake-s3rver-'));
  const directory = ownsDir ? tempDir : path.resolve(dir);
  fs.mkdirSync(directory, { recursive: true });

  const server = new S3rver({
    address: '127.0.0.1',
    port: wantedPort,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });

  let stopping = false;
  const shutdown = (code) => {
    if (stopping) return;
    stopping = true;
    // Never hang on shutdown: a wedged close must not keep a test run alive.
    setTimeout(() => process.exit(code), 3000).unref();
    const finish = () => {
      if (ownsDir) fs.rmSync(directory, { recursive: true, force: true });
      process.exit(code);
    };
    const http = server.httpServer;
    if (!http) return finish();
    http.close(() => finish());
    // SDK clients hold keep-alive sockets; close() alone would wait for them.
    http.closeAllConnections();
  };

  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();

  const { port } = await server.run();
  const info = {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: keys[0] ? keys[0].id : ACCESS_KEY_ID,
    secretAccessKey: keys[0] ? keys[0].secret : SECRET_ACCESS_KEY,
  };
  process.stdout.write(JSON.stringify(info) + '\n');
}

main().catch((err) => {
  console.error(`s3-test-server: ${err && err.message ? err.message : err}`);
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  process.exit(1);
});
