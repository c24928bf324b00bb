import { Writable } from 'node:stream';
import { postgresFacts, type Manifest } from '../backup/manifest';
import { tablesWithoutData } from '../backup/toc';
import { tablesWithKeptData } from '../backup/contents';
import type { CatalogEntry, IncompleteCopy } from '../catalog/catalog';
import { coerceError } from '../errors';
import { findBinaryFor } from '../postgres/binaries';
import { spawnChild, type ChildHandle } from '../process/run-process';
import type { Storage } from '../storage';
import type { EncryptionConfig } from '../config';
import { missingDecryptionKey } from '../encryption/keys-check';
import { FeedWhileOpen, readArchive, readStoredBytes } from './read-archive';
import { verifySqliteCopy } from './verify-sqlite';
import { verifyTarCopy } from '../pitr/base/verify-tar';

export interface CopyVerification {
  target: string;
  location: string;
  ok: boolean;
  /** `skipped`: not tested (an encrypted backup without its key), which does not fail the copy. */
  checks: { name: string; ok: boolean; detail: string; skipped?: boolean }[];
  durationMs: number;
}

/**
 * The tables the manifest counted that have no data in a `pg_restore --list` listing (backup/toc.ts
 * judges); tables whose data the backup left out on purpose (its `contents`) are not expected to.
 */
export function missingTableData(tocListing: string, manifest: Manifest): string[] {
  return tablesWithoutData(tocListing, tablesWithKeptData(manifest));
}

/**
 * Re-reads one stored copy end to end: size and sha256 of the stored bytes, a full decompression
 * (the compressor checks its own frame checksums), the raw size, and pg_restore --list parsing the
 * archive's table of contents.
 */
export async function verifyCopy(entry: CatalogEntry, storage: Storage, options: { pgBinDir?: string; encryption: EncryptionConfig; workDir?: string }): Promise<CopyVerification> {
  const started = Date.now();
  const { manifest } = entry;
  const checks: CopyVerification['checks'] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const children: ChildHandle[] = [];
  const { pgBinDir, encryption } = options;
  const withoutKey = missingDecryptionKey(manifest, encryption);
  try {
    if (withoutKey) {
      // The sidecar that backs up holds public keys only: it can still prove the stored bytes are the ones written.
      const read = await readStoredBytes(storage, manifest);
      check('size', !read.failure && read.storedBytes === manifest.storedBytes, read.failure ? `could not read the whole object: ${coerceError(read.failure).message}` : `${read.storedBytes} bytes stored, manifest says ${manifest.storedBytes}`);
      check('sha256', !read.failure && read.sha256 === manifest.sha256, `sha256 ${read.sha256}${read.sha256 === manifest.sha256 ? '' : `, manifest says ${manifest.sha256}`}`);
      checks.push({ name: 'decryption', ok: true, skipped: true, detail: `not tested, nor decompression and the archive: ${withoutKey}` });
      return { target: storage.name, location: storage.location(manifest.key), ok: checks.every((c) => c.ok), checks, durationMs: Date.now() - started };
    }
    if (manifest.archiveFormat === 'plain') return await verifyPlainCopy(entry, storage, encryption, started);
    if (manifest.archiveFormat === 'tar') return await verifyTarCopy(entry, storage, encryption, started);
    if (manifest.archiveFormat === 'sqlite') return await verifySqliteCopy(entry, storage, { encryption, workDir: options.workDir }, started);
    const pgRestore = await findBinaryFor('pg_restore', postgresFacts(manifest).pgDump.major, pgBinDir);
    const listing = spawnChild(pgRestore.path, ['--list'], { stdin: 'pipe', stdout: 'pipe' });
    children.push(listing);
    const toc: Buffer[] = [];
    listing.child.stdout!.on('data', (chunk: Buffer) => toc.push(chunk));
    const read = await readArchive(storage, manifest, new FeedWhileOpen(listing.child.stdin!), { encryption });
    const listResult = await listing.finished;
    const codecResult = read.codec;
    const decrypted = read.decrypt;

    // A read that broke off knows only how far it got; the size is then the listing's.
    const listedBytes = entry.copies.find((copy) => copy.storage === storage)?.size;
    check(
      'size',
      (read.failure ? listedBytes : read.storedBytes) === manifest.storedBytes,
      read.failure ? `${listedBytes ?? 'unknown'} bytes listed, manifest says ${manifest.storedBytes}; the read broke off after ${read.storedBytes}` : `${read.storedBytes} bytes stored, manifest says ${manifest.storedBytes}`,
    );
    check('sha256', !read.failure && read.sha256 === manifest.sha256, read.failure ? `could not read the whole object: ${coerceError(read.failure).message}` : `sha256 ${read.sha256}${read.sha256 === manifest.sha256 ? '' : `, manifest says ${manifest.sha256}`}`);
    if (decrypted) check('decryption', decrypted.exitCode === 0, decrypted.exitCode === 0 ? `age decrypted it with ${'recipients' in manifest.encryption! ? 'AGE_IDENTITY_FILE' : 'AGE_PASSPHRASE'}` : `age failed: ${decrypted.stderrTail.trim()}`);
    check('decompress', !codecResult || codecResult.exitCode === 0, codecResult && codecResult.exitCode !== 0 ? `${manifest.compression.algorithm} failed: ${codecResult.stderrTail.trim()}` : `${read.rawBytes} bytes after decompression`);
    check('raw size', read.rawBytes === manifest.rawBytes, `${read.rawBytes} bytes, manifest says ${manifest.rawBytes}`);
    const tocText = Buffer.concat(toc).toString('utf8');
    const missing = listResult.exitCode === 0 ? missingTableData(tocText, manifest) : [];
    const entries = tocText.split('\n').filter((line) => /^\d+;/.test(line)).length;
    check(
      'archive',
      listResult.exitCode === 0 && missing.length === 0,
      listResult.exitCode !== 0 ? `pg_restore --list failed: ${listResult.stderrTail.trim()}` : missing.length ? `no data for ${missing.join(', ')}` : `pg_restore ${pgRestore.version} read ${entries} TOC entries`,
    );
  } catch (error) {
    check('read', false, coerceError(error).message);
  } finally {
    await Promise.all(children.map((child) => child.terminate()));
  }
  return { target: storage.name, location: storage.location(manifest.key), ok: checks.every((c) => c.ok), checks, durationMs: Date.now() - started };
}

