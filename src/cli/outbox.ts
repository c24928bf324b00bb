import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { formatTimestamp, table } from '../format';
import { deliverAllChannels } from '../notify/deliver';
import { configuredSender, deliverWaiting } from '../report/notify';
import { listChannelOutbox } from '../state/channel-outbox';
import { listOutbox } from '../state/outbox';
import type { CommandContext } from './context';

/** One waiting message, e-mail or channel, as `outbox list` shows it. */
interface Waiting {
  channel: string;
  id: string;
  event: string;
  subject: string;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
}

export function registerOutbox(program: Command, context: CommandContext): void {
  const outbox = program.command('outbox').description('reports and channel messages waiting to be delivered (kept until the SMTP server or the channel accepts them)');
  outbox
    .command('list')
    .description('list waiting reports (e-mail) and messages (each channel)')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = context.config();
      const waiting: Waiting[] = (await listOutbox(config.stateDir)).map(({ html: _html, text: _text, ...item }) => ({ channel: 'email', ...item }));
      for (const channel of config.report.channels) {
        for (const { notice, refusals: _refusals, ...item } of await listChannelOutbox(config.stateDir, channel.name)) waiting.push({ ...item, subject: notice.title });
      }
      if (options.json) return context.out(JSON.stringify(waiting, null, 2));
      if (!waiting.length) return context.out('The outbox is empty: every report and message was delivered.');
      const rows = [['CHANNEL', 'CREATED (UTC)', 'SUBJECT', 'ATTEMPTS', 'NEXT TRY', 'LAST ERROR']];
      for (const item of waiting) rows.push([item.channel, formatTimestamp(item.createdAt), item.subject, String(item.attempts), formatTimestamp(item.nextAttemptAt), item.lastError ?? '']);
      context.out(table(rows));
    });
  outbox
    .command('flush')
    .description('deliver every waiting report and channel message now')
    .action(async () => {
      const config = context.config();
      const send = configuredSender(config);
      if (!send && !config.report.channels.length) {
        throw new KeepsakeError('No SMTP server and no notification channel is configured: set SMTP_HOST and MAIL_TO, or NOTIFY_<NAME>_URL (reports meanwhile stay in STATE_DIR/outbox and as .html files in STATE_DIR/reports)', 'config');
      }
      const log = context.log();
      const [mail, channels] = await Promise.all([send ? deliverWaiting({ config, log, send }, { force: true }) : undefined, deliverAllChannels({ config, log }, { force: true })]);
      const failures: string[] = [];
      if (!mail) {
        const kept = (await listOutbox(config.stateDir)).length;
        if (kept) context.out(`email: no SMTP server is configured (SMTP_HOST, MAIL_TO); ${kept} report(s) stay in STATE_DIR/outbox`);
      }
      if (mail) {
        context.out(`email: ${mail.sent.length} sent${mail.digested ? ' (as one digest mail)' : ''}, ${mail.failed.length} failed, ${mail.waiting} still waiting`);
        for (const failure of mail.failed) context.err(`  email ${failure.id}: ${failure.error}`);
        if (mail.failed.length) failures.push(`email: ${mail.failed[0]!.error}`);
      }
      for (const result of channels) {
        if (result.busy) {
          context.out(`${result.channel}: another keepsake process (${result.busy}) is delivering its messages now; ${result.waiting} waiting`);
          continue;
        }
        const gaveUp = result.givenUp.length ? `, ${result.givenUp.length} given up (kept in STATE_DIR/outbox/${result.channel}/given-up)` : '';
        context.out(`${result.channel}: ${result.sent.length} sent${result.digested ? ' (as one digest message)' : ''}, ${result.failed.length} failed${gaveUp}, ${result.waiting} still waiting`);
        for (const failure of [...result.failed, ...result.givenUp]) context.err(`  ${result.channel} ${failure.id}: ${failure.error}`);
        if (result.failed.length || result.givenUp.length) failures.push(`${result.channel}: ${(result.failed[0] ?? result.givenUp[0])!.error}`);
      }
      if (failures.length) throw new KeepsakeError(`Could not deliver to ${failures.length} destination(s):\n  ${failures.join('\n  ')}`, 'unavailable');
    });
}
