import { Writable } from 'node:stream';
import type { CatalogEntry } from '../../catalog/catalog';
import type { EncryptionConfig } from '../../config';
import { coerceError } from '../../errors';
import { readArchive } from '../../restore/read-archive';
import type { CopyVerification } from '../../restore/verify-archive';
import type { Storage } from '../../storage';
import { TarEntryNames, missingFromBase } from './tar-entries';

/**
 * `keepsake verify` of a base backup: the stored bytes' size and sha256, decryption and
 * decompression, and the tar read through to its end holding backup_label and backup_manifest.
 * Whether it recovers is the PITR restore test's to prove (it replays it with the WAL).
 */
export async function verifyTarCopy(entry: CatalogEntry, storage: Storage, encryption: EncryptionConfig, started: number): Promise<CopyVerification> {
  const { manifest } = entry;
  const entries = new TarEntryNames();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      entries.push(chunk);
      callback();
    },
  });
  const read = await readArchive(storage, manifest, sink, { encryption });
  const problem = missingFromBase(entries);
  const checks: CopyVerification['checks'] = [
    { name: 'size', ok: !read.failure && read.storedBytes === manifest.storedBytes, detail: `${read.storedBytes} bytes stored, manifest says ${manifest.storedBytes}` },
    { name: 'sha256', ok: !read.failure && read.sha256 === manifest.sha256, detail: read.failure ? `could not read the whole object: ${coerceError(read.failure).message}` : `sha256 ${read.sha256}${read.sha256 === manifest.sha256 ? '' : `, manifest says ${manifest.sha256}`}` },
    { name: 'decompress', ok: !read.codec || read.codec.exitCode === 0, detail: read.codec && read.codec.exitCode !== 0 ? `${manifest.compression.algorithm} failed: ${read.codec.stderrTail.trim()}` : `${read.rawBytes} bytes after decompression` },
    { name: 'raw size', ok: read.rawBytes === manifest.rawBytes, detail: `${read.rawBytes} bytes, manifest says ${manifest.rawBytes}` },
    { name: 'archive', ok: !problem, detail: problem ?? `a tar of ${entries.names.length} entries with backup_label and backup_manifest (replayed by the restore test)` },
  ];
  if (read.decrypt) checks.splice(2, 0, { name: 'decryption', ok: read.decrypt.exitCode === 0, detail: read.decrypt.exitCode === 0 ? 'age decrypted it' : `age failed: ${read.decrypt.stderrTail.trim()}` });
  return { target: storage.name, location: storage.location(manifest.key), ok: checks.every((c) => c.ok), checks, durationMs: Date.now() - started };
}
