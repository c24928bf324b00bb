import { Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { startDecompressor } from '../../backup/compress';
import type { CompressionAlgorithm } from '../../config';
import { VerifyError } from '../../errors';
import type { StoredCheck } from '../../sources/source';
import { TarEntryNames, missingFromBase } from './tar-entries';

/**
 * Reads the entry names of the base backup being stored, from the stored (compressed) bytes in the
 * same pass: a backup whose tar lacks backup_label or backup_manifest, or was cut short, fails
 * before its manifest is written. The manifest is the tar's last entry, so the whole stream is
 * decompressed once more; zstd -d is several times faster than the compressor it follows.
 */
export function checkStoredTar(algorithm: CompressionAlgorithm): StoredCheck {
  const codec = startDecompressor(algorithm);
  const entries = new TarEntryNames();
  codec.output.on('data', (chunk: Buffer) => entries.push(chunk));
  codec.input.on('error', () => undefined);
  const read = finished(codec.output).catch((error: unknown) => error);
  const tap = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      this.push(chunk);
      if (codec.input.write(chunk)) return callback();
      codec.input.once('drain', () => callback());
    },
    flush(callback: TransformCallback) {
      codec.input.end();
      callback();
    },
  });
  return {
    tap,
    async verify() {
      const failure = await read;
      const result = await codec.process?.finished;
      if (failure || (result && result.exitCode !== 0)) throw new VerifyError(`the base backup being stored could not be read back as a tar: ${result?.stderrTail.trim() || String(failure)}`);
      const problem = missingFromBase(entries);
      if (problem) throw new VerifyError(`pg_basebackup's output is not a usable base backup: ${problem}`);
    },
    async stop() {
      await codec.process?.terminate();
    },
  };
}
