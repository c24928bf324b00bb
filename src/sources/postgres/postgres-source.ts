import type pg from 'pg';
import { postgresFacts, type Manifest } from '../../backup/manifest';
import { dumpArgs, startDump } from '../../backup/dump';
import { readTocAsItPasses } from '../../backup/toc';
import { judgeArchiveContents, type ContentsRequest } from '../../backup/contents';
import type { CompressionAlgorithm, DatabaseConfig } from '../../config';
import { UnavailableError } from '../../errors';
import { chooseBinaryFor, findBinaryFor, findPgBinaries } from '../../postgres/binaries';
import { connect, describeDatabase, withClient } from '../../postgres/connection';
import { describeUnreadable, readUnreadable } from '../../postgres/privileges';
import { exportSnapshot } from '../../postgres/snapshot';
import { checkRestored } from '../../restore/check-restored';
import { runPgRestore } from '../../restore/pg-restore';
import { scratchDatabase, type ScratchRestoreOptions, type ScratchTarget, type Source, type SourceSnapshot } from '../source';

export interface PostgresSourceSettings {
  /** The connection, with `database` the one to back up. */
  db: DatabaseConfig;
  dumpExtraArgs: readonly string[];
  pgBinDir?: string;
  compression: CompressionAlgorithm;
}

/** One PostgreSQL database: pg_dump's custom archive, taken in an exported snapshot the row counts share. */
export function postgresSource(settings: PostgresSourceSettings): Source {
  const { db } = settings;
  return {
    kind: 'postgres',
    name: db.database,
    format: '.dump',
    describe: () => describeDatabase(db),
    preflight: () => withClient(db, refuseUnreadable),
    snapshot: (options) => snapshotDatabase(settings, options?.contents ?? FULL),
    restoreScratch: (file: string, target: ScratchTarget, manifest: Manifest, options: ScratchRestoreOptions) =>
      findBinaryFor('pg_restore', postgresFacts(manifest).pgDump.major, settings.pgBinDir).then((pgRestore) => runPgRestore(pgRestore, scratchDatabase(target), file, options)),
    verifyRestored: (target: ScratchTarget, manifest: Manifest) => checkRestored(scratchDatabase(target), manifest),
  };
}

const FULL: ContentsRequest = { schemaOnly: false, excludeTableData: [] };

async function snapshotDatabase({ db, dumpExtraArgs, pgBinDir, compression }: PostgresSourceSettings, contents: ContentsRequest): Promise<SourceSnapshot> {
  const client = await connect(db);
  let snapshot;
  try {
    await refuseUnreadable(client);
    snapshot = await exportSnapshot(client);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  try {
    const server = snapshot.server;
    const [dumps, restores] = await Promise.all([findPgBinaries('pg_dump', { pgBinDir }), findPgBinaries('pg_restore', { pgBinDir })]);
    const pgDump = chooseBinaryFor('pg_dump', dumps, server.major);
    // Lists the archive's table of contents as it is stored: it must read what this pg_dump writes.
    const pgRestore = chooseBinaryFor('pg_restore', restores, pgDump.major);
    const args = dumpArgs(snapshot.id, dumpExtraArgs, contents);
    const taken = snapshot;
    return {
      facts: {
        database: db.database,
        host: db.host,
        server: { version: server.version, major: server.major },
        pgDump: { version: pgDump.version, major: pgDump.major, args: args.filter((arg) => !arg.startsWith('--snapshot=')) },
        archiveFormat: 'custom',
      },
      // A schema-only backup claims no rows, so it need not count them.
      readInventory: () => taken.readInventory({ countRows: !contents.schemaOnly }),
      dump: (stdout) => startDump(pgDump, db, args, stdout),
      checkStored() {
        const toc = readTocAsItPasses(compression, pgRestore);
        return { tap: toc.tap, stop: toc.stop, verify: async (inventory) => judgeArchiveContents(await toc.listing(), inventory, contents, describeDatabase(db)) };
      },
      release: (options) => taken.release(options),
    };
  } catch (error) {
    await snapshot.release({ abandon: true });
    throw error;
  }
}

/**
 * Pre-flight: a role that cannot read every table, sequence and large object would die mid-dump,
 * or fail a row count that pg_dump then reports as a snapshot it could not import.
 */
async function refuseUnreadable(client: pg.Client): Promise<void> {
  const problem = describeUnreadable(await readUnreadable(client));
  if (problem) throw new UnavailableError(problem);
}
