import { copyRanges } from '../../src/storage/s3-copy';
import { loadConfig } from '../../src/config';
import { offsiteChecks } from '../../src/health/offsite';
import { offsiteLag } from '../../src/offsite/lag';
import { wantedOffsite } from '../../src/offsite/wanted';
import type { OffsiteEvent } from '../../src/report/events';
import { renderReport } from '../../src/report/render';
import { SAMPLE_EVENTS } from '../../src/report/render/samples';
import { validManifest } from './manifest-fixture';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const backup = (id: string, startedAt: string, tier: 'daily' | 'weekly' = 'daily') => validManifest({ id, tier, startedAt, key: `${tier}/x/${id}.dump.zst` });
const monday = backup('app_20261116_020000', '2026-11-16T02:00:00.000Z');
const friday = backup('app_20261120_020000', '2026-11-20T02:00:00.000Z');
const sunday = backup('app_20261122_020000', '2026-11-22T02:00:00.000Z');
const weekly = backup('app_20261122_020000', '2026-11-22T02:00:00.000Z', 'weekly');

describe('how far behind an off-site target is', () => {
  it('counts the backups it lacks and how old the oldest of them is', () => {
    expect(offsiteLag([sunday, friday, monday], [monday], NOW)).toEqual({
      missing: 2,
      oldestMissing: { tier: 'daily', id: friday.id, startedAt: friday.startedAt },
      oldestMissingAgeMs: 2 * 24 * HOUR + 10 * HOUR,
      newestHeld: { tier: 'daily', id: monday.id, startedAt: monday.startedAt },
    });
  });

  it('is up to date when it holds every backup, and an id in another tier is another backup', () => {
    expect(offsiteLag([sunday, friday], [friday, sunday, monday], NOW)).toEqual({ missing: 0, oldestMissingAgeMs: 0, newestHeld: { tier: 'daily', id: sunday.id, startedAt: sunday.startedAt } });
    expect(offsiteLag([weekly], [sunday], NOW)).toMatchObject({ missing: 1, oldestMissing: { tier: 'weekly' } });
  });

  it('does not count backups the primaries no longer hold, and says "unknown" when the target cannot be listed', () => {
    expect(offsiteLag([], [monday], NOW)).toMatchObject({ missing: 0 });
    expect(offsiteLag([sunday, friday], undefined, NOW)).toEqual({ missing: null, oldestMissingAgeMs: 2 * 24 * HOUR + 10 * HOUR });
  });
});

describe('the offsite health check', () => {
  const limit = 8 * 24 * HOUR;
  it('passes while the oldest missing backup is younger than HEALTH_MAX_AGE_OFFSITE and fails past it', () => {
    const [behind, late, unknown, current] = offsiteChecks(
      [
        { target: 'cold', lag: offsiteLag([sunday, friday], [], NOW) },
        { target: 'vault', lag: offsiteLag([sunday], [], NOW + 9 * 24 * HOUR) },
        { target: 'tape', lag: offsiteLag([sunday], undefined, NOW), error: 'Cannot list s3://tape/db-backups/: connection refused' },
        { target: 'far', lag: offsiteLag([sunday], [sunday], NOW) },
      ],
      limit,
    );
    expect(behind).toMatchObject({ name: 'offsite:cold', status: 'ok', value: '2d10h', measured: 2 * 24 * HOUR + 10 * HOUR, message: expect.stringMatching(/^cold lacks 2 backups, the oldest daily\/app_20261120_020000 from 2d10h ago; the next off-site run copies them/) });
    expect(late).toMatchObject({ name: 'offsite:vault', status: 'fail', message: expect.stringMatching(/vault lacks 1 backup.*limit 8d00h, HEALTH_MAX_AGE_OFFSITE/) });
    expect(unknown).toMatchObject({ name: 'offsite:tape', status: 'fail', message: expect.stringMatching(/^cannot list the off-site target tape \(Cannot list s3:\/\/tape\/db-backups\/: connection refused\)/) });
    expect(current).toMatchObject({ name: 'offsite:far', status: 'ok', measured: 0, message: `far holds every backup of the primaries (newest ${sunday.id})` });
  });
});

