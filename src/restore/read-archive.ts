import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startDecompressor } from '../backup/compress';
import { CountingStream, DigestStream } from '../backup/digest';
import type { Manifest } from '../backup/manifest';
import type { ProcessResult } from '../process/run-process';
import type { Storage } from '../storage';

/** What happened reading one stored archive end to end; the callers turn it into verdicts. */
export interface ArchiveRead {
  /** Bytes read from the stored object: all of it unless `readError` (or `writeError`) stopped the read. */
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
 * Passes bytes on while the target takes them, then swallows the rest, so the stream before it is
 * still read to the end after the target has gone: a decompressor that quit on damaged data, or
 * pg_restore --list once it has read the table of contents. Writing on into a closed pipe would
 * fail with EPIPE and hide the real verdict (the checksum, the decompressor's own error).
 */
export class FeedWhileOpen extends Writable {
  private open = true;
  constructor(private readonly target: Writable) {
    super({ highWaterMark: 1024 * 1024 });
    const close = () => (this.open = false);
    target.on('error', close).on('close', close);
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.open || this.target.write(chunk)) return callback();
    const resume = () => {
      this.target.off('drain', resume).off('close', resume);
      callback();
    };
    this.target.on('drain', resume).on('close', resume);
  }
  override _final(callback: () => void): void {
    if (this.open) this.target.end();
    callback();
  }
}

/**
 * Streams a stored archive through sha256 and its decompressor into `sink`, in one pass, for
 * verify (sink: pg_restore --list) and for fetch (sink: a local file). The stored object is read
 * to its end even when the decompressor stops early on damaged data, so the size and sha256 are
 * always the whole object's and the verdict names the damage, not a broken pipe. Only a failing
 * read or a failing sink (a full disk: reading on would be pointless) stops it; then the
 * decompressor is stopped instead of waited for. On success it exits by itself, after checking
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
  const reading = pipeline(source, stored, new FeedWhileOpen(codec.input), { signal });
  const writing = pipeline(codec.output, raw, sink, { signal }).catch((error: unknown) => {
    source.destroy();
    throw error;
  });
  // A failing sink stops the read too; its own error is the one worth reporting.
  const pipes = await Promise.allSettled([writing, reading]);
  const failed = pipes.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await codec.process?.terminate();
    sink.destroy();
  }
  return { storedBytes: stored.bytes, sha256: stored.sha256, rawBytes: raw.bytes, codec: await codec.process?.finished, failure: failed?.reason, readError, writeError };
}
