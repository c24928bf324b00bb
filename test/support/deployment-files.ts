/**
 * Parsers for the deployment files (Dockerfile, .dockerignore, docker-compose.yml, .env.example),
 * shared by test/unit/dockerfile.test.ts, compose.test.ts and system-scripts.test.ts. There is no
 * Docker engine on the test machines, so these read the files the way Docker and Compose would,
 * and the tests check them against each other and against keepsake's configuration schema.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions: continuations joined, comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (!pending && !line.trim())) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (!whole) continue;
    const keyword = whole.split(/\s+/)[0]!;
    instructions.push({ keyword: keyword.toUpperCase(), args: whole.slice(keyword.length).trim() });
  }
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = words(instruction.args).filter((word) => !word.startsWith('--'));
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** Shell-like words: whitespace separates, double or single quotes group. */
export function words(text: string): string[] {
  return [...text.matchAll(/(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g)].map((match) => match[0]);
}

export const unquote = (word: string) => word.replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_, double?: string, single?: string) => double ?? single ?? '');

/** KEY=VALUE pairs of ENV, LABEL and ARG instructions. */
export function keyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const word of words(args)) {
    const equals = word.indexOf('=');
    if (equals > 0) pairs[unquote(word.slice(0, equals))] = unquote(word.slice(equals + 1));
  }
  return pairs;
}

/** The project's Dockerfile: its stages, and the ENV, ARG, VOLUME and USER of the runtime (last) stage. */
export function readImage() {
  const stages = parseDockerfile(read('Dockerfile'));
  const runtime = stages.at(-1)!;
  const all = (keyword: string) => runtime.instructions.filter((instruction) => instruction.keyword === keyword);
  const last = (keyword: string) => all(keyword).at(-1);
  const env: Record<string, string> = Object.assign({}, ...all('ENV').map((instruction) => keyValues(instruction.args)));
  const args: Record<string, string> = Object.assign({}, ...all('ARG').map((instruction) => keyValues(instruction.args)));
  const volumes = all('VOLUME').flatMap((volume) => (volume.args.startsWith('[') ? (JSON.parse(volume.args) as string[]) : words(volume.args)));
  const user = last('USER')?.args.split(':')[0] ?? 'root';
  return { stages, runtime, all, last, env, args, volumes, user };
}

/** A stage of the Dockerfile by name, with its build arguments (ARG NAME=default). */
export function dockerfileStage(name: string): { stage: Stage; args: Record<string, string> } {
  const stage = parseDockerfile(read('Dockerfile')).find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`the Dockerfile has no stage ${name}`);
  const args: Record<string, string> = Object.assign({}, ...stage.instructions.filter((i) => i.keyword === 'ARG').map((i) => keyValues(i.args)));
  return { stage, args };
}

/** The directories keepsake keeps its backups, state and logs in, in the image. */
export const STATE_PATHS = ['/backups', '/var/lib/keepsake', '/var/log/keepsake'];

// ---------------------------------------------------------------------------------------------
// .dockerignore

/** Docker's rule: a pattern excludes a path when it matches the path or one of its parents; the last match wins. */
export function dockerignored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const line of patterns) {
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/^\.?\//, '').replace(/\/+$/, '');
    const source = pattern
      .split(/(\*\*\/?|\*|\?)/)
      .map((part) => (part.startsWith('**') ? '(?:.*/)?' + (part === '**' ? '.*' : '') : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    const regex = new RegExp(`^${source}(?:/.*)?$`);
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

/** Every file under a path of the repository (relative paths); the path itself when it is a file. */
export function filesUnder(path: string): string[] {
  const absolute = join(ROOT, path);
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute).flatMap((entry) => filesUnder(join(path, entry)));
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml and .env.example

export type Env = Record<string, string | number | boolean | null>;
export interface ServiceSecret {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number | string;
}
export interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  environment?: Env | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
  volumes?: (string | { source?: string; target: string })[];
  ports?: (string | { target: number | string; published?: number | string; host_ip?: string })[];
  secrets?: (string | ServiceSecret)[];
  stop_grace_period?: string;
  command?: string | string[];
}
export interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { environment?: string; file?: string }>;
  volumes?: Record<string, unknown>;
}

export const readCompose = () => parseYaml(read('docker-compose.yml')) as Compose;
export const readEnvExample = () => parseDotenv(read('.env.example'));

export function environmentOf(service: Service): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)] as const)
    : Object.entries(service.environment ?? {}).map(([name, value]) => [name, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries);
}

