import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogEntry } from '../catalog/catalog';
import type { EncryptionConfig } from '../config';
import { coerceError } from '../errors';
import { integrityCheck } from '../sources/sqlite/inventory';
import { hasSqliteHeader } from '../sources/sqlite/sqlite-tool';
import type { Storage } from '../storage';
import type { CopyVerification } from './verify-archive';
import { readArchive } from './read-archive';

/**
 * A SQLite backup, read through as the archive check does (size, sha256, decryption,
 * decompression, raw size) into a private file, which must then be a SQLite 3 database that passes
 * `PRAGMA integrity_check`. The file is removed afterwards.
 */
export async function verifySqliteCopy(entry: CatalogEntry, storage: Storage, options: { encryption: EncryptionConfig; workDir?: string }, started: number): Promise<CopyVerification> {
  const { manifest } = entry;
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'keepsake-verify-'));
  try {
    const file = join(dir, 'copy.sqlite');
    const read = await readArchive(storage, manifest, createWriteStream(file, { mode: 0o600 }), { encryption: options.encryption });
    const checks: CopyVerification['checks'] = [
      { name: 'size', ok: !read.failure && read.storedBytes === manifest.storedBytes, detail: `${read.storedBytes} bytes stored, manifest says ${manifest.storedBytes}` },
      { name: 'sha256', ok: !read.failure && read.sha256 === manifest.sha256, detail: read.failure ? `could not read the whole object: ${coerceError(read.failure).message}` : `sha256 ${read.sha256}` },
      ...(read.decrypt ? [{ name: 'decryption', ok: read.decrypt.exitCode === 0, detail: read.decrypt.exitCode === 0 ? 'age decrypted it' : `age failed: ${read.decrypt.stderrTail.trim()}` }] : []),
      { name: 'decompress', ok: !read.codec || read.codec.exitCode === 0, detail: read.codec && read.codec.exitCode !== 0 ? `${manifest.compression.algorithm} failed: ${read.codec.stderrTail.trim()}` : `${read.rawBytes} bytes after decompression` },
      { name: 'raw size', ok: read.rawBytes === manifest.rawBytes, detail: `${read.rawBytes} bytes, manifest says ${manifest.rawBytes}` },
    ];
    if (checks.every((check) => check.ok)) checks.push(await databaseCheck(file));
    return { target: storage.name, location: storage.location(manifest.key), ok: checks.every((c) => c.ok), checks, durationMs: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function databaseCheck(file: string): Promise<CopyVerification['checks'][number]> {
  if (!(await hasSqliteHeader(file))) return { name: 'database', ok: false, detail: 'not a SQLite 3 database' };
  const integrity = await integrityCheck(file, { readOnly: true });
  return integrity === 'ok'
    ? { name: 'database', ok: true, detail: 'SQLite 3 database, integrity_check ok' }
    : { name: 'database', ok: false, detail: `integrity_check: ${integrity.slice(0, 3).join('; ')}` };
}
