import { Option, type Command } from 'commander';
import { TIERS, type Tier } from '../backup/keys';
import { contentsOf } from '../backup/contents';
import { catalogWarnings, readCatalog } from '../catalog/catalog';
import { storagesFrom } from '../storage';
import { sourceName, sourceOf, type Manifest } from '../backup/manifest';
import type { CommandContext } from './context';
import { formatBytes, formatDuration, formatTimestamp, table } from '../format';

/** "full", "schema only", "data of 2 tables excluded" (the tables are named in the reports and --json). */
function shortContents(manifest: Manifest): string {
  const { schemaOnly, excludedTableData } = contentsOf(manifest);
  if (schemaOnly) return 'schema only';
  return excludedTableData.length ? `data of ${excludedTableData.length} table${excludedTableData.length === 1 ? '' : 's'} excluded` : 'full';
}

export function registerList(program: Command, context: CommandContext): void {
  program
    .command('list')
    .description('list complete backups on every target, newest first, numbered; warns about incomplete ones by name')
    .addOption(new Option('--tier <tier>', 'only this tier').choices(TIERS))
    .option('--from <target>', 'only the backups on this target (a name from BACKUP_TARGETS or OFFSITE_TARGETS)')
    .option('--db <name>', 'only the backups of this source (a database, globals, or a SQLite file by its stem)')
    .option('--json', 'print the list as JSON')
    .action(async (options: { tier?: Tier; from?: string; json?: boolean; db?: string }) => {
      const read = await readCatalog(storagesFrom(context.storages(), options.from), { tier: options.tier });
      const catalog = options.db === undefined ? read : { ...read, backups: read.backups.filter(({ manifest }) => sourceName(manifest) === options.db) };
      for (const warning of catalogWarnings(catalog)) context.err(`warning: ${warning}`);
      if (options.json) {
        const rows = catalog.backups.map(({ manifest, copies }, index) => ({
          number: index + 1,
          id: manifest.id,
          tier: manifest.tier,
          database: manifest.database,
          source: sourceOf(manifest),
          startedAt: manifest.startedAt,
          durationMs: manifest.durationMs,
          rawBytes: manifest.rawBytes,
          storedBytes: manifest.storedBytes,
          sha256: manifest.sha256,
          serverVersion: manifest.server?.version,
          contents: contentsOf(manifest),
          copies: copies.map(({ storage }) => ({ target: storage.name, location: storage.location(manifest.key) })),
        }));
        return context.out(JSON.stringify(rows, null, 2));
      }
      if (!catalog.backups.length) return context.out(`No backups${options.tier ? ` in tier ${options.tier}` : ''} yet. Run \`keepsake backup\` to make one.`);
      // A SOURCE column only when there are several: one database's list looks as it always did.
      const several = new Set(catalog.backups.map(({ manifest }) => sourceName(manifest))).size > 1;
      const rows = [['#', ...(several ? ['SOURCE'] : []), 'ID', 'TIER', 'STARTED (UTC)', 'STORED', 'RAW', 'TOOK', 'TARGETS', 'CONTENTS']];
      catalog.backups.forEach(({ manifest, copies }, index) =>
        rows.push([
          String(index + 1),
          ...(several ? [sourceName(manifest)] : []),
          manifest.id,
          manifest.tier,
          formatTimestamp(manifest.startedAt),
          formatBytes(manifest.storedBytes),
          formatBytes(manifest.rawBytes),
          formatDuration(manifest.durationMs),
          copies.map((copy) => copy.storage.name).join(','),
          shortContents(manifest),
        ]),
      );
      context.out(table(rows));
    });
}
