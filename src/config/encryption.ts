import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { identitiesIn } from '../encryption/recipients';
import type { Env } from './env-source';
import type { ParsedEnv } from './schema';
import type { EncryptionConfig } from './types';

/**
 * What encryption needs from several variables at once, on the raw values: encrypting needs keys
 * or a passphrase (not both: age puts a passphrase in a file of its own), and an identity file is
 * read now so a restore does not fail on it after an hour of downloading.
 */
export function encryptionProblems(env: Env): string[] {
  const problems: string[] = [];
  const mode = env.BACKUP_ENCRYPTION?.trim().toLowerCase();
  if (mode === 'age') {
    if (!env.AGE_RECIPIENTS && !env.AGE_PASSPHRASE) {
      problems.push('BACKUP_ENCRYPTION="age" needs AGE_RECIPIENTS (public keys age1..., from age-keygen) or AGE_PASSPHRASE (or their _FILE variants)');
    }
    if (env.AGE_RECIPIENTS && env.AGE_PASSPHRASE) {
      problems.push('AGE_RECIPIENTS and AGE_PASSPHRASE are both set: age encrypts to public keys or to a passphrase, not both; keep one');
    }
  } else if (env.AGE_RECIPIENTS) {
    problems.push('AGE_RECIPIENTS is set but BACKUP_ENCRYPTION is not "age": set BACKUP_ENCRYPTION=age to encrypt backups, or unset AGE_RECIPIENTS');
  }
  if (env.AGE_IDENTITY_FILE) {
    const path = env.AGE_IDENTITY_FILE;
    try {
      if (!identitiesIn(readFileSync(path, 'utf8')).length) {
        problems.push(`AGE_IDENTITY_FILE=${JSON.stringify(path)}: no age private key (AGE-SECRET-KEY-1...) in the file; point it at the file age-keygen wrote`);
      }
    } catch (error) {
      problems.push(`AGE_IDENTITY_FILE=${JSON.stringify(path)}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'}); mount it read-only or fix the path`);
    }
  }
  return problems;
}

export function encryptionConfig(e: ParsedEnv): EncryptionConfig {
  const identityFile = e.AGE_IDENTITY_FILE && (isAbsolute(e.AGE_IDENTITY_FILE) ? e.AGE_IDENTITY_FILE : resolve(e.AGE_IDENTITY_FILE));
  return { mode: e.BACKUP_ENCRYPTION, recipients: e.AGE_RECIPIENTS ?? [], passphrase: e.AGE_PASSPHRASE, identityFile };
}
