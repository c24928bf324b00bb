import { manualRestoreCommands, parseManifest, serializeManifest, sourceOf, type Manifest } from '../../src/backup/manifest';
import { splitWords } from '../../src/config/parse';
import { validManifest } from './manifest-fixture';

const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseManifest', () => {
  it('accepts a complete manifest and returns it unchanged', () => {
    const manifest = validManifest();
    expect(parseManifest(body(manifest))).toEqual(manifest);
  });

  it('reads back what serializeManifest wrote', () => {
    const manifest = validManifest({ compression: { algorithm: 'gzip', level: 6 }, tier: 'weekly' });
    expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
  });

  it('accepts tables without a row count and sequences never called', () => {
    const manifest = validManifest({
      inventory: {
        schemas: [],
        extensions: [],
        tables: [{ schema: 'public', name: 'events', kind: 'partitioned', rows: null }],
        sequences: [{ schema: 'public', name: 's', lastValue: null }],
      },
    });
    expect(parseManifest(body(manifest))).toEqual(manifest);
  });

  it.each([
    ['an empty body', ''],
    ['truncated JSON', JSON.stringify(validManifest()).slice(0, 100)],
    ['plain text', 'not a manifest'],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON string', '"manifest"'],
    ['an empty object', '{}'],
  ])('rejects %s', (_what, text) => {
    expect(parseManifest(body(text))).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ['a future format version', { format: 2 }],
    ['an unknown tier', { tier: 'hourly' }],
    ['an archive format other than custom', { archiveFormat: 'directory' }],
    ['an unknown compression', { compression: { algorithm: 'lz4', level: 1 } }],
    ['a size given as a string', { storedBytes: '1024' }],
    ['a missing sha256', { sha256: undefined }],
    ['an upper-case sha256', { sha256: 'A'.repeat(64) }],
    ['a short sha256', { sha256: 'a'.repeat(63) }],
    ['a long sha256', { sha256: 'a'.repeat(65) }],
    ['a sha256 with non-hex characters', { sha256: 'g'.repeat(64) }],
    ['a sha256 with a prefix', { sha256: `sha256:${'a'.repeat(64)}` }],
    ['an unknown table kind', { inventory: { ...validManifest().inventory, tables: [{ schema: 'public', name: 't', kind: 'view', rows: 1 }] } }],
    ['a missing inventory', { inventory: undefined }],
    ['targets that are not a list', { targets: 'local' }],
  ])('rejects a manifest with %s', (_what, change) => {
    expect(parseManifest(body({ ...validManifest(), ...change }))).toBeUndefined();
  });
});

describe('a SQLite backup', () => {
  const sqliteManifest = (overrides: Partial<Manifest> = {}): Manifest => {
    const { server: _server, pgDump: _pgDump, ...rest } = validManifest();
    return {
      ...rest,
      source: { kind: 'sqlite', name: 'app' },
      database: '/data/app.db',
      key: 'daily/2026/11/22/app_20261122_020000.sqlite.zst',
      sqlite: { version: '3.46.1' },
      archiveFormat: 'sqlite',
      sha256: 'c'.repeat(64),
      inventory: { schemas: ['main'], extensions: [], tables: [{ schema: 'main', name: 'orders', kind: 'table', rows: 3 }], sequences: [], integrity: 'ok' },
      ...overrides,
    };
  };

  it('has no PostgreSQL server or pg_dump, and is read back with its integrity_check', () => {
    const manifest = sqliteManifest({ inventory: { ...sqliteManifest().inventory, integrity: ['row 3 missing from index i'] } });
    expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
    expect(sourceOf(manifest)).toEqual({ kind: 'sqlite', name: 'app' });
  });

  it('restores by hand by decompressing the file itself, then checking it', () => {
    expect(manualRestoreCommands(sqliteManifest())).toEqual([
      `sha256sum app_20261122_020000.sqlite.zst   # expect ${'c'.repeat(64)}`,
      'zstd -dc app_20261122_020000.sqlite.zst > app.db',
      "sqlite3 app.db 'PRAGMA integrity_check'   # expect ok",
    ]);
  });

  it('decrypts with age first when encrypted', () => {
    const manifest = sqliteManifest({ key: 'daily/2026/11/22/app_20261122_020000.sqlite.zst.age', encryption: { format: 'age', recipients: ['age1xyz'] } });
    expect(manualRestoreCommands(manifest)[1]).toBe('age -d -i key.txt app_20261122_020000.sqlite.zst.age | zstd -dc > app.db   # key.txt: the age identity file of one of its recipients');
  });

  it('a PostgreSQL manifest still needs its server and pg_dump', () => {
    expect(parseManifest(body(validManifest()))).toBeDefined();
    expect(parseManifest(body({ ...validManifest(), server: undefined }))).toBeUndefined();
    expect(parseManifest(body({ ...validManifest(), pgDump: undefined }))).toBeUndefined();
  });
});

