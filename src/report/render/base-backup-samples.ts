import type { Manifest } from '../../backup/manifest';
import type { BaseBackupEvent, Sidecar } from '../events';

/** Sample base-backup reports (PITR) for `keepsake report preview`: a weekly base backup on Sunday 01:00 UTC. */
export function baseBackupSamples(sidecar: Sidecar): Record<BaseBackupEvent['kind'], BaseBackupEvent> {
  const key = 'db-backups/base/2026/11/22/cluster_20261122_010000.tar.zst';
  const manifest: Manifest = {
    format: 1,
    id: 'cluster_20261122_010000',
    tier: 'base',
    source: { kind: 'postgres-cluster', name: 'cluster' },
    database: 'app',
    host: 'db-prod',
    key,
    startedAt: '2026-11-22T01:00:00.310Z',
    finishedAt: '2026-11-22T01:02:41.120Z',
    durationMs: 160_810,
    server: { version: '17.2', major: 17 },
    archiveFormat: 'tar',
    physical: { timeline: 1, startLsn: '3/A2000028', stopLsn: '3/A2000138', startSegment: '0000000100000003000000A2', systemIdentifier: '7441829307215611932', segmentBytes: 16_777_216, pgBasebackup: { version: '17.2', major: 17 } },
    compression: { algorithm: 'zstd', level: 3 },
    rawBytes: 1_912_440_320,
    storedBytes: 402_118_907,
    sha256: '3c1e0a9b8d7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c',
    inventory: { schemas: [], extensions: [], tables: [], sequences: [], databases: ['app', 'postgres'] },
    targets: [
      { target: 'local', location: `/backups/${key}` },
      { target: 's3', location: `s3://acme-backups/${key}` },
    ],
    keepsake: { version: '0.1.0' },
  };
  return {
    'base-backup-succeeded': { kind: 'base-backup-succeeded', sidecar, manifest, nextRun: '2026-11-29T01:00:00.000Z' },
    'base-backup-failed': {
      kind: 'base-backup-failed',
      sidecar,
      host: 'db-prod',
      startedAt: '2026-11-22T01:00:00.310Z',
      durationMs: 210,
      error: 'pg_basebackup exited with code 1: pg_basebackup: error: connection to server at "db-prod" (10.0.0.5), port 5432 failed: FATAL:  no pg_hba.conf entry for replication connection from host "10.0.0.9", user "app", no encryption',
      nextRun: '2026-11-29T01:00:00.000Z',
      lastGood: { tier: 'base', id: 'cluster_20261115_010000', startedAt: '2026-11-15T01:00:00.280Z', targets: ['local', 's3'] },
    },
  };
}
