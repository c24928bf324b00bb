import { sourceName, type Manifest } from '../backup/manifest';
import { GLOBALS_NAME } from '../sources/globals/globals-source';
import { hasPostgres, ownBackup } from '../sources';
import { sqliteStem } from '../config/sqlite-paths';
import { readCatalog } from '../catalog/catalog';
import type { Deps } from '../deps';
import { coerceError } from '../errors';
import { primaryStorages } from '../storage';
import { PRUNE_WARNING_MS } from '../report/outbox-prune';
import { findDamagedOutboxFiles, listOutbox, readPruneMemory } from '../state/outbox';
import { channelCheck, gatherChannelFacts, strandedChannelChecks } from '../notify/channel-health';
import type { RestoreTestResult } from '../restore/restore-test';
import { readLatestRestoreTest } from '../state/restore-test-latest';
import { readState } from '../state/daemon-state';
import { daemonLiveness } from '../state/daemon-lock';
import { assess, freshnessChecks, sizeChecks, stillNew, type HealthFacts } from './assess';
import { BASE_SIZE_CHECK, baseBackupChecks } from '../pitr/base/health';
import { databaseChecks, diskChecks, logSizeCheck, storageCheck, withTimeout, PROBE_TIMEOUT_MS } from './probes';
import { gatherOffsiteFacts, offsiteChecks } from './offsite';
import { gatherWalHealth } from '../pitr/archive/wal-health';
import { walChecks } from '../pitr/archive/health-verdicts';
import { fail, warn, worstStatus, type HealthCheckResult, type HealthReport } from './report';

/** Health checks log nothing themselves: their report is the outcome. */
export type HealthDeps = Pick<Deps, 'config' | 'storages'>;

