import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { CompressionAlgorithm } from '../config';
import type { PgBinary } from '../postgres/binaries';
import type { TableCount } from '../postgres/snapshot';
import { describeExit, spawnChild } from '../process/run-process';
import { startDecompressor } from './compress';

/**
 * The plain tables (partitions included) that have no TABLE DATA entry in a `pg_restore --list`
 * listing. Partitioned parents hold no rows of their own and materialized views are refreshed
 * on restore, so neither needs one.
 */
export function tablesWithoutData(listing: string, tables: readonly TableCount[]): string[] {
  return tablesWithoutEntry(listing, tables.filter((table) => table.kind === 'table'), ' TABLE DATA ');
}

/** The tables and partitioned tables whose definition (a TABLE entry) is not in the listing: what a schema-only archive must have. */
export function tablesWithoutDefinition(listing: string, tables: readonly TableCount[]): string[] {
  return tablesWithoutEntry(listing, tables.filter((table) => table.kind !== 'matview'), ' TABLE ');
}

/**
 * The tables with no entry of that kind in the listing. Names may contain spaces, so each entry
 * goes to the longest table name it can be ("public order items owner" belongs to "order items",
 * not to "order").
 */
function tablesWithoutEntry(listing: string, tables: readonly TableCount[], marker: string): string[] {
  const qualified = (table: { schema: string; name: string }) => `${table.schema} ${table.name}`;
  const found = new Set<string>();
  for (const line of listing.split('\n')) {
    const at = line.startsWith(';') ? -1 : line.indexOf(marker);
    if (at < 0) continue;
    const rest = line.slice(at + marker.length);
    const best = tables
      .map(qualified)
      .filter((name) => rest === name || rest.startsWith(`${name} `))
      .sort((a, b) => b.length - a.length)[0];
    if (best) found.add(best);
  }
  return tables.filter((table) => !found.has(qualified(table))).map((table) => `${table.schema}.${table.name}`);
}

export interface TocReader {
  /** Put it in the stored stream: bytes pass through unchanged, a copy goes to pg_restore --list. */
  readonly tap: Transform;
  /** The archive's table of contents as `pg_restore --list` prints it; rejects if it cannot read one. */
  listing(): Promise<string>;
  /** Stops the decompressor and pg_restore (on failure, or once the listing is in). */
  stop(): Promise<void>;
}

/**
 * Lists the table of contents of the archive being stored, from the stored bytes themselves, in
 * the same pass. pg_dump writes a custom-format archive to a pipe with its whole TOC up front, and
 * pg_restore --list exits once it has read it: only the head of the stream is decompressed a
 * second time, and nothing is read back from storage.
 */
export function readTocAsItPasses(algorithm: CompressionAlgorithm, pgRestore: PgBinary): TocReader {
  const codec = startDecompressor(algorithm);
  const restore = spawnChild(pgRestore.path, ['--list'], { stdin: 'pipe', stdout: 'pipe' });
  const restoreInput = restore.child.stdin!;
  const out: Buffer[] = [];
  restore.child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  // Once pg_restore has its TOC it closes its stdin: the broken pipe behind it is expected.
  restoreInput.on('error', () => undefined);
  codec.input.on('error', () => undefined);
  codec.output.on('error', () => undefined);
  codec.output.pipe(restoreInput);

  const tap = new CopyWhileWanted(codec.input);
  const stop = async () => {
    tap.stopCopying();
    await Promise.all([codec.process?.terminate(), restore.terminate()]);
  };
  const finished = restore.finished.then(async (result) => {
    await stop();
    return result;
  });
  return {
    tap,
    async listing() {
      const result = await finished;
      if (result.exitCode === 0) return Buffer.concat(out).toString('utf8');
      throw new Error(`pg_restore --list could not read the archive being stored (it ${describeExit(result)}): ${result.stderrTail.trim()}`);
    },
    stop,
  };
}

/**
 * Passes every chunk on, and copies it to `copy` until stopCopying(). Waits for `copy` to drain
 * (memory stays bounded) only while it still wants bytes, so a reader that has what it needs
 * never slows the backup.
 */
class CopyWhileWanted extends Transform {
  private copying = true;
  private wake: (() => void) | undefined;

  constructor(private readonly copy: Writable) {
    super({ highWaterMark: 1024 * 1024 });
    copy.on('close', () => this.stopCopying());
  }

  stopCopying(): void {
    if (!this.copying) return;
    this.copying = false;
    this.copy.destroy();
    this.wake?.();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.push(chunk);
    if (!this.copying || this.copy.write(chunk)) return callback();
    const resume = () => {
      this.copy.off('drain', resume);
      this.wake = undefined;
      callback();
    };
    this.wake = resume;
    this.copy.on('drain', resume);
  }

  override _flush(callback: TransformCallback): void {
    // The whole archive went by: pg_restore gets end of file and says what it made of it.
    if (this.copying) this.copy.end();
    callback();
  }
}
