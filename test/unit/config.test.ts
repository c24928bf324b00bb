import { cpus } from 'node:os';
import { loadConfig, type Config } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** Runs loadConfig and returns the ConfigError it throws (failing the test if it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const names = (config: Config) => config.targets.map((target) => target.name);
const targetNamed = (config: Config, name: string) => config.targets.find((target) => target.name === name);
/** The legacy s3 target's bucket settings (S3_*). */
const s3Of = (config: Config) => targetNamed(config, 's3')?.s3;

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('backs up to local disk under /backups when nothing is set', () => {
    expect(config.targets).toEqual([{ name: 'local', role: 'primary', kind: 'local', dir: '/backups', retention: { keep: config.retention.keep, maxAgeMs: config.retention.maxAgeMs } }]);
  });

  it('compresses with zstd level 3 on one thread per core', () => {
    expect(config.compression).toEqual({ algorithm: 'zstd', level: 3, threads: cpus().length });
  });

  it('connects to postgres@localhost:5432 and uses the user name as database name', () => {
    expect(config.database).toEqual({ host: 'localhost', port: 5432, user: 'postgres', password: undefined, database: 'postgres', sslMode: undefined, origin: expect.any(Object) });
  });

  it('logs at info and keeps state in /var/lib/keepsake', () => {
    expect(config.logLevel).toBe('info');
    expect(config.stateDir).toBe('/var/lib/keepsake');
    expect(config.dumpExtraArgs).toEqual([]);
  });

  it.each([
    ['gzip', 6],
    ['none', 0],
  ])('uses the default level of %s (%d)', (algorithm, level) => {
    expect(loadConfig({ BACKUP_COMPRESSION: algorithm }).compression.level).toBe(level);
  });

  it('uses an explicit thread count instead of the core count', () => {
    expect(loadConfig({ BACKUP_COMPRESSION_THREADS: '2' }).compression.threads).toBe(2);
  });

  it('splits PGDUMP_EXTRA_OPTS into pg_dump arguments', () => {
    expect(loadConfig({ PGDUMP_EXTRA_OPTS: '--no-owner --lock-wait-timeout="60 s"' }).dumpExtraArgs).toEqual(['--no-owner', '--lock-wait-timeout=60 s']);
  });

  it('refuses PGDUMP_EXTRA_OPTS that would leave tables or data out of the dump', () => {
    expect(() => loadConfig({ PGDUMP_EXTRA_OPTS: '--no-owner -T "audit log"' })).toThrow(/PGDUMP_EXTRA_OPTS=.*: -T would leave tables or data out of the dump/);
  });
});

describe('loadConfig database connection', () => {
  it('reads host, port, user, percent-encoded password, database and sslmode from DATABASE_URL', () => {
    const { database } = loadConfig({ DATABASE_URL: 'postgres://app%40corp:p%40ss%3Aw%2Frd@db.example.com:6543/my%20db?sslmode=require' });
    expect(database).toEqual({ host: 'db.example.com', port: 6543, user: 'app@corp', password: 'p@ss:w/rd', database: 'my db', sslMode: 'require', origin: expect.any(Object) });
  });

  it('accepts the postgresql:// scheme and a socket directory in ?host=', () => {
    const { database } = loadConfig({ DATABASE_URL: 'postgresql:///app?host=/var/run/postgresql' });
    expect(database.host).toBe('/var/run/postgresql');
    expect(database.database).toBe('app');
  });

  it('reads POSTGRES_* variables', () => {
    const env = { POSTGRES_HOST: 'db', POSTGRES_PORT: '5433', POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'pw', POSTGRES_DB: 'shop' };
    expect(loadConfig(env).database).toEqual({ host: 'db', port: 5433, user: 'app', password: 'pw', database: 'shop', sslMode: undefined, origin: expect.any(Object) });
  });

  it('accepts POSTGRES_DATABASE as an alias of POSTGRES_DB', () => {
    expect(loadConfig({ POSTGRES_DATABASE: 'shop' }).database.database).toBe('shop');
  });

  it('falls back to libpq PG* variables', () => {
    const env = { PGHOST: 'pghost', PGPORT: '5434', PGUSER: 'pguser', PGPASSWORD: 'pgpw', PGDATABASE: 'pgdb', PGSSLMODE: 'verify-full' };
    expect(loadConfig(env).database).toEqual({ host: 'pghost', port: 5434, user: 'pguser', password: 'pgpw', database: 'pgdb', sslMode: 'verify-full', origin: expect.any(Object) });
  });

  it('prefers POSTGRES_* over PG*', () => {
    const env = {
      POSTGRES_HOST: 'db', POSTGRES_PORT: '5433', POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'pw', POSTGRES_DB: 'shop',
      PGHOST: 'pghost', PGPORT: '5434', PGUSER: 'pguser', PGPASSWORD: 'pgpw', PGDATABASE: 'pgdb',
    };
    expect(loadConfig(env).database).toMatchObject({ host: 'db', port: 5433, user: 'app', password: 'pw', database: 'shop' });
  });

  it('prefers DATABASE_URL over both POSTGRES_* and PG*', () => {
    const env = {
      DATABASE_URL: 'postgres://url:urlpw@urlhost:6000/urldb?sslmode=disable',
      POSTGRES_HOST: 'db', POSTGRES_PORT: '5433', POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'pw', POSTGRES_DB: 'shop',
      PGHOST: 'pghost', PGPORT: '5434', PGUSER: 'pguser', PGPASSWORD: 'pgpw', PGDATABASE: 'pgdb', PGSSLMODE: 'require',
    };
    const { database } = loadConfig(env);
    expect(database).toEqual({ host: 'urlhost', port: 6000, user: 'url', password: 'urlpw', database: 'urldb', sslMode: 'disable', origin: expect.any(Object) });
    const fromUrl = { name: 'DATABASE_URL', inUrl: true };
    expect(database.origin).toEqual({ host: fromUrl, port: fromUrl, user: fromUrl, password: fromUrl, database: fromUrl });
  });

  it('treats empty strings as unset, so they do not hide a fallback', () => {
    const config = loadConfig({ POSTGRES_HOST: '', PGHOST: 'pghost', POSTGRES_PORT: ' ', BACKUP_DIR: '', S3_BUCKET: '' });
    expect(config.database.host).toBe('pghost');
    expect(config.database.port).toBe(5432);
    expect(config.targets).toMatchObject([{ name: 'local', dir: '/backups' }]);
  });
});

