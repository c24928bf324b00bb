import { VerifyError } from '../errors';
import type { Inventory, TableCount } from '../postgres/snapshot';
import type { Manifest } from './manifest';
import { tablesWithoutData, tablesWithoutDefinition } from './toc';

/** What a backup leaves out on purpose: everything's data (schema-only), or some tables' data. */
export interface ContentsRequest {
  schemaOnly: boolean;
  /** PGDUMP_EXCLUDE_TABLE_DATA patterns, as pg_dump's --exclude-table-data takes them. */
  excludeTableData: readonly string[];
}

/** A manifest's `contents`; absent in a manifest means a full backup. */
export interface BackupContents {
  schemaOnly: boolean;
  /** The tables (schema.name) whose rows were left out: they restore empty. */
  excludedTableData: string[];
}

/** The pg_dump options that leave out what was asked, and nothing else. */
export function contentsArgs(request: ContentsRequest): string[] {
  if (request.schemaOnly) return ['--schema-only'];
  return request.excludeTableData.map((pattern) => `--exclude-table-data=${pattern}`);
}

/** A manifest's contents, old manifests (without the field) read as full backups. */
export function contentsOf(manifest: Pick<Manifest, 'contents'>): BackupContents {
  return manifest.contents ?? { schemaOnly: false, excludedTableData: [] };
}

/** "schema only (no table data)", "data of 2 tables excluded: public.events, audit.log"; undefined for a full backup. */
export function describeContents(manifest: Pick<Manifest, 'contents'>): string | undefined {
  const { schemaOnly, excludedTableData: excluded } = contentsOf(manifest);
  if (schemaOnly) return 'schema only (no table data)';
  if (!excluded.length) return undefined;
  return `data of ${excluded.length} table${excluded.length === 1 ? '' : 's'} excluded: ${excluded.join(', ')}`;
}

/** The counted tables whose data the archive must hold: none for schema-only, all but the excluded ones otherwise. */
export function tablesWithKeptData(manifest: Pick<Manifest, 'contents' | 'inventory'>): TableCount[] {
  const { schemaOnly, excludedTableData } = contentsOf(manifest);
  if (schemaOnly) return [];
  const excluded = new Set(excludedTableData);
  return manifest.inventory.tables.filter((table) => !excluded.has(`${table.schema}.${table.name}`));
}

/**
 * psql's pattern rules, as pg_dump applies them to --exclude-table-data: an unquoted dot separates
 * schema and name, unquoted letters fold to lower case, `*` and `?` are wildcards, double quotes
 * keep case and wildcards literal. A pattern without a schema is taken to match in any schema (pg_dump
 * limits it to visible tables): it only vouches for tables pg_dump already left out.
 */
export function matchesTablePattern(pattern: string, table: { schema: string; name: string }): boolean {
  const parts: string[] = [''];
  let quoted = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '"') {
      if (quoted && pattern[i + 1] === '"') {
        parts[parts.length - 1] += '"';
        i++;
      } else quoted = !quoted;
    } else if (!quoted && ch === '.') parts.push('');
    else if (!quoted && ch === '*') parts[parts.length - 1] += '.*';
    else if (!quoted && ch === '?') parts[parts.length - 1] += '.';
    else parts[parts.length - 1] += (quoted ? ch : ch.toLowerCase()).replace(/[\\^$.|+()[\]{}*?]/g, '\\$&');
  }
  const whole = (regex: string, text: string) => new RegExp(`^(?:${regex})$`).test(text);
  const name = parts[parts.length - 1]!;
  const schema = parts.length > 1 ? parts[parts.length - 2]! : undefined;
  return whole(name, table.name) && (schema === undefined || whole(schema, table.schema));
}

/**
 * Judges the archive's table of contents against what was asked: every counted table has its data
 * (a pg_dump told or wrapped to leave data out still exits 0, and only a restore would notice),
 * except the tables PGDUMP_EXCLUDE_TABLE_DATA names; a schema-only archive has every table's
 * definition. Returns the tables whose data was left out; throws, and nothing is stored, otherwise.
 */
export function judgeArchiveContents(listing: string, inventory: Inventory, request: ContentsRequest, database: string): BackupContents {
  if (request.schemaOnly) {
    const undefinedTables = tablesWithoutDefinition(listing, inventory.tables);
    if (undefinedTables.length) throw archiveLacks(database, `the definition of ${undefinedTables.length} tables (${sample(undefinedTables)})`);
    return { schemaOnly: true, excludedTableData: [] };
  }
  const missing = tablesWithoutData(listing, inventory.tables);
  const byTable = new Map(inventory.tables.map((table) => [`${table.schema}.${table.name}`, table]));
  const excluded = missing.filter((name) => request.excludeTableData.some((pattern) => matchesTablePattern(pattern, byTable.get(name)!)));
  const unexplained = missing.filter((name) => !excluded.includes(name));
  if (unexplained.length) {
    const plain = inventory.tables.filter((table) => table.kind === 'table').length;
    throw archiveLacks(database, `data for ${unexplained.length} of ${plain} tables (${sample(unexplained)})`);
  }
  return { schemaOnly: false, excludedTableData: excluded };
}

/** The inventory as the backup keeps it: no row count is claimed for a table whose rows were left out. */
export function inventoryAsKept(inventory: Inventory, contents: BackupContents): Inventory {
  const excluded = new Set(contents.excludedTableData);
  if (!contents.schemaOnly && !excluded.size) return inventory;
  const tables = inventory.tables.map((table) => (contents.schemaOnly || excluded.has(`${table.schema}.${table.name}`) ? { ...table, rows: null } : table));
  return { ...inventory, tables };
}

const sample = (names: string[]) => `${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}`;

function archiveLacks(database: string, what: string): VerifyError {
  return new VerifyError(
    `Backup of ${database} failed: the archive pg_dump wrote has no ${what}; nothing was stored. Check PGDUMP_EXTRA_OPTS, PGDUMP_EXCLUDE_TABLE_DATA and any pg_dump wrapper in PG_BIN_DIR`,
  );
}
