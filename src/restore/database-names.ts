/** PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and drops the rest silently. */
const MAX_NAME_BYTES = 63;

const pad = (value: number) => String(value).padStart(2, '0');

/** "20261122_020000" (UTC): when a restore was planned, shared by every database it names. */
export function restoreStamp(at: Date): string {
  return `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}_${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
}

/**
 * `<database>_<label>_<stamp>`, shortened in the database part so that PostgreSQL keeps all of it:
 * a name the server truncated would not be the name keepsake reports, renames and drops.
 */
export function sideName(database: string, label: string, stamp: string): string {
  const suffix = `_${label}_${stamp}`;
  let prefix = database;
  while (Buffer.byteLength(prefix + suffix) > MAX_NAME_BYTES) prefix = Array.from(prefix).slice(0, -1).join('');
  return prefix + suffix;
}

/** Where the backup is restored and checked before it takes the target's name. */
export function restoringName(database: string, stamp: string): string {
  return sideName(database, 'restoring', stamp);
}

/** The name the target's current database keeps after a swap: its data, the app's writes included. */
export function keptName(database: string, stamp: string): string {
  return sideName(database, 'pre_restore', stamp);
}

/** Where an --in-place restore that failed puts its safety backup back before renaming it. */
export function puttingBackName(database: string, stamp: string): string {
  return sideName(database, 'put_back', stamp);
}
