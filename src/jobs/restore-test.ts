import { runRestoreTest, type RestoreTestRequest, type RestoreTestResult } from '../restore/restore-test';
import { report, type JobRunner, type JobDeps } from './job';
import { InterruptedError } from '../errors';
import { GLOBALS_NAME, sourceNames } from '../sources';

/** A restore test and its report, passed or failed. */
export async function restoreTestAndReport(deps: JobDeps, request: RestoreTestRequest): Promise<{ result: RestoreTestResult; failure?: Error }> {
  const outcome = await runRestoreTest(deps, request);
  await report(deps, { kind: outcome.result.ok ? 'restore-test-passed' : 'restore-test-failed', result: outcome.result });
  return outcome;
}

/**
 * The daemon's restore test: of the latest backup of every source, each its own test and report
 * (one source: exactly as before). With the globals backed up and a throwaway cluster, each
 * database is restored after them, with its owners and grants. Any failed test fails the job,
 * naming the sources that failed; the others are tested regardless.
 */
export const restoreTestJob: JobRunner = async (deps, signal) => {
  const names = await sourceNames(deps.config);
  const withGlobals = names.includes(GLOBALS_NAME) && deps.config.restore.testMode === 'ephemeral';
  const passed: string[] = [];
  const failed: { source: string; error: Error }[] = [];
  for (const db of names) {
    const { result, failure } = await restoreTestAndReport(deps, { selector: 'latest', db, withGlobals: withGlobals && db !== GLOBALS_NAME, signal });
    if (failure instanceof InterruptedError) throw failure;
    if (failure || !result.ok) failed.push({ source: db, error: failure ?? new Error(`restore test of ${result.backup.id} failed: ${result.problems.join('; ')}`) });
    else passed.push(`restore test of ${result.backup.id} passed in ${result.timings.totalMs} ms`);
  }
  if (names.length === 1 && failed[0]) throw failed[0].error;
  if (failed.length) throw new Error(`restore test failed for ${failed.map((f) => f.source).join(', ')}: ${failed.map((f) => `${f.source}: ${f.error.message}`).join('; ')}`);
  return passed.join('; ');
};
