import type { Command } from 'commander';
import { Cron } from 'croner';
import { JOBS, type Config, type JobName } from '../config';
import { readState, type DaemonState } from '../state/daemon-state';
import { daemonLiveness, type DaemonLiveness } from '../state/daemon-lock';
import { readHealthMemory } from '../state/health-memory';
import { formatBytes, formatDuration, table } from '../format';
import { WAL_STATUS_STALE_MS } from '../pitr/archive/health-verdicts';
import { readWalStatus, type WalStatus } from '../state/wal-status';
import { idleReason } from '../jobs/registry';
import { gatherChannelFacts, givenUpSinceDelivery, type ChannelFacts } from '../notify/channel-health';
import { listOutbox } from '../state/outbox';
import type { CommandContext } from './context';

/** "in 3h12m" / "2h05m ago" relative to now. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  if (Math.abs(Date.parse(iso) - now) < 1000) return 'just now';
  const delta = Date.parse(iso) - now;
  const span = formatDuration(Math.abs(Math.round(delta / 1000) * 1000));
  return delta >= 0 ? `in ${span}` : `${span} ago`;
}

/**
 * The daemon's own next run while it is up to date; otherwise (no daemon yet, or a time that has
 * passed because the daemon is down) the next slot of the configured schedule.
 */
export function nextRunOf(config: Config, job: JobName, recorded: string | null | undefined, now = Date.now(), idle?: string): string | undefined {
  const pattern = config.schedule.jobs[job];
  if (pattern === 'off' || idle) return undefined;
  if (recorded && Date.parse(recorded) > now) return recorded;
  return new Cron(pattern, { paused: true, timezone: config.schedule.timeZone }).nextRun(new Date(now))?.toISOString();
}

/** One line on the daemon: never a dead daemon's pid as if it ran (daemon-lock.ts judges). */
export function describeDaemon(live: DaemonLiveness, state: DaemonState, now = Date.now()): string {
  if (live.state === 'none') {
    if (state.stoppedAt) return `daemon not running: it stopped ${relativeTime(state.stoppedAt, now)} (pid ${state.pid})`;
    if (state.startedAt) return `daemon not running (last started ${relativeTime(state.startedAt, now)}, pid ${state.pid})`;
    return 'the daemon has not run here yet (no state in STATE_DIR)';
  }
  const { pid, host, since } = live.holder;
  const beat = live.heartbeatAt === undefined ? '' : `, heartbeat ${relativeTime(new Date(live.heartbeatAt).toISOString(), now)}`;
  if (live.state === 'running') {
    const elsewhere = live.judgedBy === 'heartbeat' ? ', in another container or host: judged by its heartbeat' : '';
    return `daemon running since ${relativeTime(since, now)} (pid ${pid} on ${host}${elsewhere})${beat}`;
  }
  return `daemon NOT running: pid ${pid} on ${host}, started ${relativeTime(since, now)}, ended without stopping (killed or crashed)${beat}; start it again (its next start cleans up after it)`;
}

/**
 * One line on the WAL receiver (PITR=on), from what it last wrote: its state, the last archived
 * file and when, what waits in the spool. A status nobody updates means no daemon runs it.
 */
export function describeWal(status: WalStatus | undefined, now = Date.now()): string {
  if (!status) return 'WAL: the receiver has not run here yet (the daemon runs it with PITR=on)';
  const stale = now - Date.parse(status.updatedAt) > WAL_STATUS_STALE_MS;
  const { receiver } = status;
  const state = stale
    ? `receiver not running (its status is from ${relativeTime(status.updatedAt, now)})`
    : `receiver ${receiver.state} since ${relativeTime(receiver.since, now)}${receiver.restarts ? ` (${receiver.restarts} restarts)` : ''}${receiver.state !== 'streaming' && receiver.lastError ? `: ${receiver.lastError.slice(0, 80)}` : ''}`;
  const last = status.lastShipped ? `last archived ${status.lastShipped.name} ${relativeTime(status.lastShipped.at, now)}` : 'nothing archived yet';
  const partial = status.partial ? `, partial ${relativeTime(status.partial.shippedAt, now)}` : '';
  const spool = `spool ${status.spool.files} file${status.spool.files === 1 ? '' : 's'} (${formatBytes(status.spool.bytes)})`;
  return `WAL: ${state}; ${last}${partial}; ${spool}${status.shipError ? `; shipping fails: ${status.shipError.slice(0, 80)}` : ''}`;
}

