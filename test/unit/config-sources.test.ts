import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadConfig, redactedConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keepsake-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('<NAME>_FILE secrets', () => {
  it.each([
    ['POSTGRES_PASSWORD', 'pw-from-file\n', (c: ReturnType<typeof loadConfig>) => c.database.password, 'pw-from-file'],
    ['PGPASSWORD', 'pg-pw\r\n', (c: ReturnType<typeof loadConfig>) => c.database.password, 'pg-pw'],
    ['DATABASE_URL', 'postgres://u:p@urlhost/db\n', (c: ReturnType<typeof loadConfig>) => c.database.host, 'urlhost'],
  ])('reads %s from the file named by %s_FILE, without its trailing newline', (name, content, pick, expected) => {
    const config = loadConfig({ [`${name}_FILE`]: file(`${name}.secret`, content) });
    expect(pick(config)).toBe(expected);
  });

  it('reads both S3 keys from files', () => {
    const config = loadConfig({
      S3_BUCKET: 'b',
      S3_ACCESS_KEY_ID_FILE: file('key-id', 'AKIAFILE\n'),
      S3_SECRET_ACCESS_KEY_FILE: file('secret-key', 'secret-from-file\n'),
    });
    expect(config.targets[0]!.s3).toMatchObject({ accessKeyId: 'AKIAFILE', secretAccessKey: 'secret-from-file' });
  });

  it('keeps inner whitespace and removes only the one final newline', () => {
    expect(loadConfig({ POSTGRES_PASSWORD_FILE: file('spaces', ' a b \n') }).database.password).toBe(' a b ');
  });

  it('reports NAME and NAME_FILE both set as a problem', () => {
    const path = file('both', 'pw-in-file\n');
    expect(() => loadConfig({ POSTGRES_PASSWORD: 'pw-in-env', POSTGRES_PASSWORD_FILE: path })).toThrow(
      expect.objectContaining({ problems: ['POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set: keep one'] }),
    );
  });

  it('reads NAME_FILE when NAME is set to an empty string', () => {
    const path = file('empty-name', 'pw-in-file\n');
    expect(loadConfig({ POSTGRES_PASSWORD: '', POSTGRES_PASSWORD_FILE: path }).database.password).toBe('pw-in-file');
  });

  it('reports a missing secret file with its path and error code, as a ConfigError', () => {
    const missing = join(dir, 'missing');
    let error: unknown;
    try {
      loadConfig({ PGPASSWORD_FILE: missing });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([`PGPASSWORD_FILE=${missing}: cannot read the file (ENOENT); mount the secret or fix the path`]);
  });
});

describe('.env file', () => {
  it('fills unset values while the real environment wins', () => {
    const dotenvPath = file('.env', 'POSTGRES_HOST=from-dotenv\nPOSTGRES_USER=dotenv-user\nS3_BUCKET="dotenv-bucket"\n');
    const config = loadConfig({ POSTGRES_HOST: 'from-env' }, { dotenvPath });
    expect(config.database.host).toBe('from-env');
    expect(config.database.user).toBe('dotenv-user');
    expect(config.targets[0]!.s3?.bucket).toBe('dotenv-bucket');
  });

  it('is ignored unless a dotenvPath is given', () => {
    file('.env', 'POSTGRES_HOST=from-dotenv\n');
    expect(loadConfig({}).database.host).toBe('localhost');
  });

  it('is optional: a missing file changes nothing', () => {
    expect(loadConfig({}, { dotenvPath: join(dir, 'no-such.env') }).database.host).toBe('localhost');
  });

  it('is named in the configuration with the variables it set: keepsake\'s own, left unset by the environment', () => {
    const dotenvPath = file('named.env', 'S3_BUCKET=keepsake-backups\nPOSTGRES_USER=app\nMINIO_ROOT_USER=minioadmin\nTZ=\n');
    const config = loadConfig({ POSTGRES_USER: 'from-env' }, { dotenvPath });
    expect(config.dotenv).toEqual({ path: dotenvPath, variables: ['S3_BUCKET'] });
    expect(redactedConfig(config)).toMatchObject({ dotenv: { path: dotenvPath, variables: ['S3_BUCKET'] } });
    expect(loadConfig({}).dotenv).toBeUndefined();
  });

  it('is named by its absolute path when given as a relative one', () => {
    const dotenvPath = file('relative.env', 'S3_BUCKET=b\n');
    const relativePath = relative(process.cwd(), dotenvPath);
    expect(loadConfig({}, { dotenvPath: relativePath }).dotenv?.path).toBe(dotenvPath);
  });

  it('is named next to a bad value it set', () => {
    const dotenvPath = file('bad.env', 'S3_BUCKET=b\nS3_PART_SIZE=1M\n');
    expect(() => loadConfig({}, { dotenvPath })).toThrow(
      expect.objectContaining({ problems: [`S3_PART_SIZE="1M" (set in ${dotenvPath}): S3 parts must be at least 5MiB`] }),
    );
  });

  it('can name a secret file', () => {
    const secret = file('dotenv-secret', 'pw-via-dotenv\n');
    const dotenvPath = file('secret.env', `POSTGRES_PASSWORD_FILE=${secret}\n`);
    expect(loadConfig({}, { dotenvPath }).database.password).toBe('pw-via-dotenv');
  });
});

describe('returned config', () => {
  const config = loadConfig({ S3_BUCKET: 'b', PGDUMP_EXTRA_OPTS: '--no-owner', BACKUP_TARGETS: 'local,s3' });

  it.each([
    ['config', config],
    ['database', config.database],
    ['compression', config.compression],
    ['s3', config.targets[1]!.s3],
    ['targets', config.targets],
    ['dumpExtraArgs', config.dumpExtraArgs],
  ])('is deeply frozen (%s)', (_name, value) => {
    expect(Object.isFrozen(value)).toBe(true);
  });

  it('rejects writes in strict mode', () => {
    expect(() => {
      (config.database as { host: string }).host = 'elsewhere';
    }).toThrow(TypeError);
    expect(() => (config.targets as unknown[]).push(config.targets[0])).toThrow(TypeError);
  });
});

describe('redactedConfig', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgres://app:db-pw-literal@db/app',
    S3_BUCKET: 'b',
    S3_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret-literal',
  });
  const redacted = redactedConfig(config) as { database: Record<string, unknown>; targets: { s3: Record<string, unknown> }[] };
  const s3 = redacted.targets[0]!.s3;
  const text = JSON.stringify(redacted);

  it('replaces the password and the secret access key with ***', () => {
    expect(redacted.database.password).toBe('***');
    expect(s3.secretAccessKey).toBe('***');
    expect(text).not.toContain('db-pw-literal');
    expect(text).not.toContain('wJalrXUtnFEMI-secret-literal');
  });

  it('shows only the first four characters of the access key id', () => {
    expect(s3.accessKeyId).toBe('AKIA***');
    expect(text).not.toContain('IOSFODNN7EXAMPLE');
  });

  it('shows where the password came from: a variable name, not a secret', () => {
    expect(redacted.database.origin).toMatchObject({ password: { name: 'DATABASE_URL', inUrl: true } });
  });

  it('keeps everything else, and omits secrets that are unset', () => {
    expect(redacted.database).toMatchObject({ host: 'db', user: 'app', database: 'app' });
    expect(s3.bucket).toBe('b');
    expect(redactedConfig(loadConfig({}))).not.toHaveProperty('database.password');
  });
});
