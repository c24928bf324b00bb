import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { createMetrics } from '../../src/health/metrics';
import { updateState } from '../../src/state/daemon-state';
import { parsePrometheusText, sampleValue } from '../support/prometheus';

describe('/metrics for the yearly tier', () => {
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'keepsake-metrics-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('gives the yearly runs their own tier label, as the monthly ones have', async () => {
    await updateState(stateDir, (state) => {
      state.jobs.monthly = { outcome: 'ok', runs: 3, failures: 0, lastSuccess: { at: '2026-11-01T04:02:00.000Z', durationMs: 120_000, storedBytes: 4000 } };
      state.jobs.yearly = { outcome: 'failed', runs: 2, failures: 1, lastSuccess: { at: '2026-01-01T05:03:00.000Z', durationMs: 180_000, storedBytes: 5000 } };
    });
    const metrics = createMetrics(loadConfig({ STATE_DIR: stateDir }), () => ({}));
    // Only keepsake's own families: the default process metrics need a running event loop's history.
    const samples = parsePrometheusText((await metrics.render()).split('\n').filter((line) => line.includes('keepsake_')).join('\n'));
    const yearly = { tier: 'yearly' };
    expect(sampleValue(samples, 'keepsake_backup_last_success_timestamp_seconds', yearly)).toBe(Date.parse('2026-01-01T05:03:00.000Z') / 1000);
    expect(sampleValue(samples, 'keepsake_backup_last_size_bytes', yearly)).toBe(5000);
    expect(sampleValue(samples, 'keepsake_backup_last_duration_seconds', yearly)).toBe(180);
    expect(sampleValue(samples, 'keepsake_backups_total', yearly)).toBe(2);
    expect(sampleValue(samples, 'keepsake_backup_failures_total', yearly)).toBe(1);
    expect(sampleValue(samples, 'keepsake_backups_total', { tier: 'monthly' })).toBe(3);
  });
});
