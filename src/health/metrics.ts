import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BASE_FRESHNESS_CHECK, BASE_SIZE_CHECK } from '../pitr/base/health';
import type { Config } from '../config';
import { listOutbox } from '../state/outbox';
import { CHANNEL_MEMORY_MS } from '../state/channel-outbox';
import { gatherChannelFacts, type ChannelFacts } from '../notify/channel-health';
import type { RestoreTestResult } from '../restore/restore-test';
import { readLatestRestoreTest } from '../state/restore-test-latest';
import { readState, type DaemonState } from '../state/daemon-state';
import { readHealthMemory } from '../state/health-memory';
import type { HealthMemory } from './alerts';
import { SCHEDULED_TIERS } from './assess';
import { defaultSourceName } from '../sources';
import { archiveCurrentAt, readWalStatus, receiverUp, type WalStatus } from '../state/wal-status';

const STATUS_VALUE = { ok: 0, warn: 1, fail: 2 } as const;
const seconds = (iso: string) => Date.parse(iso) / 1000;

interface Snapshot {
  state: DaemonState;
  health?: HealthMemory;
  restoreTest?: RestoreTestResult;
  outbox: { count: number; oldestCreatedAt?: string };
  nextRuns: Record<string, string | null>;
  wal?: WalStatus;
  channels: ChannelFacts[];
}

/**
 * Prometheus metrics, computed at scrape time from what the daemon keeps in STATE_DIR (job state,
 * the last health run, the last restore test, the outbox). Counters come from the state file, so
 * they survive restarts. Names follow Prometheus conventions: base units, _total for counters.
 */
