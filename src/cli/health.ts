import type { Command } from 'commander';
import { table } from '../format';
import { quickHealth } from '../health/quick';
import { HEALTH_EXIT_CODES, type HealthReport } from '../health/report';
import { runHealthChecks } from '../health/run-health';
import type { CommandContext } from './context';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

function printReport(report: HealthReport, out: (text: string) => void): void {
  const rows = [['', 'CHECK', 'VALUE', 'MESSAGE'], ...report.checks.map((check) => [MARK[check.status], check.name, check.value ?? '', check.message])];
  out(table(rows));
  const bad = report.checks.filter((check) => check.status !== 'ok').length;
  const verdict = { ok: 'HEALTHY', warn: 'HEALTHY WITH WARNINGS', fail: 'UNHEALTHY' }[report.status];
  out(`\n${verdict}: ${report.checks.length - bad} of ${report.checks.length} checks ok (took ${report.durationMs} ms)`);
}

/**
 * `keepsake health`: every check now, on demand (exit 0 healthy, 1 unhealthy, 2 warnings only).
 * `--quick` is Docker's HEALTHCHECK: no network, only the daemon's heartbeat and its last full run.
 */
export function registerHealth(program: Command, context: CommandContext): void {
  program
    .command('health')
    .description('check that the last good backup is recent and everything it needs works (exit 0 healthy, 1 unhealthy, 2 warnings)')
    .option('--json', 'print the result as JSON (stable: see README, "Health checks")')
    .option('--quick', "for Docker's HEALTHCHECK: only the daemon's heartbeat and its last full health run (exit 0 or 1)")
    .action(async (options: { json?: boolean; quick?: boolean }) => {
      const config = context.config();
      if (options.quick) {
        const verdict = await quickHealth(config);
        if (options.json) context.out(JSON.stringify(verdict));
        else context.out(`${verdict.healthy ? 'healthy' : 'UNHEALTHY'}: ${verdict.message}`);
        context.exitCode = verdict.healthy ? 0 : 1;
        return;
      }
      const report = await runHealthChecks({ config, storages: context.storages() });
      if (options.json) context.out(JSON.stringify(report, null, 2));
      else printReport(report, context.out);
      context.exitCode = HEALTH_EXIT_CODES[report.status];
    });
}
