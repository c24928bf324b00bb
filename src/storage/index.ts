import type { Config } from '../config';
import { LocalStorage } from './local';
import { S3Storage } from './s3';
import type { Storage } from './storage';

export type { Storage, StoredObject, ObjectWriter } from './storage';

/** One adapter per configured target, in the order BACKUP_TARGETS names them. */
export function createStorages(config: Config): Storage[] {
  return config.targets.map((target) => (target === 's3' ? new S3Storage(config.s3!) : new LocalStorage(config.backupDir)));
}
