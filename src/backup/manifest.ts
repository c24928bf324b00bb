import { z } from 'zod';
import { COMPRESSIONS } from '../config/schema';
import { TIERS } from './keys';
import { UsageError } from '../errors';
import { SOURCE_KINDS, type SourceRef } from '../sources/source';

/**
 * The manifest is the backup's certificate. It is written last, after the data object is durable
 * on every target, so a backup with a manifest is complete; one without is never listed.
 * It holds no secrets: no passwords, no connection strings.
 */
export const manifestSchema = z.object({
  format: z.literal(1),
  id: z.string(),
  tier: z.enum(TIERS),
  /**
   * What was backed up. Absent in manifests written before sources existed: those are of a
   * PostgreSQL database, `database` (sourceOf reads them so).
   */
  source: z.object({ kind: z.enum(SOURCE_KINDS), name: z.string() }).optional(),
  /** The database (for the globals: the one pg_dumpall connected through). */
  database: z.string(),
  host: z.string(),
  key: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** PostgreSQL sources: the server and the dump tool (absent for a SQLite file; see `sqlite`). */
  server: z.object({ version: z.string(), major: z.number() }).optional(),
  pgDump: z.object({ version: z.string(), major: z.number(), args: z.array(z.string()) }).optional(),
  /** SQLite sources: the sqlite3 tool that made the online copy. */
  sqlite: z.object({ version: z.string() }).optional(),
  /**
   * `custom`: a pg_dump archive for pg_restore; `plain`: SQL for psql (the globals); `sqlite`: a SQLite
   * database file; `tar`: a base backup, pg_basebackup's tar stream of the data directory (PITR).
   */
  archiveFormat: z.enum(['custom', 'plain', 'sqlite', 'tar']),
  /**
   * Base backups only: where in the WAL it starts and becomes consistent, and which cluster it is of.
   * Recovery replays archived WAL from `startSegment` on; a restore can stop no earlier than `stopLsn`.
   */
  physical: z
    .object({
      timeline: z.number(),
      startLsn: z.string(),
      stopLsn: z.string(),
      /** The first WAL file this backup needs: the oldest WAL retention may keep for it. */
      startSegment: z.string(),
      systemIdentifier: z.string(),
      segmentBytes: z.number(),
      pgBasebackup: z.object({ version: z.string(), major: z.number() }),
    })
    .optional(),
  /** The globals only: false when the server would not let us read role passwords (--no-role-passwords). */
  rolePasswords: z.boolean().optional(),
  compression: z.object({ algorithm: z.enum(COMPRESSIONS), level: z.number() }),
  /**
   * Set when the stored object is age-encrypted: to whom (public keys only), or with a passphrase.
   * Never a private key or the passphrase itself. Everything else here stays readable without keys.
   */
  encryption: z
    .union([z.object({ format: z.literal('age'), recipients: z.array(z.string()).min(1) }).strict(), z.object({ format: z.literal('age'), passphrase: z.literal(true) }).strict()])
    .optional(),
  /**
   * What the backup leaves out on purpose: all data (schema-only), or the rows of the tables
   * PGDUMP_EXCLUDE_TABLE_DATA named (schema.name). Absent: a full backup, as every older manifest is.
   */
  contents: z.object({ schemaOnly: z.boolean(), excludedTableData: z.array(z.string()) }).optional(),
  rawBytes: z.number(),
  storedBytes: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inventory: z.object({
    schemas: z.array(z.string()),
    extensions: z.array(z.string()),
    tables: z.array(z.object({ schema: z.string(), name: z.string(), kind: z.enum(['table', 'partitioned', 'matview']), rows: z.number().nullable() })),
    sequences: z.array(z.object({ schema: z.string(), name: z.string(), lastValue: z.string().nullable() })),
    /** The globals: the roles and tablespaces they create (the bootstrap superuser aside). */
    roles: z.array(z.string()).optional(),
    tablespaces: z.array(z.string()).optional(),
    /** Base backups: the cluster's databases when it was taken. */
    databases: z.array(z.string()).optional(),
    /** SQLite: `PRAGMA integrity_check` of the stored copy, 'ok' or every problem it reported. */
    integrity: z.union([z.literal('ok'), z.array(z.string())]).optional(),
  }),
  targets: z.array(z.object({ target: z.string(), location: z.string() })),
  keepsake: z.object({ version: z.string() }),
}).refine(
  (manifest) =>
    manifest.archiveFormat === 'sqlite' ||
    (manifest.archiveFormat === 'tar' ? manifest.server !== undefined && manifest.physical !== undefined : manifest.server !== undefined && manifest.pgDump !== undefined),
  { message: 'a PostgreSQL backup names its server and pg_dump (a base backup: its server and WAL positions)' },
);

