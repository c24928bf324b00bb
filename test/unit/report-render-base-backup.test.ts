import { renderReport } from '../../src/report/render';
import { baseBackupSamples } from '../../src/report/render/base-backup-samples';
import { SAMPLE_NOW, SAMPLE_SIDECAR } from '../../src/report/render/samples';

const samples = baseBackupSamples(SAMPLE_SIDECAR);
const render = (kind: keyof typeof samples) => renderReport(samples[kind], { subjectPrefix: '[keepsake]', now: SAMPLE_NOW });

describe('base backup reports (PITR)', () => {
  it('a stored one gives size, duration, the WAL start and stop, and the recovery steps with standard tools', () => {
    const { subject, text, html } = render('base-backup-succeeded');
    expect(subject).toBe('[keepsake] OK base backup app@db-prod:5432: 402.1 MB in 2m41s');
    expect(text).toContain('3/A2000028 on timeline 1 (segment 0000000100000003000000A2)');
    expect(text).toContain('3/A2000138');
    expect(text).toContain('zstd -dc cluster_20261122_010000.tar.zst | tar -x -C /var/lib/postgresql/recovered');
    expect(text).toContain("restore_command = 'zstd -dc /backups/wal/$(echo %f | cut -c1-8)/%f.zst > %p'");
    expect(text).toContain('touch /var/lib/postgresql/recovered/recovery.signal');
    expect(text).toContain("recovery_target_time = '");
    expect(text).toContain('keepsake restore --at');
    expect(html).toContain('recovery.signal');
  });

  it('a failed one names the failure, the last good base backup, and for a missing pg_hba replication line what to add', () => {
    const { subject, text } = render('base-backup-failed');
    expect(subject).toMatch(/^\[keepsake\] FAILED base backup app@db-prod:5432: /);
    expect(text).toContain('base/cluster_20261115_010000, taken 7d00h before this attempt');
    expect(text).toContain('host replication <user> <sidecar network> scram-sha-256');
    expect(text).toContain('run `keepsake base-backup` by hand');
  });
});
