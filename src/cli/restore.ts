import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import pg from 'pg';
import { databaseFromUrl } from '../config/database-url';
import type { DatabaseConfig } from '../config';
import { UsageError, VerifyError } from '../errors';
import { describeDatabase } from '../postgres/connection';
import { describeTables } from '../postgres/relations';
import { dryRun, executeRestore, planRestore, type RestorePlan } from '../restore/restore';
import type { CommandContext } from './context';
import { formatBytes, formatDuration, formatTimestamp } from '../format';
import { interruptOnSignals } from './signals';
import type { TableName, TableSelection } from '../restore/table-selection';
import { withJobLock } from './job-lock';
import { applyGlobalsNear } from '../sources/globals/with-globals';
import { restoreIfSqlite } from './restore-sqlite';
import { restoreAt } from './restore-at';

export interface RestoreOptions {
  at?: string;
  dataDir?: string;
  from?: string;
  targetDb?: string;
  targetUrl?: string;
  yes?: boolean;
  dryRun?: boolean;
  safetyBackup: boolean;
  keepOwnership?: boolean;
  allowOtherDatabase?: boolean;
  inPlace?: boolean;
  wait: boolean;
  db?: string;
  withGlobals?: boolean;
  table?: string[];
  force?: boolean;
}

/** --table schema.name, given again for each table; the schema is required (the same name may be in several). */
function parseTables(values: string[] | undefined, options: RestoreOptions): TableName[] | undefined {
  if (!values?.length) return undefined;
  if (!options.targetDb && !options.targetUrl) throw new UsageError('restore --table restores into a new database: add --target-db NAME, a database that does not exist yet (the tables are never restored over the live database)');
  if (options.inPlace) throw new UsageError('--table and --in-place do not go together: --table restores into a new database (--target-db)');
  return values.map((value) => {
    const dot = value.indexOf('.');
    if (dot <= 0 || dot === value.length - 1) throw new UsageError(`--table ${value}: give the table with its schema, like --table public.${value.replace(/^\.|\.$/g, '') || 'orders'}`);
    return { schema: value.slice(0, dot), name: value.slice(dot + 1) };
  });
}

export function describePlan(plan: RestorePlan): string[] {
  const { manifest } = plan.entry;
  const { state } = plan;
  const name = plan.target.database;
  const age = Math.max(0, Date.now() - Date.parse(manifest.startedAt));
  const lines = [
    ...(plan.otherOrigin ? [`Warning: this backup is of database "${plan.otherOrigin}", not "${name}": restoring it puts ${plan.otherOrigin}'s data into ${name}`] : []),
    `Backup:  ${manifest.tier}/${manifest.id}, taken ${formatTimestamp(manifest.startedAt)} (${formatDuration(age)} ago), ${formatBytes(manifest.storedBytes)} stored, ${describeTables(manifest.inventory.tables)}`,
    `From:    ${plan.storage.location(manifest.key)}`,
    `Target:  ${describeDatabase(plan.target)} (PostgreSQL ${state.serverVersion})`,
  ];
  if (plan.tables) {
    const rows = (table: TableName) => manifest.inventory.tables.find((t) => t.schema === table.schema && t.name === table.name)?.rows;
    lines.push(`Tables:  ${plan.tables.map((table) => `${table.schema}.${table.name}${rows(table) === null || rows(table) === undefined ? '' : ` (${rows(table)} rows)`}`).join(', ')}`);
    lines.push(`Effect:  restore only these tables, with the types, functions and sequences they need, into the new database ${name} (restored as ${plan.copyName}, checked, then renamed); a foreign key to a table not restored is not created and is named at the end`);
    return lines;
  }
  const holds = `${state.tables} table${state.tables === 1 ? '' : 's'}, ${formatBytes(state.bytes)}`;
  if (!state.exists) lines.push(`Effect:  the database does not exist and will be created (the backup is restored as ${plan.copyName} and renamed to ${name} once checked)`);
  else if (plan.mode === 'swap') {
    lines.push(`Effect:  restore the backup beside ${name} (${holds}) as ${plan.copyName}, check it, then swap: ${name} refuses connections for a moment, is renamed to ${plan.keptName} and the restored copy takes its name`);
    lines.push(`Space:   the server needs room for the copy beside ${name}: about ${formatBytes(state.bytes)}; without it, use --in-place`);
    lines.push(`Kept:    ${plan.keptName} keeps ${name} as it is at the swap, with every write since the backup; drop it when no longer needed`);
  } else {
    lines.push(`Effect:  IN PLACE: DROP ${name} (${holds}) and restore the backup in its place; ${name} refuses connections until the restore is done`);
    lines.push(plan.safetyBackup ? 'Safety:  a pre-restore backup of it is taken first and put back if the restore fails; writes made after it are lost' : 'Safety:  NO safety backup (--no-safety-backup): its current data will be lost');
  }
  return lines;
}

