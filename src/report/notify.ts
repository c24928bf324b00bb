import type { Config, ReportEventName } from '../config';
import { coerceError } from '../errors';
import type { Logger } from '../log';
import { listOutbox, putInOutbox } from '../state/outbox';
import { flushOutbox, type FlushResult } from './outbox';
import { describePrune, pruneOutbox } from './outbox-prune';
import { notifyChannels } from '../notify/deliver';
import type { Notice } from '../notify/notice';
import { smtpSender, type RenderedReport, type SendReport } from './transport';

export interface NotifyDeps {
  config: Pick<Config, 'report' | 'stateDir'>;
  log: Logger;
  /** Defaults to SMTP from the configuration; tests may pass their own. */
  send?: SendReport;
  /** One channel POST's limit (notify/http-send.ts HTTP_TIMEOUT_MS); tests shorten it. */
  httpTimeoutMs?: number;
}

/** The configured sender, or undefined when no SMTP server is configured. */
export function configuredSender(config: Pick<Config, 'report'>): SendReport | undefined {
  return config.report.smtp ? smtpSender(config.report.smtp, config.report) : undefined;
}

/** Drops what is beyond OUTBOX_MAX_AGE / OUTBOX_MAX_REPORTS, and says so in the log. */
async function keepBounded(deps: NotifyDeps): Promise<void> {
  const limits = deps.config.report.outbox;
  const summary = await pruneOutbox(deps.config.stateDir, limits);
  if (summary.dropped) deps.log.warn({ dropped: summary.dropped, failures: summary.failures }, describePrune(summary, limits));
}

/**
 * Sends what waits in the outbox (what is due, or everything with `force`): one mail each, or one
 * digest when OUTBOX_DIGEST_AFTER or more wait. The daemon calls it every minute, `keepsake outbox
 * flush` on demand.
 */
export async function deliverWaiting(deps: NotifyDeps & { send: SendReport }, options: { force?: boolean } = {}): Promise<FlushResult> {
  await keepBounded(deps);
  const { digestAfter } = deps.config.report.outbox;
  return flushOutbox(deps.config.stateDir, deps.send, { force: options.force, digest: { after: digestAfter, subjectPrefix: deps.config.report.subjectPrefix } });
}

/**
 * Files a report in the outbox (the e-mail) and, when `notice` is given, a message in the outbox of
 * every channel that wants the event; then tries each destination once right away, in parallel.
 * Never throws: a report is news about a job, and must neither fail nor delay the job beyond the
 * SMTP and HTTP timeouts. Returns what became of the e-mail.
 */
export async function notify(deps: NotifyDeps, event: ReportEventName, render: () => RenderedReport, notice?: () => Notice): Promise<'sent' | 'queued' | 'off' | 'lost'> {
  const [mail] = await Promise.all([notifyByMail(deps, event, render), notice ? notifyChannels(deps, event, notice) : undefined]);
  return mail;
}

async function notifyByMail(deps: NotifyDeps, event: ReportEventName, render: () => RenderedReport): Promise<'sent' | 'queued' | 'off' | 'lost'> {
  const { config, log } = deps;
  if (!config.report.events.includes(event)) return 'off';
  try {
    const send = deps.send ?? configuredSender(config);
    const item = await putInOutbox(config.stateDir, event, render(), { keepHtmlCopy: !send });
    await keepBounded(deps);
    if (!send) return 'queued';
    const result = await flushOutbox(config.stateDir, send, { only: item.id, force: true });
    if (result.sent.length) {
      // Mail works (again): what waited from before goes now, as one digest when there is much.
      if ((await listOutbox(config.stateDir)).length) await deliverWaiting({ ...deps, send }, { force: true });
      return 'sent';
    }
    log.warn({ event, error: result.failed[0]?.error }, 'report not sent now; it waits in the outbox and is retried');
    return 'queued';
  } catch (error) {
    log.error({ err: coerceError(error), event }, 'could not file the report in the outbox');
    return 'lost';
  }
}
