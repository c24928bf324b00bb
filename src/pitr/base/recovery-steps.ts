import { shellQuote, type Manifest } from '../../backup/manifest';

/**
 * The commands that recover from this base backup with standard tools alone, for when keepsake
 * itself is gone: unpack the base into an empty data directory, let PostgreSQL fetch the archived
 * WAL (`wal/<timeline>/<segment>.zst`, copied from a target to /backups/wal), stop at a time.
 * The same steps are in README "Restoring by hand".
 */
export function manualRecoverySteps(manifest: Manifest, file = manifest.key.split('/').pop()!): string[] {
  const quoted = shellQuote(file);
  const encryption = manifest.encryption;
  const decrypt = !encryption ? undefined : 'recipients' in encryption ? 'age -d -i key.txt' : 'age -d';
  const decompress = { zstd: 'zstd -dc', gzip: 'gzip -dc', none: 'cat' }[manifest.compression.algorithm];
  const unpack = decrypt ? `${decrypt} ${quoted} | ${decompress}` : `${decompress} ${quoted}`;
  // The WAL archive is compressed with zstd (and encrypted like the base); a file's timeline is its name's first 8 characters.
  const walFile = `/backups/wal/$(echo %f | cut -c1-8)/%f.zst${encryption ? '.age' : ''}`;
  const fetchWal = decrypt ? `${decrypt} ${walFile} | zstd -dc > %p` : `zstd -dc ${walFile} > %p`;
  const major = manifest.server?.major ?? 'N';
  const start = manifest.physical ? `   # needs WAL from ${manifest.physical.startSegment} (timeline ${manifest.physical.timeline}) on` : '';
  return [
    `sha256sum ${quoted}   # expect ${manifest.sha256}`,
    'install -d -m 700 -o postgres -g postgres /var/lib/postgresql/recovered   # an empty data directory',
    `${unpack} | tar -x -C /var/lib/postgresql/recovered${decrypt ? '   # key.txt: an age identity of its recipients (or age asks for the passphrase)' : ''}`,
    `# copy the wal/ folder of any target to /backups/wal${start}`,
    'cat >> /var/lib/postgresql/recovered/postgresql.auto.conf <<\'EOF\'',
    `restore_command = '${fetchWal}'`,
    "recovery_target_time = '2026-11-30 11:59:00+00'",
    "recovery_target_action = 'promote'",
    'EOF',
    '# leave recovery_target_time out to replay all archived WAL; the newest WAL may be <segment>.partial.zst: decompress it into pg_wal/<segment> to replay it too',
    'touch /var/lib/postgresql/recovered/recovery.signal && chown -R postgres:postgres /var/lib/postgresql/recovered',
    `su postgres -c '/usr/lib/postgresql/${major}/bin/pg_ctl -D /var/lib/postgresql/recovered -l recovery.log start'   # PostgreSQL ${major}; recovery.log says where it stopped`,
  ];
}
