import type { Readable, Writable } from 'node:stream';
import type { TargetConfig } from '../config';
import { StorageError } from '../errors';

export interface WriteOptions {
  /**
   * Never replace an object: if one exists under the key when this write completes, the write
   * fails with KeyTakenError and stores nothing (local: link(2) instead of rename(2); S3:
   * If-None-Match: *, which AWS S3, MinIO and R2 honour and some S3-compatible servers ignore).
   */
  exclusive?: boolean;
}

/** An exclusive write found the key taken: someone else stored an object there first. */
export class KeyTakenError extends StorageError {
  constructor(readonly location: string) {
    super(
      `Cannot store ${location}: another keepsake stored an object under this name at the same moment, so this copy was not stored. ` +
        'Sidecars that share BACKUP_DIR or S3_PREFIX for one database must share STATE_DIR too, so that their jobs take turns',
    );
  }
}

export interface StoredObject {
  /** Key relative to the target's root (BACKUP_DIR, or the bucket's S3_PREFIX). */
  key: string;
  size: number;
  modified: Date;
}

/**
 * One object being written. Bytes go into `stream`; nothing is visible under the key until
 * complete() resolves, and abort() leaves nothing behind (temp file removed, multipart aborted).
 */
export interface ObjectWriter {
  readonly stream: Writable;
  /** Call after stream.end(): waits until the object is durable and visible under its key. */
  complete(): Promise<void>;
  /** Turns an error from `stream` into the StorageError users see (target, key, what to do). */
  explain(error: unknown): Error;
  /**
   * Discards the object: the partial upload or temp file, or the finished object if complete()
   * already succeeded or is still running (another target failed, so this copy must not stay).
   * Idempotent.
   */
  abort(reason?: Error): Promise<void>;
}

/**
 * The contract every backend meets (test/integration/storage-conformance.test.ts proves it):
 * - keys use "/" separators and never start with "/";
 * - writeStream() and put() are atomic: readers see the whole object or nothing;
 * - a writer created with { exclusive: true } never replaces an existing object (KeyTakenError);
 * - list() pages through everything under a prefix, however many objects there are;
 * - delete() of a missing key succeeds, so cleanup can be retried.
 */
export interface Storage {
  /** The target's name (BACKUP_TARGETS, OFFSITE_TARGETS): what users see and type after --from. */
  readonly name: string;
  readonly kind: TargetConfig['kind'];
  /** Primaries receive every backup; off-site targets only copies. */
  readonly role: TargetConfig['role'];
  /** Lower is read first when several targets hold a backup: local 0, s3 10. */
  readonly readCost: number;
  /** Where a key lives, for humans and reports: a path or an s3:// URL. */
  location(key: string): string;
  createWriter(key: string, options?: WriteOptions): Promise<ObjectWriter>;
  put(key: string, body: Buffer): Promise<void>;
  read(key: string): Promise<Readable>;
  readAll(key: string): Promise<Buffer>;
  list(prefix?: string): AsyncIterable<StoredObject>;
  /**
   * Leftovers of writes that never finished, which list() hides (local temp files). Backends whose
   * uploads are atomic (S3 multipart) have none and leave this out. delete() removes them.
   */
  listTemporary?(prefix?: string): AsyncIterable<StoredObject>;
  delete(key: string): Promise<void>;
  /**
   * Copies `key` from `source` inside the storage service, without the bytes passing through
   * keepsake, when both are on the same service (same endpoint, region and credentials). Resolves
   * false, having done nothing, when they are not; the caller then streams the object. The copy
   * becomes visible at once, so it is written under `key` and the caller verifies it before
   * anything lists it (a manifest beside it).
   */
  copyFrom?(source: Storage, key: string, size: number): Promise<boolean>;
  /** Whether copyFrom(source) can copy inside the service; no request is made. */
  canCopyFrom?(source: Storage): boolean;
  /** Free space where the target can tell (a file system); left out where it cannot (S3). Null when unreadable. */
  freeBytes?(): Promise<number | null>;
}

/** What an adapter is told about the target it serves. */
export type TargetIdentity = Pick<TargetConfig, 'name' | 'role'>;

export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