/** What came along with the chosen tables, and what could not be restored without others. */
function describeSelection(selection: TableSelection): string[] {
  const lines = selection.broughtAlong.length ? [`also restored: ${selection.broughtAlong.join(', ')}`] : [];
  for (const { entry, needs } of selection.notRestored) {
    lines.push(`not restored: ${entry}: it needs ${needs.join(', ')}, which ${needs.length === 1 ? 'was' : 'were'} not restored (add ${needs.map((table) => `--table ${table}`).join(' ')} to restore it too)`);
  }
  return lines;
}

/**
 * Asks for the target's name, and for a backup of another database also for that database's name:
 * a number from `keepsake list` can point at another database's backup, and typing its name is
 * what proves the warning was read. --yes skips the first question, never the second.
 */
export async function confirm(plan: RestorePlan, options: RestoreOptions): Promise<void> {
  const origin = options.allowOtherDatabase ? undefined : plan.otherOrigin;
  if (origin && (options.yes || !process.stdin.isTTY)) {
    throw new UsageError(`Refusing to restore a backup of database "${origin}" into ${plan.target.database} without --allow-other-database (or typing "${origin}" at the prompt); nothing was changed`);
  }
  if (options.yes) return;
  if (!process.stdin.isTTY) throw new UsageError('Refusing to restore without confirmation: no terminal to ask on. Check the plan with --dry-run, then run again with --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // One line iterator for every answer: answers typed ahead are queued, not lost between questions.
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string, expected: string) => {
    rl.setPrompt(question);
    rl.prompt();
    const answer = await lines.next();
    if (answer.done || String(answer.value).trim() !== expected) throw new UsageError('Not confirmed; nothing was changed');
  };
  try {
    await ask(`Type the database name "${plan.target.database}" to go ahead: `, plan.target.database);
    if (origin) await ask(`Type the name of the backup's database "${origin}" to restore it into ${plan.target.database} anyway: `, origin);
  } finally {
    rl.close();
  }
}