/** The verdict on a copy that is not there to read: its data object is missing or cut short. */
export function incompleteCopyVerification({ storage, manifest, problem }: IncompleteCopy): CopyVerification {
  const detail = `${problem}; it cannot be restored, \`keepsake cleanup\` removes it once it is older than CLEANUP_INCOMPLETE_AFTER`;
  return { target: storage.name, location: storage.location(manifest.key), ok: false, checks: [{ name: 'complete', ok: false, detail }], durationMs: 0 };
}

/** pg_dumpall's last line: a plain SQL backup without it was cut short before it was stored. */
const PLAIN_END = '-- PostgreSQL database cluster dump complete';

/** After the closing line come only comment markers, blank lines and (PostgreSQL 17.6+) `\\unrestrict`. */
function endsComplete(tail: string): boolean {
  const at = tail.lastIndexOf(PLAIN_END);
  return at >= 0 && /^(\s|--|\\unrestrict \S+)*$/.test(tail.slice(at + PLAIN_END.length));
}

/** A plain SQL backup (the globals): read through as the archive check does, and it must end as pg_dumpall ends it. */
async function verifyPlainCopy(entry: CatalogEntry, storage: Storage, encryption: EncryptionConfig, started: number): Promise<CopyVerification> {
  const { manifest } = entry;
  let tail = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      callback();
    },
  });
  const read = await readArchive(storage, manifest, sink, { encryption });
  const checks: CopyVerification['checks'] = [
    { name: 'size', ok: !read.failure && read.storedBytes === manifest.storedBytes, detail: `${read.storedBytes} bytes stored, manifest says ${manifest.storedBytes}` },
    { name: 'sha256', ok: !read.failure && read.sha256 === manifest.sha256, detail: read.failure ? `could not read the whole object: ${coerceError(read.failure).message}` : `sha256 ${read.sha256}` },
    { name: 'decompress', ok: !read.codec || read.codec.exitCode === 0, detail: `${read.rawBytes} bytes after decompression` },
    { name: 'raw size', ok: read.rawBytes === manifest.rawBytes, detail: `${read.rawBytes} bytes, manifest says ${manifest.rawBytes}` },
    { name: 'archive', ok: endsComplete(tail), detail: endsComplete(tail) ? 'plain SQL, complete' : 'plain SQL without pg_dumpall\'s closing line: cut short' },
  ];
  if (read.decrypt) checks.splice(2, 0, { name: 'decryption', ok: read.decrypt.exitCode === 0, detail: read.decrypt.exitCode === 0 ? 'age decrypted it' : `age failed: ${read.decrypt.stderrTail.trim()}` });
  return { target: storage.name, location: storage.location(manifest.key), ok: checks.every((c) => c.ok), checks, durationMs: Date.now() - started };
}
