/**
 * PGDUMP_EXTRA_OPTS, read the way pg_dump reads its argv (getopt_long): long options may be
 * abbreviated to any unambiguous prefix ("--schema-on" is --schema-only), short options may be
 * grouped ("-Os" is -O -s), and a value may follow in the same word or the next one. Each option
 * is judged by what pg_dump takes it to mean; only options known to keep every table and its
 * data in the dump are let through (an allow list: a new pg_dump option is refused until it is
 * judged here).
 */

/** Why keepsake passes an option on, or refuses it. */
type Verdict = 'allowed' | 'reserved' | 'filters' | { refused: string };

interface DumpOption {
  long?: string;
  short?: string;
  takesValue: boolean;
  verdict: Verdict;
}

const option = (long: string | undefined, short: string | undefined, takesValue: boolean, verdict: Verdict): DumpOption => ({ long, short, takesValue, verdict });

/** Every option of pg_dump 13 to 18 (and the abbreviations' competitors), with keepsake's verdict. */
const DUMP_OPTIONS: DumpOption[] = [
  // Options keepsake sets itself: the pipeline depends on them.
  option('file', 'f', true, 'reserved'),
  option('format', 'F', true, 'reserved'),
  option('compress', 'Z', true, 'reserved'),
  option('jobs', 'j', true, 'reserved'),
  option('snapshot', undefined, true, 'reserved'),
  option('dbname', 'd', true, 'reserved'),
  option('host', 'h', true, 'reserved'),
  option('port', 'p', true, 'reserved'),
  option('username', 'U', true, 'reserved'),
  option('no-password', 'w', false, 'reserved'),
  option('password', 'W', false, 'reserved'),

  // Options that leave tables, rows or large objects out.
  option('data-only', 'a', false, 'filters'),
  option('schema-only', 's', false, 'filters'),
  option('statistics-only', undefined, false, 'filters'),
  option('no-data', undefined, false, 'filters'),
  option('no-schema', undefined, false, 'filters'),
  option('with-data', undefined, false, 'filters'),
  option('with-schema', undefined, false, 'filters'),
  option('with-statistics', undefined, false, 'filters'),
  option('section', undefined, true, 'filters'),
  option('schema', 'n', true, 'filters'),
  option('exclude-schema', 'N', true, 'filters'),
  option('table', 't', true, 'filters'),
  option('exclude-table', 'T', true, 'filters'),
  option('table-and-children', undefined, true, 'filters'),
  option('exclude-table-and-children', undefined, true, 'filters'),
  option('exclude-table-data', undefined, true, 'filters'),
  option('exclude-table-data-and-children', undefined, true, 'filters'),
  option('extension', 'e', true, 'filters'),
  option('exclude-extension', undefined, true, 'filters'),
  option('filter', undefined, true, 'filters'),
  option('no-blobs', 'B', false, 'filters'),
  option('no-large-objects', undefined, false, 'filters'),
  option('no-unlogged-table-data', undefined, false, 'filters'),
  // Harmless, but a pg_dump without it would read it as --statistics-only.
  option('statistics', undefined, false, { refused: 'is read as --statistics-only by pg_dump versions without --statistics' }),

  // Options refused for their own reasons.
  option('help', '?', false, { refused: 'prints help instead of dumping' }),
  option('version', 'V', false, { refused: 'prints the version instead of dumping' }),
  option('binary-upgrade', undefined, false, { refused: 'is for pg_upgrade only' }),
  option('enable-row-security', undefined, false, { refused: 'dumps only the rows row-level security lets the role see, so the dump would not match the row counts' }),
  option('include-foreign-data', undefined, true, { refused: 'dumps the data of foreign servers, which a restore cannot write back' }),

  // Options that change how things are written, never what is dumped.
  option('verbose', 'v', false, 'allowed'),
  option('lock-wait-timeout', undefined, true, 'allowed'),
  option('no-sync', undefined, false, 'allowed'),
  option('sync-method', undefined, true, 'allowed'),
  option('blobs', 'b', false, 'allowed'),
  option('large-objects', undefined, false, 'allowed'),
  option('clean', 'c', false, 'allowed'),
  option('if-exists', undefined, false, 'allowed'),
  option('create', 'C', false, 'allowed'),
  option('encoding', 'E', true, 'allowed'),
  option('no-owner', 'O', false, 'allowed'),
  option('no-reconnect', 'R', false, 'allowed'),
  option('superuser', 'S', true, 'allowed'),
  option('no-privileges', 'x', false, 'allowed'),
  option('no-acl', undefined, false, 'allowed'),
  option('role', undefined, true, 'allowed'),
  option('inserts', undefined, false, 'allowed'),
  option('column-inserts', undefined, false, 'allowed'),
  option('attribute-inserts', undefined, false, 'allowed'),
  option('rows-per-insert', undefined, true, 'allowed'),
  option('on-conflict-do-nothing', undefined, false, 'allowed'),
  option('disable-dollar-quoting', undefined, false, 'allowed'),
  option('disable-triggers', undefined, false, 'allowed'),
  option('extra-float-digits', undefined, true, 'allowed'),
  option('load-via-partition-root', undefined, false, 'allowed'),
  option('no-comments', undefined, false, 'allowed'),
  option('no-policies', undefined, false, 'allowed'),
  option('no-publications', undefined, false, 'allowed'),
  option('no-security-labels', undefined, false, 'allowed'),
  option('no-subscriptions', undefined, false, 'allowed'),
  option('no-table-access-method', undefined, false, 'allowed'),
  option('no-tablespaces', undefined, false, 'allowed'),
  option('no-toast-compression', undefined, false, 'allowed'),
  option('no-synchronized-snapshots', undefined, false, 'allowed'),
  option('quote-all-identifiers', undefined, false, 'allowed'),
  option('serializable-deferrable', undefined, false, 'allowed'),
  option('strict-names', undefined, false, 'allowed'),
  option('use-set-session-authorization', undefined, false, 'allowed'),
  option('no-statistics', undefined, false, 'allowed'),
  option('sequence-data', undefined, false, 'allowed'),
  option('restrict-key', undefined, true, 'allowed'),
];