/**
 * One line on where reports go and what waits for each destination: the e-mail's outbox, then each
 * channel by name, format and host (never its URL), its waiting and given-up messages and last delivery.
 */
export function describeNotifications(config: Config, mailWaiting: number, channels: readonly ChannelFacts[], now = Date.now()): string {
  const mail = config.report.smtp ? `email via ${config.report.smtp.host}:${config.report.smtp.port} (${mailWaiting} waiting)` : `email off: no SMTP_HOST (${mailWaiting} report(s) kept in STATE_DIR/outbox)`;
  const each = channels.map((facts) => {
    const format = config.report.channels.find((channel) => channel.name === facts.name)?.format ?? 'webhook';
    const givenUp = givenUpSinceDelivery(facts, now).length;
    const last = facts.status.lastDelivery ? `, last delivery ${relativeTime(facts.status.lastDelivery.at, now)}` : '';
    return `${facts.name} (${format} to ${facts.host}: ${facts.waiting} waiting${givenUp ? `, ${givenUp} GIVEN UP` : ''}${last})`;
  });
  return `notify: ${[mail, ...each].join('; ')}`;
}

/** The same for --json: counts and times, the channels by name and host only. */
function notifyJson(mailWaiting: number, channels: readonly ChannelFacts[]) {
  const now = Date.now();
  return { email: { waiting: mailWaiting }, channels: channels.map((facts) => ({ name: facts.name, host: facts.host, waiting: facts.waiting, givenUp: givenUpSinceDelivery(facts, now).length, lastDelivery: facts.status.lastDelivery?.at ?? null })) };
}

export function registerStatus(program: Command, context: CommandContext): void {
  program
    .command('status')
    .description('what the daemon did last and will do next, per job')
    .option('--json', 'print the state as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = context.config();
      const [state, health, live, wal, mailWaiting, channels] = await Promise.all([
        readState(config.stateDir),
        readHealthMemory(config.stateDir),
        daemonLiveness(config.stateDir),
        config.pitr.enabled ? readWalStatus(config.stateDir) : Promise.resolve(undefined),
        listOutbox(config.stateDir).then((items) => items.length),
        gatherChannelFacts(config.stateDir, config.report.channels),
      ]);
      const daemon = live.state === 'none' ? { running: false } : { running: live.state === 'running', ...live.holder, heartbeat: live.heartbeatAt ? new Date(live.heartbeatAt).toISOString() : undefined, judgedBy: live.judgedBy };
      const storages = context.storages();
      const idle = Object.fromEntries(JOBS.map((job) => [job, idleReason(job, storages, config)]));
      const nextRuns = Object.fromEntries(JOBS.map((job) => [job, nextRunOf(config, job, state.jobs[job]?.nextRun, Date.now(), idle[job]) ?? null]));
      if (options.json) return context.out(JSON.stringify({ ...state, daemon, health, schedules: config.schedule.jobs, timeZone: config.schedule.timeZone, nextRuns, ...(wal ? { wal } : {}), notify: notifyJson(mailWaiting, channels) }, null, 2));
      context.out(describeDaemon(live, state));
      if (config.pitr.enabled) context.out(describeWal(wal));
      context.out(describeNotifications(config, mailWaiting, channels));
      const rows = [['JOB', 'SCHEDULE', 'LAST RUN', 'OUTCOME', 'TOOK', 'NEXT RUN']];
      for (const job of JOBS) {
        const entry = state.jobs[job] ?? {};
        const outcome = entry.outcome ? `${entry.outcome}${entry.error ? `: ${entry.error.slice(0, 60)}` : ''}` : '-';
        rows.push([job, config.schedule.jobs[job], relativeTime(entry.lastStart), outcome, entry.durationMs !== undefined ? formatDuration(entry.durationMs) : '-', config.schedule.jobs[job] === 'off' ? 'off' : idle[job] ? `off (${idle[job]})` : relativeTime(nextRuns[job])]);
      }
      context.out(table(rows));
      if (health) {
        const bad = health.checks.filter((check) => check.status !== 'ok');
        context.out(`\nlast health check ${relativeTime(health.checkedAt)}: ${health.status}${bad.length ? ` (${bad.map((check) => `${check.name} ${check.status}`).join(', ')}; \`keepsake health\` for details)` : ''}`);
      }
    });
}