export function createMetrics(config: Config, nextRuns: () => Record<string, string | null>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let snapshot: Snapshot | undefined;
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Snapshot) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        if (snapshot) fill(this, snapshot);
      },
    });
  const counter = (name: string, help: string, pick: (job: DaemonState['jobs'][keyof DaemonState['jobs']]) => number | undefined) =>
    new Counter({
      name,
      help,
      labelNames: ['tier'],
      registers: [registry],
      collect() {
        this.reset();
        for (const tier of SCHEDULED_TIERS) this.inc({ tier }, pick(snapshot?.state.jobs[tier]) ?? 0);
      },
    });

  gauge('keepsake_backup_last_success_timestamp_seconds', 'End of the last successful scheduled backup, per tier', ['tier'], (g, s) => {
    for (const tier of SCHEDULED_TIERS) if (s.state.jobs[tier]?.lastSuccess) g.set({ tier }, seconds(s.state.jobs[tier]!.lastSuccess!.at));
  });
  gauge('keepsake_backup_last_size_bytes', 'Stored size of the last successful scheduled backup, per tier', ['tier'], (g, s) => {
    for (const tier of SCHEDULED_TIERS) {
      const bytes = s.state.jobs[tier]?.lastSuccess?.storedBytes;
      if (bytes !== undefined) g.set({ tier }, bytes);
    }
  });
  gauge('keepsake_backup_last_duration_seconds', 'Duration of the last successful scheduled backup, per tier', ['tier'], (g, s) => {
    for (const tier of SCHEDULED_TIERS) if (s.state.jobs[tier]?.lastSuccess) g.set({ tier }, s.state.jobs[tier]!.lastSuccess!.durationMs / 1000);
  });
  counter('keepsake_backups_total', 'Scheduled backup runs that finished (any outcome), per tier', (job) => job?.runs);
  counter('keepsake_backup_failures_total', 'Scheduled backup runs that failed, per tier', (job) => job?.failures);
  gauge('keepsake_restore_test_last_passed', 'Whether the last restore test passed (1) or failed (0)', [], (g, s) => {
    if (s.restoreTest) g.set(s.restoreTest.ok ? 1 : 0);
  });
  gauge('keepsake_restore_test_last_timestamp_seconds', 'End of the last restore test', [], (g, s) => {
    if (s.restoreTest) g.set(seconds(s.restoreTest.finishedAt));
  });
  gauge('keepsake_restore_test_age_seconds', 'Time since the last restore test ended', [], (g, s) => {
    if (s.restoreTest) g.set(Math.max(0, Date.now() / 1000 - seconds(s.restoreTest.finishedAt)));
  });
  gauge('keepsake_restore_test_last_duration_seconds', 'Duration of the last restore test', [], (g, s) => {
    if (s.restoreTest) g.set(s.restoreTest.timings.totalMs / 1000);
  });
  // From the last health run's freshness checks: each source's newest backup per tier (with several sources, `freshness:<tier>:<source>`).
  gauge('keepsake_backup_age_seconds', 'Age of the newest backup per tier and source, at the last health run', ['tier', 'source'], (g, s) => {
    for (const check of s.health?.checks ?? []) {
      const [kind, tier, source] = check.name.split(':');
      if (kind === 'freshness' && tier && check.measured !== undefined) g.set({ tier, source: source ?? defaultSourceName(config) }, check.measured / 1000);
    }
  });
  // PITR: the base tier's checks of the last health run (src/pitr/base/health.ts).
  gauge('keepsake_base_backup_age_seconds', 'Age of the newest base backup (PITR), at the last health run', [], (g, s) => {
    const check = s.health?.checks.find((c) => c.name === BASE_FRESHNESS_CHECK);
    if (check?.measured !== undefined) g.set(check.measured / 1000);
  });
  gauge('keepsake_base_backup_size_bytes', 'Stored size of the newest base backup (PITR), at the last health run', [], (g, s) => {
    const check = s.health?.checks.find((c) => c.name === BASE_SIZE_CHECK);
    if (check?.measured !== undefined) g.set(check.measured);
  });
  gauge('keepsake_storage_up', 'Whether the last health probe could write, read and delete on the target', ['target'], (g, s) => {
    for (const check of s.health?.checks ?? []) if (check.name.startsWith('storage:')) g.set({ target: check.name.slice(8) }, check.status === 'ok' ? 1 : 0);
  });
  gauge('keepsake_storage_probe_latency_seconds', 'Round trip of the last health probe on the target', ['target'], (g, s) => {
    for (const check of s.health?.checks ?? []) if (check.name.startsWith('storage:') && check.measured !== undefined) g.set({ target: check.name.slice(8) }, check.measured / 1000);
  });
  // From the last health run's offsite:<target> checks: the age of the oldest backup the target lacks.
  gauge('keepsake_offsite_lag_seconds', 'Age of the oldest backup the off-site target lacks (0 when it has them all), per target, at the last health run', ['target'], (g, s) => {
    for (const check of s.health?.checks ?? []) if (check.name.startsWith('offsite:') && check.measured !== undefined) g.set({ target: check.name.slice(8) }, check.measured / 1000);
  });
  // From the last health run's WAL checks (PITR=on): what the replication slot holds back, and the archive's gaps.
  const fromCheck = (g: Gauge, s: Snapshot, name: string) => {
    const measured = s.health?.checks.find((check) => check.name === name)?.measured;
    if (measured !== undefined) g.set(measured);
  };
  gauge('keepsake_wal_lag_bytes', 'WAL the replication slot makes the server keep (current position minus the slot\'s restart_lsn), at the last health run', [], (g, s) => fromCheck(g, s, 'wal:slot'));
  gauge('keepsake_wal_archive_gaps', 'Gaps in the WAL archive since the oldest kept base backup, at the last health run', [], (g, s) => fromCheck(g, s, 'wal:gaps'));
  gauge('keepsake_offsite_last_success_timestamp_seconds', 'End of the last off-site job that copied everything it had to', [], (g, s) => {
    if (s.state.jobs.offsite?.lastSuccess) g.set(seconds(s.state.jobs.offsite.lastSuccess.at));
  });
  gauge('keepsake_outbox_reports', 'Reports waiting in the outbox to be sent', [], (g, s) => g.set(s.outbox.count));
  gauge('keepsake_outbox_oldest_age_seconds', 'How long the oldest waiting report has waited (0 when none)', [], (g, s) => {
    g.set(s.outbox.oldestCreatedAt ? Math.max(0, Date.now() / 1000 - seconds(s.outbox.oldestCreatedAt)) : 0);
  });
  // Per notification channel (STATE_DIR/outbox/<channel>/ and channels/<channel>.json).
  gauge('keepsake_notify_waiting', 'Messages waiting in the channel\'s outbox to be delivered', ['channel'], (g, s) => {
    for (const channel of s.channels) g.set({ channel: channel.name }, channel.waiting);
  });
  gauge('keepsake_notify_given_up', 'Messages the channel refused and keepsake gave up, in the last 7 days', ['channel'], (g, s) => {
    for (const channel of s.channels) g.set({ channel: channel.name }, channel.status.givenUp.filter((entry) => Date.now() - Date.parse(entry.at) < CHANNEL_MEMORY_MS).length);
  });
  gauge('keepsake_notify_last_delivery_timestamp_seconds', 'When the channel last accepted a message from the outbox', ['channel'], (g, s) => {
    for (const channel of s.channels) if (channel.status.lastDelivery) g.set({ channel: channel.name }, seconds(channel.status.lastDelivery.at));
  });
  gauge('keepsake_job_next_run_timestamp_seconds', 'When each scheduled job runs next', ['job'], (g, s) => {
    for (const [job, next] of Object.entries(s.nextRuns)) if (next) g.set({ job }, seconds(next));
  });
  gauge('keepsake_health_status', 'Overall result of the last health run: 0 ok, 1 warn, 2 fail', [], (g, s) => {
    if (s.health) g.set(STATUS_VALUE[s.health.status]);
  });
  gauge('keepsake_health_check_status', 'Result of each check in the last health run: 0 ok, 1 warn, 2 fail', ['check'], (g, s) => {
    for (const check of s.health?.checks ?? []) g.set({ check: check.name }, STATUS_VALUE[check.status]);
  });
  gauge('keepsake_health_last_run_timestamp_seconds', 'When the last health run finished', [], (g, s) => {
    if (s.health) g.set(seconds(s.health.checkedAt));
  });
  // PITR (STATE_DIR/wal-status.json, written by the daemon's WAL receiver and shipper).
  gauge('keepsake_wal_lag_seconds', 'Age of the newest archived WAL: how much a point-in-time restore would lose now', [], (g, s) => {
    const at = s.wal && archiveCurrentAt(s.wal);
    if (at) g.set(Math.max(0, Date.now() / 1000 - seconds(at)));
  });
  gauge('keepsake_wal_last_shipped_segment_info', 'The newest WAL segment every primary target holds (value 1)', ['segment'], (g, s) => {
    if (s.wal?.lastShipped) g.set({ segment: s.wal.lastShipped.name }, 1);
  });
  gauge('keepsake_wal_receiver_up', 'Whether pg_receivewal streams (1) or not (0)', [], (g, s) => {
    if (s.wal) g.set(receiverUp(s.wal, new Date()) ? 1 : 0);
  });
  gauge('keepsake_scheduler_heartbeat_timestamp_seconds', "The daemon's last heartbeat", [], (g, s) => {
    if (s.state.heartbeat) g.set(seconds(s.state.heartbeat));
  });

  return {
    contentType: registry.contentType,
    /** Reads the files once per scrape, then lets every metric collect from that snapshot. */
    async render(): Promise<string> {
      const [state, health, restoreTest, items, wal, channels] = await Promise.all([
        readState(config.stateDir).catch((): DaemonState => ({ jobs: {} })),
        readHealthMemory(config.stateDir),
        readLatestRestoreTest(config.stateDir),
        listOutbox(config.stateDir).catch(() => []),
        config.pitr.enabled ? readWalStatus(config.stateDir) : undefined,
        gatherChannelFacts(config.stateDir, config.report.channels).catch(() => []),
      ]);
      const oldest = items.map((item) => item.createdAt).sort()[0];
      snapshot = { state, health, restoreTest, outbox: { count: items.length, oldestCreatedAt: oldest }, nextRuns: nextRuns(), wal, channels };
      return registry.metrics();
    },
  };
}
