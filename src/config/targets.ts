/**
 * Named targets: BACKUP_TARGETS and OFFSITE_TARGETS name them, TARGET_<NAME>_* configures them.
 * The variable names depend on the target names, so they cannot be fields of the zod object in
 * schema.ts; they are validated here with the same parsers, every problem collected at once.
 * `local` and `s3` are the legacy targets: set by BACKUP_DIR and S3_*, as before there were names.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { Env } from './env-source';
import { displayValue, isTargetSecret } from './env-source';
import { parseAge } from './parse';
import { TARGET_KINDS, TARGET_NAME, boolean, integer, oneOf, parsed, storageClass, url, type ParsedEnv } from './schema';
import type { RetentionTier, S3Config, TargetConfig } from './types';

const RETENTION_TIERS: Record<string, RetentionTier> = { DAILY: 'daily', WEEKLY: 'weekly', MONTHLY: 'monthly', YEARLY: 'yearly', MANUAL: 'manual', PRE_RESTORE: 'pre-restore', BASE: 'base' };

/** Every target's own retention; each defaults to the BACKUP_KEEP_* / BACKUP_MAX_AGE_* value. */
const RETENTION_SETTINGS = Object.fromEntries(
  Object.keys(RETENTION_TIERS).flatMap((tier) => [
    [`KEEP_${tier}`, integer(1, 100_000)],
    [`MAX_AGE_${tier}`, parsed(parseAge)],
  ]),
) as Record<string, z.ZodType<number, string>>;

const LOCAL_SETTINGS = { DIR: z.string() };
const S3_SETTINGS = {
  BUCKET: z.string(),
  PREFIX: z.string(),
  ENDPOINT: url(['http:', 'https:']),
  REGION: z.string(),
  FORCE_PATH_STYLE: boolean,
  ACCESS_KEY_ID: z.string(),
  SECRET_ACCESS_KEY: z.string(),
  STORAGE_CLASS: storageClass,
  CHECKSUMS: oneOf(['when_supported', 'when_required'] as const),
};

/** Every <SETTING> of TARGET_<NAME>_<SETTING>, for the README's check and for messages. */
export const TARGET_SETTINGS = ['KIND', ...Object.keys(LOCAL_SETTINGS), ...Object.keys(S3_SETTINGS), ...Object.keys(RETENTION_SETTINGS)];
const LEGACY_TARGETS = ['local', 's3'];

export function targetVariable(name: string, setting: string): string {
  return `TARGET_${name.toUpperCase()}_${setting}`;
}

function names(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return [...new Set(text.split(',').map((name) => name.trim().toLowerCase()).filter((name) => TARGET_NAME.test(name)))];
}

interface Roles {
  primaries: string[];
  offsite: string[];
}

/** The two lists; the default primary is `s3` when S3_BUCKET is set (and s3 is not off-site), else `local`. */
function targetRoles(env: Env): Roles {
  const offsite = names(env.OFFSITE_TARGETS) ?? [];
  const primaries = names(env.BACKUP_TARGETS) ?? (env.S3_BUCKET && !offsite.includes('s3') ? ['s3'] : ['local']);
  return { primaries, offsite };
}

/** Which settings a target takes: the legacy ones only their retention, the others their kind's too. */
function allowedSettings(name: string, kind: string | undefined): Record<string, z.ZodType> {
  if (LEGACY_TARGETS.includes(name)) return RETENTION_SETTINGS;
  const ofKind = kind === 'local' ? LOCAL_SETTINGS : kind === 's3' ? S3_SETTINGS : {};
  return { KIND: oneOf(TARGET_KINDS), ...ofKind, ...RETENTION_SETTINGS };
}