describe('loadConfig S3', () => {
  it('targets s3 by default when S3_BUCKET is set, under the db-backups prefix on us-east-1', () => {
    const config = loadConfig({ S3_BUCKET: 'bucket' });
    expect(names(config)).toEqual(['s3']);
    expect(s3Of(config)).toMatchObject({ bucket: 'bucket', prefix: 'db-backups', region: 'us-east-1', partSizeBytes: 8 * 1024 ** 2, queueSize: 3 });
  });

  it('uses AWS addressing and the SDK default checksums without S3_ENDPOINT', () => {
    expect(s3Of(loadConfig({ S3_BUCKET: 'b' }))).toMatchObject({ endpoint: undefined, forcePathStyle: false, checksums: 'when_supported' });
  });

  it('uses path-style addressing and only required checksums with S3_ENDPOINT, without its trailing slash', () => {
    const s3 = s3Of(loadConfig({ S3_BUCKET: 'b', S3_ENDPOINT: 'http://localhost:9000/' }));
    expect(s3).toMatchObject({ endpoint: 'http://localhost:9000', forcePathStyle: true, checksums: 'when_required' });
  });

  it.each([
    [{ S3_ENDPOINT: 'http://minio:9000', S3_CHECKSUMS: 'when_supported', S3_FORCE_PATH_STYLE: 'false' }, 'when_supported', false],
    [{ S3_CHECKSUMS: 'when_required', S3_FORCE_PATH_STYLE: 'true' }, 'when_required', true],
  ])('lets explicit S3_CHECKSUMS and S3_FORCE_PATH_STYLE override the endpoint default (%j)', (env, checksums, forcePathStyle) => {
    expect(s3Of(loadConfig({ S3_BUCKET: 'b', ...env }))).toMatchObject({ checksums, forcePathStyle });
  });

  it('strips slashes around S3_PREFIX and takes the region from S3_REGION, AWS_REGION or AWS_DEFAULT_REGION', () => {
    expect(s3Of(loadConfig({ S3_BUCKET: 'b', S3_PREFIX: '/team/db/', S3_REGION: 'eu-west-1', AWS_REGION: 'x' }))).toMatchObject({ prefix: 'team/db', region: 'eu-west-1' });
    expect(s3Of(loadConfig({ S3_BUCKET: 'b', AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'x' }))?.region).toBe('eu-central-1');
    expect(s3Of(loadConfig({ S3_BUCKET: 'b', AWS_DEFAULT_REGION: 'ap-south-1' }))?.region).toBe('ap-south-1');
  });

  it('keeps explicit BACKUP_TARGETS, deduplicated, even with a bucket', () => {
    expect(names(loadConfig({ S3_BUCKET: 'b', BACKUP_TARGETS: 'local, S3,local' }))).toEqual(['local', 's3']);
  });

  it('parses S3_PART_SIZE and S3_STORAGE_CLASS', () => {
    expect(s3Of(loadConfig({ S3_BUCKET: 'b', S3_PART_SIZE: '16M', S3_STORAGE_CLASS: 'standard_ia' }))).toMatchObject({ partSizeBytes: 16 * 1024 ** 2, storageClass: 'STANDARD_IA' });
  });
});