describe('the off-site report', () => {
  const render = (event: OffsiteEvent) => renderReport(event, { subjectPrefix: '[keepsake]', now: new Date('2026-11-22T04:02:00.000Z') });

  it('per target: what was copied (size, time, how, from where), what failed and why, how far behind it is', () => {
    const { subject, text } = render(SAMPLE_EVENTS['offsite-failed'] as OffsiteEvent);
    expect(subject).toBe('[keepsake] FAILED off-site copy app@db-prod:5432: cold: 2 backups not copied; 1 backup copied (42.1 MB) to cold');
    expect(text).toContain('OFF-SITE TARGET COLD');
    expect(text).toMatch(/! daily\/app_20261122_020000 +42\.1 MB +22\.4s\n +streamed from s3, checked by sha256; corrupted on local\n/);
    expect(text).toContain('daily/app_20261122_020000: corrupted on local: sha256 0b6f1c2d');
    expect(text).toMatch(/! daily\/app_20261121_020000 +42\.0 MB\n +Cannot upload to s3:\/\/acme-cold\/.*connection refused/);
    expect(text).toContain('Behind afterwards: 5 backups missing, the oldest daily/app_20261117_020000 (5d02h old)');
  });

  it('a run that copied everything says so, with the server-side copies named', () => {
    const ok = SAMPLE_EVENTS['offsite-succeeded'] as OffsiteEvent;
    const serverSide: OffsiteEvent = { ...ok, targets: [{ ...ok.targets[0]!, copied: [{ ...ok.targets[0]!.copied[0]!, method: 'server-side', from: 's3' }] }] };
    const { subject, text } = render(serverSide);
    expect(subject).toBe('[keepsake] OK off-site copy app@db-prod:5432: 1 backup copied (42.1 MB) to cold');
    expect(text).toContain('server-side copy from s3, read back and checked by sha256');
    expect(text).toContain('Behind afterwards: up to date');
  });
});

describe('server-side copies above 5 GiB go part by part', () => {
  it('asks for consecutive, inclusive byte ranges that cover the object exactly', () => {
    expect(copyRanges(10, 4)).toEqual(['bytes=0-3', 'bytes=4-7', 'bytes=8-9']);
    expect(copyRanges(8, 4)).toEqual(['bytes=0-3', 'bytes=4-7']);
    const ranges = copyRanges(6 * 1024 ** 3);
    expect(ranges).toHaveLength(12);
    expect(ranges.at(-1)).toBe(`bytes=${11 * 512 * 1024 ** 2}-${6 * 1024 ** 3 - 1}`);
  });
});

describe('which backups belong on an off-site target, by its own retention', () => {
  const rules = (daily: number) => ({ keep: { daily, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2 }, maxAgeMs: {} });

  it('is only the newest ones when the target keeps fewer than the primaries', () => {
    const belongs = wantedOffsite([sunday, friday, monday], [], rules(2), NOW);
    expect([sunday, friday, monday].filter(belongs).map((manifest) => manifest.id)).toEqual([sunday.id, friday.id]);
  });

  it('applies its rules to what the target would hold: its own older copies go first', () => {
    const older = backup('app_20261110_020000', '2026-11-10T02:00:00.000Z');
    expect([sunday, friday, monday].filter(wantedOffsite([sunday, friday, monday], [older], rules(3), NOW)).length).toBe(3);
    expect([sunday, friday].filter(wantedOffsite([sunday, friday], [monday], rules(2), NOW)).map((manifest) => manifest.id)).toEqual([sunday.id, friday.id]);
  });

  it('holds as many yearly backups as its TARGET_<NAME>_KEEP_YEARLY says, however few the primaries keep', () => {
    const years = [2026, 2025, 2024, 2023, 2022, 2021].map((year) => validManifest({ id: `app_${year}0101_050000`, tier: 'yearly', startedAt: `${year}-01-01T05:00:00.000Z`, key: `yearly/${year}/app_${year}0101_050000.dump.zst` }));
    const vault = loadConfig({ BACKUP_KEEP_YEARLY: '1', OFFSITE_TARGETS: 'vault', TARGET_VAULT_KIND: 'local', TARGET_VAULT_DIR: '/vault', TARGET_VAULT_KEEP_YEARLY: '4' }).targets.find((target) => target.name === 'vault')!;
    expect(years.filter(wantedOffsite(years, [], vault.retention, NOW)).map((manifest) => manifest.startedAt.slice(0, 4))).toEqual(['2026', '2025', '2024', '2023']);
  });

  it('is every backup when the target keeps more', () => {
    expect([sunday, friday, monday, weekly].every(wantedOffsite([sunday, friday, monday, weekly], [], rules(30), NOW))).toBe(true);
  });
});
