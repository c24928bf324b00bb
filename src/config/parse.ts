/** Pure parsers for the value formats configuration uses; each throws a message that says what is expected. */

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};

/** "8MiB", "16M", "5 MB", "1048576" -> bytes. Bare K/M/G mean binary units, as in most tools. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw new Error('expected a size like 8MiB, 16M or 1048576');
  return Math.round(Number(match[1]) * unit);
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(text: string): boolean {
  const value = text.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new Error('expected true or false');
}

/**
 * Splits PGDUMP_EXTRA_OPTS the way a shell would split words: whitespace separates, single and
 * double quotes group, backslash escapes. No expansion happens: the words go to pg_dump as argv.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90m", "26h", "8d", "1s", "2w", "1h30m" -> milliseconds. */
export function parseDuration(text: string): number {
  const normalized = text.trim().toLowerCase().replace(/\s+/g, '');
  const parts = [...normalized.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (!parts.length || parts.map((part) => part[0]).join('') !== normalized) throw new Error('expected a duration like 90m, 26h, 8d or 1h30m');
  return parts.reduce((total, part) => total + Number(part[1]) * DURATION_UNITS[part[2]!]!, 0);
}

const AGE_UNITS: Record<string, number> = { d: 86_400_000, w: 604_800_000, m: 30 * 86_400_000, y: 365 * 86_400_000 };

/** Retention ages: "30d", "12w", "12m" (months of 30 days), "1y" -> milliseconds. */
export function parseAge(text: string): number {
  const match = /^\s*(\d+)\s*([dwmy])\s*$/i.exec(text);
  if (!match) throw new Error('expected an age like 30d, 12w, 12m (months) or 1y');
  return Number(match[1]) * AGE_UNITS[match[2]!.toLowerCase()]!;
}

/** A cron expression (5 or 6 fields, seconds first when 6), or "off". Validated by croner. */
export function parseSchedule(text: string, validate: (pattern: string) => void): string | 'off' {
  const value = text.trim();
  if (value.toLowerCase() === 'off') return 'off';
  const fields = value.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new Error('expected a cron expression of 5 fields (or 6 with seconds first), or "off"');
  try {
    validate(value);
  } catch (error) {
    throw new Error(`not a valid cron expression: ${(error as Error).message}`, { cause: error });
  }
  return value;
}

export type FreeSpaceLimit = { percent: number } | { bytes: number };

/** HEALTH_MIN_FREE_DISK: "10%" of the filesystem, or an absolute size like "5GiB". */
export function parseFreeSpace(text: string): FreeSpaceLimit {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    if (value > 100) throw new Error('a percentage of free space goes from 0% to 100%');
    return { percent: value };
  }
  try {
    return { bytes: parseSize(text) };
  } catch {
    throw new Error('expected a percentage like 10% or a size like 5GiB');
  }
}
