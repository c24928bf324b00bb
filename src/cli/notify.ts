import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { ChannelConfig, Config } from '../config';
import { channelHost } from '../config/channels';
import { KeepsakeError } from '../errors';
import { httpPoster } from '../notify/channel-flush';
import { deliverChannel } from '../notify/deliver';
import { noticeFor } from '../notify/notice-for';
import type { Logger } from '../log';
import { requeueGivenUp, updateChannelStatus } from '../state/channel-outbox';
import { sidecarOfConfig } from '../report/events';
import { configuredSender } from '../report/notify';
import { renderReport } from '../report/render';
import { explainSendError } from '../report/transport';
import type { CommandContext } from './context';

interface Tried {
  name: string;
  ok: boolean;
  line: string;
}

/** The SMTP path: one test e-mail, sent now. */
async function testMail(config: Config): Promise<Tried> {
  const send = configuredSender(config)!;
  const relay = `${config.report.smtp!.host}:${config.report.smtp!.port}`;
  const report = renderReport({ kind: 'test', sidecar: sidecarOfConfig(config) }, { subjectPrefix: config.report.subjectPrefix, now: new Date() });
  try {
    await send(report);
    return { name: 'email', ok: true, line: `OK      email: sent "${report.subject}" to ${config.report.to.join(', ')} via ${relay}` };
  } catch (error) {
    return { name: 'email', ok: false, line: `FAILED  email: could not send the test e-mail via ${relay}: ${explainSendError(error)}` };
  }
}

/**
 * One channel: a test notice posted now, straight (not through the outbox). When it gets through,
 * the channel works: that counts as a delivery for its health check, and the messages it refused
 * before (kept in given-up/) are put back and sent now, so a fixed URL or token loses no alert.
 */
async function testChannel(config: Config, channel: ChannelConfig, log: Logger): Promise<Tried> {
  const now = new Date();
  const notice = noticeFor({ kind: 'test', sidecar: sidecarOfConfig(config) }, { now, hostname: hostname() });
  const deliveryId = `${now.toISOString().replace(/[:.]/g, '-')}-test-notify`;
  const outcome = await httpPoster()(channel, notice, deliveryId);
  if (outcome.kind !== 'delivered') return { name: channel.name, ok: false, line: `FAILED  ${channel.name}: ${outcome.error}` };
  await updateChannelStatus(config.stateDir, channel.name, (status) => (status.lastDelivery = { at: now.toISOString(), id: deliveryId }), now);
  const requeued = await requeueGivenUp(config.stateDir, channel.name, now);
  let resent = '';
  if (requeued) {
    const result = await deliverChannel({ config, log }, channel, { force: true });
    resent = `; ${requeued} message(s) it had refused before put back: ${result.sent.length} delivered now, ${result.waiting} waiting`;
  }
  return { name: channel.name, ok: true, line: `OK      ${channel.name}: ${channel.format} message delivered to ${channelHost(channel.url)} (HTTP ${outcome.httpStatus})${resent}` };
}

export function registerNotify(program: Command, context: CommandContext): void {
  program
    .command('notify')
    .description('e-mail and notification channel settings')
    .command('test')
    .description('send a test message now to the e-mail and every channel (or one) and say exactly what failed')
    .option('--channel <name>', 'only this channel (`email`: the SMTP server)')
    .action(async (options: { channel?: string }) => {
      const config = context.config();
      const { smtp, channels } = config.report;
      const known = [...(smtp ? ['email'] : []), ...channels.map((channel) => channel.name)];
      if (!known.length) {
        throw new KeepsakeError('Nothing to test: no SMTP server and no notification channel is configured; set SMTP_HOST and MAIL_TO, or NOTIFY_<NAME>_URL', 'config');
      }
      const wanted = options.channel?.trim().toLowerCase();
      if (wanted !== undefined && !known.includes(wanted)) {
        const hint = wanted === 'email' ? 'no SMTP server is configured (set SMTP_HOST and MAIL_TO)' : `no channel is named "${wanted}" (NOTIFY_${wanted.toUpperCase()}_URL is not set)`;
        throw new KeepsakeError(`Cannot test "${wanted}": ${hint}; configured: ${known.join(', ')}`, 'config');
      }
      const tries: Promise<Tried>[] = [];
      if (smtp && (wanted === undefined || wanted === 'email')) tries.push(testMail(config));
      for (const channel of channels) if (wanted === undefined || wanted === channel.name) tries.push(testChannel(config, channel, context.log()));
      const results = await Promise.all(tries);
      for (const result of results) context.out(result.line);
      const failed = results.filter((result) => !result.ok);
      if (failed.length) {
        const said = failed.map((result) => result.line.replace(/^FAILED\s+/, '')).join('\n  ');
        throw new KeepsakeError(`${failed.length} of ${results.length} destination(s) failed:\n  ${said}`, 'unavailable');
      }
    });
}
