import type { Manifest } from '../backup/manifest';
import type { EncryptionConfig } from '../config';
import { ConfigError } from '../errors';
import { runCapture } from '../process/run-process';

/** Why this configuration cannot decrypt the backup, or undefined when it has what it takes. */
export function missingDecryptionKey(manifest: Manifest, config: EncryptionConfig): string | undefined {
  const encryption = manifest.encryption;
  const name = `${manifest.tier}/${manifest.id}`;
  if (!encryption) return undefined;
  if ('recipients' in encryption) {
    if (config.identityFile) return undefined;
    return `backup ${name} is encrypted with age to ${encryption.recipients.join(', ')}: set AGE_IDENTITY_FILE to the identity file (AGE-SECRET-KEY-1...) of one of them`;
  }
  if (config.passphrase) return undefined;
  return `backup ${name} is encrypted with an age passphrase: set AGE_PASSPHRASE (or AGE_PASSPHRASE_FILE) to that passphrase`;
}

/**
 * Before a long restore: refuses (ConfigError, exit 78) when the backup is encrypted and the keys
 * to read it are not configured, or the identity file holds none of the keys it was encrypted to.
 * `age-keygen -y` derives the identity file's public keys; the file's path is no secret.
 */
export async function checkDecryptionKeys(manifest: Manifest, config: EncryptionConfig): Promise<void> {
  const missing = missingDecryptionKey(manifest, config);
  if (missing) throw new ConfigError([missing]);
  const encryption = manifest.encryption;
  if (!encryption || !('recipients' in encryption)) return;
  const own = (await runCapture('age-keygen', ['-y', config.identityFile!])).split('\n').map((line) => line.trim()).filter(Boolean);
  if (own.some((key) => encryption.recipients.includes(key))) return;
  throw new ConfigError([
    `AGE_IDENTITY_FILE=${config.identityFile} holds the key of ${own.join(', ') || 'no recipient'}, but backup ${manifest.tier}/${manifest.id} was encrypted to ${encryption.recipients.join(', ')}: point AGE_IDENTITY_FILE at the identity file of one of those`,
  ]);
}
