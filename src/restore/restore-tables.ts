import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../backup/manifest';
import { listArchive } from './pg-restore';
import { selectTables, type TableName, type TableSelection } from './table-selection';

const qualified = (table: TableName) => `${table.schema}.${table.name}`;

/**
 * restore --table: the list file restoring the chosen tables with what they need, and the manifest
 * the restored copy is checked against: those tables' row counts, their schemas and the sequences
 * that came with them.
 */
export async function prepareTableRestore(
  archive: { path: string; manifest: Manifest; pgRestore: Parameters<typeof listArchive>[0] },
  tables: readonly TableName[],
  dir: string,
): Promise<{ useList: string; manifest: Manifest; selection: TableSelection }> {
  const { manifest } = archive;
  const listing = await listArchive(archive.pgRestore, archive.path);
  const selection = selectTables(listing, tables, manifest.inventory.tables);
  const useList = join(dir, 'tables.list');
  await writeFile(useList, selection.listFile);
  const chosen = new Set(tables.map(qualified));
  const sequences = new Set(selection.sequences.map(qualified));
  const inventory = {
    schemas: [...new Set(tables.map((table) => table.schema))],
    extensions: [],
    tables: manifest.inventory.tables.filter((table) => chosen.has(qualified(table))),
    sequences: manifest.inventory.sequences.filter((sequence) => sequences.has(qualified(sequence))),
  };
  return { useList, manifest: { ...manifest, inventory }, selection };
}
