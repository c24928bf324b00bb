import { Writable } from 'node:stream';
import type { ObjectWriter } from '../storage';

/**
 * Writes one stream to several targets at once. A chunk is handed on only when every target has
 * room (backpressure from the slowest target reaches pg_dump), so memory stays bounded.
 *
 * `beforeCommit` gates the end: targets are completed (object made visible) only after it
 * resolves, which is how a pg_dump that exits non-zero after writing a plausible-looking stream
 * still fails the backup before any object appears.
 */
export class FanOut extends Writable {
  constructor(
    private readonly writers: ObjectWriter[],
    private readonly beforeCommit: () => Promise<unknown>,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    // A target failing at any moment fails the whole fan-out at once (and is never an unhandled error).
    for (const writer of writers) writer.stream.on('error', (error) => this.destroy(writer.explain(error)));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const waits: Promise<unknown>[] = [];
    for (const writer of this.writers) {
      const { stream } = writer;
      if (stream.destroyed) return callback(writer.explain(stream.errored ?? new Error('a storage target closed early')));
      if (!stream.write(chunk)) waits.push(drainOrError(stream).catch((error) => Promise.reject(writer.explain(error))));
    }
    if (!waits.length) return callback();
    Promise.all(waits).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.beforeCommit()
      .then(async () => {
        // Interrupted while waiting for the children: commit nothing.
        if (this.destroyed) throw this.errored ?? new Error('backup aborted');
        for (const { stream } of this.writers) stream.end();
        // Wait for every target, so that none is still completing when the caller aborts them all.
        const results = await Promise.allSettled(this.writers.map((writer) => writer.complete()));
        const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) throw failed.reason;
      })
      .then(() => callback(), callback);
  }
}

function drainOrError(stream: Writable): Promise<void> {
  // Resolve on drain; fail if the target errors or closes first, so nothing waits forever.
  return new Promise((resolve, reject) => {
    const settle = (error?: Error | null) => {
      stream.off('drain', onDrain).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(stream.errored ?? new Error('a storage target closed early'));
    stream.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}