describe('loadConfig validation', () => {
  it('reports every bad variable at once with exit code 78', () => {
    const error = configError({ POSTGRES_PORT: 'abc', BACKUP_COMPRESSION: 'lz4', S3_PART_SIZE: '1MiB', LOG_LEVEL: 'loud' });
    expect(error.exitCode).toBe(78);
    expect(error.problems).toHaveLength(4);
    for (const name of ['POSTGRES_PORT', 'BACKUP_COMPRESSION', 'S3_PART_SIZE', 'LOG_LEVEL']) {
      expect(error.problems.filter((problem) => problem.startsWith(`${name}=`))).toHaveLength(1);
    }
    expect(error.message).toContain('4 problems');
  });

  it.each([
    [{ PGSSLMODE: 'sometimes' }, 'PGSSLMODE'],
    [{ BACKUP_TARGETS: 'local,ftp' }, 'BACKUP_TARGETS names "ftp": set TARGET_FTP_KIND to local or s3'],
    [{ BACKUP_TARGETS: 'local,ftp://x' }, 'BACKUP_TARGETS'],
    [{ BACKUP_TARGETS: 's3' }, 'the s3 target needs S3_BUCKET'],
    [{ BACKUP_COMPRESSION: 'gzip', BACKUP_COMPRESSION_LEVEL: '12' }, 'gzip levels go from 1 to 9'],
    [{ BACKUP_COMPRESSION_LEVEL: '20' }, 'expected a whole number from 1 to 19'],
    [{ S3_ENDPOINT: 'ftp://host' }, 'S3_ENDPOINT'],
    [{ S3_STORAGE_CLASS: 'COLD' }, 'S3_STORAGE_CLASS'],
    [{ PGDUMP_EXTRA_OPTS: '--no-owner -Fc -f out' }, 'keepsake sets -Fc, -f itself; remove them'],
    [{ PGDUMP_EXTRA_OPTS: '-T "unterminated' }, 'unterminated " quote'],
    [{ S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' }, 'S3_ACCESS_KEY_ID is set but S3_SECRET_ACCESS_KEY is not'],
  ])('rejects %j with a message naming the problem', (env, text) => {
    const error = configError(env);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(text);
  });

  it('never prints the secret access key when only it is set', () => {
    const error = configError({ S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-s3cr3t' });
    expect(error.problems).toEqual([expect.stringContaining('S3_SECRET_ACCESS_KEY is set but S3_ACCESS_KEY_ID is not')]);
    expect(error.message).not.toContain('wJalrXUtnFEMI-s3cr3t');
  });

  it('hides the password of an invalid DATABASE_URL', () => {
    const error = configError({ DATABASE_URL: 'mysql://app:hunter2-pw@db/app' });
    expect(error.problems[0]).toMatch(/^DATABASE_URL=mysql:\/\/app:\*\*\*@db\/app: /);
    expect(error.message).not.toContain('hunter2-pw');
  });

  it('reports an unreadable POSTGRES_PASSWORD_FILE next to format problems, without secret values', () => {
    const error = configError({
      POSTGRES_PASSWORD_FILE: '/nonexistent/keepsake/password',
      PGPASSWORD: 'pg-pw-literal-123',
      DATABASE_URL: 'http://u:url-pw-literal-456@host/db',
      POSTGRES_PORT: '99999',
    });
    expect(error.problems).toHaveLength(3);
    expect(error.problems[0]).toMatch(/^POSTGRES_PASSWORD_FILE=\/nonexistent\/keepsake\/password: cannot read the file \(ENOENT\)/);
    expect(error.message).toContain('DATABASE_URL=');
    expect(error.message).toContain('POSTGRES_PORT=');
    expect(error.message).not.toContain('pg-pw-literal-123');
    expect(error.message).not.toContain('url-pw-literal-456');
  });

  // BUG: cross-variable checks run only after the schema passes, so a format problem hides them.
  it('reports cross-variable problems together with format problems', () => {
    const error = configError({ POSTGRES_PORT: 'abc', S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-s3cr3t', BACKUP_TARGETS: 's3' });
    expect(error.problems).toHaveLength(3);
  });
});
