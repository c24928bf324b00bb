import { sourceName, type Manifest } from '../../backup/manifest';
import type { Config } from '../../config';
import { coerceError } from '../../errors';
import { withTimeout } from '../../health/probes';
import { withClient } from '../../postgres/connection';
import { planBackups } from '../../retention/plan';
import { primaryStorages, type Storage } from '../../storage';
import { readWalStatus } from '../../state/wal-status';
import { listWalArchive } from '../wal-archive';
import { parseWalName, type WalFileName } from '../wal-names';
import { findWalGaps } from './gaps';
import type { SlotFact, WalHealthFacts } from './health-verdicts';

const firstLine = (error: unknown) => coerceError(error).message.split('\n')[0]!;

/**
 * The half of health's WAL checks that touches the world: the receiver's status file, one listing
 * of `wal/` per primary target, and one query for the replication slot. Cheap enough for the
 * hourly run: no WAL manifest or object is read.
 */
export async function gatherWalHealth(
  deps: { config: Pick<Config, 'pitr' | 'stateDir' | 'database' | 'retention'>; storages: readonly Storage[] },
  backups: readonly Manifest[],
  options: { timeoutMs: number; now: number },
): Promise<WalHealthFacts> {
  const { config } = deps;
  const listErrors: string[] = [];
  const [status, listings, slot] = await Promise.all([
    readWalStatus(config.stateDir),
    Promise.all(
      primaryStorages([...deps.storages]).map((storage) =>
        withTimeout(`listing ${storage.name}`, options.timeoutMs, () => listWalArchive(storage)).catch((error) => {
          listErrors.push(`${storage.name}: ${firstLine(error)}`);
          return undefined;
        }),
      ),
    ),
    slotFact(config, options.timeoutMs),
  ]);
  const listed = listings.filter((listing) => listing !== undefined).flat();
  const newest = listed.reduce<(typeof listed)[number] | undefined>((found, wal) => (!found || wal.archivedAt > found.archivedAt ? wal : found), undefined);
  const base = oldestKeptBase(backups, config.retention, options.now);
  const files = new Map<string, WalFileName>(listed.map((wal) => [wal.file.name, wal.file]));
  // Continuity needs a listing; with none, what is missing is unknown, not a gap.
  const continuity = base && listings.some(Boolean) ? { base: base.id, startSegment: base.startSegment, gaps: findWalGaps([...files.values()], base.startSegment, base.segmentBytes) } : undefined;
  return {
    now: options.now,
    pitr: config.pitr,
    status,
    newestArchived: newest && { name: newest.file.name, at: newest.archivedAt.toISOString() },
    listErrors,
    continuity,
    slot,
  };
}

/** The oldest base backup retention keeps (count and age rules, as cleanup would decide now): WAL from its start must be whole. */
function oldestKeptBase(backups: readonly Manifest[], retention: Config['retention'], now: number): { id: string; startSegment: string; segmentBytes: number } | undefined {
  const bases = backups.filter((manifest) => manifest.tier === 'base' && manifest.physical);
  const kept = new Set(
    planBackups({ backups: bases.map((m) => ({ id: m.id, tier: m.tier, database: sourceName(m), startedAt: m.startedAt })), policy: retention, now })
      .filter((decision) => decision.action === 'keep')
      .map((decision) => decision.id),
  );
  const segno = (manifest: Manifest) => parseWalName(manifest.physical!.startSegment, manifest.physical!.segmentBytes)?.segno ?? -1n;
  const oldest = bases.filter((m) => kept.has(m.id)).reduce<Manifest | undefined>((first, m) => (!first || segno(m) < segno(first) ? m : first), undefined);
  return oldest && { id: oldest.id, startSegment: oldest.physical!.startSegment, segmentBytes: oldest.physical!.segmentBytes };
}

/**
 * What the slot holds back: the server's current position minus the slot's restart_lsn, and its
 * wal_status (PostgreSQL 13+: `lost` once max_slot_wal_keep_size made the server drop WAL it needed),
 * read through to_jsonb so older servers answer too.
 */
async function slotFact(config: Pick<Config, 'database' | 'pitr'>, timeoutMs: number): Promise<SlotFact> {
  try {
    const rows = await withTimeout('the replication slot query', timeoutMs, () =>
      withClient(config.database, async (client) => {
        const result = await client.query<{ retained: string | null; active: boolean; wal_status: string | null }>(
          `SELECT (pg_current_wal_lsn() - s.restart_lsn)::bigint::text AS retained, s.active, to_jsonb(s) ->> 'wal_status' AS wal_status
             FROM pg_replication_slots s WHERE s.slot_name = $1`,
          [config.pitr.slot],
        );
        return result.rows;
      }),
    );
    const row = rows[0];
    if (!row) return { state: 'missing' };
    return { state: 'found', retainedBytes: row.retained === null ? null : Number(row.retained), active: row.active, ...(row.wal_status ? { walStatus: row.wal_status } : {}) };
  } catch (error) {
    return { state: 'unknown', error: firstLine(error) };
  }
}
