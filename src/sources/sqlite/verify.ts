import { stat } from 'node:fs/promises';
import type { RestoreCheck, TableCheck } from '../../restore/check-restored';
import { readInventory, type SqliteInventory } from './inventory';
import type { SqliteToolOptions } from './sqlite-tool';

/**
 * Compares a restored copy's integrity_check and row counts with the backup's inventory, in the
 * shape of PostgreSQL's restore check (schema `main`, kind `table`), so reports show both alike.
 */
export function compareInventories(restored: SqliteInventory, expected: SqliteInventory, restoredBytes: number): RestoreCheck {
  const problems: string[] = [];
  const notes: string[] = [];
  if (restored.integrity !== 'ok') {
    problems.push(`integrity_check of the restored copy failed: ${restored.integrity.slice(0, 5).join('; ')}${restored.integrity.length > 5 ? ` (and ${restored.integrity.length - 5} more)` : ''}`);
  }
  if (expected.integrity !== 'ok') notes.push(`the backup's own integrity_check had reported: ${expected.integrity.slice(0, 3).join('; ')}`);
  const actualRows = new Map(restored.tables.map((table) => [table.name, table.rows]));
  const tables: TableCheck[] = expected.tables.map((table) => {
    const exists = actualRows.has(table.name);
    const actual = actualRows.get(table.name) ?? null;
    const ok = exists && actual !== null && actual === table.rows;
    if (!exists) problems.push(`table ${table.name} is missing`);
    else if (!ok) problems.push(`table ${table.name} has ${actual ?? 'unreadable'} rows, the backup recorded ${table.rows ?? 'unreadable'}`);
    return { schema: 'main', name: table.name, kind: 'table', expected: table.rows, actual, ok };
  });
  const known = new Set(expected.tables.map((table) => table.name));
  for (const table of restored.tables) if (!known.has(table.name)) notes.push(`table ${table.name} (${table.rows ?? 'unreadable'} rows) is not in the backup's inventory`);
  return { ok: problems.length === 0, tables, problems, notes, restoredBytes };
}

/** The restore test of a SQLite backup: integrity_check and row counts of the restored file. */
export async function verifyRestoredFile(file: string, expected: SqliteInventory, options: SqliteToolOptions = {}): Promise<RestoreCheck> {
  const restored = await readInventory(file, options);
  return compareInventories(restored, expected, (await stat(file)).size);
}
