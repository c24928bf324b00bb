import { Transform, type TransformCallback } from 'node:stream';
import { startDecompressor } from '../../backup/compress';
import type { CompressionAlgorithm } from '../../config';
import { VerifyError } from '../../errors';
import type { StoredCheck } from '../../sources/source';
import { parseBackupLabel, type BackupLabel } from './base-positions';
import { TarEntryNames } from './tar-entries';

/** backup_label is a few hundred bytes; more is not a label. */
const LABEL_LIMIT = 65_536;

export interface StoredTarCheck extends StoredCheck {
  /** Where the backup starts in the WAL, as its backup_label says; after verify(). */
  label(): BackupLabel;
}

/**
 * Reads the base backup's backup_label from the head of the stored bytes as they pass, and stops
 * there: PostgreSQL puts it first in the tar, and only the head is decompressed a second time, so
 * the check costs next to nothing (reading the whole stream back would add a quarter to the
 * backup's time: docs/benchmarks.md). A stream that is no tar, or a tar that does not begin with
 * backup_label, fails the backup before its manifest is written. The label gives the start
 * position, timeline and first WAL segment for the manifest.
 */
export function checkStoredTar(algorithm: CompressionAlgorithm): StoredTarCheck {
  const codec = startDecompressor(algorithm);
  const entries = new TarEntryNames({ backup_label: LABEL_LIMIT });
  let copying = true;
  let wake: (() => void) | undefined;
  let settle: (problem?: string) => void = () => undefined;
  const head = new Promise<string | undefined>((resolve) => (settle = resolve));
  const stopCopying = () => {
    if (!copying) return;
    copying = false;
    codec.input.destroy();
    void codec.process?.terminate();
    wake?.();
  };
  codec.input.on('error', () => undefined);
  codec.output.on('error', () => undefined);
  codec.output.on('data', (chunk: Buffer) => {
    if (!copying) return;
    entries.push(chunk);
    const first = entries.names[0];
    if (entries.completed.has('backup_label')) settle();
    else if (entries.problem) settle(entries.problem);
    else if (first !== undefined && first !== 'backup_label') settle(`the tar begins with ${first}, not backup_label`);
    else return;
    stopCopying();
  });
  codec.output.on('end', () => settle(entries.names.length ? 'the stream ended inside backup_label' : 'the stream holds no tar entry'));
  const tap = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      this.push(chunk);
      if (!copying || codec.input.write(chunk)) return callback();
      wake = () => {
        wake = undefined;
        callback();
      };
      codec.input.once('drain', () => wake?.());
    },
    flush(callback: TransformCallback) {
      if (copying) codec.input.end();
      callback();
    },
  });
  let label: BackupLabel | undefined;
  return {
    tap,
    async verify() {
      const problem = await head;
      if (problem) throw new VerifyError(`pg_basebackup's output is not a usable base backup: ${problem}`);
      const parsed = parseBackupLabel(entries.captured.get('backup_label')!.toString('utf8'));
      if (typeof parsed === 'string') throw new VerifyError(`pg_basebackup's output is not a usable base backup: ${parsed}`);
      label = parsed;
    },
    label() {
      if (!label) throw new Error('the base backup\'s backup_label is read by verify(), which has not succeeded');
      return label;
    },
    async stop() {
      stopCopying();
      await codec.process?.terminate();
    },
  };
}
