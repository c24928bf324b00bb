import { runRestoreTest, type RestoreTestRequest, type RestoreTestResult } from '../restore/restore-test';
import { report, type JobRunner, type JobDeps } from './job';

/** A restore test and its report, passed or failed. */
export async function restoreTestAndReport(deps: JobDeps, request: RestoreTestRequest): Promise<{ result: RestoreTestResult; failure?: Error }> {
  const outcome = await runRestoreTest(deps, request);
  await report(deps, { kind: outcome.result.ok ? 'restore-test-passed' : 'restore-test-failed', result: outcome.result });
  return outcome;
}

/** The daemon's restore test: of the latest backup; a failed test fails the job. */
export const restoreTestJob: JobRunner = async (deps, signal) => {
  const { result, failure } = await restoreTestAndReport(deps, { selector: 'latest', signal });
  if (failure) throw failure;
  if (!result.ok) throw new Error(`restore test of ${result.backup.id} failed: ${result.problems.join('; ')}`);
  return `restore test of ${result.backup.id} passed in ${result.timings.totalMs} ms`;
};
