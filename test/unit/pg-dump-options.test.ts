import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** The one PGDUMP_EXTRA_OPTS problem loadConfig reports, or undefined when it accepts the value. */
function problemWith(opts: string): string | undefined {
  try {
    loadConfig({ PGDUMP_EXTRA_OPTS: opts });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(1);
    return problems[0];
  }
}

describe('PGDUMP_EXTRA_OPTS read as pg_dump reads it', () => {
  it.each([
    ['--schema-on', '--schema-on (pg_dump reads it as --schema-only) would leave tables or data out'],
    ['--sect=pre-data', '--sect (pg_dump reads it as --section) would leave tables or data out'],
    ['--exclude-table-dat=audit', '--exclude-table-dat (pg_dump reads it as --exclude-table-data or --exclude-table-data-and-children) would leave'],
    ['--data-o', '--data-o (pg_dump reads it as --data-only) would leave'],
    ['--no-unlogged', '--no-unlogged (pg_dump reads it as --no-unlogged-table-data) would leave'],
    ['--filter=objects.txt', '--filter would leave tables or data out'],
    ['--no-data', '--no-data would leave tables or data out'],
    ['-B', '-B would leave tables or data out'],
    ['--no-large-objects', '--no-large-objects would leave'],
  ])('refuses the abbreviation or option %j that leaves data out', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it.each([
    ['-Os', '-s (in -Os) would leave tables or data out'],
    ['-xa', '-a (in -xa) would leave tables or data out'],
    ['-vn public', '-n (in -vn) would leave tables or data out'],
    ['-Ovtaudit', '-t (in -Ovtaudit) would leave tables or data out'],
  ])('finds a filter hidden in the short-option group %j', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it.each([
    ['-OFc', 'keepsake sets -F (in -OFc) itself'],
    ['--form=d', 'keepsake sets --form (pg_dump reads it as --format) itself'],
    ['--snap=1', 'keepsake sets --snap (pg_dump reads it as --snapshot) itself'],
    ['--no-pass', 'keepsake sets --no-pass (pg_dump reads it as --no-password) itself'],
    ['-j4', 'keepsake sets -j4 itself'],
  ])('refuses %j, an option keepsake sets itself, however it is written', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it('takes the word after an option that needs a value as that value, like pg_dump', () => {
    // "-E -s" is the encoding "-s", not --schema-only; "--role -a" is the role "-a".
    expect(problemWith('-E -s --role -a --lock-wait-timeout 5s')).toBeUndefined();
    // ...and a value that does not look like an option is not a database name either.
    expect(problemWith('--encoding UTF8 -S admin')).toBeUndefined();
  });

  it.each([
    ['otherdb', '"otherdb" is not an option; PGDUMP_EXTRA_OPTS takes options only (keepsake dumps POSTGRES_DB)'],
    ['--no-owner -- app', '"app" is not an option'],
    ['--no-owner -', '"-" is not an option'],
  ])('refuses the bare word in %j, which pg_dump would take as the database to dump', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it.each([
    ['--lock-wait=60s', '--lock-wait: write --lock-wait-timeout in full'],
    ['--no-own', 'write --no-owner in full'],
  ])('asks for allowed options in full (%j): versions differ in which prefixes are unique', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it.each([
    ['--no', '--no: ambiguous, pg_dump could read it as'],
    ['--frobnicate', '--frobnicate: not a pg_dump option keepsake knows'],
    ['-k', '-k: -k is not a pg_dump option keepsake knows'],
    ['--help', '--help prints help instead of dumping'],
    ['-V', '-V prints the version instead of dumping'],
    ['--enable-row-security', 'dumps only the rows row-level security lets the role see'],
    ['--statistics', '--statistics is read as --statistics-only by pg_dump versions without --statistics'],
    ['--no-owner=yes', '--no-owner=yes: --no-owner takes no value'],
    ['--lock-wait-timeout', '--lock-wait-timeout needs a value'],
    ['-E', '-E needs a value'],
  ])('refuses %j with a message that says why', (opts, message) => {
    expect(problemWith(opts)).toContain(message);
  });

  it.each([
    '--no-owner --no-privileges --no-comments',
    '--lock-wait-timeout=60s -v',
    '-Ox',
    '-Ov -x',
    '--inserts --rows-per-insert 1000 --on-conflict-do-nothing',
    '--quote-all-identifiers --load-via-partition-root --no-publications --no-subscriptions --no-tablespaces',
    '-EUTF8',
    '--large-objects --no-toast-compression --no-table-access-method --no-statistics',
  ])('passes %j on unchanged', (opts) => {
    expect(problemWith(opts)).toBeUndefined();
  });

  it('lists every problem of one value at once', () => {
    const problem = problemWith('--schema-on -Fc --frobnicate db')!;
    expect(problem).toContain('"db" is not an option');
    expect(problem).toContain('--frobnicate: not a pg_dump option keepsake knows');
    expect(problem).toContain('keepsake sets -Fc itself');
    expect(problem).toContain('--schema-on (pg_dump reads it as --schema-only) would leave');
  });
});
