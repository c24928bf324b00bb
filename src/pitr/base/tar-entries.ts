const BLOCK = 512;

/** A base backup's tar must hold these, or it cannot be recovered (backup_label) nor checked (backup_manifest). */
export const REQUIRED_BASE_FILES = ['backup_label', 'backup_manifest'] as const;

/**
 * Reads the names of a tar stream's entries as the bytes pass, without keeping the contents: a
 * header block, then its data rounded up to 512 bytes, until two zero blocks. Cheap enough to run
 * on every stored byte of a base backup.
 */
export class TarEntryNames {
  readonly names: string[] = [];
  /** The contents of the entries asked for (the end of each, up to its limit). */
  readonly captured = new Map<string, Buffer>();
  /** The entries asked for whose contents have been read to their end. */
  readonly completed = new Set<string>();
  private header = Buffer.alloc(0);
  /** Data bytes still to pass, then padding, before the next header. */
  private data = 0;
  private padding = 0;
  private capturing: { name: string; limit: number } | undefined;

  /** `capture`: entries whose contents to keep, each with how many of its last bytes. */
  constructor(private readonly capture: Record<string, number> = {}) {}
  private ended = false;
  /** Why the stream is not a tar, once that is known. */
  problem: string | undefined;

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.ended && !this.problem) {
      if (this.data > 0) {
        const taken = Math.min(this.data, chunk.length - offset);
        if (this.capturing) this.keep(chunk.subarray(offset, offset + taken));
        this.data -= taken;
        offset += taken;
        if (this.data === 0) this.finishCapture();
        continue;
      }
      if (this.padding > 0) {
        const taken = Math.min(this.padding, chunk.length - offset);
        this.padding -= taken;
        offset += taken;
        continue;
      }
      const wanted = BLOCK - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + wanted)]);
      offset += Math.min(wanted, chunk.length - offset);
      if (this.header.length === BLOCK) this.readHeader();
    }
  }

  /** Whether the stream ended as a tar ends (its end-of-archive blocks), so no entry was cut off. */
  get complete(): boolean {
    return this.ended;
  }

  private readHeader(): void {
    const header = this.header;
    this.header = Buffer.alloc(0);
    if (header.every((byte) => byte === 0)) {
      this.ended = true;
      return;
    }
    if (!validChecksum(header)) {
      this.problem = `not a tar stream: a header at entry ${this.names.length + 1} has a bad checksum`;
      return;
    }
    const size = entrySize(header.subarray(124, 136));
    const prefix = text(header.subarray(345, 500));
    const name = text(header.subarray(0, 100));
    const path = prefix ? `${prefix}/${name}` : name;
    this.names.push(path);
    this.data = size;
    this.padding = Math.ceil(size / BLOCK) * BLOCK - size;
    const limit = this.capture[path];
    this.capturing = limit === undefined ? undefined : { name: path, limit };
    if (this.capturing) this.captured.set(path, Buffer.alloc(0));
    if (size === 0) this.finishCapture();
  }

  private finishCapture(): void {
    if (this.capturing) this.completed.add(this.capturing.name);
    this.capturing = undefined;
  }

  private keep(bytes: Buffer): void {
    const { name, limit } = this.capturing!;
    const kept = Buffer.concat([this.captured.get(name)!, bytes]);
    this.captured.set(name, kept.length > limit ? kept.subarray(kept.length - limit) : kept);
  }
}

const text = (field: Buffer) => {
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
};

/** Octal, or GNU base-256 for sizes of 8 GiB and more (a big first byte). */
function entrySize(field: Buffer): number {
  if (field[0]! & 0x80) {
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  return Number.parseInt(text(field).trim() || '0', 8);
}

/** The header's checksum: its bytes summed with the checksum field itself read as spaces. */
function validChecksum(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return Number.parseInt(text(header.subarray(148, 156)).trim(), 8) === sum;
}

/** What a base backup's tar lacks: a problem with the stream, or the required files not in it. */
export function missingFromBase(entries: TarEntryNames): string | undefined {
  if (entries.problem) return entries.problem;
  if (!entries.complete) return 'the tar stream ends before its end-of-archive blocks: it was cut short';
  const missing = REQUIRED_BASE_FILES.filter((name) => !entries.names.includes(name));
  return missing.length ? `the tar holds no ${missing.join(' and no ')} (${entries.names.length} entries): it is not a complete base backup` : undefined;
}
