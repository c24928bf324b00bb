import type { CompressionAlgorithm } from '../config';

export const TIERS = ['daily', 'weekly', 'monthly', 'yearly', 'manual', 'pre-restore', 'base'] as const;
export type Tier = (typeof TIERS)[number];

export const MANIFEST_SUFFIX = '.manifest.json';

/** What a compressed object's name ends in. */
export const COMPRESSED_SUFFIX: Record<CompressionAlgorithm, string> = { zstd: '.zst', gzip: '.gz', none: '' };

/**
 * What a source's data object is before compression: a pg_dump custom archive (`.dump`), plain SQL
 * (`.sql`, the globals), a SQLite database file (`.sqlite`) or a base backup's tar stream (`.tar`).
 */
export type ObjectFormat = '.dump' | '.sql' | '.sqlite' | '.tar';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** ISO 8601 week number and its year (the week containing the year's first Thursday is week 1). */
export function isoWeek(date: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  return { year: day.getUTCFullYear(), week: Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

/** File names keep letters, digits, dot, dash and underscore; anything else becomes "_". */
export function safeName(database: string): string {
  return database.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}

/** "app_20261122_020000": the backup's id, unique per database and second within a tier. */
export function backupId(database: string, at: Date): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `${safeName(database)}_${date}_${time}`;
}

/** The folder a tier files a backup under (README "Storage layout", docs/architecture.md; times in UTC). */
export function tierFolder(tier: Tier, at: Date): string {
  const year = at.getUTCFullYear();
  const month = pad(at.getUTCMonth() + 1);
  const day = pad(at.getUTCDate());
  switch (tier) {
    case 'weekly': {
      const week = isoWeek(at);
      return `weekly/${week.year}/week-${pad(week.week)}`;
    }
    case 'monthly':
      return `monthly/${year}/${month}`;
    case 'yearly':
      return `yearly/${year}`;
    default:
      return `${tier}/${year}/${month}/${day}`;
  }
}

/** `recovery-tests/YYYY/MM/restore_test_<YYYYMMDD>_<HHMMSS>.json`: one record per restore test. */
export function restoreTestKey(at: Date): string {
  return `recovery-tests/${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${backupId('restore_test', at)}.json`;
}

/** An age-encrypted data object ends in .age, so by hand it is plain what it needs first. */
export const ENCRYPTED_SUFFIX = '.age';

/** A data object's name: the dump (or SQL, or SQLite file), then its compression, then .age when encrypted. */
export const DATA_OBJECT = /\.(dump|sql|sqlite|tar)(\.zst|\.gz)?(\.age)?$/;

/** `<tier folder>/<source>_<ts><format><compression>[.age]`: a database's `.dump.zst`, the globals' `.sql.zst`. */
export function dataKey(tier: Tier, source: string, at: Date, compression: CompressionAlgorithm, encrypted = false, format: ObjectFormat = '.dump'): string {
  return `${tierFolder(tier, at)}/${backupId(source, at)}${format}${COMPRESSED_SUFFIX[compression]}${encrypted ? ENCRYPTED_SUFFIX : ''}`;
}

/** The manifest sits beside its data object: same name, manifest suffix instead of the dump's. */
export function manifestKeyFor(key: string): string {
  return key.replace(DATA_OBJECT, '') + MANIFEST_SUFFIX;
}

/** "daily/2026/11/22/app_20261122_020000.dump.zst" -> "app_20261122_020000" */
export function idOfKey(key: string): string {
  return key.split('/').pop()!.replace(DATA_OBJECT, '');
}

export function isManifestKey(key: string): boolean {
  return key.endsWith(MANIFEST_SUFFIX);
}