/** Assigns each TARGET_* variable to its target (the longest name that fits) or reports it as unknown. */
function claimVariables(env: Env, roles: Roles, problems: string[]): Map<string, Record<string, string>> {
  const all = [...roles.primaries, ...roles.offsite];
  const byName = new Map(all.map((name) => [name, {} as Record<string, string>]));
  const longestFirst = [...all].sort((a, b) => b.length - a.length);
  const configured = `BACKUP_TARGETS (${roles.primaries.join(',')}) or OFFSITE_TARGETS (${roles.offsite.join(',') || 'unset'})`;
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('TARGET_') || env[variable] === undefined) continue;
    // TARGET_<NAME>_<SECRET>_FILE was read into TARGET_<NAME>_<SECRET> (env-source.ts).
    if (variable.endsWith('_FILE') && isTargetSecret(variable.slice(0, -'_FILE'.length))) continue;
    const owner = longestFirst.find((name) => variable.startsWith(targetVariable(name, '')));
    if (!owner) {
      const setting = TARGET_SETTINGS.find((s) => variable.endsWith(`_${s}`) && variable.length > `TARGET__${s}`.length);
      const named = setting ? `"${variable.slice('TARGET_'.length, -setting.length - 1).toLowerCase()}"` : 'a target';
      problems.push(`${variable}: names ${named}, which is in neither ${configured}; add the target to one of them, or fix or remove the variable`);
      continue;
    }
    byName.get(owner)![variable.slice(targetVariable(owner, '').length)] = env[variable]!;
  }
  return byName;
}

/**
 * Validates BACKUP_TARGETS, OFFSITE_TARGETS and every TARGET_* variable. Returns the problems; with
 * `globals` (the rest of the configuration, parsed) and no problems, also the targets.
 */
