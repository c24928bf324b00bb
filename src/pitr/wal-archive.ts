import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { startCompressor } from '../backup/compress';
import { COMPRESSED_SUFFIX } from '../backup/keys';
import { DigestStream } from '../backup/digest';
import { FanOut } from '../backup/fan-out';
import { COMPRESSIONS } from '../config/schema';
import type { CompressionConfig, EncryptionConfig } from '../config';
import { encryptionOf, startEncryptor } from '../encryption/age-stages';
import { NotFoundError, StorageError, VerifyError, coerceError } from '../errors';
import type { ChildHandle } from '../process/run-process';
import { readArchive } from '../restore/read-archive';
import type { ObjectWriter, Storage } from '../storage';
import { KEEPSAKE_VERSION } from '../version';
import { WAL_PREFIX, walDataKey, walFileOfKey, walManifestKey, type WalFileName } from './wal-names';

/**
 * The WAL archive on the targets: one stored object per WAL file and, written after it, a small
 * manifest; a file is archived once its manifest exists (docs/architecture.md "Point-in-time recovery").
 * The manifest holds the raw file's sha256, so a file shipped twice (a restart between shipping and
 * removing it from the spool) is recognised, and the stored bytes' sha256, checked on every read.
 */
export const walManifestSchema = z.object({
  format: z.literal(1),
  name: z.string(),
  kind: z.enum(['segment', 'partial', 'history']),
  timeline: z.number(),
  key: z.string(),
  rawBytes: z.number(),
  rawSha256: z.string().regex(/^[0-9a-f]{64}$/),
  storedBytes: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.object({ algorithm: z.enum(COMPRESSIONS), level: z.number() }),
  encryption: z.union([z.object({ format: z.literal('age'), recipients: z.array(z.string()).min(1) }).strict(), z.object({ format: z.literal('age'), passphrase: z.literal(true) }).strict()]).optional(),
  shippedAt: z.string(),
  keepsake: z.object({ version: z.string() }),
});
export type WalManifest = z.infer<typeof walManifestSchema>;

export interface WalArchiveConfig {
  compression: Pick<CompressionConfig, 'algorithm' | 'level'>;
  encryption: EncryptionConfig;
}

/** Reads a target's WAL manifest, or undefined when it has none (or an unreadable one, which is rewritten). */
export async function readWalManifest(storage: Storage, file: WalFileName): Promise<WalManifest | undefined> {
  let body: Buffer;
  try {
    body = await storage.readAll(walManifestKey(file));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const parsed = walManifestSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A read that failed because the object is not there (local ENOENT, S3 NoSuchKey / 404), as opposed to a target that is down. */
export function isMissing(error: unknown): boolean {
  const cause = ((error as { cause?: unknown })?.cause ?? error) as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return error instanceof NotFoundError || cause?.code === 'ENOENT' || cause?.name === 'NoSuchKey' || cause?.name === 'NotFound' || cause?.$metadata?.httpStatusCode === 404;
}

export interface StoredWal {
  manifest: WalManifest;
  /** The targets written now; those that already held this very file are left out. */
  written: string[];
}

/**
 * Stores one WAL file from `path` on every target that lacks it: file -> sha256 of the raw bytes ->
 * compressor -> [age] -> sha256 -> all targets at once, then the manifest on each. A target that
 * already holds the file with the same raw sha256 is skipped; one holding a different file under
 * the name (another cluster shares the prefix) fails the store. Partial segments are replaced.
 */
export async function storeWalFile(storages: readonly Storage[], config: WalArchiveConfig, file: WalFileName, path: string, now = new Date()): Promise<StoredWal> {
  const wanted: Storage[] = [];
  let rawSha256: string | undefined;
  for (const storage of storages) {
    const existing = file.kind === 'partial' ? undefined : await readWalManifest(storage, file);
    if (!existing) {
      wanted.push(storage);
      continue;
    }
    rawSha256 ??= await sha256OfFile(path);
    if (existing.rawSha256 !== rawSha256) {
      throw new VerifyError(`${storage.location(walManifestKey(file))} holds a different ${file.name} (sha256 ${existing.rawSha256}, this one ${rawSha256}): another cluster archives WAL under the same prefix; give each cluster its own BACKUP_DIR / S3_PREFIX`);
    }
  }
  const encryption = encryptionOf(config.encryption);
  const key = walDataKey(file, COMPRESSED_SUFFIX[config.compression.algorithm], Boolean(encryption));
  const manifestBase = { format: 1 as const, name: file.name, kind: file.kind, timeline: file.timeline, key, compression: { ...config.compression }, ...(encryption ? { encryption } : {}) };
  if (!wanted.length) return { manifest: (await readWalManifest(storages[0]!, file))!, written: [] };

  const writers: ObjectWriter[] = [];
  const children: ChildHandle[] = [];
  try {
    for (const storage of wanted) writers.push(await storage.createWriter(key));
    const codec = startCompressor(config.compression);
    if (codec.process) children.push(codec.process);
    const encryptor = encryption ? startEncryptor(encryption, config.encryption) : undefined;
    if (encryptor) children.push(encryptor.process);
    const stored = new DigestStream();
    const raw = new DigestStream();
    const fanOut = new FanOut(writers, () => Promise.all(children.map((child) => child.succeeded())));
    await Promise.all([
      pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), raw, codec.input),
      encryptor ? pipeline(codec.output, encryptor.input) : Promise.resolve(),
      pipeline(encryptor?.output ?? codec.output, stored, fanOut),
    ]);
    // The file changed while being read (only a partial segment can): store what was read, hashed as read.
    const manifest: WalManifest = {
      ...manifestBase,
      rawBytes: raw.bytes,
      rawSha256: raw.sha256,
      storedBytes: stored.bytes,
      sha256: stored.sha256,
      shippedAt: now.toISOString(),
      keepsake: { version: KEEPSAKE_VERSION },
    };
    const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await Promise.all(wanted.map((storage) => storage.put(walManifestKey(file), body)));
    return { manifest, written: wanted.map((storage) => storage.name) };
  } catch (error) {
    await Promise.all([...children.map((child) => child.terminate()), ...writers.map((writer) => writer.abort(coerceError(error)))]);
    throw error instanceof StorageError || error instanceof VerifyError ? error : new StorageError(`Cannot archive ${file.name}: ${coerceError(error).message}`, { cause: error });
  }
}

