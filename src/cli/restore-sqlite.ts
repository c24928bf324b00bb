import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { preferredCopy, readCatalog, selectBackup, type CatalogEntry } from '../catalog/catalog';
import { UsageError, VerifyError } from '../errors';
import { formatBytes, formatDuration, formatTimestamp } from '../format';
import { describeTables } from '../postgres/relations';
import { fetchArchive } from '../restore/fetch';
import { withWorkDir } from '../restore/work-dir';
import { defaultSourceName, sqliteSourceFor } from '../sources';
import { integrityCheck } from '../sources/sqlite/inventory';
import { hasSqliteHeader } from '../sources/sqlite/sqlite-tool';
import type { SqliteSource } from '../sources/sqlite/sqlite-source';
import { storagesFrom } from '../storage';
import type { CommandContext } from './context';
import { withJobLock } from './job-lock';
import { interruptOnSignals } from './signals';

/** The restore command's options as a SQLite write-back reads them. */
export interface SqliteRestoreOptions {
  from?: string;
  db?: string;
  yes?: boolean;
  dryRun?: boolean;
  force?: boolean;
  wait: boolean;
  safetyBackup?: boolean;
}

/** Options that choose a PostgreSQL target or how pg_restore runs: a SQLite file has none of that. */
const POSTGRES_ONLY: [string, string][] = [
  ['targetDb', '--target-db'],
  ['targetUrl', '--target-url'],
  ['inPlace', '--in-place'],
  ['table', '--table'],
  ['withGlobals', '--with-globals'],
  ['keepOwnership', '--keep-ownership'],
  ['allowOtherDatabase', '--allow-other-database'],
];

/**
 * `keepsake restore` of a SQLite backup: the file is written back at its path (the configured one
 * of its name, else the one recorded at backup time) after a safety copy of the current file, only
 * with confirmation. Returns false when the backup chosen is not of a SQLite file (the PostgreSQL
 * restore goes on). Reads the catalog once more than a PostgreSQL restore needs: the backup's kind
 * is known only once it is chosen.
 */
export async function restoreIfSqlite(context: CommandContext, selector: string, options: SqliteRestoreOptions): Promise<boolean> {
  const config = context.config();
  const entry = selectBackup(await readCatalog(storagesFrom(context.storages(), options.from)), selector, { database: options.db ?? defaultSourceName(config) });
  const source = sqliteSourceFor(config, entry.manifest);
  if (!source) return false;
  const given = POSTGRES_ONLY.filter(([key]) => (options as unknown as Record<string, unknown>)[key] !== undefined && (options as unknown as Record<string, unknown>)[key] !== false).map(([, flag]) => flag);
  if (options.safetyBackup === false) given.push('--no-safety-backup');
  if (given.length) throw new UsageError(`${given.join(', ')}: not for ${entry.manifest.id}, a backup of the SQLite file ${source.path}, which is written back at its path (after a safety copy beside it); run \`keepsake restore ${entry.manifest.id} --db ${source.name}\` without ${given.length === 1 ? 'it' : 'them'}`);

  for (const line of await describeWriteBack(entry, source)) context.err(line);
  if (options.dryRun) return dryRunWriteBack(context, entry, source);
  await confirmWriteBack(source, options);

  const interrupt = interruptOnSignals(context);
  try {
    const started = Date.now();
    const result = await withJobLock(context, 'restore', { wait: options.wait, signal: interrupt.signal }, () =>
      withWorkDir(config, async (dir) => {
        // Fetched and checked (size, sha256, decompression) before the live file is touched.
        const fetched = await fetchArchive(preferredCopy(entry), entry.manifest, join(dir, 'backup.sqlite'), config.encryption, interrupt.signal);
        return source.restoreFile(createReadStream(fetched.path), { confirm: true, force: options.force });
      }),
    );
    context.out(`OK restored ${entry.manifest.tier}/${entry.manifest.id} into ${result.path} in ${formatDuration(Date.now() - started)} (${formatBytes(result.bytes)}, integrity_check ok)`);
    context.out(result.safetyCopy ? `  the previous file is kept as ${result.safetyCopy}; remove it when no longer needed` : '  there was no file at that path: nothing to keep');
    for (const warning of result.warnings) context.out(`  warning: ${warning}`);
  } finally {
    interrupt.dispose();
  }
  return true;
}

async function describeWriteBack(entry: CatalogEntry, source: SqliteSource): Promise<string[]> {
  const { manifest } = entry;
  const current = await stat(source.path).catch(() => undefined);
  const age = Math.max(0, Date.now() - Date.parse(manifest.startedAt));
  return [
    `Backup:  ${manifest.tier}/${manifest.id}, taken ${formatTimestamp(manifest.startedAt)} (${formatDuration(age)} ago), ${formatBytes(manifest.storedBytes)} stored, ${describeTables(manifest.inventory.tables)}`,
    `From:    ${preferredCopy(entry).location(manifest.key)}`,
    `Target:  ${source.path} (SQLite file${current ? `, ${formatBytes(current.size)} now` : ', not there now'})`,
    current
      ? `Effect:  replace it atomically with the backup (${formatBytes(manifest.rawBytes)}); a safety copy of the current file (its -wal included) is made beside it first, and its -wal/-shm are removed`
      : `Effect:  create it from the backup (${formatBytes(manifest.rawBytes)})`,
    'Before:  stop the application that uses it; keepsake refuses while the file is being written (--force to replace it anyway)',
  ];
}

async function dryRunWriteBack(context: CommandContext, entry: CatalogEntry, source: SqliteSource): Promise<true> {
  const config = context.config();
  await withWorkDir(config, async (dir) => {
    const fetched = await fetchArchive(preferredCopy(entry), entry.manifest, join(dir, 'backup.sqlite'), config.encryption);
    context.out(`ok   backup: ${formatBytes(fetched.rawBytes)} fetched, size, sha256 and decompression checked`);
    const integrity = (await hasSqliteHeader(fetched.path)) ? await integrityCheck(fetched.path, { readOnly: true }) : ['not a SQLite 3 database'];
    context.out(integrity === 'ok' ? 'ok   database: integrity_check ok' : `FAIL database: ${integrity.slice(0, 3).join('; ')}`);
    if (integrity !== 'ok') throw new VerifyError(`Dry run found problems; ${source.path} was not changed`);
  });
  context.out('Dry run passed; nothing was changed.');
  return true;
}

/** --yes, or the file's name typed at a terminal; without either nothing is touched. */
async function confirmWriteBack(source: SqliteSource, options: SqliteRestoreOptions): Promise<void> {
  if (options.yes) return;
  if (!process.stdin.isTTY) throw new UsageError(`Refusing to replace ${source.path} without confirmation: no terminal to ask on. Stop the application using it, check the plan with --dry-run, then run again with --yes`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Type the source's name "${source.name}" to replace ${source.path}: `);
    if (answer.trim() !== source.name) throw new UsageError('Not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}
