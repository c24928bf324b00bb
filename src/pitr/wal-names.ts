import { ENCRYPTED_SUFFIX } from '../backup/keys';

/**
 * PostgreSQL's WAL names and positions, and where keepsake files each WAL file on a target
 * (docs/architecture.md "Point-in-time recovery"). Pure functions: no I/O.
 *
 * A segment's name is TTTTTTTT XXXXXXXX YYYYYYYY (hex): timeline, then the segment number split in
 * "log" and "seg" parts, 0x100000000 / segment size segments per log. An LSN "X/Y" is a 64-bit byte position.
 */

export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const TWO_32 = 0x1_0000_0000n;

export type WalFileKind = 'segment' | 'partial' | 'history';

export interface WalFileName {
  /** The file's name as PostgreSQL writes it: `000000010000000000000003`, `….partial`, `00000002.history`. */
  name: string;
  kind: WalFileKind;
  timeline: number;
  /** Segment number (segments and partials); undefined for a history file. */
  segno?: bigint;
}

const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$/;
const HISTORY = /^([0-9A-F]{8})\.history$/;

const hex8 = (value: number | bigint) => value.toString(16).toUpperCase().padStart(8, '0');

/** "0/2000028" -> 33554472n. Throws on anything else. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`not a WAL position (LSN) like 0/2000028: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffff_ffffn).toString(16).toUpperCase()}`;
}

/** The segment number holding a position. */
export function segnoOfLsn(lsn: bigint, segmentBytes = DEFAULT_SEGMENT_BYTES): bigint {
  return lsn / BigInt(segmentBytes);
}

/** The name of segment `segno` on `timeline`. */
export function segmentName(timeline: number, segno: bigint, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const perLog = TWO_32 / BigInt(segmentBytes);
  return `${hex8(timeline)}${hex8(segno / perLog)}${hex8(segno % perLog)}`;
}

/** Parses a WAL file's name (a segment, a partial segment, a timeline history file), or undefined for anything else. */
export function parseWalName(name: string, segmentBytes = DEFAULT_SEGMENT_BYTES): WalFileName | undefined {
  const history = HISTORY.exec(name);
  if (history) return { name, kind: 'history', timeline: Number.parseInt(history[1]!, 16) };
  const segment = SEGMENT.exec(name);
  if (!segment) return undefined;
  const perLog = TWO_32 / BigInt(segmentBytes);
  const segno = BigInt(`0x${segment[2]}`) * perLog + BigInt(`0x${segment[3]}`);
  return { name, kind: segment[4] ? 'partial' : 'segment', timeline: Number.parseInt(segment[1]!, 16), segno };
}

/** The name of the segment after this one on the same timeline. */
export function nextSegmentName(name: string, segmentBytes = DEFAULT_SEGMENT_BYTES): string {
  const parsed = parseWalName(name, segmentBytes);
  if (parsed?.segno === undefined) throw new Error(`not a WAL segment name: ${name}`);
  return segmentName(parsed.timeline, parsed.segno + 1n, segmentBytes);
}

/** Every WAL file lives under `wal/<timeline>/`. */
export const WAL_PREFIX = 'wal/';
/** The WAL manifest's suffix: the file is archived once this object exists (it is written last). */
export const WAL_MANIFEST_SUFFIX = '.json';

export function walFolder(timeline: number): string {
  return `${WAL_PREFIX}${hex8(timeline)}`;
}

/** `wal/00000001/000000010000000000000003.zst[.age]`: the stored (compressed, maybe encrypted) WAL file. */
export function walDataKey(file: WalFileName, compressionSuffix: string, encrypted: boolean): string {
  return `${walFolder(file.timeline)}/${file.name}${compressionSuffix}${encrypted ? ENCRYPTED_SUFFIX : ''}`;
}

/** `wal/00000001/000000010000000000000003.json`: the WAL manifest, written after the data object. */
export function walManifestKey(file: WalFileName): string {
  return `${walFolder(file.timeline)}/${file.name}${WAL_MANIFEST_SUFFIX}`;
}

/** The WAL file a stored key belongs to, and whether the key is its manifest; undefined for keys that are not WAL. */
export function walFileOfKey(key: string, segmentBytes = DEFAULT_SEGMENT_BYTES): { file: WalFileName; manifest: boolean } | undefined {
  if (!key.startsWith(WAL_PREFIX)) return undefined;
  const base = key.split('/').pop()!;
  const manifest = base.endsWith(WAL_MANIFEST_SUFFIX);
  const name = manifest ? base.slice(0, -WAL_MANIFEST_SUFFIX.length) : base.replace(/(\.zst|\.gz)?(\.age)?$/, '');
  const file = parseWalName(name, segmentBytes);
  return file && { file, manifest };
}