/** One archived WAL file as a listing shows it (no manifest read). */
export interface ArchivedWal {
  file: WalFileName;
  dataKey: string;
  /** When its manifest was written: when the file was archived. */
  archivedAt: Date;
  storedBytes: number;
}

/**
 * A target's WAL archive from one listing: every file whose data object and manifest are both
 * there, oldest name first. A data object without a manifest (a ship cut short) is not archived.
 */
export async function listWalArchive(storage: Storage, prefix = WAL_PREFIX): Promise<ArchivedWal[]> {
  const data = new Map<string, { key: string; size: number }>();
  const manifests = new Map<string, Date>();
  const files = new Map<string, WalFileName>();
  for await (const object of storage.list(prefix)) {
    const parsed = walFileOfKey(object.key);
    if (!parsed) continue;
    files.set(parsed.file.name, parsed.file);
    if (parsed.manifest) manifests.set(parsed.file.name, object.modified);
    else data.set(parsed.file.name, { key: object.key, size: object.size });
  }
  const archived: ArchivedWal[] = [];
  for (const [name, archivedAt] of manifests) {
    const stored = data.get(name);
    if (stored) archived.push({ file: files.get(name)!, dataKey: stored.key, archivedAt, storedBytes: stored.size });
  }
  return archived.sort((a, b) => (a.file.name < b.file.name ? -1 : a.file.name > b.file.name ? 1 : 0));
}

/**
 * Reads one archived WAL file back as its raw bytes into `sink`, checking the stored size and
 * sha256 against its manifest (and the raw size after decompression). Throws NotFoundError when
 * the target does not hold it, VerifyError when the stored copy is damaged.
 */
export async function readWalFile(storage: Storage, file: WalFileName, sink: Writable, encryption: EncryptionConfig): Promise<WalManifest> {
  const manifest = await readWalManifest(storage, file);
  if (!manifest) throw new NotFoundError(`${storage.name} does not hold ${file.name}`);
  const read = await readArchive(storage, manifest, sink, { encryption });
  const where = storage.location(manifest.key);
  if (read.readError) throw new StorageError(`Cannot read ${where}: ${coerceError(read.readError).message}`, { cause: read.readError });
  if (read.writeError) throw coerceError(read.writeError);
  if (read.storedBytes !== manifest.storedBytes || read.sha256 !== manifest.sha256) {
    throw new VerifyError(`${where} does not match its manifest (${read.storedBytes} bytes, sha256 ${read.sha256}; expected ${manifest.storedBytes}, ${manifest.sha256}): the archived WAL is damaged`);
  }
  if (read.failure || read.rawBytes !== manifest.rawBytes) throw new VerifyError(`${where} did not decompress to its ${manifest.rawBytes} bytes: ${coerceError(read.failure ?? new Error(`got ${read.rawBytes}`)).message}`);
  return manifest;
}

async function sha256OfFile(path: string): Promise<string> {
  const digest = new DigestStream();
  await pipeline(createReadStream(path), digest, new Writable({ write: (_chunk, _encoding, done) => done() }));
  return digest.sha256;
}
