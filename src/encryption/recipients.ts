/**
 * age's X25519 keys as text: public keys ("age1...", recipients) and private keys
 * ("AGE-SECRET-KEY-1...", identities), both Bech32 (BIP 173). Only the encoding is checked here, so
 * a mistyped key is a config error instead of a failed backup at 2 a.m.; all cryptography is the
 * age tool's (encryption/age-stages.ts).
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let bit = 0; bit < 5; bit++) if ((top >>> bit) & 1) checksum ^= GENERATOR[bit]!;
  }
  return checksum;
}

/** Whether `text` is Bech32 with human-readable part `prefix` and `dataLength` data characters (checksum included). */
function isBech32(text: string, prefix: string, dataLength: number): boolean {
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) return false;
  if (!lower.startsWith(`${prefix}1`) || lower.length !== prefix.length + 1 + dataLength) return false;
  const data = [...lower.slice(prefix.length + 1)].map((char) => CHARSET.indexOf(char));
  if (data.includes(-1)) return false;
  const expanded = [...[...prefix].map((c) => c.charCodeAt(0) >> 5), 0, ...[...prefix].map((c) => c.charCodeAt(0) & 31)];
  return polymod([...expanded, ...data]) === 1;
}

/** 32 key bytes are 52 characters, plus 6 of checksum. */
const KEY_CHARS = 58;

export function isX25519Recipient(text: string): boolean {
  return /^age1/.test(text) && isBech32(text, 'age', KEY_CHARS);
}

export function isX25519Identity(text: string): boolean {
  return /^AGE-SECRET-KEY-1/.test(text) && isBech32(text, 'age-secret-key-', KEY_CHARS);
}

/**
 * AGE_RECIPIENTS as age's recipients files have it: keys separated by commas, spaces or newlines,
 * "#" starting a comment. Throws naming every key that is not an age X25519 public key.
 */
export function parseRecipients(text: string): string[] {
  const words = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  const bad = words.filter((word) => !isX25519Recipient(word));
  if (bad.length) {
    const shown = bad.map((word) => (word.toUpperCase().startsWith('AGE-SECRET-KEY-') ? 'a private key (AGE-SECRET-KEY-...)' : JSON.stringify(word)));
    throw new Error(`not an age public key: ${shown.join(', ')}; expected keys like age1... as age-keygen prints them ("Public key:"), or age-keygen -y on the identity file`);
  }
  if (!words.length) throw new Error('no age public key found; expected keys like age1... separated by commas, spaces or newlines');
  return [...new Set(words)];
}

/** The private keys in an age identity file (comments and blank lines skipped). */
export function identitiesIn(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .filter(isX25519Identity);
}
