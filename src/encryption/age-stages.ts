import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Manifest } from '../backup/manifest';
import type { EncryptionConfig } from '../config';
import { spawnChild, type ChildHandle } from '../process/run-process';
import { PASSPHRASE_VARIABLE } from './passphrase-variable';

/** A running encryption or decryption child: bytes in, bytes out. */
export interface CryptoStage {
  input: Writable;
  output: Readable;
  process: ChildHandle;
}

export type ManifestEncryption = NonNullable<Manifest['encryption']>;

/** What the manifest records about how new backups are encrypted: public keys or "a passphrase", nothing secret. */
export function encryptionOf(config: EncryptionConfig): ManifestEncryption | undefined {
  if (config.mode !== 'age') return undefined;
  return config.recipients.length ? { format: 'age', recipients: [...config.recipients] } : { format: 'age', passphrase: true };
}

const WORKER = join(__dirname, 'passphrase-worker.js');

function stage(process: ChildHandle): CryptoStage {
  return { input: process.child.stdin!, output: process.child.stdout!, process };
}

/**
 * Encrypts in age's format: to public keys with the age tool (X25519, Go, about 1 GB/s on one
 * core), or with a passphrase in passphrase-worker (scrypt; the age tool reads passphrases only
 * from a terminal). Public keys may be in argv; the passphrase goes through the child's environment.
 */
export function startEncryptor(encryption: ManifestEncryption, config: EncryptionConfig): CryptoStage {
  if ('recipients' in encryption) return stage(spawnChild('age', ['--encrypt', ...encryption.recipients.flatMap((key) => ['--recipient', key])], { stdin: 'pipe' }));
  return stage(spawnChild(process.execPath, [WORKER, 'encrypt'], { stdin: 'pipe', env: { [PASSPHRASE_VARIABLE]: config.passphrase } }));
}

/** The inverse, for verify, restore and restore-test; checkDecryptionKeys says first whether it can work. */
export function startDecryptor(encryption: ManifestEncryption, config: EncryptionConfig): CryptoStage {
  if ('recipients' in encryption) return stage(spawnChild('age', ['--decrypt', '--identity', config.identityFile!], { stdin: 'pipe' }));
  return stage(spawnChild(process.execPath, [WORKER, 'decrypt'], { stdin: 'pipe', env: { [PASSPHRASE_VARIABLE]: config.passphrase } }));
}
