import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { formatBytes } from '../format';
import { REPORT_EVENT_KINDS, type ReportEventKind } from '../report/events';
import { renderReport } from '../report/render';
import { SAMPLE_EVENTS, sampleNow } from '../report/render/samples';
import { storageReport } from '../jobs/storage-report';
import type { CommandContext } from './context';

/**
 * `keepsake report preview <event>`: every report rendered from sample data, so an operator can
 * see what the emails look like before configuring SMTP. It needs no configuration at all.
 */
export function registerReport(program: Command, context: CommandContext): void {
  const report = program.command('report').description('email reports');
  report
    .command('preview')
    .description(`render a report from sample data as HTML; events: ${REPORT_EVENT_KINDS.join(', ')}`)
    .argument('<event>', 'which report')
    .option('--out <file>', 'write the HTML to this file instead of printing it')
    .option('--text', 'print the plain-text part instead of the HTML')
    .option('--subject-prefix <prefix>', 'subject prefix', '[keepsake]')
    .action(async (event: string, options: { out?: string; text?: boolean; subjectPrefix: string }) => {
      if (!(REPORT_EVENT_KINDS as readonly string[]).includes(event)) {
        throw new UsageError(`Unknown report event "${event}"; choose one of: ${REPORT_EVENT_KINDS.join(', ')}`);
      }
      // Each sample's own clock, so relative times ("in 23h58m") read as they would on the day.
      const kind = event as ReportEventKind;
      const rendered = renderReport(SAMPLE_EVENTS[kind], { subjectPrefix: options.subjectPrefix, now: sampleNow(kind) });
      const body = options.text ? rendered.text : rendered.html;
      if (!options.out) return context.out(body);
      await writeFile(options.out, body);
      context.err(`wrote ${options.out} (${formatBytes(Buffer.byteLength(body))}); subject: ${rendered.subject}`);
    });
  report
    .command('storage')
    .description("send the storage report now (the daemon's weekly storage-report job): per-tier counts and sizes, growth, recent sizes")
    .action(async () => {
      context.out(await storageReport({ config: context.config(), storages: context.storages(), log: context.log() }));
    });
}
