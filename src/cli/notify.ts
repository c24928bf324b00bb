import type { Command } from 'commander';
import { KeepsakeError } from '../errors';
import { sidecarOfConfig } from '../report/events';
import { requireSender } from '../report/notify';
import { renderReport } from '../report/render';
import { explainSendError } from '../report/transport';
import type { CommandContext } from './context';

export function registerNotify(program: Command, context: CommandContext): void {
  program
    .command('notify')
    .description('e-mail settings')
    .command('test')
    .description('send a test e-mail now and say exactly what failed if it cannot')
    .action(async () => {
      const config = context.config();
      const send = requireSender(config);
      const report = renderReport({ kind: 'test', sidecar: sidecarOfConfig(config) }, { subjectPrefix: config.report.subjectPrefix, now: new Date() });
      try {
        await send(report);
      } catch (error) {
        throw new KeepsakeError(`Could not send the test e-mail via ${config.report.smtp!.host}:${config.report.smtp!.port}: ${explainSendError(error)}`, 'unavailable', { cause: error });
      }
      context.out(`Sent "${report.subject}" to ${config.report.to.join(', ')} via ${config.report.smtp!.host}:${config.report.smtp!.port}`);
    });
}
