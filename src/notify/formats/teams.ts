import type { Notice, NoticeStatus } from '../notice';
import { cut, headline, sender } from './text';
import type { FormatMessage } from './types';

/**
 * Microsoft Teams through a Workflows webhook (Power Automate's "When a Teams webhook request is
 * received", e.g. the template "Post to a channel when a webhook request is received"): a message
 * with one Adaptive Card 1.4 attachment, which that flow posts as it is. The old Office 365
 * connector URLs (outlook.office.com/webhook, MessageCard) are retired; Workflows take Adaptive Cards only.
 * Teams refuses messages over 28 KB: the error is cut well below.
 */
const MAX_ERROR = 3000;
const MAX_FACT = 500;

const TITLE_COLORS: Record<NoticeStatus, string> = { fail: 'attention', warn: 'warning', ok: 'good', info: 'accent' };

function card(notice: Notice) {
  const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    // The card's own notification text: what Teams shows in the activity feed.
    fallbackText: cut(headline(notice), 300),
    body: [
      text(cut(headline(notice), 400), { size: 'Medium', weight: 'Bolder', color: TITLE_COLORS[notice.status] }),
      text(notice.summary),
      ...(notice.nextStep ? [text(`**Next step:** ${notice.nextStep}`)] : []),
      ...(notice.error ? [text(cut(notice.error, MAX_ERROR), { fontType: 'Monospace', size: 'Small' })] : []),
      ...(notice.facts.length ? [{ type: 'FactSet', facts: notice.facts.map((fact) => ({ title: cut(fact.label, 100), value: cut(fact.value, MAX_FACT) })) }] : []),
      text(sender(notice), { size: 'Small', isSubtle: true }),
    ],
  };
}

export const teamsFormat: FormatMessage = (notice) => {
  const body = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card(notice) }] };
  return { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
};
