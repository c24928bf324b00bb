import { runCli } from '../support/cli';
import { SCHEDULES_OFF } from '../support/daemon';
import { makeWorkspace } from '../support/workspace';

/** The NEXT RUN column of `keepsake status`, by job. */
function nextRuns(stdout: string): Record<string, string> {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => line.startsWith('JOB'));
  const column = lines[header]!.indexOf('NEXT RUN');
  return Object.fromEntries(lines.slice(header + 1).filter(Boolean).map((line) => [line.split(/\s+/)[0], line.slice(column).trim()]));
}

describe('keepsake status', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => workspace.remove());

  it('shows the next run from the configured schedules when no daemon has written one', async () => {
    const run = await runCli(['status'], { STATE_DIR: workspace.stateDir, ...SCHEDULES_OFF, SCHEDULE_DAILY: '0 2 * * *', SCHEDULE_HEALTH: '*/5 * * * *' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the daemon has not run here yet');
    const next = nextRuns(run.stdout);
    expect(next.daily).toMatch(/^in \d/);
    expect(next.health).toMatch(/^in \d/);
    expect(next.weekly).toBe('off');
  });
});
