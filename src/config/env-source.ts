import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';

export type Env = Readonly<Record<string, string | undefined>>;

/** Variables whose values are secrets: accepted as <NAME>_FILE too, and never printed. */
export const SECRET_VARIABLES = [
  'POSTGRES_PASSWORD',
  'PGPASSWORD',
  'DATABASE_URL',
  'RESTORE_TEST_DATABASE_URL',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'SMTP_PASSWORD',
  // Its path is the check's token: whoever knows it can report this sidecar healthy.
  'HEALTHCHECK_PING_URL',
  // Doubles as the key that decrypts passphrase-mode backups.
  'AGE_PASSPHRASE',
] as const;

/** TARGET_<NAME>_ACCESS_KEY_ID and _SECRET_ACCESS_KEY: secrets whose names depend on the target's. */
const TARGET_SECRET = /^TARGET_[A-Z][A-Z0-9_]*_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)$/;

export function isTargetSecret(name: string): boolean {
  return TARGET_SECRET.test(name);
}

/** NOTIFY_<NAME>_URL and _SECRET: a chat webhook's URL is its password (NOTIFY_ON and NOTIFY_ON_SUCCESS end otherwise). */
const CHANNEL_SECRET = /^NOTIFY_[A-Z][A-Z0-9_]*_(URL|SECRET)$/;

export function isChannelSecret(name: string): boolean {
  return CHANNEL_SECRET.test(name);
}

/** Variables also accepted as <NAME>_FILE: the secrets, and public keys that are long enough to want a file. */
export const FILE_VARIABLES = [...SECRET_VARIABLES, 'AGE_RECIPIENTS'] as const;

export function isSecret(name: string): boolean {
  return (SECRET_VARIABLES as readonly string[]).includes(name) || isTargetSecret(name) || isChannelSecret(name) || /PASSWORD|SECRET|TOKEN/.test(name);
}

/** The variables `env` may give as <NAME>_FILE: the fixed ones, and each named target's or channel's secrets set directly or as _FILE. */
function fileVariablesIn(env: Env): string[] {
  const targetSecrets = Object.keys(env)
    .map((name) => name.replace(/_FILE$/, ''))
    .filter((name) => TARGET_SECRET.test(name) || CHANNEL_SECRET.test(name));
  return [...new Set([...FILE_VARIABLES, ...targetSecrets])];
}

/** The .env file read, and the variables it set: those the real environment left unset. */
export interface DotenvSource {
  path: string;
  variables: string[];
}

/** A .env file fills in what the real environment leaves unset; the real environment always wins. */
export function withDotenv(env: Env, dotenvPath: string | undefined): { env: Env; dotenv?: DotenvSource } {
  if (!dotenvPath) return { env };
  let text: string;
  try {
    text = readFileSync(dotenvPath, 'utf8');
  } catch {
    return { env }; // a missing .env is normal
  }
  const fromFile = parseDotenv(text);
  const variables = Object.keys(fromFile).filter((name) => env[name] === undefined && fromFile[name]!.trim() !== '');
  return { env: { ...fromFile, ...env }, dotenv: { path: resolve(dotenvPath), variables } };
}

/**
 * Resolves <NAME>_FILE (Docker secrets) into NAME. Problems are collected, not thrown, so the
 * user sees every one at once.
 */
export function resolveSecretFiles(env: Env, problems: string[]): Env {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of fileVariablesIn(env)) {
    const filePath = env[`${name}_FILE`];
    if (!filePath) continue;
    if (env[name]?.trim()) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    try {
      resolved[name] = readFileSync(filePath, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE=${filePath}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'}); mount the secret or fix the path`);
    }
  }
  return resolved;
}

/** A value as it may appear in messages and `keepsake config`: secrets hidden, URLs without passwords. */
export function displayValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (name.endsWith('DATABASE_URL')) return redactUrl(value);
  // A channel's URL: its host says which service; the path and query are the token.
  if (isChannelSecret(name) && name.endsWith('_URL')) return hostOnly(value);
  return isSecret(name) ? '***' : JSON.stringify(value);
}

/** "https://hooks.slack.com/***": where a secret URL points, without its token. */
export function hostOnly(text: string): string {
  try {
    return `${new URL(text).origin}/***`;
  } catch {
    return '***';
  }
}

export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '***';
  }
}
