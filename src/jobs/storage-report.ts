import { readCatalog } from '../catalog/catalog';
import { formatBytes } from '../format';
import { readLastStorageTotal, rememberStorageTotal } from '../state/storage-report-memory';
import { report, type JobDeps } from './job';
import { ownBackup } from '../sources';

/**
 * The weekly storage report: per tier counts and sizes, the total, its growth since the last
 * report (remembered in STATE_DIR), and the sizes of the last weeks' backups for the chart.
 */
export async function storageReport(deps: JobDeps): Promise<string> {
  const { backups } = await readCatalog(deps.storages);
  const mine = backups.filter((entry) => ownBackup(deps.config)(entry.manifest));
  const tiers = new Map<string, { tier: string; count: number; bytes: number }>();
  const targets = new Map(deps.storages.map((storage) => [storage.name, { target: storage.name, count: 0, bytes: 0, freeBytes: null as number | null }]));
  for (const { manifest, copies } of mine) {
    const row = tiers.get(manifest.tier) ?? { tier: manifest.tier, count: 0, bytes: 0 };
    row.count++;
    row.bytes += manifest.storedBytes * copies.length;
    tiers.set(manifest.tier, row);
    for (const copy of copies) {
      const target = targets.get(copy.storage.name);
      if (!target) continue;
      target.count++;
      target.bytes += manifest.storedBytes;
    }
  }
  // Free space where the target can tell (a file system); the report says "unknown" elsewhere.
  for (const storage of deps.storages) targets.get(storage.name)!.freeBytes = (await storage.freeBytes?.()) ?? null;
  const totalBytes = [...tiers.values()].reduce((sum, row) => sum + row.bytes, 0);
  const previous = await readLastStorageTotal(deps.config.stateDir);
  const since = Date.now() - 8 * 7 * 86_400_000;
  const history = mine
    .filter((entry) => Date.parse(entry.manifest.startedAt) >= since)
    .map(({ manifest }) => ({ startedAt: manifest.startedAt, storedBytes: manifest.storedBytes, tier: manifest.tier }));
  await report(deps, { kind: 'storage-report', at: new Date().toISOString(), targets: [...targets.values()], tiers: [...tiers.values()], totalBytes, growthBytes: previous === undefined ? undefined : totalBytes - previous, history });
  await rememberStorageTotal(deps.config.stateDir, totalBytes);
  return `storage report: ${mine.length} backup${mine.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)}`;
}
