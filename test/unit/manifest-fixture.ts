import type { Manifest } from '../../src/backup/manifest';

/** A complete, schema-valid manifest; tests override only the fields they are about. */
export function validManifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    format: 1,
    id: 'app_20261122_020000',
    tier: 'daily',
    database: 'app',
    host: 'db.internal',
    key: 'daily/2026/11/22/app_20261122_020000.dump.zst',
    startedAt: '2026-11-22T02:00:00.000Z',
    finishedAt: '2026-11-22T02:00:05.000Z',
    durationMs: 5000,
    server: { version: '17.2', major: 17 },
    pgDump: { version: '17.2', major: 17, args: ['--format=custom', '--no-password'] },
    archiveFormat: 'custom',
    compression: { algorithm: 'zstd', level: 3 },
    rawBytes: 2048,
    storedBytes: 1024,
    sha256: 'a'.repeat(64),
    inventory: {
      schemas: ['public'],
      extensions: ['plpgsql'],
      tables: [{ schema: 'public', name: 'orders', kind: 'table', rows: 3 }],
      sequences: [{ schema: 'public', name: 'orders_id_seq', lastValue: '3' }],
    },
    targets: [{ target: 'local', location: '/backups/daily/2026/11/22/app_20261122_020000.dump.zst' }],
    keepsake: { version: '0.1.0' },
    ...overrides,
  };
}
