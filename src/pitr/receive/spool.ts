import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseWalName, type WalFileName } from '../wal-names';

/** One WAL file waiting in the spool. */
export interface SpoolFile {
  file: WalFileName;
  path: string;
  bytes: number;
  mtimeMs: number;
}

export interface SpoolScan {
  /** Completed segments, history files (and a left timeline's last partial), oldest name first: what ships, in this order. */
  complete: SpoolFile[];
  /** The segment pg_receivewal is writing (the newest `.partial`), if any. */
  partial?: SpoolFile;
  /** Every WAL file there, for the status: how much waits. */
  files: number;
  bytes: number;
  oldest?: string;
}

/**
 * What pg_receivewal left in the spool. It writes a segment as `<segment>.partial` and renames it
 * once complete, and writes history files under a temporary name first, so a file with a full WAL
 * name is complete. Anything else (temporary files) is not WAL and stays out.
 */
export async function scanSpool(dir: string): Promise<SpoolScan> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const files: SpoolFile[] = [];
  for (const name of entries.sort()) {
    const file = parseWalName(name);
    if (!file) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) files.push({ file, path: join(dir, name), bytes: info.size, mtimeMs: info.mtimeMs });
  }
  const partials = files.filter((entry) => entry.file.kind === 'partial');
  const partial = partials[partials.length - 1];
  return {
    // An older partial (the end of a timeline the server left) never grows again: it ships once, like a segment.
    complete: files.filter((entry) => entry !== partial),
    partial,
    files: files.length,
    bytes: files.reduce((sum, entry) => sum + entry.bytes, 0),
    oldest: files[0]?.file.name,
  };
}
