import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { formatTimestamp, table } from '../format';
import { deliverWaiting, requireSender } from '../report/notify';
import { listOutbox } from '../state/outbox';
import type { CommandContext } from './context';

export function registerOutbox(program: Command, context: CommandContext): void {
  const outbox = program.command('outbox').description('reports waiting to be e-mailed (kept until the SMTP server accepts them)');
  outbox
    .command('list')
    .description('list waiting reports')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const items = await listOutbox(context.config().stateDir);
      if (options.json) return context.out(JSON.stringify(items.map(({ html: _html, text: _text, ...item }) => item), null, 2));
      if (!items.length) return context.out('The outbox is empty: every report was delivered.');
      const rows = [['CREATED (UTC)', 'SUBJECT', 'ATTEMPTS', 'NEXT TRY', 'LAST ERROR']];
      for (const item of items) rows.push([formatTimestamp(item.createdAt), item.subject, String(item.attempts), formatTimestamp(item.nextAttemptAt), item.lastError ?? '']);
      context.out(table(rows));
    });
  outbox
    .command('flush')
    .description('send every waiting report now')
    .action(async () => {
      const config = context.config();
      const send = requireSender(config);
      const result = await deliverWaiting({ config, log: context.log(), send }, { force: true });
      context.out(`${result.sent.length} sent${result.digested ? ' (as one digest mail)' : ''}, ${result.failed.length} failed, ${result.waiting} still waiting`);
      for (const failure of result.failed) context.err(`  ${failure.id}: ${failure.error}`);
      if (result.failed.length) throw new KeepsakeError(`Could not send ${result.failed.length} report(s): ${result.failed[0]!.error}`, 'unavailable');
    });
}
