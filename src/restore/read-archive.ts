import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startDecompressor } from '../backup/compress';
import { CountingStream, DigestStream } from '../backup/digest';
import type { Manifest } from '../backup/manifest';
import type { EncryptionConfig } from '../config';
import { startDecryptor } from '../encryption/age-stages';
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
  /** age's exit (undefined for a backup that is not encrypted). */
  decrypt?: ProcessResult;
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
export async function readArchive(storage: Storage, manifest: Pick<Manifest, 'key' | 'compression' | 'encryption'>, sink: Writable, options: { signal?: AbortSignal; encryption?: EncryptionConfig } = {}): Promise<ArchiveRead> {
  const { signal } = options;
  const source = await storage.read(manifest.key);
  const stored = new DigestStream();
  const raw = new CountingStream();
  const codec = startDecompressor(manifest.compression.algorithm);
  // An encrypted object is decrypted between the hash (of the stored bytes) and the decompressor.
  const decryptor = manifest.encryption && options.encryption ? startDecryptor(manifest.encryption, options.encryption) : undefined;
  let readError: unknown;
  let writeError: unknown;
  source.on('error', (error) => (readError ??= error));
  sink.on('error', (error) => (writeError ??= error));
  decryptor?.input.on('error', () => undefined);
  const reading = pipeline(source, stored, new FeedWhileOpen(decryptor?.input ?? codec.input), { signal });
  const decrypting = decryptor ? pipeline(decryptor.output, new FeedWhileOpen(codec.input), { signal }) : Promise.resolve();
  const writing = pipeline(codec.output, raw, sink, { signal }).catch((error: unknown) => {
    source.destroy();
    throw error;
  });
  // A failing sink stops the read too; its own error is the one worth reporting.
  const pipes = await Promise.allSettled([writing, reading, decrypting]);
  const failed = pipes.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all([codec.process?.terminate(), decryptor?.process.terminate()]);
    sink.destroy();
  }
  return {
    storedBytes: stored.bytes,
    sha256: stored.sha256,
    rawBytes: raw.bytes,
    codec: await codec.process?.finished,
    decrypt: await decryptor?.process.finished,
    failure: failed?.reason,
    readError,
    writeError,
  };
}

/** Size and sha256 of the stored bytes alone: all verify can check of an encrypted backup without its key. */
export async function readStoredBytes(storage: Storage, manifest: Pick<Manifest, 'key'>): Promise<Pick<ArchiveRead, 'storedBytes' | 'sha256' | 'failure'>> {
  const stored = new DigestStream();
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const failure = await pipeline(await storage.read(manifest.key), stored, discard).then(() => undefined, (error: unknown) => error);
  return { storedBytes: stored.bytes, sha256: stored.sha256, failure };
}
