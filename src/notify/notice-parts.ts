import type { Manifest } from '../backup/manifest';
import { formatBytes, formatDuration } from '../format';
import type { Notice } from './notice';

/** The part of a notice that depends on the event's kind: everything but its identity, title and summary. */
export type NoticeDetails = Partial<Pick<Notice, 'nextStep' | 'error' | 'backup' | 'durationMs' | 'checks'>> & Pick<Notice, 'hints' | 'facts' | 'links'>;

export type Facts = Notice['facts'];

/** Label/value pairs, the unknown ones left out, so a builder can list every optional fact inline. */
export function facts(...candidates: (Facts[number] | false | undefined)[]): Facts {
  return candidates.filter((fact): fact is Facts[number] => Boolean(fact));
}

/**
 * A stored copy's location as a link: S3 locations are `s3://bucket/key` already; a local target's is
 * an absolute path, made a `file://` URL (percent-encoded, so a space cannot end the link early).
 * Anything else (a relative path from an old manifest) is left out rather than guessed at.
 */
export function locationHref(location: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  if (location.startsWith('/')) return `file://${encodeURI(location).replace(/[?#]/g, encodeURIComponent)}`;
  return undefined;
}

/** Where each copy of a backup is stored, one link per target. */
export function storedLinks(targets: { target: string; location: string }[], rel = 'stored'): Notice['links'] {
  return targets.flatMap(({ target, location }) => {
    const href = locationHref(location);
    return href ? [{ rel, href, title: target }] : [];
  });
}

/** The notice's `backup` from a manifest: identity, times, sizes and checksum; nothing secret is in a manifest. */
export function backupOf(manifest: Manifest): NonNullable<Notice['backup']> {
  return {
    id: manifest.id,
    tier: manifest.tier,
    source: manifest.source?.name ?? manifest.database,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    durationMs: manifest.durationMs,
    rawBytes: manifest.rawBytes,
    storedBytes: manifest.storedBytes,
    sha256: manifest.sha256,
  };
}

/** The facts a chat card shows for a stored backup: tier, size, how long, where. */
export function manifestFacts(manifest: Manifest, size = formatBytes(manifest.storedBytes)): Facts {
  return facts(
    { label: 'Backup', value: `${manifest.tier}/${manifest.id}` },
    { label: 'Size', value: size },
    { label: 'Took', value: formatDuration(manifest.durationMs) },
    manifest.targets.length > 0 && { label: 'Targets', value: manifest.targets.map((target) => target.target).join(', ') },
  );
}

/** Hints with the first as the next step: what to do now, then what else to check. */
export function withHints(hints: string[]): Pick<NoticeDetails, 'hints' | 'nextStep'> {
  return { hints, nextStep: hints[0] };
}
