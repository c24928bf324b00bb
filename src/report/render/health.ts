import type { HealthEvent, TestEvent } from '../events';
import { subjectLine, when } from './common';
import { facts, plural, type ReportDocument, type TableRow } from './document';

const STATUS_WORD = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

/** Failing checks first: they are why the mail was sent. */
function checkRows(checks: HealthEvent['checks']): TableRow[] {
  const rank = { fail: 0, warn: 1, ok: 2 } as const;
  return [...checks]
    .sort((a, b) => rank[a.status] - rank[b.status])
    .map((check) => ({ cells: [STATUS_WORD[check.status], check.name, check.message, check.value ?? ''], tone: check.status === 'ok' ? undefined : check.status }));
}

export function health(event: HealthEvent, prefix: string, now: Date): ReportDocument {
  const table = { type: 'table' as const, head: ['', 'Check', 'Message', 'Value'], rows: checkRows(event.checks) };
  if (event.kind === 'health-recovered') {
    return {
      subject: subjectLine(prefix, 'RECOVERED', `health: all ${plural(event.checks.length, 'check')} ok`),
      tone: 'ok',
      headline: 'Healthy again',
      summary: `Every health check passes again${event.since ? `; the problem began ${when(event.since, now)}` : ''}.`,
      sections: [{ blocks: [facts(event.since !== undefined && { label: 'Unhealthy since', value: when(event.since, now) }, { label: 'Recovered', value: when(now.toISOString(), now) }), table] }],
    };
  }
  const failing = event.checks.filter((check) => check.status === 'fail');
  const warning = event.checks.filter((check) => check.status === 'warn');
  const bad = failing.length ? failing : warning;
  const first = bad[0];
  const more = bad.length > 1 ? ` (+${bad.length - 1} more)` : '';
  return {
    subject: subjectLine(prefix, failing.length ? 'ALERT' : 'WARNING', `health: ${first ? `${first.name}: ${first.message}` : 'unhealthy'}${more}`),
    tone: failing.length ? 'fail' : 'warn',
    headline: failing.length ? 'Unhealthy' : 'Health warning',
    summary: `${plural(failing.length, 'check')} failing, ${warning.length} warning, out of ${event.checks.length}.`,
    sections: [
      {
        blocks: [
          facts(event.since !== undefined && { label: 'Since', value: when(event.since, now) }, { label: 'Checked', value: when(now.toISOString(), now) }),
          table,
          { type: 'paragraph', text: '`keepsake status` shows each job\'s last run and error; the daemon\'s /healthz endpoint shows these checks live.' },
        ],
      },
    ],
  };
}

export function testReport(_event: TestEvent, prefix: string, now: Date): ReportDocument {
  return {
    subject: subjectLine(prefix, 'TEST', 'email from keepsake: delivery works'),
    tone: 'info',
    headline: 'Test email',
    summary: 'If you can read this, keepsake can deliver its reports to you.',
    sections: [
      {
        blocks: [
          facts({ label: 'Sent', value: when(now.toISOString(), now) }),
          {
            type: 'paragraph',
            text: 'keepsake sends a report like this for every backup, failure, restore test, cleanup and health change, plus a weekly storage report. Reports that cannot be sent wait in the outbox and are retried.',
          },
        ],
      },
    ],
  };
}
