import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startDecompressor } from '../backup/compress';
import { CountingStream, DigestStream } from '../backup/digest';
import type { Manifest } from '../backup/manifest';
import type { ProcessResult } from '../process/run-process';
import type { Storage } from '../storage';

/** What happened reading one stored archive end to end; the callers turn it into verdicts. */
export interface ArchiveRead {
  storedBytes: number;
  sha256: string;
  rawBytes: number;
  /** The decompressor's exit (undefined without compression). */
  codec?: ProcessResult;
  /** The first failure of either pipe, if any. */
  failure?: unknown;
  /** Errors raised by the stored object's stream, and by the sink. */
  readError?: unknown;
  writeError?: unknown;
}

/**
 * Streams a stored archive through sha256 and its decompressor into `sink`, in one pass, for
 * verify (sink: pg_restore --list) and for fetch (sink: a local file). If a pipe breaks, the
 * decompressor is stopped instead of waited for; on success it exits by itself, after checking
 * its own frame checksum.
 */
export async function readArchive(storage: Storage, manifest: Manifest, sink: Writable, signal?: AbortSignal): Promise<ArchiveRead> {
  const source = await storage.read(manifest.key);
  const stored = new DigestStream();
  const raw = new CountingStream();
  const codec = startDecompressor(manifest.compression.algorithm);
  let readError: unknown;
  let writeError: unknown;
  source.on('error', (error) => (readError ??= error));
  sink.on('error', (error) => (writeError ??= error));
  const pipes = await Promise.allSettled([pipeline(source, stored, codec.input, { signal }), pipeline(codec.output, raw, sink, { signal })]);
  const failed = pipes.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await codec.process?.terminate();
    sink.destroy();
  }
  return { storedBytes: stored.bytes, sha256: stored.sha256, rawBytes: raw.bytes, codec: await codec.process?.finished, failure: failed?.reason, readError, writeError };
}
