import type { Config, TargetConfig } from '../config';
import { UsageError } from '../errors';
import { LocalStorage } from './local';
import type { Storage } from './storage';

export type { Storage, StoredObject, ObjectWriter } from './storage';

/** One adapter per configured target: the primaries in BACKUP_TARGETS order, then the off-site ones. */
export function createStorages(config: Pick<Config, 'targets'>): Storage[] {
  return config.targets.map(createStorage);
}

export function createStorage(target: TargetConfig): Storage {
  const identity = { name: target.name, role: target.role };
  if (target.kind === 'local') return new LocalStorage(target.dir!, identity);
  // Loaded only when used: the AWS SDK costs ~10 MB of memory and 60 ms of start-up.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { S3Storage } = require('./s3') as typeof import('./s3');
  return new S3Storage(target.s3!, undefined, identity);
}

/**
 * The targets a reading command looks at: all of them, or with --from NAME only that one. An
 * unknown name is a usage error that lists the configured ones.
 */
export function storagesFrom(storages: readonly Storage[], from?: string): Storage[] {
  if (from === undefined) return [...storages];
  const chosen = storages.filter((storage) => storage.name === from.trim().toLowerCase());
  if (!chosen.length) throw new UsageError(`--from ${from}: no target of that name; the configured targets are ${storages.map((storage) => storage.name).join(', ')} (BACKUP_TARGETS, OFFSITE_TARGETS)`);
  return chosen;
}

/** The targets backups are written to (BACKUP_TARGETS); off-site ones only receive copies. */
export function primaryStorages(storages: readonly Storage[]): Storage[] {
  return storages.filter((storage) => storage.role === 'primary');
}

/** The targets that only receive copies (OFFSITE_TARGETS), made by the off-site job. */
export function offsiteStorages(storages: readonly Storage[]): Storage[] {
  return storages.filter((storage) => storage.role === 'offsite');
}
