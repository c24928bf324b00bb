#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBackup } from './cli/backup';
import { registerBaseBackup } from './cli/base-backup';
import { registerConfig } from './cli/config';
import { createContext, type CommandContext } from './cli/context';
import { stackWithCauses } from './cli/terminal-log';
import { quietSdkNodeVersionWarning } from './config/runtime-env';
import { registerList } from './cli/list';
import { registerVerify } from './cli/verify';
import { registerRestoreTest } from './cli/restore-test';
import { registerRestore } from './cli/restore';
import { registerDaemon } from './cli/daemon';
import { registerCleanup } from './cli/cleanup';
import { registerOffsite } from './cli/offsite';
import { registerOutbox } from './cli/outbox';
import { registerReport } from './cli/report-preview';
import { registerNotify } from './cli/notify';
import { registerStatus } from './cli/status';
import { registerHealth } from './cli/health';
import { EXIT_CODES, EXIT_CODES_HELP, coerceError, exitCodeFor, rootKeepsakeError } from './errors';
import { KEEPSAKE_VERSION } from './version';

/** Every command, registered on one commander program (the README test reads it too). */
export function buildProgram(context: CommandContext): Command {
  const program = new Command()
    .name('keepsake')
    .description('PostgreSQL backup sidecar: checksummed, verified dumps to local disk and S3')
    .version(KEEPSAKE_VERSION)
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .option('--verbose', 'on stderr, also the log\'s info lines and the stack of an error')
    .exitOverride()
    .showHelpAfterError()
    .hook('preAction', (_program, action) => {
      context.command = action.parent && action.parent !== program ? `${action.parent.name()} ${action.name()}` : action.name();
      context.verbose = Boolean(program.opts().verbose);
    });
  for (const register of [registerBackup, registerBaseBackup, registerList, registerVerify, registerRestore, registerRestoreTest, registerCleanup, registerOffsite, registerHealth, registerStatus, registerOutbox, registerNotify, registerReport, registerDaemon, registerConfig]) {
    register(program, context);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const context = createContext();
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv);
    context.finish?.();
    return context.exitCode ?? EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    context.finish?.(error);
    if (context.verbose) context.err(stackWithCauses(error));
    // A .env left in the folder (the compose quick start's) quietly changes what a command talks to.
    const dotenv = context.loadedConfig?.()?.dotenv;
    if (dotenv) context.err(`keepsake: these settings came from ${dotenv.path} (the environment wins over it): ${dotenv.variables.join(', ')}`);
    const known = rootKeepsakeError(error);
    // The last line says what failed and what to do; the JSON with the stack is in LOG_DIR.
    context.err(`keepsake: ${(known ?? coerceError(error)).message}`);
    return exitCodeFor(known ?? error);
  }
}

if (require.main === module) {
  // Before any S3 client exists: the SDK reads process.env when the first one is made.
  quietSdkNodeVersionWarning();
  // `keepsake list | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
