import { Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { startDecompressor } from '../../backup/compress';
import type { CompressionAlgorithm } from '../../config';
import { VerifyError } from '../../errors';
import type { StoredCheck } from '../../sources/source';
import { parseBasePositions, type BasePositions } from './base-positions';
import { TarEntryNames, missingFromBase } from './tar-entries';

/** How much of backup_label and of backup_manifest's end to keep: the positions are in there. */
const CAPTURE = { backup_label: 65_536, backup_manifest: 65_536 };

export interface StoredTarCheck extends StoredCheck {
  /** Where the backup starts and ends in the WAL, as its backup_label and backup_manifest say; after verify(). */
  positions(): BasePositions;
}

/**
 * Reads the entry names of the base backup being stored, from the stored (compressed) bytes in the
 * same pass: a backup whose tar lacks backup_label or backup_manifest, or was cut short, fails
 * before its manifest is written. The manifest is the tar's last entry, so the whole stream is
 * decompressed once more; zstd -d is several times faster than the compressor it follows. The
 * same pass reads the backup's WAL positions from those two files for the manifest.
 */
export function checkStoredTar(algorithm: CompressionAlgorithm): StoredTarCheck {
  const codec = startDecompressor(algorithm);
  const entries = new TarEntryNames(CAPTURE);
  let positions: BasePositions | undefined;
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
      const text = (name: keyof typeof CAPTURE) => entries.captured.get(name)?.toString('utf8');
      const parsed = parseBasePositions(text('backup_label'), text('backup_manifest'));
      if (typeof parsed === 'string') throw new VerifyError(`pg_basebackup's output is not a usable base backup: ${parsed}`);
      positions = parsed;
    },
    positions() {
      if (!positions) throw new Error('the base backup\'s WAL positions are read by verify(), which has not succeeded');
      return positions;
    },
    async stop() {
      await codec.process?.terminate();
    },
  };
}
