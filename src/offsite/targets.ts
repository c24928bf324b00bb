import type { Storage } from '../storage';

/*
 * Which targets the off-site job copies from and to. Every other part of src/offsite takes its
 * sources and destination as parameters; only these two functions look at a target's role.
 */

/** The targets backups are written to: the off-site job's sources. */
export function primaryTargets(storages: readonly Storage[]): Storage[] {
  return storages.filter((storage) => storage.role !== 'offsite');
}

/** The targets that only receive copies. When there are none, the off-site job is not scheduled. */
export function offsiteTargets(storages: readonly Storage[]): Storage[] {
  return storages.filter((storage) => storage.role === 'offsite');
}

/** Cheapest to read first (a local disk before a bucket); the order given breaks ties. */
export function byReadCost<T extends { storage: Storage }>(copies: readonly T[]): T[] {
  return [...copies].sort((a, b) => (a.storage.readCost ?? 0) - (b.storage.readCost ?? 0));
}
