import { InterruptedError, StorageError, VerifyError, coerceError } from '../errors';
import { formatBytes } from '../format';
import { copyToOffsite, type OffsiteResult } from '../offsite/copy-to-offsite';
import { offsiteStorages, primaryStorages } from '../storage';
import { report, type JobRunner } from './job';
import { ownBackup } from '../sources';

/**
 * The off-site job: each off-site target in turn receives the complete backups of this sidecar's
 * sources it lacks, then one report covers them all. It runs apart from backups, so an off-site
 * target that is down never fails one; the job fails (and says why) and the next run catches up.
 */
export const offsiteJob: JobRunner = async (deps, signal) => {
  const destinations = offsiteStorages(deps.storages);
  if (!destinations.length) return 'off-site: no off-site targets configured, nothing to copy';
  const sources = primaryStorages(deps.storages);
  const ours = ownBackup(deps.config);
  const startedAt = new Date().toISOString();
  const results: OffsiteResult[] = [];
  for (const destination of destinations) {
    try {
      const retention = deps.config.targets.find((target) => target.name === destination.name)?.retention;
      results.push(await copyToOffsite({ sources, destination, select: ours, retention, signal, log: deps.log }));
    } catch (error) {
      // A shutdown is not news worth an e-mail; the next run copies the rest.
      if (error instanceof InterruptedError) throw error;
      results.push({ target: destination.name, location: destination.location(''), startedAt, durationMs: 0, copied: [], failed: [], error: `${destination.name}: ${coerceError(error).message.split('\n')[0]!}` });
    }
  }
  const bad = results.filter((result) => result.error || result.failed.length);
  await report(deps, { kind: bad.length ? 'offsite-failed' : 'offsite-succeeded', startedAt, finishedAt: new Date().toISOString(), targets: results });
  const copied = results.flatMap((result) => result.copied);
  const summary = `off-site: ${copied.length} backup${copied.length === 1 ? '' : 's'} copied (${formatBytes(copied.reduce((sum, copy) => sum + copy.bytes, 0))})`;
  if (bad.length) {
    const why = bad.map((result) => `${result.target}: ${result.error ?? result.failed.map((failed) => `${failed.tier}/${failed.id}: ${failed.error}`).join('; ')}`);
    // A corrupted source copy is a data error (65); a target that fails is a storage error (74).
    const corrupted = bad.every((result) => !result.error && result.failed.every((failed) => /corrupted on /.test(failed.error)));
    const message = `${summary}, but ${why.join('; ')}`;
    throw corrupted ? new VerifyError(message) : new StorageError(message);
  }
  return summary;
};