export const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Compose's interpolation of a value, with variables from .env; $$ is a literal $. */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value
    .split('$$')
    .map((part) =>
      part.replace(INTERPOLATION, (_, braced?: string, operator?: string, word?: string, bare?: string) => {
        const name = (braced ?? bare)!;
        const set = operator?.startsWith(':') ? Boolean(vars[name]) : name in vars;
        if (operator?.endsWith('-')) return set ? vars[name]! : (word ?? '');
        if (operator?.endsWith('?') && !set) throw new Error(`${name}: ${word}`);
        return vars[name] ?? '';
      }),
    )
    .join('$');
}

/** Every variable compose interpolates: in every string value of the file (comments aside). */
export function interpolatedNames(node: unknown): string[] {
  if (typeof node === 'string') return [...node.split('$$').join('').matchAll(INTERPOLATION)].map((match) => (match[1] ?? match[4])!);
  if (Array.isArray(node)) return node.flatMap(interpolatedNames);
  if (node && typeof node === 'object') return Object.values(node).flatMap(interpolatedNames);
  return [];
}

/** Go durations as compose reads them: 6m, 1m30s, 90s, 1h. */
export function goDuration(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (!parts.length || parts.map((part) => part[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  return parts.reduce((total, part) => total + Number(part[1]) * units[part[2]!]!, 0);
}

export const secretEntries = (service: Service): ServiceSecret[] =>
  (service.secrets ?? []).map((secret) => (typeof secret === 'string' ? { source: secret } : secret));
export const secretPath = (secret: ServiceSecret) =>
  secret.target?.startsWith('/') ? secret.target : `/run/secrets/${secret.target ?? secret.source}`;
/** A service's depends_on as service name to condition (the short list form means service_started). */
export const dependencies = (service: Service): Record<string, string> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, 'service_started']))
    : Object.fromEntries(Object.entries(service.depends_on ?? {}).map(([name, { condition }]) => [name, condition]));

/**
 * Compose options that need a newer Docker Engine than 20.10 (Debian 12's docker.io; 24 to 27 are
 * still common), with the first engine that handles them: Compose either refuses them on an older
 * engine or, for secrets' uid/gid, the container never starts.
 */
const NEWER_ENGINE_OPTIONS: { path: RegExp; engine: string; why: string }[] = [
  { path: /^services\.[^.]+\.(secrets|configs)\.\d+\.(uid|gid)$/, engine: '28.0', why: "Compose then asks the engine to apply ownership, which fails for an image user missing from the host's user database" },
  { path: /^services\.[^.]+\.healthcheck\.start_interval$/, engine: '25.0', why: 'API 1.44' },
  { path: /^services\.[^.]+\.networks\.[^.]+\.mac_address$/, engine: '25.0', why: 'API 1.44' },
  { path: /^services\.[^.]+\.annotations$/, engine: '24.0', why: 'API 1.43' },
  { path: /^services\.[^.]+\.volumes\.\d+\.volume\.subpath$/, engine: '26.0', why: 'API 1.45' },
  { path: /^services\.[^.]+\.networks\.[^.]+\.driver_opts$/, engine: '27.0', why: 'API 1.46' },
  { path: /^services\.[^.]+\.networks\.[^.]+\.gw_priority$/, engine: '28.0', why: 'API 1.48' },
  { path: /^services\.[^.]+\.volumes\.\d+\.image$/, engine: '28.0', why: 'image mounts, API 1.48' },
];

/** Every option of a compose file (as a dotted path) that Docker Engine 20.10 cannot honour. */
export function newerEngineOptions(node: unknown, prefix = ''): { path: string; engine: string; why: string }[] {
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const rule = NEWER_ENGINE_OPTIONS.find((candidate) => candidate.path.test(path));
    return [...(rule ? [{ path, engine: rule.engine, why: rule.why }] : []), ...newerEngineOptions(value, path)];
  });
}

// ---------------------------------------------------------------------------------------------
// Tools that run here

/** Looks a program up on PATH and in the sbin directories a non-root PATH may lack. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}