describe('manualRestoreCommands', () => {
  it.each<[Manifest['compression']['algorithm'], string, string]>([
    ['zstd', 'app_20261122_020000.dump.zst', 'zstd -dc app_20261122_020000.dump.zst'],
    ['gzip', 'app_20261122_020000.dump.gz', 'gzip -dc app_20261122_020000.dump.gz'],
    ['none', 'app_20261122_020000.dump', 'cat app_20261122_020000.dump'],
  ])('for a %s backup, checks the sha256 then pipes "%s" into pg_restore', (algorithm, file, decompress) => {
    const manifest = validManifest({ key: `daily/2026/11/22/${file}`, compression: { algorithm, level: 3 }, sha256: 'b'.repeat(64) });
    const commands = manualRestoreCommands(manifest);
    expect(commands).toEqual([
      `sha256sum ${file}   # expect ${'b'.repeat(64)}`,
      'createdb app_restored',
      `${decompress} | pg_restore --no-owner --no-privileges -d app_restored`,
    ]);
  });

  it.each<[NonNullable<Manifest['encryption']>, string]>([
    [{ format: 'age', recipients: ['age1xyz'] }, 'age -d -i key.txt app_20261122_020000.dump.zst.age | zstd -dc | pg_restore --no-owner --no-privileges -d app_restored   # key.txt: the age identity file of one of its recipients'],
    [{ format: 'age', passphrase: true }, 'age -d app_20261122_020000.dump.zst.age | zstd -dc | pg_restore --no-owner --no-privileges -d app_restored   # age asks for the passphrase'],
  ])('for a backup encrypted with %j, decrypts with age before zstd', (encryption, pipeline) => {
    const manifest = validManifest({ key: 'daily/2026/11/22/app_20261122_020000.dump.zst.age', encryption, sha256: 'b'.repeat(64) });
    expect(manualRestoreCommands(manifest)).toEqual([`sha256sum app_20261122_020000.dump.zst.age   # expect ${'b'.repeat(64)}`, 'createdb app_restored', pipeline]);
  });

  it('refuses a manifest whose encryption names a secret key or passphrase', () => {
    expect(parseManifest(body({ ...validManifest(), encryption: { format: 'age', recipients: ['age1xyz'], identity: 'AGE-SECRET-KEY-1ABC' } }))).toBeUndefined();
    expect(parseManifest(body({ ...validManifest(), encryption: { format: 'age', passphrase: 'hunter2' } }))).toBeUndefined();
  });

  it('uses a given local file name instead of the key', () => {
    const commands = manualRestoreCommands(validManifest(), '/tmp/downloaded.zst').join('\n');
    expect(commands).toContain('sha256sum /tmp/downloaded.zst');
    expect(commands).toContain('zstd -dc /tmp/downloaded.zst | pg_restore');
  });

  it('never mentions a password or connection string', () => {
    expect(manualRestoreCommands(validManifest()).join('\n')).not.toMatch(/password|postgres:\/\//i);
  });

  // BUG: the database name is pasted unquoted, so "my db" runs `createdb my db_restored`
  // (database "my", description "db_restored").
  it('shell-quotes a database name with spaces or quotes so each command keeps it as one word', () => {
    const database = "shop's db";
    const [, createdb, restore] = manualRestoreCommands(validManifest({ database }));
    expect(splitWords(createdb!)).toEqual(['createdb', `${database}_restored`]);
    const words = splitWords(restore!);
    expect(words[words.indexOf('-d') + 1]).toBe(`${database}_restored`);
  });
});

describe('sourceOf', () => {
  it('reads a manifest written before sources as a backup of its PostgreSQL database', () => {
    const old = parseManifest(serializeManifest(validManifest()))!;
    expect(sourceOf(old)).toEqual({ kind: 'postgres', name: 'app' });
  });

  it('reads the globals as their own source, in plain SQL restored with psql', () => {
    const globals = parseManifest(serializeManifest(validManifest({ source: { kind: 'postgres-globals', name: 'globals' }, archiveFormat: 'plain', key: 'daily/2026/11/22/globals_20261122_020000.sql.zst' })))!;
    expect(sourceOf(globals)).toEqual({ kind: 'postgres-globals', name: 'globals' });
    expect(manualRestoreCommands(globals).join('\n')).toContain('zstd -dc globals_20261122_020000.sql.zst | psql -d postgres');
  });
});
