import type { Manifest } from '../backup/manifest';
import { readCatalog, type Catalog, type CatalogEntry } from '../catalog/catalog';
import { InterruptedError, UnavailableError, coerceError } from '../errors';
import type { Logger } from '../log';
import type { Storage } from '../storage';
import { copyBackup, DestinationError } from './copy-backup';
import { offsiteLag, type OffsiteLag } from './lag';
import { wantedOffsite, type TargetRetention } from './wanted';

/** One backup the run copied. */
export interface CopiedBackup {
  tier: string;
  id: string;
  startedAt: string;
  bytes: number;
  durationMs: number;
  method: 'server-side' | 'streamed';
  from: string;
  /** Source copies passed over, and why (a corrupted copy on one primary, read from another). */
  notes?: string[];
}

/** One backup the run could not copy, and why. */
export interface FailedBackup {
  tier: string;
  id: string;
  startedAt: string;
  bytes: number;
  error: string;
}

/** What one run did for one off-site target: plain values only (it goes into a report event). */
export interface OffsiteResult {
  target: string;
  /** Where the copies go, for humans: a folder or an s3:// URL. */
  location: string;
  startedAt: string;
  durationMs: number;
  copied: CopiedBackup[];
  failed: FailedBackup[];
  /** Set when the target itself failed (unreachable, refused writes): the rest wait for the next run. */
  error?: string;
  /** How far behind the target is after this run; unknown when it could not be listed. */
  lag?: OffsiteLag;
}

export interface OffsiteCopyRequest {
  /** The primary targets, whose complete backups are copied. */
  sources: Storage[];
  destination: Storage;
  /** Which backups belong off-site (this sidecar's database); all complete ones when unset. */
  select?: (manifest: Manifest) => boolean;
  /** The destination's own retention: backups it would delete are not copied (nor counted as missing). */
  retention?: TargetRetention;
  signal: AbortSignal;
  log: Logger;
  now?: () => Date;
  /** Told after each backup copied (logging; tests stop a server here). */
  onCopied?: (copied: CopiedBackup) => void | Promise<void>;
}

/**
 * After this many destination failures in a row, the destination is taken to be down and the
 * remaining backups wait for the next run: each attempt against a stalled endpoint costs a minute
 * of the SDK's retries, and a failing target must not hold the job queue for hours.
 */
const DESTINATION_FAILURES_TO_STOP = 2;

const nameOf = (manifest: Manifest) => `${manifest.tier}/${manifest.id}`;
const firstLine = (error: unknown) => coerceError(error).message.split('\n')[0]!;

/**
 * The primaries' catalog from those that answer: a primary that is down must not keep the others'
 * backups from going off-site. Only when none answers is there nothing to copy from.
 */
async function readSources(sources: Storage[], log: Logger): Promise<Catalog> {
  const reachable: Storage[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    try {
      // The first page is enough to know the target answers; readCatalog then reads it all.
      for await (const object of source.list('')) if (object) break;
      reachable.push(source);
    } catch (error) {
      problems.push(`${source.name}: ${firstLine(error)}`);
      log.warn({ target: source.name, err: coerceError(error) }, 'primary target cannot be listed; copying from the others');
    }
  }
  if (!reachable.length) throw new UnavailableError(`No primary target can be listed, so nothing can be copied off-site (${problems.join('; ')}); fix the storage, the next run catches up`);
  return readCatalog(reachable);
}

/** The complete backups the destination lacks, newest first. */
export function missingBackups(primary: Catalog, destination: Catalog, select: (manifest: Manifest) => boolean = () => true): CatalogEntry[] {
  const present = new Set(destination.backups.map((entry) => nameOf(entry.manifest)));
  return primary.backups.filter((entry) => select(entry.manifest) && !present.has(nameOf(entry.manifest)));
}

/**
 * Copies every complete backup of the primaries that the destination lacks, one at a time, newest
 * first: after an outage the most recent backup, the one a restore would want, is safe off-site
 * first, and a run cut short by shutdown has protected the newest. A backup that cannot be copied
 * (every source copy corrupt or unreadable) is reported and the others continue. A destination
 * that cannot be listed fails the run at once; one that fails twice in a row mid-way ends it, and
 * the next run catches up. Nothing half-written is ever listed on the destination.
 */
export async function copyToOffsite(request: OffsiteCopyRequest): Promise<OffsiteResult> {
  const { sources, destination, signal, log } = request;
  const now = request.now ?? (() => new Date());
  const started = now();
  const result: OffsiteResult = { target: destination.name, location: destination.location(''), startedAt: started.toISOString(), durationMs: 0, copied: [], failed: [] };
  const finish = () => ({ ...result, durationMs: now().getTime() - started.getTime() });

  const wanted = (catalog: Catalog) => catalog.backups.map((entry) => entry.manifest).filter(request.select ?? (() => true));
  const primary = await readSources(sources, log);
  let present: Catalog;
  try {
    present = await readCatalog([destination]);
  } catch (error) {
    result.error = `cannot list ${destination.name}: ${firstLine(error)}`;
    result.lag = offsiteLag(wanted(primary), undefined, now().getTime());
    return finish();
  }
  const keeps = request.retention ? wantedOffsite(wanted(primary), wanted(present), request.retention, now().getTime()) : () => true;
  const select = (manifest: Manifest) => (request.select?.(manifest) ?? true) && keeps(manifest);
  const missing = missingBackups(primary, present, select);
  let failuresInARow = 0;
  for (const [index, entry] of missing.entries()) {
    const { manifest } = entry;
    const facts = { tier: manifest.tier, id: manifest.id, startedAt: manifest.startedAt, bytes: manifest.storedBytes };
    if (signal.aborted) throw new InterruptedError(`Off-site copy to ${destination.name} interrupted by shutdown after ${result.copied.length} of ${missing.length} backups; nothing half-written is listed, the next run copies the rest`);
    const copyStarted = now();
    try {
      const done = await copyBackup(entry, destination, { signal, log });
      const copied: CopiedBackup = { ...facts, durationMs: now().getTime() - copyStarted.getTime(), method: done.method, from: done.from, ...(done.skipped.length ? { notes: done.skipped } : {}) };
      result.copied.push(copied);
      failuresInARow = 0;
      log.info({ backup: nameOf(manifest), to: destination.name, from: done.from, method: done.method, bytes: manifest.storedBytes }, 'copied off-site');
      await request.onCopied?.(copied);
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      result.failed.push({ ...facts, error: firstLine(error) });
      log.error({ backup: nameOf(manifest), to: destination.name, err: coerceError(error) }, 'off-site copy failed');
      failuresInARow = error instanceof DestinationError ? failuresInARow + 1 : 0;
      if (failuresInARow >= DESTINATION_FAILURES_TO_STOP) {
        const waiting = missing.length - index - 1;
        result.error = `${destination.name} failed ${failuresInARow} times in a row (${firstLine(error)}); ${waiting} more backup${waiting === 1 ? '' : 's'} wait for the next run`;
        break;
      }
    }
  }
  const after = await readCatalog([destination]).catch(() => undefined);
  result.lag = offsiteLag(wanted(primary).filter(keeps), after && wanted(after), now().getTime());
  return finish();
}
