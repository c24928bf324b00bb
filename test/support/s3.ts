/**
 * A real S3-compatible server (s3rver) in a child node process, for integration tests.
 * See scripts/s3-test-server.js for why it must be a child (--openssl-legacy-provider).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

const SCRIPT = path.resolve(__dirname, '../../scripts/s3-test-server.js');
const START_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 5_000;

export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  client: S3Client;
  /** keepsake's S3 environment variables pointing at this server. */
  env(prefix?: string): Record<string, string>;
  /** The same for a named target: TARGET_<NAME>_KIND=s3 and its bucket, endpoint and keys. */
  targetEnv(name: string, prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

interface ServerInfo {
  port: number;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Client settings keepsake needs against s3rver: path-style (no DNS for bucket vhosts) and
 * no default CRC checksums, which s3rver 3.x does not understand. */
export function makeS3Client(endpoint: string, accessKeyId: string, secretAccessKey: string, maxAttempts?: number): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Reads the single JSON line the server prints once it is listening. */
function readServerInfo(child: ChildProcess, stderrTail: () => string): Promise<ServerInfo> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(`s3-test-server ${why}${stderrTail() ? `: ${stderrTail()}` : ''}`));
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)) as ServerInfo);
      } catch (err) {
        reject(new Error(`s3-test-server printed unparseable line: ${String(err)}`));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`exited early (code ${code}, signal ${signal})`);
    const onError = (err: Error): void => fail(`failed to spawn (${err.message})`);
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS}ms`), START_TIMEOUT_MS);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/**
 * Starts s3rver. With `dir` (kept after stop) and `port`, a stopped server can be started again
 * holding the same objects at the same endpoint: a target that was down and came back. `key`: an
 * access key pair of the test's own instead of s3rver's built-in S3RVER one.
 */
export async function startTestS3(options: { bucket?: string; dir?: string; port?: number; key?: { id: string; secret: string } } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? 'keepsake-test';
  const extra = [
    ...(options.dir ? ['--dir', options.dir] : []),
    ...(options.port ? ['--port', String(options.port)] : []),
    ...(options.key ? ['--key', `${options.key.id}:${options.key.secret}`] : []),
  ];
  // stdin stays an open pipe: the server exits when it closes, so a crashed jest worker
  // cannot leave it running.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SCRIPT, '--bucket', bucket, ...extra], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Drain stderr (a full pipe would block the child) and keep the tail for error messages.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let info: ServerInfo;
  try {
    info = await readServerInfo(child, () => stderr.trim());
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const client = makeS3Client(info.endpoint, info.accessKeyId, info.secretAccessKey);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      client.destroy();
      child.stdin?.end();
      child.kill('SIGTERM');
      if (!(await waitForExit(child, KILL_AFTER_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, KILL_AFTER_MS);
      }
    })();
    return stopped;
  };

  return {
    ...info,
    bucket,
    client,
    env: (prefix = 'db-backups') => ({
      S3_BUCKET: bucket,
      S3_ENDPOINT: info.endpoint,
      S3_ACCESS_KEY_ID: info.accessKeyId,
      S3_SECRET_ACCESS_KEY: info.secretAccessKey,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: prefix,
    }),
    targetEnv: (name, prefix = 'db-backups') => {
      const variable = (setting: string) => `TARGET_${name.toUpperCase()}_${setting}`;
      return {
        [variable('KIND')]: 's3',
        [variable('BUCKET')]: bucket,
        [variable('ENDPOINT')]: info.endpoint,
        [variable('ACCESS_KEY_ID')]: info.accessKeyId,
        [variable('SECRET_ACCESS_KEY')]: info.secretAccessKey,
        [variable('REGION')]: 'us-east-1',
        [variable('PREFIX')]: prefix,
      };
    },
    stop,
  };
}

/** Every key in the bucket (optionally under prefix), following continuation tokens. */
export async function listAllKeys(s3: TestS3, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

// No listMultipartUploads(): s3rver 3.7.1 answers GET /bucket?uploads with 501 NotImplemented.
