/**
 * A child process that age-encrypts (or decrypts) stdin to stdout with a passphrase. The age tool
 * reads passphrases only from a terminal, so passphrase mode uses age-encryption, the TypeScript
 * implementation by age's author, here in a process of its own: its pure-JS ChaCha20 and scrypt's
 * 256 MiB stay off keepsake's event loop and out of its memory, and it runs on another core.
 * The passphrase comes in the environment (never argv) and is removed from it at once.
 * Nothing imports this file: age-encryption is ESM-only, which Node >= 20.19 loads with require()
 * but jest's CommonJS runtime does not, so it stays out of every module the tests load.
 *
 *   node passphrase-worker.js encrypt|decrypt   (KEEPSAKE_AGE_PASSPHRASE in the environment)
 */
import { Readable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
import { PASSPHRASE_VARIABLE } from './passphrase-variable';

async function main(mode: string | undefined): Promise<void> {
  // Read, then dropped: nothing this process starts or prints can see it.
  // eslint-disable-next-line no-restricted-properties -- the worker's one input besides stdin
  const passphrase = process.env[PASSPHRASE_VARIABLE];
  // eslint-disable-next-line no-restricted-properties
  delete process.env[PASSPHRASE_VARIABLE];
  if (!passphrase) throw new Error(`${PASSPHRASE_VARIABLE} is not set`);
  const input = Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>;
  let output: ReadableStream<Uint8Array>;
  if (mode === 'encrypt') {
    const encrypter = new Encrypter();
    encrypter.setPassphrase(passphrase);
    output = await encrypter.encrypt(input);
  } else if (mode === 'decrypt') {
    const decrypter = new Decrypter();
    decrypter.addPassphrase(passphrase);
    output = await decrypter.decrypt(input);
  } else {
    throw new Error('usage: passphrase-worker encrypt|decrypt');
  }
  for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => process.stdout.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

if (require.main === module) {
  main(process.argv[2]).catch((error: unknown) => {
    // age-encryption's own words ("no identity matched", "invalid tag"); never the passphrase.
    process.stderr.write(`age: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