export interface HealthOptions {
  inDaemon?: boolean;
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Backups per target, merged: one target that cannot be listed must not make the other's backups
 * look missing. Only when no target answers is freshness unknown.
 */
async function listBackups(deps: HealthDeps, timeoutMs: number): Promise<{ backups: Manifest[]; errors: string[] }> {
  const byId = new Map<string, Manifest>();
  const errors: string[] = [];
  // Freshness is about the backups this sidecar makes: the primaries. Off-site copies lag by design.
  await Promise.all(
    primaryStorages(deps.storages).map(async (storage) => {
      try {
        const { backups } = await withTimeout(`listing ${storage.name}`, timeoutMs, () => readCatalog([storage]));
        for (const { manifest } of backups) byId.set(`${manifest.tier}/${manifest.id}`, manifest);
      } catch (error) {
        errors.push(`${storage.name}: ${coerceError(error).message.split('\n')[0]}`);
      }
    }),
  );
  const backups = [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return { backups, errors };
}

/**
 * The sources health judges, each by its own backups: the configured names, or with
 * POSTGRES_DB=all every source backed up from this host. One source keeps the check names it
 * always had (`freshness:daily`); several get one check per source (`freshness:daily:analytics`).
 */
function sourcesJudged(config: HealthDeps['config'], backups: Manifest[]): string[] {
  const { databases, globals, sqlitePaths } = config.sources;
  const files = sqlitePaths.map(sqliteStem);
  if (databases !== 'all') return [...databases, ...(globals ? [GLOBALS_NAME] : []), ...files];
  return [...new Set([...backups.filter((manifest) => manifest.host === config.database.host).map(sourceName), ...files])].sort();
}

function perSourceVerdicts(facts: HealthFacts, sources: string[]): HealthCheckResult[] {
  const ofSource = (name: string): HealthFacts => ({ ...facts, backups: facts.backups.filter((manifest) => sourceName(manifest) === name) });
  if (sources.length <= 1) return assess(sources[0] === undefined ? { ...facts, backups: [] } : ofSource(sources[0]));
  const perSource = new Set(freshnessChecks(facts).map((check) => check.name));
  const shared = assess(ofSource(sources[0]!)).filter((check) => !perSource.has(check.name));
  const fresh = sources.flatMap((name) => freshnessChecks(ofSource(name)).map((check) => ({ ...check, name: `${check.name}:${name}`, message: `${name}: ${check.message}` })));
  return [...fresh, ...shared];
}

/** The newest restore test: the state file, else the newest record for this database on a target. */
export async function latestRestoreTest(deps: HealthDeps): Promise<RestoreTestResult | undefined> {
  // Any of this sidecar's sources (a record names its backup's source; older ones its database).
  const { databases } = deps.config.sources;
  const ours = (record: RestoreTestResult | undefined) => {
    const source = record?.backup?.source ?? record?.backup?.database;
    return source !== undefined && (databases === 'all' || source === GLOBALS_NAME || databases.includes(source));
  };
  const fromState = await readLatestRestoreTest(deps.config.stateDir);
  if (ours(fromState)) return fromState;
  for (const storage of deps.storages) {
    try {
      const keys: string[] = [];
      for await (const object of storage.list('recovery-tests/')) keys.push(object.key);
      // Names carry the time (restore_test_<YYYYMMDD>_<HHMMSS>), so the newest sort last.
      for (const key of keys.sort().reverse().slice(0, 20)) {
        const record = JSON.parse((await storage.readAll(key)).toString('utf8')) as RestoreTestResult;
        if (ours(record)) return record;
      }
    } catch {
      // A target that cannot be read is reported by its own storage check.
    }
  }
  return undefined;
}

async function outboxFacts(stateDir: string, now = Date.now()): Promise<HealthFacts['outbox']> {
  const [items, pruned] = await Promise.all([listOutbox(stateDir), readPruneMemory(stateDir)]);
  const oldest = items.reduce<(typeof items)[number] | undefined>((first, item) => (!first || item.createdAt < first.createdAt ? item : first), undefined);
  const recent = pruned.drops.filter((drop) => now - Date.parse(drop.at) < PRUNE_WARNING_MS);
  const dropped = { count: recent.reduce((sum, drop) => sum + drop.count, 0), failures: recent.flatMap((drop) => drop.failures) };
  return { count: items.length, oldestCreatedAt: oldest?.createdAt, lastError: oldest?.lastError, dropped };
}

/** Outbox files that do not parse: never delivered, never pruned, so never quiet either. */
function damagedOutboxCheck(damaged: string[]): HealthCheckResult[] {
  if (!damaged.length) return [];
  const named = damaged.slice(0, 3).map((name) => `STATE_DIR/outbox/${name}`).join(', ');
  return [warn('outbox:damaged', `${damaged.length} outbox file(s) cannot be read and will never be delivered (${named}${damaged.length > 3 ? ', …' : ''}): read what they say, then delete them`, String(damaged.length), damaged.length)];
}

/**
 * Runs every check: probes of the database, pg_dump, each storage target and the disks in
 * parallel with reading the catalog and the state files, then the verdicts on those facts.
 */
export async function runHealthChecks(deps: HealthDeps, options: HealthOptions = {}): Promise<HealthReport> {
  const { config } = deps;
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const started = performance.now();
  const problems: HealthCheckResult[] = [];
  const unreadable = <T>(name: string, error: unknown, fallback: T): T => {
    problems.push(fail(name, `cannot read what this check needs: ${coerceError(error).message.split('\n')[0]}; fix STATE_DIR (${config.stateDir}) or the storage`));
    return fallback;
  };
  const listing = listBackups(deps, timeoutMs);
  const [database, storage, disks, logs, listed, state, restoreTest, outbox, offsite, wal, channels] = await Promise.all([
    // A sidecar of SQLite files alone has no server to probe.
    hasPostgres(config) ? databaseChecks(config, timeoutMs) : Promise.resolve([]),
    Promise.all(deps.storages.map((target) => storageCheck(target, timeoutMs))),
    diskChecks(config).catch((error) => [fail('disk', `cannot read free space: ${coerceError(error).message}`)]),
    logSizeCheck(config),
    listing,
    readState(config.stateDir).catch((error) => unreadable('state', error, { jobs: {} })),
    withTimeout('reading the last restore test', timeoutMs, () => latestRestoreTest(deps)).catch((error) => unreadable('restore-test', error, undefined)),
    outboxFacts(config.stateDir).catch((error) => unreadable('outbox', error, { count: 0 })),
    gatherOffsiteFacts(deps.storages, {
      ours: ownBackup(config),
      retentionOf: (name) => config.targets.find((target) => target.name === name)?.retention,
      timeoutMs,
      now: (options.now?.() ?? new Date()).getTime(),
    }).then(
      (facts) => offsiteChecks(facts, config.health.offsiteMaxAgeMs),
      (error) => [fail('offsite', `cannot tell how far behind the off-site targets are: ${coerceError(error).message.split('\n')[0]}; fix the primary targets first`)],
    ),
    // PITR: the receiver, the archive's age and gaps since the oldest kept base backup, the slot.
    config.pitr.enabled
      ? listing
          .then((listed) => gatherWalHealth(deps, listed.backups, { timeoutMs, now: (options.now?.() ?? new Date()).getTime() }))
          .then(walChecks, (error) => [fail('wal', `cannot check the WAL archive: ${coerceError(error).message.split('\n')[0]}`)])
      : Promise.resolve([]),
    // One check per notification channel: given-up messages, or one waiting too long.
    gatherChannelFacts(config.stateDir, config.report.channels).then(
      async (facts) => [
        ...facts.map((channel) => channelCheck(channel, (options.now?.() ?? new Date()).getTime())),
        ...(await strandedChannelChecks(config.stateDir, config.report.channels)),
        ...damagedOutboxCheck(await findDamagedOutboxFiles(config.stateDir)),
      ],
      (error) => [fail('notify', `cannot read the channels' outbox: ${coerceError(error).message.split('\n')[0]}; fix STATE_DIR (${config.stateDir})`)],
    ),
  ]);
  const now = (options.now ?? (() => new Date()))();
  const daemon = await daemonLiveness(config.stateDir).then((live) => (live.state === 'none' ? live : { state: live.state, pid: live.holder.pid, host: live.holder.host }), () => undefined);
  const facts: HealthFacts = { now: now.getTime(), config, backups: listed.backups, state, restoreTest, outbox, inDaemon: options.inDaemon ?? false, daemon };
  let verdicts: HealthCheckResult[] = perSourceVerdicts(facts, sourcesJudged(config, listed.backups));
  if (config.pitr.enabled) verdicts.push(...baseBackupChecks({ now: facts.now, backups: listed.backups, maxAgeMs: config.pitr.maxBaseAgeMs, daemonIsNew: stillNew(facts, config.pitr.maxBaseAgeMs, 'base-backup') }));
  const primaries = primaryStorages(deps.storages).length;
  if (listed.errors.length === primaries && primaries) {
    // Nothing could be listed: "no backup" would be a guess, so say what is actually known.
    const unknown = new Set([...freshnessChecks(facts), ...sizeChecks(facts)].map((check) => check.name));
    verdicts = verdicts.filter((check) => !unknown.has(check.name) && !check.name.startsWith('freshness:') && check.name !== BASE_SIZE_CHECK);
    verdicts.unshift(fail('freshness', `cannot list any backups (${listed.errors.join('; ')}); fix the storage first`));
  }
  // A fact that could not be read replaces its verdict: say what failed, never guess "fine".
  const broken = new Set(problems.map((problem) => problem.name));
  const checks = [...database, ...storage, ...verdicts.filter((check) => !broken.has(check.name)), ...offsite, ...wal, ...channels, ...problems, ...disks, ...logs];
  return { format: 1, status: worstStatus(checks), checkedAt: now.toISOString(), durationMs: Math.round(performance.now() - started), checks };
}