export type Manifest = z.infer<typeof manifestSchema>;

/** The source a backup is of; manifests from before sources were PostgreSQL databases. */
export function sourceOf(manifest: Pick<Manifest, 'source' | 'database'>): SourceRef {
  return manifest.source ?? { kind: 'postgres', name: manifest.database };
}

/** A PostgreSQL backup's server and dump tool; a backup without them (a SQLite file) is refused with what to do instead. */
export function postgresFacts(manifest: Pick<Manifest, 'id' | 'server' | 'pgDump'>): { server: NonNullable<Manifest['server']>; pgDump: NonNullable<Manifest['pgDump']> } {
  if (manifest.server && !manifest.pgDump) throw new UsageError(`${manifest.id} is a base backup (PITR), not a dump: restore it to a point in time with \`keepsake restore --at TIME\``);
  if (!manifest.server || !manifest.pgDump) throw new UsageError(`${manifest.id} is not a PostgreSQL backup (a SQLite file): restore it with \`keepsake restore ${manifest.id} --db <name>\` (README "SQLite databases")`);
  return { server: manifest.server, pgDump: manifest.pgDump };
}

/** The name keys, ids, list, retention and `--db` group a backup by. */
export const sourceName = (manifest: Pick<Manifest, 'source' | 'database'>): string => sourceOf(manifest).name;

export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Returns undefined for a manifest that is not ours or is damaged; the catalog reports those. */
export function parseManifest(body: Buffer): Manifest | undefined {
  try {
    const result = manifestSchema.safeParse(JSON.parse(body.toString('utf8')));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** Quotes a word for a POSIX shell unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The commands that restore this backup with standard tools, for when keepsake itself is gone. */
export function manualRestoreCommands(manifest: Manifest, file = manifest.key.split('/').pop()!): string[] {
  const quotedFile = shellQuote(file);
  const target = shellQuote(`${manifest.database}_restored`);
  const decompress = { zstd: 'zstd -dc', gzip: 'gzip -dc', none: undefined }[manifest.compression.algorithm];
  // An encrypted backup is decrypted first: with the identity file, or age asks for the passphrase.
  const encryption = manifest.encryption;
  const decrypt = !encryption ? undefined : 'recipients' in encryption ? `age -d -i key.txt ${quotedFile}` : `age -d ${quotedFile}`;
  const stream = decrypt ? [decrypt, decompress].filter(Boolean).join(' | ') : decompress ? `${decompress} ${quotedFile}` : `cat ${quotedFile}`;
  const note = !encryption ? '' : 'recipients' in encryption ? '   # key.txt: the age identity file of one of its recipients' : '   # age asks for the passphrase';
  // A SQLite backup is the database file itself: decompressed, it is ready to put in place (with the application stopped).
  if (manifest.archiveFormat === 'sqlite') {
    const dbFile = shellQuote(manifest.database.split('/').pop() || `${sourceName(manifest)}.db`);
    return [`sha256sum ${quotedFile}   # expect ${manifest.sha256}`, `${stream} > ${dbFile}${note}`, `sqlite3 ${dbFile} 'PRAGMA integrity_check'   # expect ok`];
  }
  // The globals are SQL: psql as a superuser applies them; "already exists" errors for roles present are harmless.
  if (manifest.archiveFormat === 'plain') return [`sha256sum ${quotedFile}   # expect ${manifest.sha256}`, `${stream} | psql -d postgres${note}`];
  return [`sha256sum ${quotedFile}   # expect ${manifest.sha256}`, `createdb ${target}`, `${stream} | pg_restore --no-owner --no-privileges -d ${target}${note}`];
}
