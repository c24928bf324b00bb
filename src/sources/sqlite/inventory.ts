import { runSqlite, runSqliteOrFail, quoteIdentifier, type SqliteToolOptions } from './sqlite-tool';

export interface SqliteTableCount {
  name: string;
  /** Exact row count of the snapshot; null when the table could not be read (a corrupt file). */
  rows: number | null;
}

/** What a SQLite backup holds, read from the snapshot file itself: the bytes stored are the bytes counted. */
export interface SqliteInventory {
  /** `PRAGMA integrity_check`: 'ok', or every problem it reported. */
  integrity: 'ok' | string[];
  tables: SqliteTableCount[];
}

// Ordinary tables only: sqlite_* are SQLite's own (sqlite_sequence, sqlite_stat1), and a virtual
// table needs its module to be read at all (its shadow tables, ordinary ones, are counted).
const USER_TABLES = `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`;

/** `PRAGMA integrity_check` of a file; a file too damaged to check gives sqlite3's error as the problem. */
export async function integrityCheck(file: string, options: SqliteToolOptions = {}): Promise<'ok' | string[]> {
  const { stdout, result } = await runSqlite(file, ['PRAGMA integrity_check'], options);
  const lines = stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  if (result.exitCode === 0 && lines.length === 1 && lines[0] === 'ok') return 'ok';
  const said = result.stderrTail.trim().replace(/^Error: (in prepare, )?/gm, '');
  return [...lines.filter((line) => line !== 'ok'), ...(result.exitCode === 0 || !said ? [] : [said])];
}

/** The user tables' names, in order. */
export async function tableNames(file: string, options: SqliteToolOptions = {}): Promise<string[]> {
  const stdout = await runSqliteOrFail(`Listing the tables of ${file}`, file, ['.mode json', USER_TABLES], options);
  // .mode json prints nothing at all for an empty result.
  return stdout.trim() ? (JSON.parse(stdout) as { name: string }[]).map((row) => row.name) : [];
}

/**
 * Every table's exact row count, one statement each so one unreadable table leaves the others
 * counted. Each line is "<index>|<count>": the index is ours, so no table name needs parsing back.
 */
export async function countRows(file: string, names: readonly string[], options: SqliteToolOptions = {}): Promise<SqliteTableCount[]> {
  if (names.length === 0) return [];
  const statements = names.map((name, index) => `SELECT ${index}, count(*) FROM main.${quoteIdentifier(name)}`);
  const { stdout } = await runSqlite(file, ['.mode list', '.separator |', ...statements], options);
  const counts = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const match = /^(\d+)\|(\d+)$/.exec(line.trim());
    if (match) counts.set(Number(match[1]), Number(match[2]));
  }
  return names.map((name, index) => ({ name, rows: counts.get(index) ?? null }));
}

/** integrity_check and every table's count of one file (a snapshot, or a restored copy). */
export async function readInventory(file: string, options: SqliteToolOptions = {}): Promise<SqliteInventory> {
  const integrity = await integrityCheck(file, options);
  let names: string[];
  try {
    names = await tableNames(file, options);
  } catch (error) {
    // A file damaged beyond listing its tables: integrity_check has said so already.
    if (integrity !== 'ok') return { integrity, tables: [] };
    throw error;
  }
  return { integrity, tables: await countRows(file, names, options) };
}
