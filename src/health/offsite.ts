import type { Manifest } from '../backup/manifest';
import { readCatalog } from '../catalog/catalog';
import { coerceError } from '../errors';
import { formatDuration } from '../format';
import { offsiteLag, type OffsiteLag } from '../offsite/lag';
import { wantedOffsite, type TargetRetention } from '../offsite/wanted';
import { offsiteStorages, primaryStorages } from '../storage';
import type { Storage } from '../storage';
import { fail, ok, type HealthCheckResult } from './report';
import { withTimeout } from './probes';

/** One off-site target's lag as health sees it; `error` when it could not be listed. */
export interface OffsiteFact {
  target: string;
  lag: OffsiteLag;
  error?: string;
}

const firstLine = (error: unknown) => coerceError(error).message.split('\n')[0]!;

/**
 * Reads how far behind each off-site target is: the primaries' complete backups of this database
 * against each off-site target's. None when there are no off-site targets.
 */
export async function gatherOffsiteFacts(
  storages: readonly Storage[],
  options: { ours: (manifest: Manifest) => boolean; retentionOf: (target: string) => TargetRetention | undefined; timeoutMs: number; now: number },
): Promise<OffsiteFact[]> {
  const { ours, timeoutMs, now } = options;
  const destinations = offsiteStorages(storages);
  if (!destinations.length) return [];
  const mine = (manifests: Manifest[]) => manifests.filter(ours);
  const primary = mine((await withTimeout('listing the primary targets', timeoutMs, () => readCatalog(primaryStorages(storages)))).backups.map((entry) => entry.manifest));
  return Promise.all(
    destinations.map(async (destination) => {
      try {
        const held = mine((await withTimeout(`listing ${destination.name}`, timeoutMs, () => readCatalog([destination]))).backups.map((entry) => entry.manifest));
        // Only what the target's own retention keeps is missing when absent.
        const retention = options.retentionOf(destination.name);
        const belongs = retention ? primary.filter(wantedOffsite(primary, held, retention, now)) : primary;
        return { target: destination.name, lag: offsiteLag(belongs, held, now) };
      } catch (error) {
        return { target: destination.name, lag: offsiteLag(primary, undefined, now), error: firstLine(error) };
      }
    }),
  );
}

/** Pure: an off-site target fails when the oldest backup it lacks is older than HEALTH_MAX_AGE_OFFSITE. */
export function offsiteChecks(facts: readonly OffsiteFact[], limitMs: number): HealthCheckResult[] {
  return facts.map(({ target, lag, error }) => {
    const name = `offsite:${target}`;
    const limit = `limit ${formatDuration(limitMs)}, HEALTH_MAX_AGE_OFFSITE`;
    if (lag.missing === null) return fail(name, `cannot list the off-site target ${target}${error ? ` (${error})` : ''}: how far behind it is is unknown; fix the storage, the next off-site run catches up`);
    const age = formatDuration(lag.oldestMissingAgeMs);
    if (!lag.missing) return ok(name, `${target} holds every backup of the primaries${lag.newestHeld ? ` (newest ${lag.newestHeld.id})` : ''}`, '0s', 0);
    const what = `${target} lacks ${lag.missing} backup${lag.missing === 1 ? '' : 's'}, the oldest ${lag.oldestMissing!.tier}/${lag.oldestMissing!.id} from ${age} ago`;
    if (lag.oldestMissingAgeMs > limitMs) return fail(name, `${what} (${limit}); check the off-site job in \`keepsake status\` and its last report`, age, lag.oldestMissingAgeMs);
    return ok(name, `${what}; the next off-site run copies ${lag.missing === 1 ? 'it' : 'them'} (${limit})`, age, lag.oldestMissingAgeMs);
  });
}