export function registerRestore(program: Command, context: CommandContext): void {
  program
    .command('restore')
    .description('restore a backup into the configured database, another database (--target-db) or another server (--target-url)')
    .argument('[backup]', 'latest, a number from `keepsake list`, or an id (not with --at)')
    .option('--at <time>', 'point-in-time recovery (PITR=on): the data as it was at this time ("2026-11-30 11:59:00+01", 2026-11-30T10:59:00Z; an offset is required) or latest (everything archived)')
    .option('--data-dir <dir>', 'with --at: write a ready data directory (base backup, its WAL in pg_wal, recovery settings) into this empty folder instead of restoring into a database')
    .option('--target-db <name>', 'restore into this database on the same server (created if missing)')
    .option('--target-url <url>', 'restore into the database of this postgres:// URL (password better in PGPASSWORD)')
    .option('--from <target>', 'restore the copy on this target (a name from BACKUP_TARGETS or OFFSITE_TARGETS)')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--dry-run', 'check everything (integrity, connectivity, versions, privileges, space, mode) and change nothing')
    .option('--in-place', 'drop the target and restore in its place (connections refused throughout), for a server without room for a second copy')
    .option('--no-safety-backup', 'with --in-place: do not back up the target before dropping it')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .option('--allow-other-database', "restore a backup made from another database than the target (else its name must be typed)")
    .option('--db <name>', 'the database whose backup `latest` means, and the default target (a database of POSTGRES_DB); or a SQLite file by its stem, written back at its path')
    .option('--with-globals', 'apply the globals backed up nearest in time first (roles that exist are kept), then restore with owners and grants')
    .option('--table <schema.name>', 'restore only this table (repeat for more), with the types, sequences and functions it needs, into a new database (--target-db)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--keep-ownership', 'restore owners and grants too (default: --no-owner --no-privileges; the roles must exist)')
    .option('--force', 'SQLite: replace the file even while an application is writing to it (it loses what it writes meanwhile)')
    .action(async (selector: string | undefined, options: RestoreOptions) => {
      if (options.at !== undefined || options.dataDir !== undefined) return restoreAt(context, selector, options);
      if (selector === undefined) throw new UsageError('Name the backup to restore (latest, a number from `keepsake list`, or an id), or give --at TIME for a point-in-time restore');
      // A SQLite backup is written back to its file (src/cli/restore-sqlite.ts); the rest is PostgreSQL's.
      if (await restoreIfSqlite(context, selector, options)) return;
      if (options.force) throw new UsageError('--force is for restoring a SQLite file; a PostgreSQL restore is confirmed with --yes');
      const config = context.config();
      if (options.targetDb && options.targetUrl) throw new UsageError('Give --target-db or --target-url, not both');
      const targetDb = options.targetDb ?? options.db;
      let target: DatabaseConfig = targetDb ? { ...config.database, database: targetDb } : config.database;
      if (options.targetUrl) target = databaseFromUrl(options.targetUrl, { name: '--target-url' }, config.database);
      const tables = parseTables(options.table, options);
      const deps = { config, storages: context.storages(), log: context.log() };
      const plan = await planRestore(deps, { selector, from: options.from, target, safetyBackup: options.safetyBackup, keepOwnership: options.keepOwnership || options.withGlobals, inPlace: options.inPlace, db: options.db, tables });
      if (plan.entry.manifest.archiveFormat !== 'custom') throw new UsageError(`${plan.entry.manifest.id} holds the globals: apply them with \`keepsake restore <database backup> --with-globals\` (or by hand: README "Restoring by hand")`);
      for (const line of describePlan(plan)) context.err(line);

      if (options.dryRun) {
        const checks = await dryRun(deps, plan);
        for (const check of checks) context.out(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
        if (checks.some((check) => !check.ok)) throw new VerifyError('Dry run found problems; nothing was changed');
        return context.out('Dry run passed; nothing was changed.');
      }
      await confirm(plan, options);
      const interrupt = interruptOnSignals(context);
      try {
        const outcome = await withJobLock(context, 'restore', { wait: options.wait, signal: interrupt.signal }, async () => {
          if (options.withGlobals) {
            // The roles first: the database's owners and grants name them. Through the server's maintenance database.
            const applied = await applyGlobalsNear(deps, plan.entry.manifest, { ...plan.target, database: 'postgres' }, { from: options.from, scratch: false, signal: interrupt.signal });
            context.out(`OK applied globals ${applied.id}`);
            for (const note of applied.notes) context.out(`  note: ${note}`);
          }
          return executeRestore(deps, plan, interrupt.signal);
        });
        const checked = outcome.check.tables;
        const only = outcome.tables ? `${checked.length} table${checked.length === 1 ? '' : 's'} of ` : '';
        context.out(`OK restored ${only}${plan.entry.manifest.tier}/${plan.entry.manifest.id} into ${describeDatabase(plan.target)} in ${formatDuration(outcome.durationMs)}`);
        context.out(`  ${checked.filter((t) => t.ok).length} of ${checked.length} tables match the row counts recorded at backup time`);
        if (outcome.tables) for (const line of describeSelection(outcome.tables)) context.out(`  ${line}`);
        for (const note of outcome.check.notes) context.out(`  note: ${note}`);
        if (outcome.safetyBackupId) context.out(`  the previous contents are kept as pre-restore/${outcome.safetyBackupId}`);
        if (outcome.keptDatabase) {
          context.out(`  the previous database is kept as ${outcome.keptDatabase}, with every write made before the swap; drop it when no longer needed: DROP DATABASE ${pg.escapeIdentifier(outcome.keptDatabase)};`);
        }
        for (const warning of outcome.warnings) context.out(`  warning: ${warning}`);
      } finally {
        interrupt.dispose();
      }
    });
}
