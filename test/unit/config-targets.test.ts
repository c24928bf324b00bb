import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, redactedConfig, type Config } from '../../src/config';
import { problemsOf } from '../support/config-problems';


const named = (config: Config, name: string) => config.targets.find((target) => target.name === name)!;

/** local + S3 primaries, and a second S3 provider off-site in cold storage. */
const THREE = {
  BACKUP_TARGETS: 'local,s3',
  S3_BUCKET: 'main',
  OFFSITE_TARGETS: 'cold',
  TARGET_COLD_KIND: 's3',
  TARGET_COLD_BUCKET: 'far-away',
  TARGET_COLD_ENDPOINT: 'https://s3.eu-central-003.backblazeb2.com/',
  TARGET_COLD_REGION: 'eu-central-003',
  TARGET_COLD_STORAGE_CLASS: 'glacier',
  TARGET_COLD_KEEP_MONTHLY: '36',
};

describe('named targets', () => {
  it('keeps the legacy targets when nothing new is set', () => {
    expect(loadConfig({}).targets.map(({ name, role, kind }) => ({ name, role, kind }))).toEqual([{ name: 'local', role: 'primary', kind: 'local' }]);
    expect(loadConfig({ S3_BUCKET: 'b' }).targets.map((target) => target.name)).toEqual(['s3']);
  });

  it('reads primaries in BACKUP_TARGETS order, then the off-site ones, each with its own settings', () => {
    const config = loadConfig({ ...THREE, BACKUP_KEEP_MONTHLY: '6', BACKUP_MAX_AGE_DAILY: '30d' });
    expect(config.targets.map(({ name, role, kind }) => `${name}:${role}:${kind}`)).toEqual(['local:primary:local', 's3:primary:s3', 'cold:offsite:s3']);
    expect(named(config, 'cold').s3).toMatchObject({
      bucket: 'far-away', prefix: 'db-backups', region: 'eu-central-003', endpoint: 'https://s3.eu-central-003.backblazeb2.com',
      forcePathStyle: true, checksums: 'when_required', storageClass: 'GLACIER', partSizeBytes: 8 * 1024 ** 2,
    });
    // Its own monthly count; every other rule from BACKUP_KEEP_* / BACKUP_MAX_AGE_*.
    expect(named(config, 'cold').retention.keep).toEqual({ ...config.retention.keep, monthly: 36 });
    expect(named(config, 'cold').retention.maxAgeMs.daily).toBe(30 * 86_400_000);
    expect(named(config, 's3').retention.keep.monthly).toBe(6);
  });

  it('gives the legacy targets their own retention too', () => {
    expect(named(loadConfig({ TARGET_LOCAL_KEEP_DAILY: '2', TARGET_LOCAL_MAX_AGE_WEEKLY: '12w' }), 'local').retention).toMatchObject({ keep: { daily: 2 }, maxAgeMs: { weekly: 12 * 604_800_000 } });
  });

  it('reads a named local target\'s folder, relative to the working directory', () => {
    const config = loadConfig({ BACKUP_TARGETS: 'disk_2', TARGET_DISK_2_KIND: 'LOCAL', TARGET_DISK_2_DIR: 'spare' });
    expect(config.targets).toMatchObject([{ name: 'disk_2', kind: 'local', role: 'primary', dir: resolve('spare') }]);
  });

  it('tells the longest matching name apart: TARGET_B2_EU_* belongs to b2_eu, not b2', () => {
    const config = loadConfig({ BACKUP_TARGETS: 'b2,b2_eu', TARGET_B2_KIND: 's3', TARGET_B2_BUCKET: 'one', TARGET_B2_EU_KIND: 's3', TARGET_B2_EU_BUCKET: 'two' });
    expect(config.targets.map((target) => target.s3?.bucket)).toEqual(['one', 'two']);
  });

  it.each([
    [{ BACKUP_TARGETS: 'local', OFFSITE_TARGETS: 'local' }, '"local" is in both BACKUP_TARGETS and OFFSITE_TARGETS'],
    [{ BACKUP_TARGETS: 'Cold-1' }, 'target names are a letter, then letters, digits or _'],
    [{ OFFSITE_TARGETS: 'cold' }, 'OFFSITE_TARGETS names "cold": set TARGET_COLD_KIND to local or s3'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 'ftp' }, 'TARGET_COLD_KIND="ftp": expected one of local, s3'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3' }, 'TARGET_COLD_BUCKET is not set'],
    [{ OFFSITE_TARGETS: 'spare', TARGET_SPARE_KIND: 'local' }, 'TARGET_SPARE_DIR is not set'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_ENDPOINT: 'ftp://x' }, 'TARGET_COLD_ENDPOINT="ftp://x": expected a http: or https: URL'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_STORAGE_CLASS: 'freezer' }, 'TARGET_COLD_STORAGE_CLASS="freezer": expected one of STANDARD'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_KEEP_DAILY: '0' }, 'TARGET_COLD_KEEP_DAILY="0": expected a whole number from 1 to 100000'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_MAX_AGE_MONTHLY: 'forever' }, 'TARGET_COLD_MAX_AGE_MONTHLY="forever": expected an age like 30d'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_DIR: '/x' }, 'TARGET_COLD_DIR: cold is a s3 target; DIR does not apply to it'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_BUKET: 'c' }, 'TARGET_COLD_BUKET: unknown setting BUKET for target cold; expected one of KIND, BUCKET'],
    [{ OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b', TARGET_COLD_ACCESS_KEY_ID: 'AKIA' }, 'TARGET_COLD_ACCESS_KEY_ID is set but TARGET_COLD_SECRET_ACCESS_KEY is not'],
    [{ TARGET_LOCAL_DIR: '/elsewhere' }, 'TARGET_LOCAL_DIR: the local target is set by BACKUP_DIR'],
    [{ TARGET_COLDD_BUCKET: 'b' }, 'TARGET_COLDD_BUCKET: names "coldd", which is in neither BACKUP_TARGETS (local) or OFFSITE_TARGETS (unset)'],
    [{ OFFSITE_TARGETS: 's3' }, 'OFFSITE_TARGETS="s3": the s3 target needs S3_BUCKET'],
  ])('refuses %j, saying what to set', (env, text) => {
    const problems = problemsOf(env);
    expect(problems).toEqual([expect.stringContaining(text)]);
  });

  it('reports the targets\' problems together with every other one', () => {
    const problems = problemsOf({ POSTGRES_PORT: 'abc', OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_KEEP_DAILY: 'x' });
    expect(problems).toEqual([
      expect.stringMatching(/^POSTGRES_PORT=/),
      expect.stringMatching(/^TARGET_COLD_KEEP_DAILY="x"/),
      expect.stringMatching(/^TARGET_COLD_BUCKET is not set/),
    ]);
  });

  describe('secrets', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'keepsake-targets-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const cold = { OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 's3', TARGET_COLD_BUCKET: 'b' };

    it('reads the keys from TARGET_<NAME>_*_FILE', () => {
      const config = loadConfig({ ...cold, TARGET_COLD_ACCESS_KEY_ID_FILE: file('id', 'AKIACOLDKEY\n'), TARGET_COLD_SECRET_ACCESS_KEY_FILE: file('secret', 'cold-secret-value\n') });
      expect(named(config, 'cold').s3).toMatchObject({ accessKeyId: 'AKIACOLDKEY', secretAccessKey: 'cold-secret-value' });
    });

    it('never prints them: `keepsake config` and problems show ***', () => {
      const config = loadConfig({ ...cold, TARGET_COLD_ACCESS_KEY_ID: 'AKIACOLDKEY', TARGET_COLD_SECRET_ACCESS_KEY: 'cold-secret-value' });
      const shown = JSON.stringify(redactedConfig(config));
      expect(shown).not.toContain('cold-secret-value');
      expect(shown).not.toContain('COLDKEY');
      expect(shown).toContain('"secretAccessKey":"***"');
      const problems = problemsOf({ ...cold, TARGET_COLD_SECRET_ACCESS_KEY: 'cold-secret-value', TARGET_COLD_ACCESS_KEY_ID: 'AKIACOLDKEY', TARGET_COLD_KIND: 'tape' });
      expect(problems.join('\n')).not.toContain('cold-secret-value');
    });

    it('refuses a key set both directly and as _FILE, and a _FILE that cannot be read', () => {
      expect(problemsOf({ ...cold, TARGET_COLD_ACCESS_KEY_ID: 'a', TARGET_COLD_ACCESS_KEY_ID_FILE: file('id2', 'b'), TARGET_COLD_SECRET_ACCESS_KEY: 's' })).toEqual([
        'TARGET_COLD_ACCESS_KEY_ID and TARGET_COLD_ACCESS_KEY_ID_FILE are both set: keep one',
      ]);
      expect(problemsOf({ ...cold, TARGET_COLD_ACCESS_KEY_ID: 'a', TARGET_COLD_SECRET_ACCESS_KEY_FILE: join(dir, 'missing') })).toEqual([
        expect.stringMatching(/^TARGET_COLD_SECRET_ACCESS_KEY_FILE=.*: cannot read the file \(ENOENT\)/),
        expect.stringContaining('TARGET_COLD_ACCESS_KEY_ID is set but TARGET_COLD_SECRET_ACCESS_KEY is not'),
      ]);
    });
  });
});
