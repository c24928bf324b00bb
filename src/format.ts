/** Human units for terminal output and reports. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  // Choose the unit after rounding, so 999999 reads "1.0 MB", not "1000.0 kB".
  while (unit < units.length - 1 && Number(scaled(bytes, unit).toFixed(decimals(bytes, unit))) >= 1000) unit++;
  return unit === 0 ? `${bytes} B` : `${scaled(bytes, unit).toFixed(decimals(bytes, unit))} ${units[unit]}`;
}

const scaled = (bytes: number, unit: number) => bytes / 1000 ** unit;
const decimals = (bytes: number, unit: number) => (scaled(bytes, unit) < 9.995 ? 2 : 1);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  // Round once, then split, so 119.5s reads "2m00s", never "1m60s".
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  // Health limits run to weeks: "36d04h" reads better than "868h00m".
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

/** "2026-11-22 02:00:00Z": UTC, the time zone the storage layout uses. */
export function formatTimestamp(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n');
}
