import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, statfs, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { makeWritableHint, StorageError } from '../errors';
import { KeyTakenError, streamToBuffer, type ObjectWriter, type Storage, type StoredObject, type TargetIdentity, type WriteOptions } from './storage';

const TEMP_MARK = '.tmp-';

function explain(action: string, path: string, error: unknown): StorageError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint: Record<string, string> = {
    EACCES: `permission denied; ${makeWritableHint('BACKUP_DIR')}`,
    EPERM: `operation not permitted; ${makeWritableHint('BACKUP_DIR')}`,
    EROFS: 'BACKUP_DIR is on a read-only file system; mount it read-write (in Docker: drop :ro from its volume)',
    ENOSPC: 'no space left on the device; free space or move BACKUP_DIR',
    ENOENT: 'no such file',
    ENOTDIR: 'a part of the path is a file, not a folder; fix BACKUP_DIR',
  };
  return new StorageError(`Cannot ${action} ${path}: ${(code && hint[code]) ?? (error as Error).message}`, { cause: error });
}

/**
 * mkdir -p that reports the real cause. Node's recursive mkdir answers a failure it does not expect
 * (EROFS: a read-only mount) with the ENOENT of its last look at the folder, which would tell the
 * user "no such file" about a folder keepsake was about to create. Then the first missing level is
 * created by hand, whose error is the true one. Returns the first folder created, like mkdir.
 */
async function makeFolders(dir: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let first = dir;
    while (dirname(first) !== first && !(await isFolder(dirname(first)))) first = dirname(first);
    await mkdir(first, { mode: 0o700 });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return first;
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}

/** The final folder, and the parents of every folder mkdir created on the way to it. */
function directoriesToSync(finalDir: string, createdFrom: string | undefined): string[] {
  const dirs = [finalDir];
  if (!createdFrom) return dirs;
  for (let dir = finalDir; dir !== dirname(createdFrom) && dir !== dirname(dir); ) {
    dir = dirname(dir);
    dirs.push(dir);
  }
  return dirs;
}

/**
 * Puts the temp file in place under its final name unless that name exists: link(2) fails with
 * EEXIST where rename(2) would silently replace. File systems without hard links (vfat, some
 * network mounts) get a check before the rename: nearly, not strictly, exclusive.
 */
async function linkNew(tempPath: string, finalPath: string, location: () => string): Promise<void> {
  try {
    await link(tempPath, finalPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeyTakenError(location());
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
    if (await stat(finalPath).then(() => true, () => false)) throw new KeyTakenError(location());
    await rename(tempPath, finalPath);
  }
}

/** fsync through a fresh descriptor: it flushes the inode, whichever descriptor wrote the data. */
async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Backups on a local (or mounted) file system. Each object is written to a temp file in its final
 * directory, fsynced, renamed into place and the directory fsynced: a crash leaves either the
 * whole object or an ignorable temp file, never a truncated backup under a real name.
 */
export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  readonly readCost = 0;
  readonly name: string;
  readonly role: TargetIdentity['role'];
  constructor(
    private readonly root: string,
    target: TargetIdentity = { name: 'local', role: 'primary' },
  ) {
    this.name = target.name;
    this.role = target.role;
  }

  location(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async createWriter(key: string, options: WriteOptions = {}): Promise<ObjectWriter> {
    const finalPath = this.location(key);
    const tempPath = `${finalPath}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    let createdFrom: string | undefined;
    try {
      createdFrom = await makeFolders(dirname(finalPath));
    } catch (error) {
      throw explain('write to', dirname(finalPath), error);
    }
    const stream = createWriteStream(tempPath, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 });
    const closed = once(stream, 'close').then(() => undefined, () => undefined);
    let state: 'writing' | 'complete' | 'aborted' = 'writing';
    let completing: Promise<void> | undefined;
    const complete = async () => {
      try {
        await closed;
        if (stream.errored) throw stream.errored;
        await fsyncPath(tempPath, 'r+');
        if (options.exclusive) await linkNew(tempPath, finalPath, () => this.location(key));
        else await rename(tempPath, finalPath);
        state = 'complete'; // from here on abort() must remove the final file
        if (options.exclusive) await unlink(tempPath).catch(() => undefined); // a leftover temp file is cleaned up like any other
        // The rename, and any folder made for this backup, must survive a power cut too.
        for (const dir of directoriesToSync(dirname(finalPath), createdFrom)) await fsyncPath(dir, 'r');
      } catch (error) {
        throw error instanceof StorageError ? error : explain('write', finalPath, error);
      }
    };
    return {
      stream,
      complete: () => (completing ??= complete()),
      explain: (error) => (error instanceof StorageError ? error : explain('write', finalPath, error)),
      abort: async () => {
        if (state === 'aborted') return;
        stream.destroy();
        await completing?.catch(() => undefined);
        await closed;
        // A copy completed here is still removed when another target failed: all or nothing.
        const path = state === 'complete' ? finalPath : tempPath;
        state = 'aborted';
        await unlink(path).catch(() => undefined);
      },
    };
  }

  async put(key: string, body: Buffer): Promise<void> {
    const writer = await this.createWriter(key);
    writer.stream.end(body);
    try {
      await writer.complete();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async read(key: string): Promise<Readable> {
    const path = this.location(key);
    try {
      await stat(path);
    } catch (error) {
      throw explain('read', path, error);
    }
    return createReadStream(path, { highWaterMark: 1024 * 1024 });
  }

  async readAll(key: string): Promise<Buffer> {
    return streamToBuffer(await this.read(key));
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    yield* this.walk(this.root, prefix, false);
  }

  /** The temp files list() hides: a killed write leaves them behind; retention removes old ones. */
  async *listTemporary(prefix = ''): AsyncIterable<StoredObject> {
    yield* this.walk(this.root, prefix, true);
  }

  private async *walk(dir: string, prefix: string, temporary: boolean): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw explain('list', dir, error);
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      const key = relative(this.root, path).split(sep).join('/');
      // Only descend where the prefix can still match.
      if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
      if (entry.isDirectory()) yield* this.walk(path, prefix, temporary);
      else if (entry.isFile() && entry.name.includes(TEMP_MARK) === temporary) {
        // A temp file is renamed or removed when its write ends: gone since readdir is not an error.
        const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw explain('list', path, error);
        });
        if (info) yield { key, size: info.size, modified: info.mtime };
      }
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.location(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw explain('delete', this.location(key), error);
    }
  }

  async freeBytes(): Promise<number | null> {
    return statfs(this.root).then((fs) => fs.bavail * fs.bsize, () => null);
  }
}
