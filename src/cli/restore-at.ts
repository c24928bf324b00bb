import { join } from 'node:path';
import type { DatabaseConfig } from '../config';
import { databaseFromUrl } from '../config/database-url';
import { UsageError } from '../errors';
import { formatDuration } from '../format';
import { describeDatabase } from '../postgres/connection';
import { dumpRecovered } from '../pitr/recover/dump-recovered';
import { recoverToPoint, type RecoveredCluster } from '../pitr/recover/recover';
import { describeTarget, parseRecoveryTarget, type RecoveryTarget } from '../pitr/recover/recovery-target';
import { writeDataDir } from '../pitr/recover/data-dir';
import { restoreArchive } from '../restore/restore';
import { planRestoreOf } from '../restore/restore-plan';
import { withWorkDir } from '../restore/work-dir';
import type { CommandContext } from './context';
import { withJobLock } from './job-lock';
import { confirm, describePlan, type RestoreOptions } from './restore';
import { interruptOnSignals } from './signals';

/** Options of a plain restore that mean nothing for a point in time: refused rather than ignored. */
function refuseOtherOptions(selector: string | undefined, options: RestoreOptions): RecoveryTarget {
  if (selector !== undefined) throw new UsageError(`restore --at picks its base backup itself: drop "${selector}" (or drop --at to restore that backup)`);
  if (options.at === undefined) throw new UsageError('--data-dir goes with --at TIME|latest: say to which point the data directory recovers');
  for (const [given, name] of [[options.table?.length, '--table'], [options.withGlobals, '--with-globals'], [options.dryRun, '--dry-run'], [options.force, '--force']] as const) {
    if (given) throw new UsageError(`${name} does not go with --at`);
  }
  if (options.dataDir !== undefined && (options.targetDb || options.targetUrl || options.inPlace)) throw new UsageError('--data-dir writes a data directory and restores into no database: drop --target-db, --target-url and --in-place');
  if (options.targetDb && options.targetUrl) throw new UsageError('Give --target-db or --target-url, not both');
  return parseRecoveryTarget(options.at);
}

function describeRecovery(recovered: RecoveredCluster, target: RecoveryTarget): string[] {
  const { base } = recovered;
  return [
    `Base:     base/${base.manifest.id} (finished ${base.manifest.finishedAt}), WAL from ${base.manifest.physical.startSegment}`,
    `Target:   ${describeTarget(target)}`,
    `Reached:  ${recovered.pointReached ? `${recovered.pointReached.toISOString()} (the last commit replayed)` : 'no transaction after the base backup'}; ${recovered.walServed.files} WAL files replayed in ${formatDuration(recovered.recoveryMs)}${recovered.walServed.lastName?.endsWith('.partial') ? ` (the last one the partial ${recovered.walServed.lastName})` : ''}`,
  ];
}

/**
 * keepsake restore --at TIME|latest: recover a throwaway cluster to that point (proved by
 * PostgreSQL's own recovery and the last replayed commit), dump the database from it, and restore
 * that dump through the usual plan, confirmation, safety backup and rollback. With --data-dir,
 * write a ready data directory instead.
 */
export async function restoreAt(context: CommandContext, selector: string | undefined, options: RestoreOptions): Promise<void> {
  const target = refuseOtherOptions(selector, options);
  const config = context.config();
  const deps = { config, storages: context.storages(), log: context.log() };
  const interrupt = interruptOnSignals(context);
  try {
    if (options.dataDir !== undefined) {
      const written = await writeDataDir(deps, { target, from: options.from, dir: options.dataDir, signal: interrupt.signal });
      for (const line of written.lines) context.out(line);
      return;
    }
    const database = options.db ?? config.database.database;
    let targetDb: DatabaseConfig = { ...config.database, database: options.targetDb ?? database };
    if (options.targetUrl) targetDb = databaseFromUrl(options.targetUrl, { name: '--target-url' }, config.database);
    const recovered = await recoverToPoint(deps, { target, from: options.from, signal: interrupt.signal });
    try {
      for (const line of describeRecovery(recovered, target)) context.err(line);
      await withWorkDir(config, async (dir) => {
        const { archive, entry } = await dumpRecovered(recovered, database, join(dir, 'recovered.dump'), config.pgBinDir);
        await recovered.stop();
        const plan = await planRestoreOf(deps, entry, { target: targetDb, safetyBackup: options.safetyBackup, keepOwnership: options.keepOwnership, inPlace: options.inPlace, db: database });
        for (const line of describePlan(plan).filter((line) => !line.startsWith('From:'))) context.err(line);
        await confirm(plan, options);
        const outcome = await withJobLock(context, 'restore', { wait: options.wait, signal: interrupt.signal }, () => restoreArchive(deps, plan, archive, dir, interrupt.signal));
        const checked = outcome.check.tables;
        const reached = recovered.pointReached?.toISOString() ?? `the end of base backup ${recovered.base.manifest.id}`;
        context.out(`OK restored ${database} as of ${reached} (asked: ${describeTarget(target)}) into ${describeDatabase(plan.target)} in ${formatDuration(outcome.durationMs)}; recovery took ${formatDuration(recovered.recoveryMs)}`);
        context.out(`  ${checked.filter((t) => t.ok).length} of ${checked.length} tables match the row counts of the recovered cluster`);
        if (outcome.safetyBackupId) context.out(`  the previous contents are kept as pre-restore/${outcome.safetyBackupId}`);
        if (outcome.keptDatabase) context.out(`  the previous database is kept as ${outcome.keptDatabase}, with every write made before the swap; drop it when no longer needed`);
        for (const warning of outcome.warnings) context.out(`  warning: ${warning}`);
      });
    } finally {
      await recovered.stop();
    }
  } finally {
    interrupt.dispose();
  }
}
