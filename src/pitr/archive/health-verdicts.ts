import type { PitrConfig } from '../../config';
import { formatBytes, formatDuration } from '../../format';
import { fail, ok, warn, type HealthCheckResult } from '../../health/report';
import type { WalStatus } from '../../state/wal-status';
import { parseWalName } from '../wal-names';
import { describeGap, type WalGap } from './gaps';

/**
 * The pure half of health's WAL checks (PITR=on): verdicts on facts gathered once by
 * wal-health.ts. Three checks, so each has its own measured value for /metrics:
 * `wal` (the receiver streams and the archive is current; measured: age of the newest archived WAL),
 * `wal:gaps` (continuity since the oldest kept base backup; measured: number of gaps),
 * `wal:slot` (what the replication slot holds back on the server; measured: bytes).
 */

// One rule for "nobody runs the receiver", shared with /metrics' keepsake_wal_receiver_up and `status`.
import { WAL_STATUS_STALE_MS } from '../../state/wal-status';
export { WAL_STATUS_STALE_MS };

/** The slot as the server reports it; `missing`: no slot of that name. */
export type SlotFact = { state: 'found'; retainedBytes: number | null; active: boolean; walStatus?: string } | { state: 'missing' } | { state: 'unknown'; error: string };

export interface WalHealthFacts {
  now: number;
  pitr: Pick<PitrConfig, 'slot' | 'maxWalLagMs' | 'maxSlotRetainedBytes'>;
  /** STATE_DIR/wal-status.json; undefined when the receiver never ran here. */
  status?: WalStatus;
  /** The newest archived WAL file over the primary targets' listings (manifest time). */
  newestArchived?: { name: string; at: string };
  /** Primary targets whose `wal/` could not be listed. */
  listErrors: string[];
  /** Continuity from the oldest kept base backup's first segment; undefined without a base backup. */
  continuity?: { base: string; startSegment: string; gaps: WalGap[] };
  slot: SlotFact;
}

const ago = (now: number, iso: string) => formatDuration(Math.max(0, now - Date.parse(iso)));
const START_DAEMON = 'start the daemon (`keepsake daemon`; the container runs it)';

export function walChecks(facts: WalHealthFacts): HealthCheckResult[] {
  return [receiverCheck(facts), gapsCheck(facts), slotCheck(facts)];
}

/** The receiver streams (its status is fresh) and the newest archived WAL is recent, unless nothing waits to be shipped. */
export function receiverCheck(facts: WalHealthFacts): HealthCheckResult {
  const { now, status, pitr } = facts;
  const newest = newestShipped(facts);
  const age = newest ? now - Date.parse(newest.at) : undefined;
  const value = age === undefined ? undefined : formatDuration(Math.max(0, age));
  const shipped = newest ? `newest archived WAL ${newest.name} ${ago(now, newest.at)} ago` : 'no WAL archived yet';
  if (!status) return fail('wal', `the WAL receiver has not run here (no wal-status.json in STATE_DIR): no WAL is archived; ${START_DAEMON}; ${shipped}`, value, age);
  if (now - Date.parse(status.updatedAt) > WAL_STATUS_STALE_MS) {
    return fail('wal', `no WAL receiver is running: its status was last written ${ago(now, status.updatedAt)} ago (the daemon is not running); ${START_DAEMON}; ${shipped}`, value, age);
  }
  const { receiver } = status;
  if (receiver.state !== 'streaming') {
    const why = receiver.lastError ? `: ${receiver.lastError}` : '';
    const todo = receiver.state === 'stopped' ? START_DAEMON : "it restarts with backoff; check the server is up, its pg_hba.conf has a `replication` line for this role and the role has REPLICATION";
    return fail('wal', `the WAL receiver is ${receiver.state} since ${ago(now, receiver.since)} ago${why}; ${todo}; ${shipped}`, value, age);
  }
  const limit = `limit ${formatDuration(pitr.maxWalLagMs)}, HEALTH_MAX_WAL_LAG`;
  const shipError = status.shipError ? `: shipping fails (${status.shipError})` : '';
  // An idle server writes no WAL, so nothing new is archived; the archive is current when nothing but
  // the segment being written (pg_receivewal's .partial) waits in the spool.
  const completedWaiting = status.spool.oldest !== undefined && parseWalName(status.spool.oldest)?.kind === 'segment';
  const waiting = status.spool.files > 1 || completedWaiting || Boolean(status.shipError);
  if (age === undefined) {
    if (now - Date.parse(receiver.since) < pitr.maxWalLagMs && !status.shipError) return warn('wal', `the WAL receiver streams; no WAL archived yet (${limit})`);
    return fail('wal', `the WAL receiver streams but no WAL is archived${shipError}; ${status.spool.files} file(s) (${formatBytes(status.spool.bytes)}) wait in WAL_SPOOL_DIR; check the targets (\`keepsake health\` storage checks)`);
  }
  if (age > pitr.maxWalLagMs && waiting) {
    return fail('wal', `${shipped} (${limit})${shipError}; ${status.spool.files} file(s) (${formatBytes(status.spool.bytes)}) wait in WAL_SPOOL_DIR: a restore would lose what they hold; check the targets`, value, age);
  }
  const idle = age > pitr.maxWalLagMs ? ', nothing waits to be shipped (the server wrote no new WAL)' : '';
  const listing = facts.listErrors.length ? `; could not list ${facts.listErrors.join(', ')}` : '';
  return ok('wal', `the WAL receiver streams (since ${ago(now, receiver.since)} ago); ${shipped}${idle}${listing}`, value, age);
}

