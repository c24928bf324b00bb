import type { Command } from 'commander';
import { redactedConfig } from '../config';
import type { CommandContext } from './context';

export function registerConfig(program: Command, context: CommandContext): void {
  program
    .command('config')
    .description('validate the configuration and print it, secrets redacted')
    .action(() => {
      context.out(JSON.stringify(redactedConfig(context.config()), null, 2));
    });
}
