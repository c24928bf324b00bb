import type { Config } from '../config';
import { LocalStorage } from './local';
import type { Storage } from './storage';

export type { Storage, StoredObject, ObjectWriter } from './storage';

/** One adapter per configured target, in the order BACKUP_TARGETS names them. */
export function createStorages(config: Config): Storage[] {
  return config.targets.map((target) => {
    if (target === 'local') return new LocalStorage(config.backupDir);
    // Loaded only when used: the AWS SDK costs ~10 MB of memory and 60 ms of start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { S3Storage } = require('./s3') as typeof import('./s3');
    return new S3Storage(config.s3!);
  });
}