/** Newest of: the targets' listings, and what the shipper says it shipped (the partial included). */
function newestShipped({ newestArchived, status }: WalHealthFacts): { name: string; at: string } | undefined {
  const candidates = [newestArchived, status?.lastShipped, status?.partial && { name: `${status.partial.name}`, at: status.partial.shippedAt }].filter((c): c is { name: string; at: string } => Boolean(c?.at));
  return candidates.reduce<{ name: string; at: string } | undefined>((newest, c) => (!newest || Date.parse(c.at) > Date.parse(newest.at) ? c : newest), undefined);
}

export function gapsCheck({ continuity, listErrors }: WalHealthFacts): HealthCheckResult {
  if (!continuity) {
    if (listErrors.length) return fail('wal:gaps', `cannot list the WAL archive (${listErrors.join('; ')}); fix the storage first`);
    return ok('wal:gaps', 'no base backup yet: there is no chain of WAL to check (run `keepsake base-backup`)', '0', 0);
  }
  const { gaps, base, startSegment } = continuity;
  if (!gaps.length) return ok('wal:gaps', `no gap in the WAL archive since ${startSegment}, where the oldest kept base backup ${base} starts`, '0', 0);
  const named = gaps.slice(0, 3).map(describeGap).join('; ') + (gaps.length > 3 ? `; and ${gaps.length - 3} more` : '');
  return fail(
    'wal:gaps',
    `the WAL archive has ${gaps.length === 1 ? 'a gap' : `${gaps.length} gaps`} since ${startSegment} (base backup ${base}): ${named} missing. A restore cannot pass ${gaps.length === 1 ? 'it' : 'the first'}; take a base backup now (\`keepsake base-backup\`) to start a whole chain`,
    String(gaps.length),
    gaps.length,
  );
}

export function slotCheck({ slot, pitr }: WalHealthFacts): HealthCheckResult {
  const name = `'${pitr.slot}'`;
  if (slot.state === 'unknown') return warn('wal:slot', `cannot check the replication slot ${name}: ${slot.error}`);
  if (slot.state === 'missing') {
    return fail('wal:slot', `the replication slot ${name} (PITR_SLOT) does not exist on the server: it may remove WAL before keepsake receives it; the daemon's receiver creates it when it starts, or create it: SELECT pg_create_physical_replication_slot(${name}, true)`);
  }
  if (slot.walStatus === 'lost') {
    return fail('wal:slot', `the server removed WAL the slot ${name} still needed (max_slot_wal_keep_size reached): the archive has a gap; take a base backup (\`keepsake base-backup\`) once the receiver streams again`);
  }
  if (slot.retainedBytes === null) return ok('wal:slot', `the replication slot ${name} holds no WAL back yet (never streamed from)`, '0 B', 0);
  const held = formatBytes(slot.retainedBytes);
  const limit = formatBytes(pitr.maxSlotRetainedBytes);
  if (slot.retainedBytes > pitr.maxSlotRetainedBytes) {
    return warn(
      'wal:slot',
      `the replication slot ${name} makes the server keep ${held} of WAL (HEALTH_MAX_SLOT_RETAINED ${limit})${slot.active ? '' : ' and nobody streams from it'}: the server's disk fills while keepsake does not receive. Start the daemon; if PITR is given up, drop the slot on the server: SELECT pg_drop_replication_slot(${name}); max_slot_wal_keep_size on the server caps what a slot may hold`,
      held,
      slot.retainedBytes,
    );
  }
  return ok('wal:slot', `the replication slot ${name} holds ${held} of WAL on the server (limit ${limit})${slot.active ? '' : ', nobody streams from it now'}`, held, slot.retainedBytes);
}
