import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { databaseFromUrl } from '../config/database-url';
import type { DatabaseConfig } from '../config';
import { UsageError, VerifyError } from '../errors';
import { describeDatabase } from '../postgres/connection';
import { dryRun, executeRestore, planRestore, type RestorePlan } from '../restore/restore';
import type { CommandContext } from './context';
import { formatBytes, formatDuration, formatTimestamp } from '../format';
import { interruptOnSignals } from './signals';
import { withJobLock } from './job-lock';

interface RestoreOptions {
  targetDb?: string;
  targetUrl?: string;
  yes?: boolean;
  dryRun?: boolean;
  safetyBackup: boolean;
  keepOwnership?: boolean;
  wait: boolean;
}

function describePlan(plan: RestorePlan): string[] {
  const { manifest } = plan.entry;
  const ageHours = (Date.now() - Date.parse(manifest.startedAt)) / 3_600_000;
  const lines = [
    `Backup:  ${manifest.tier}/${manifest.id}, taken ${formatTimestamp(manifest.startedAt)} (${ageHours < 48 ? `${ageHours.toFixed(1)} hours` : `${(ageHours / 24).toFixed(1)} days`} ago), ${formatBytes(manifest.storedBytes)} stored, ${manifest.inventory.tables.length} tables`,
    `From:    ${plan.storage.location(manifest.key)}`,
    `Target:  ${describeDatabase(plan.target)} (PostgreSQL ${plan.state.serverVersion})`,
  ];
  if (!plan.state.exists) lines.push('Effect:  the database does not exist and will be created');
  else if (plan.state.tables === 0) lines.push('Effect:  the database exists but holds no tables; it will be dropped and recreated');
  else {
    lines.push(`Effect:  DROP the existing database (${plan.state.tables} tables, ${formatBytes(plan.state.bytes)}) and replace it with the backup`);
    lines.push(plan.safetyBackup ? 'Safety:  a pre-restore backup of it is taken first and put back if the restore fails' : 'Safety:  NO safety backup (--no-safety-backup): its current data will be lost');
  }
  return lines;
}

async function confirm(context: CommandContext, plan: RestorePlan, options: RestoreOptions): Promise<void> {
  if (options.yes) return;
  if (!process.stdin.isTTY) throw new UsageError('Refusing to restore without confirmation: no terminal to ask on. Check the plan with --dry-run, then run again with --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Type the database name "${plan.target.database}" to go ahead: `);
    if (answer.trim() !== plan.target.database) throw new UsageError('Not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}

export function registerRestore(program: Command, context: CommandContext): void {
  program
    .command('restore')
    .description('restore a backup into the configured database, another database (--target-db) or another server (--target-url)')
    .argument('<backup>', 'latest, a number from `keepsake list`, or an id')
    .option('--target-db <name>', 'restore into this database on the same server (created if missing)')
    .option('--target-url <url>', 'restore into the database of this postgres:// URL (password better in PGPASSWORD)')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--dry-run', 'check everything (integrity, connectivity, versions, space) and change nothing')
    .option('--no-safety-backup', 'do not back up the target before dropping it')
    .option('--no-wait', 'fail at once if another job is running instead of waiting for it')
    .option('--keep-ownership', 'restore owners and grants too (default: --no-owner --no-privileges; the roles must exist)')
    .action(async (selector: string, options: RestoreOptions) => {
      const config = context.config();
      if (options.targetDb && options.targetUrl) throw new UsageError('Give --target-db or --target-url, not both');
      let target: DatabaseConfig = options.targetDb ? { ...config.database, database: options.targetDb } : config.database;
      if (options.targetUrl) target = databaseFromUrl(options.targetUrl, { name: '--target-url' }, config.database);
      const deps = { config, storages: context.storages(), log: context.log() };
      const plan = await planRestore(deps, { selector, target, safetyBackup: options.safetyBackup, keepOwnership: options.keepOwnership });
      for (const line of describePlan(plan)) context.err(line);

      if (options.dryRun) {
        const checks = await dryRun(deps, plan);
        for (const check of checks) context.out(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
        if (checks.some((check) => !check.ok)) throw new VerifyError('Dry run found problems; nothing was changed');
        return context.out('Dry run passed; nothing was changed.');
      }
      await confirm(context, plan, options);
      const interrupt = interruptOnSignals(context);
      try {
        const outcome = await withJobLock(context, 'restore', { wait: options.wait, signal: interrupt.signal }, () => executeRestore(deps, plan, interrupt.signal));
        const tables = outcome.check.tables;
        context.out(`OK restored ${plan.entry.manifest.tier}/${plan.entry.manifest.id} into ${describeDatabase(plan.target)} in ${formatDuration(outcome.durationMs)}`);
        context.out(`  ${tables.filter((t) => t.ok).length} of ${tables.length} tables match the row counts recorded at backup time`);
        for (const note of outcome.check.notes) context.out(`  note: ${note}`);
        if (outcome.safetyBackupId) context.out(`  the previous contents are kept as pre-restore/${outcome.safetyBackupId}`);
      } finally {
        interrupt.dispose();
      }
    });
}