/**
 * One option as pg_dump will read it: the words it came from and the options they may name. A
 * prefix may name several across pg_dump versions (--exclude-table-dat is --exclude-table-data in
 * 15, ambiguous in 16): it counts only when all of them share a verdict.
 */
interface ReadOption {
  written: string;
  readsAs: DumpOption[];
  abbreviated: boolean;
}

const describe = (known: DumpOption) => (known.long ? `--${known.long}` : `-${known.short}`);
const verdictOf = (entry: ReadOption) => entry.readsAs[0]!.verdict;
const sameVerdict = (a: DumpOption, b: DumpOption) => JSON.stringify(a.verdict) === JSON.stringify(b.verdict);

/**
 * The problems with PGDUMP_EXTRA_OPTS, each saying what to change; an empty list means pg_dump
 * gets these words as they are. Parsing follows glibc's getopt_long, which pg_dump uses.
 */
export function dumpOptionProblems(words: readonly string[]): string[] {
  const problems: string[] = [];
  const read: ReadOption[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--' || word === '-' || !word.startsWith('-')) {
      // pg_dump takes a bare word as the database to dump; after "--" every word is one.
      const bare = word === '--' ? words.slice(i + 1) : [word];
      if (bare.length) problems.push(`${bare.map((w) => JSON.stringify(w)).join(', ')} ${bare.length === 1 ? 'is' : 'are'} not an option; PGDUMP_EXTRA_OPTS takes options only (keepsake dumps POSTGRES_DB)`);
      if (word === '--') break;
      continue;
    }
    const step = word.startsWith('--') ? readLong(word) : readShortGroup(word);
    problems.push(...step.problems);
    read.push(...step.read);
    if (step.valueInNextWord) {
      if (i + 1 >= words.length) problems.push(`${word} needs a value`);
      i++;
    }
  }
  return [...problems, ...judge(read)];
}

