import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackupLabel } from '../../src/pitr/base/base-positions';
import { TarEntryNames, missingFromBase } from '../../src/pitr/base/tar-entries';

const LABEL = `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
CHECKPOINT LOCATION: 0/2000060
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-12-01 01:00:00 UTC
LABEL: pg_basebackup base backup
START TIMELINE: 1
`;
const MANIFEST_TAIL = `{ "Path": "global/pg_control", "Size": 8192, "Last-Modified": "2026-12-01 01:00:00 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "1a2b3c4d" }
],
"WAL-Ranges": [
{ "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
],
"Manifest-Checksum": "0f00"}
`;

describe('where a base backup starts, from its backup_label', () => {
  it('reads the start position, its segment and the timeline', () => {
    expect(parseBackupLabel(LABEL)).toEqual({ timeline: 1, startLsn: '0/2000028', startSegment: '000000010000000000000002' });
  });

  it('reads high positions and later timelines', () => {
    const label = LABEL.replace('0/2000028 (file 000000010000000000000002)', '1A/FF000028 (file 000000020000001A000000FF)').replace('START TIMELINE: 1', 'START TIMELINE: 2');
    expect(parseBackupLabel(label)).toEqual({ timeline: 2, startLsn: '1A/FF000028', startSegment: '000000020000001A000000FF' });
  });

  it('says what a label lacks', () => {
    expect(parseBackupLabel('LABEL: x\n')).toMatch(/^backup_label does not say where the backup starts/);
    expect(parseBackupLabel(LABEL.replace('START TIMELINE: 1', ''))).toMatch(/^backup_label does not say where the backup starts/);
  });
});

describe('reading a tar\'s entries as it streams', () => {
  /** A real tar made by tar(1), fed in chunks of every size so headers and data split anywhere. */
  function tarOf(files: Record<string, string | Buffer>): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    return execFileSync('tar', ['--format=ustar', '-C', dir, '-cf', '-', ...Object.keys(files)]);
  }
  const read = (bytes: Buffer, chunk: number, capture?: Record<string, number>) => {
    const entries = new TarEntryNames(capture);
    for (let at = 0; at < bytes.length; at += chunk) entries.push(bytes.subarray(at, at + chunk));
    return entries;
  };

  it.each([1, 7, 512, 4096, 1 << 20])('finds every name and keeps the asked contents, in chunks of %i bytes', (chunk) => {
    const big = Buffer.alloc(70_000, 'x');
    const bytes = tarOf({ backup_label: LABEL, PG_VERSION: '15\n', big, backup_manifest: `{"Files": [],\n${MANIFEST_TAIL}` });
    const entries = read(bytes, chunk, { backup_label: 65_536, backup_manifest: 100 });
    expect(entries.names).toEqual(['backup_label', 'PG_VERSION', 'big', 'backup_manifest']);
    expect(entries.captured.get('backup_label')!.toString()).toBe(LABEL);
    // Only the end of a long entry is kept.
    expect(entries.captured.get('backup_manifest')!.toString()).toBe(MANIFEST_TAIL.slice(-100));
    expect(entries.captured.has('big')).toBe(false);
    expect([...entries.completed]).toEqual(['backup_label', 'backup_manifest']);
    expect(missingFromBase(entries)).toBeUndefined();
  });

  it('a tar without backup_manifest, one cut short, and bytes that are no tar are each refused', () => {
    const noManifest = tarOf({ backup_label: LABEL, PG_VERSION: '15\n' });
    expect(missingFromBase(read(noManifest, 4096))).toBe('the tar holds no backup_manifest (2 entries): it is not a complete base backup');
    const whole = tarOf({ backup_label: LABEL, backup_manifest: MANIFEST_TAIL });
    expect(missingFromBase(read(whole.subarray(0, 1536), 4096))).toBe('the tar stream ends before its end-of-archive blocks: it was cut short');
    expect(missingFromBase(read(Buffer.alloc(2048, 'z'), 4096))).toBe('not a tar stream: a header at entry 1 has a bad checksum');
  });
});
