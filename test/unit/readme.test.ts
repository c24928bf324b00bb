import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli';
import type { CommandContext } from '../../src/cli/context';
import { envSchema } from '../../src/config/schema';
import { TARGET_SETTINGS } from '../../src/config/targets';
import { CHANNEL_SETTINGS } from '../../src/config/channels';

/**
 * The README is the product's front door: its commands, variables and defaults must be the code's.
 * These tests read both, so neither can drift from the other.
 */
const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const VARIABLES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

/** The part of the README between a "## heading" and the next one. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Table rows of a section as cells; header and separator rows left out. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
const variableRows = () => tableRows(section('Configuration')).filter((cells) => /^`[A-Z][A-Z0-9_]*`/.test(cells[0] ?? ''));

describe('README configuration reference', () => {
  it('documents every variable keepsake reads', () => {
    const documented = new Set(variableRows().flatMap((cells) => backticked(cells[0]!)));
    expect(VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable keepsake does not read', () => {
    const documented = variableRows().flatMap((cells) => backticked(cells[0]!)).filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name));
    expect(documented.filter((name) => !(VARIABLES as string[]).includes(name))).toEqual([]);
  });

  it('documents every TARGET_<NAME>_* setting keepsake reads, and no other', () => {
    const family = tableRows(section('Configuration')).filter((cells) => (cells[0] ?? '').startsWith('`TARGET_<NAME>_'));
    const documented = family.flatMap((cells) => backticked(cells[0]!)).map((name) => /^TARGET_<NAME>_([A-Z_]+)$/.exec(name)?.[1]);
    expect(documented.filter((setting) => setting !== undefined).sort()).toEqual([...TARGET_SETTINGS].sort());
  });

  it('documents every NOTIFY_<NAME>_* setting keepsake reads, and no other', () => {
    const family = tableRows(section('Configuration')).filter((cells) => (cells[0] ?? '').startsWith('`NOTIFY_<NAME>_'));
    // "`NOTIFY_<NAME>_URL` (+`_FILE`)" documents URL and URL_FILE.
    const documented = family.flatMap((cells) => {
      const settings = backticked(cells[0]!).map((name) => /^NOTIFY_<NAME>_([A-Z_]+)$/.exec(name)?.[1]).filter((setting): setting is string => setting !== undefined);
      return cells[0]!.includes('(+`_FILE`)') ? settings.flatMap((setting) => [setting, `${setting}_FILE`]) : settings;
    });
    expect(documented.sort()).toEqual([...CHANNEL_SETTINGS].sort());
  });

  it('gives each default as the code has it', () => {
    const checked: string[] = [];
    for (const cells of variableRows()) {
      const defaults = backticked(cells[1] ?? '');
      // Only cells that hold exactly one literal default; prose and fallbacks to other variables are for humans.
      if (defaults.length !== 1 || cells[1] !== `\`${defaults[0]}\`` || /^[A-Z][A-Z0-9_]*$|<.+>/.test(defaults[0]!)) continue;
      for (const name of backticked(cells[0]!).filter((n): n is keyof typeof envSchema.shape => (VARIABLES as string[]).includes(n))) {
        const field = envSchema.shape[name];
        // No default in the schema: the README describes what loadConfig derives (NOTIFY_ON "all"); config.test.ts covers those.
        if (field.parse(undefined) === undefined) continue;
        const fromReadme = field.safeParse(defaults[0]);
        expect({ name, ok: fromReadme.success }).toEqual({ name, ok: true });
        expect({ name, value: fromReadme.data }).toEqual({ name, value: field.parse(undefined) });
        checked.push(name);
      }
    }
    // Enough rows take part that the check means something.
    expect(checked.length).toBeGreaterThan(30);
  });
});

describe('README commands', () => {
  const noContext = {} as CommandContext;
  const commandNames = (command: Command, prefix = ''): string[] =>
    command.commands.flatMap((sub) => (sub.commands.length ? commandNames(sub, `${prefix}${sub.name()} `) : [`${prefix}${sub.name()}`]));
  const program = buildProgram(noContext);

  it('lists every command in the commands table', () => {
    const table = tableRows(section('Commands')).map((cells) => cells[0]!).join('\n');
    expect(commandNames(program).filter((name) => !table.includes(`keepsake ${name}`))).toEqual([]);
  });

  it('uses only real commands in its docker compose exec lines', () => {
    const used = [...README.matchAll(/docker compose exec backup keepsake ([a-z-]+(?: [a-z]+)?)/g)].map((match) => match[1]!);
    expect(used.length).toBeGreaterThan(5);
    const real = commandNames(program);
    expect(used.filter((line) => !real.some((name) => line === name || line.startsWith(`${name} `) || name.startsWith(`${line} `)))).toEqual([]);
  });
});

describe('README first screen', () => {
  const firstScreen = README.split('\n').slice(0, 30).join('\n');
  const ciCommand = readFileSync(join(ROOT, '.ci', 'run'), 'utf8').trim().split('\n').pop()!;

  it.each([['docker compose up -d'], ['npm ci && npm run demo']])('gives `%s`', (command) => {
    expect(firstScreen).toContain(command);
  });

  it('says what `npm run demo` needs and the command that installs it', () => {
    const demo = firstScreen.split('\n\n').find((paragraph) => paragraph.includes('`npm run demo` needs'));
    expect(demo).toMatch(/PostgreSQL[^]*zstd[^]*`bash scripts\/install-system-deps\.sh`/);
  });

  it('lists in its "Needs" sentence the server programs restore tests run', () => {
    const needs = firstScreen.split('\n\n').find((paragraph) => paragraph.startsWith('Needs '));
    for (const program of ['pg_dump', 'pg_restore', 'initdb', 'postgres', 'zstd']) expect({ program, listed: needs?.includes(`\`${program}\``) }).toEqual({ program, listed: true });
  });

  it('gives the exact test command CI runs, with its system-dependency step and the image test', () => {
    expect(ciCommand).toBe('bash scripts/install-system-deps.sh && npm ci && npm test && npm run test:image');
    expect(firstScreen.split('\n').map((line) => line.replace(/\s+#.*$/, ''))).toContain(ciCommand);
  });
});
