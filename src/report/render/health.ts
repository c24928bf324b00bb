import type { HealthCheckResult, HealthEvent, TestEvent } from '../events';
import { at, between, humanTimes, sidecarName, subjectLine } from './common';
import { facts, plural, type Block, type ReportDocument, type Section, type TableRow } from './document';

/** One check: its name and value on a line, what it says under them (a phone has no room for three columns). */
function checkRow(check: HealthCheckResult, withMessage: boolean): TableRow {
  return { cells: [check.name, humanTimes(check.value ?? '')], tone: check.status === 'ok' ? undefined : check.status, detail: withMessage ? humanTimes(check.message) : undefined };
}

const checkTable = (checks: HealthCheckResult[], withMessage = true): Block => ({ type: 'table', head: ['Check', 'Value'], rows: checks.map((check) => checkRow(check, withMessage)) });

export function health(event: HealthEvent, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar);
  const about = where ? ` ${where}` : '';
  const lasted = between(event.since, event.checkedAt);
  const when = (endLabel: string) =>
    facts(event.since !== undefined && { label: 'Unhealthy since', value: at(event.since) }, event.checkedAt !== undefined && { label: endLabel, value: at(event.checkedAt) }, lasted !== undefined && { label: 'Unhealthy for', value: lasted });
  if (event.kind === 'health-recovered') {
    return {
      subject: subjectLine(prefix, 'RECOVERED', `health${about}: all ${plural(event.checks.length, 'check')} ok`),
      sidecar: where,
      tone: 'ok',
      headline: 'Healthy again',
      summary: `Every health check passes again${lasted ? `, after ${lasted} unhealthy` : ''}.`,
      sections: [
        {
          blocks: [when('Recovered'), checkTable(event.checks, false)],
        },
      ],
    };
  }
  const failing = event.checks.filter((check) => check.status === 'fail');
  const warning = event.checks.filter((check) => check.status === 'warn');
  const passing = event.checks.length - failing.length - warning.length;
  const names = (checks: HealthCheckResult[]) => checks.map((check) => check.name).join(', ');
  // One failure: its own words fit the subject; several: their names.
  const failed = failing.length === 1 ? `${failing[0]!.name}: ${humanTimes(failing[0]!.message)}` : failing.length ? `${names(failing)} failing` : '';
  const news = [failed, warning.length && plural(warning.length, 'warning')].filter(Boolean).join('; ') || 'unhealthy';
  // What fails, then what warns, then one line for the rest: the OK checks are not the news.
  const sections: Section[] = [{ blocks: [when('Checked')] }];
  if (failing.length) sections.push({ title: `Failing (${failing.length})`, blocks: [checkTable(failing)] });
  if (warning.length) sections.push({ title: `Warnings (${warning.length})`, blocks: [checkTable(warning)] });
  sections.push({
    blocks: [
      ...(passing ? [{ type: 'paragraph' as const, text: `${plural(passing, `other check`)} ok.` }] : []),
      { type: 'paragraph', text: "`keepsake health` runs every check now; `keepsake status` shows each job's last run and error." },
    ],
  });
  return {
    subject: subjectLine(prefix, failing.length ? 'ALERT' : 'WARNING', `health${about}: ${news}`),
    sidecar: where,
    tone: failing.length ? 'fail' : 'warn',
    headline: failing.length ? `Unhealthy: ${plural(failing.length, 'check')} failing` : `Health: ${plural(warning.length, 'warning')}`,
    summary: `${plural(failing.length, 'check')} failing, ${plural(warning.length, 'warning')}, ${passing} ok${event.since ? `; unhealthy since ${at(event.since)}` : ''}.`,
    sections,
  };
}

export function testReport(event: TestEvent, prefix: string, now: Date): ReportDocument {
  const where = sidecarName(event.sidecar);
  return {
    subject: subjectLine(prefix, 'TEST', `email from keepsake${where ? ` ${where}` : ''}: delivery works`),
    sidecar: where,
    tone: 'info',
    headline: 'Test email',
    summary: 'If you can read this, keepsake can deliver its reports to you.',
    sections: [
      {
        blocks: [
          facts({ label: 'Sent', value: at(now.toISOString()) }),
          {
            type: 'paragraph',
            text: 'keepsake sends a report like this for every backup, failure, restore test, cleanup and health change, plus a weekly storage report. Reports that cannot be sent wait in the outbox and are retried.',
          },
        ],
      },
    ],
  };
}
