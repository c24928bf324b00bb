import { createHash } from 'node:crypto';
import type { Manifest } from '../../src/backup/manifest';
import { silentLogger } from '../../src/log';
import { copyToOffsite, type OffsiteCopyRequest } from '../../src/offsite/copy-to-offsite';
import { S3Storage } from '../../src/storage/s3';
import type { Storage } from '../../src/storage';
import { runCli } from './cli';
import type { TestS3 } from './s3';

/** A keepsake S3 target on a test server, under `prefix`. */
export function s3Target(server: TestS3, prefix: string): S3Storage {
  return new S3Storage({
    bucket: server.bucket,
    prefix,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 2,
    checksums: 'when_required',
  });
}

/** Real backups made by the built CLI, one per tier (a tier's ids are unique per second). */
export async function makeBackups(env: Record<string, string>, tiers: string[]): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const tier of tiers) {
    const run = await runCli(['backup', '--tier', tier, '--json'], env);
    if (run.code !== 0) throw new Error(`backup --tier ${tier} failed: ${run.stderr}`);
    manifests.push(JSON.parse(run.stdout) as Manifest);
  }
  return manifests;
}

/** Runs the off-site copy as the job would, with a signal nobody aborts unless the test does. */
export function copyOffsite(sources: Storage[], destination: Storage, extra: Partial<OffsiteCopyRequest> = {}) {
  return copyToOffsite({ sources, destination, signal: new AbortController().signal, log: silentLogger, ...extra });
}

export async function sha256Of(storage: Storage, key: string): Promise<string> {
  return createHash('sha256').update(await storage.readAll(key)).digest('hex');
}

/** The same bytes with a few flipped in the middle: same size, different content. */
export function flipped(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  for (let i = Math.floor(copy.length / 2); i < Math.floor(copy.length / 2) + 16 && i < copy.length; i++) copy[i] = copy[i]! ^ 0xff;
  return copy;
}