export function readTargets(env: Env, globals?: ParsedEnv): { targets: TargetConfig[]; problems: string[] } {
  const problems: string[] = [];
  const roles = targetRoles(env);
  for (const name of roles.primaries.filter((n) => roles.offsite.includes(n))) {
    problems.push(`"${name}" is in both BACKUP_TARGETS and OFFSITE_TARGETS: backups are written to a primary target, an off-site one only receives copies; remove it from one list`);
  }
  const settings = claimVariables(env, roles, problems);
  const targets: TargetConfig[] = [];
  for (const [name, given] of settings) {
    const role = roles.primaries.includes(name) ? 'primary' : 'offsite';
    const list = role === 'primary' ? 'BACKUP_TARGETS' : 'OFFSITE_TARGETS';
    const variable = (setting: string) => targetVariable(name, setting);
    const legacy = LEGACY_TARGETS.includes(name);
    const kind = legacy ? (name as TargetConfig['kind']) : given.KIND?.trim().toLowerCase();
    if (!legacy && given.KIND === undefined) problems.push(`${list} names "${name}": set ${variable('KIND')} to ${TARGET_KINDS.join(' or ')}`);
    if (name === 's3' && !env.S3_BUCKET) problems.push(`${list}=${JSON.stringify(env[list] ?? 's3')}: the s3 target needs S3_BUCKET`);
    const allowed = allowedSettings(name, kind);
    for (const setting of Object.keys(given).filter((s) => !(s in allowed))) {
      const why = legacy
        ? `the ${name} target is set by ${name === 'local' ? 'BACKUP_DIR' : 'the S3_* variables'}; only ${variable('KEEP_*')} and ${variable('MAX_AGE_*')} apply to it`
        : TARGET_SETTINGS.includes(setting)
          ? `${name} is a ${kind ?? 'target of no kind'} target; ${setting} does not apply to it`
          : `unknown setting ${setting} for target ${name}; expected one of ${Object.keys(allowed).join(', ')}`;
      problems.push(`${variable(setting)}: ${why}`);
    }
    const parsedSettings: Record<string, unknown> = {};
    for (const [setting, text] of Object.entries(given)) {
      const schema = allowed[setting];
      if (!schema) continue;
      const result = schema.safeParse(text);
      if (result.success) parsedSettings[setting] = result.data;
      else problems.push(`${variable(setting)}=${displayValue(variable(setting), text)}: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
    }
    if (kind === 'local' && !legacy && given.DIR === undefined) problems.push(`${variable('DIR')} is not set: say where target ${name} keeps its backups (a folder)`);
    if (kind === 's3' && !legacy && given.BUCKET === undefined) problems.push(`${variable('BUCKET')} is not set: say which bucket target ${name} uses`);
    if ((given.ACCESS_KEY_ID === undefined) !== (given.SECRET_ACCESS_KEY === undefined)) {
      const [set, unset] = given.ACCESS_KEY_ID === undefined ? ['SECRET_ACCESS_KEY', 'ACCESS_KEY_ID'] : ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'];
      problems.push(`${variable(set)} is set but ${variable(unset)} is not: set both (or their _FILE), or neither to use the AWS credential chain`);
    }
    if (globals && !problems.length) targets.push(buildTarget(name, role, kind as TargetConfig['kind'], parsedSettings, globals));
  }
  // Primaries first, in BACKUP_TARGETS order: backups list their copies in that order.
  return { targets: problems.length ? [] : targets, problems };
}

function buildTarget(name: string, role: TargetConfig['role'], kind: TargetConfig['kind'], s: Record<string, unknown>, e: ParsedEnv): TargetConfig {
  // Each tier's own setting, else the BACKUP_KEEP_* / BACKUP_MAX_AGE_* value every target shares.
  const shared = e as unknown as Record<string, number | undefined>;
  const own = (setting: string) => (s[setting] as number | undefined) ?? shared[`BACKUP_${setting}`];
  const tiers = Object.entries(RETENTION_TIERS);
  const retention = {
    keep: Object.fromEntries(tiers.map(([suffix, tier]) => [tier, own(`KEEP_${suffix}`)!])) as Record<RetentionTier, number>,
    maxAgeMs: Object.fromEntries(tiers.map(([suffix, tier]) => [tier, own(`MAX_AGE_${suffix}`)])) as Partial<Record<RetentionTier, number>>,
  };
  if (kind === 'local') return { name, role, kind, dir: absolute(name === 'local' ? e.BACKUP_DIR : (s.DIR as string)), retention };
  const s3 =
    name === 's3'
      ? s3Config({ bucket: e.S3_BUCKET!, prefix: e.S3_PREFIX, region: e.S3_REGION, endpoint: e.S3_ENDPOINT, forcePathStyle: e.S3_FORCE_PATH_STYLE, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY, storageClass: e.S3_STORAGE_CLASS, checksums: e.S3_CHECKSUMS }, e)
      : s3Config(
          {
            bucket: s.BUCKET as string,
            prefix: (s.PREFIX as string | undefined) ?? 'db-backups',
            region: s.REGION as string | undefined,
            endpoint: s.ENDPOINT as URL | undefined,
            forcePathStyle: s.FORCE_PATH_STYLE as boolean | undefined,
            accessKeyId: s.ACCESS_KEY_ID as string | undefined,
            secretAccessKey: s.SECRET_ACCESS_KEY as string | undefined,
            storageClass: s.STORAGE_CLASS as S3Config['storageClass'],
            checksums: s.CHECKSUMS as S3Config['checksums'] | undefined,
          },
          e,
        );
  return { name, role, kind, s3, retention };
}

type S3Settings = Omit<S3Config, 'region' | 'endpoint' | 'forcePathStyle' | 'checksums' | 'partSizeBytes' | 'queueSize'> & {
  region?: string;
  endpoint?: URL;
  forcePathStyle?: boolean;
  checksums?: S3Config['checksums'];
};

/** One bucket's settings, with the defaults every S3 target shares. */
function s3Config(given: S3Settings, e: ParsedEnv): S3Config {
  const endpoint = given.endpoint?.toString().replace(/\/$/, '');
  return {
    bucket: given.bucket,
    prefix: given.prefix.replace(/^\/+|\/+$/g, ''),
    region: given.region ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint,
    // S3-compatible servers (MinIO and most self-hosted ones) need path-style addressing.
    forcePathStyle: given.forcePathStyle ?? Boolean(endpoint),
    accessKeyId: given.accessKeyId,
    secretAccessKey: given.secretAccessKey,
    storageClass: given.storageClass,
    partSizeBytes: e.S3_PART_SIZE,
    queueSize: e.S3_UPLOAD_QUEUE_SIZE,
    // Third-party endpoints often reject the SDK's newer default checksums; AWS accepts both.
    checksums: given.checksums ?? (endpoint ? 'when_required' : 'when_supported'),
  };
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}