interface Step {
  read: ReadOption[];
  problems: string[];
  /** The option's value is the next word, whatever it looks like (getopt takes "-E -s" as encoding "-s"). */
  valueInNextWord: boolean;
}

/** "--name" or "--name=value", the name possibly abbreviated. */
function readLong(word: string): Step {
  const [name, value] = splitAt(word.slice(2), '=');
  const named = longOptionsNamed(name);
  // A refused exact name is refused for its own reason, whatever else it abbreviates.
  const readsAs = named[0]?.long === name && named[0].verdict !== 'allowed' ? [named[0]] : named;
  const found = readsAs[0];
  if (!found) return { read: [], problems: [`${word}: not a pg_dump option keepsake knows`], valueInNextWord: false };
  if (!readsAs.every((other) => sameVerdict(other, found))) {
    return { read: [], problems: [`${word}: ambiguous, pg_dump could read it as ${readsAs.map(describe).join(', ')}; write the option in full`], valueInNextWord: false };
  }
  const read = [{ written: `--${name}`, readsAs, abbreviated: found.long !== name || readsAs.length > 1 }];
  const problems = !found.takesValue && value !== undefined ? [`${word}: ${describe(found)} takes no value`] : [];
  return { read, problems, valueInNextWord: found.takesValue && value === undefined };
}

/** A group of short options: "-O", "-Os", "-Fc", "-EUTF8", or "-E" with the value in the next word. */
function readShortGroup(word: string): Step {
  const read: ReadOption[] = [];
  for (let at = 1; at < word.length; at++) {
    const letter = word[at]!;
    const found = DUMP_OPTIONS.find((known) => known.short === letter);
    if (!found) return { read, problems: [`${word}: -${letter} is not a pg_dump option keepsake knows`], valueInNextWord: false };
    // "-Fc" names -F with its value; "-Os" groups -O and -s: name the letter and its word.
    const alone = at === 1 && (word.length === 2 || found.takesValue);
    read.push({ written: alone ? word : `-${letter} (in ${word})`, readsAs: [found], abbreviated: false });
    // The rest of the word, if any, is the value.
    if (found.takesValue) return { read, problems: [], valueInNextWord: at + 1 >= word.length };
  }
  return { read, problems: [], valueInNextWord: false };
}

function judge(read: ReadOption[]): string[] {
  const problems: string[] = [];
  const named = (entry: ReadOption) => (entry.abbreviated ? `${entry.written} (pg_dump reads it as ${entry.readsAs.map(describe).join(' or ')})` : entry.written);
  const reserved = read.filter((entry) => verdictOf(entry) === 'reserved').map(named);
  if (reserved.length) problems.push(`keepsake sets ${reserved.join(', ')} itself; remove ${reserved.length === 1 ? 'it' : 'them'}`);
  const filters = read.filter((entry) => verdictOf(entry) === 'filters').map(named);
  if (filters.length) problems.push(`${filters.join(', ')} would leave tables or data out of the dump; keepsake backs up whole databases so restore tests can check every table`);
  for (const entry of read) {
    const verdict = verdictOf(entry);
    if (typeof verdict === 'object') problems.push(`${named(entry)} ${verdict.refused}; remove it`);
    else if (verdict === 'allowed' && entry.abbreviated) {
      problems.push(`${entry.written}: write ${describe(entry.readsAs[0]!)} in full (pg_dump versions differ in which abbreviations they accept)`);
    }
  }
  return problems;
}

/**
 * The options pg_dump may read a name as: getopt_long takes the exact name, else the one option the
 * prefix abbreviates. The exact name comes first; the longer names it abbreviates come too, since a
 * pg_dump without that option reads it as them.
 */
function longOptionsNamed(name: string): DumpOption[] {
  if (!name) return [];
  const exact = DUMP_OPTIONS.filter((known) => known.long === name);
  return [...exact, ...DUMP_OPTIONS.filter((known) => known.long !== name && known.long?.startsWith(name))];
}

function splitAt(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
