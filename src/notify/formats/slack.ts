import type { Notice } from '../notice';
import { STATUS_COLORS, cut, headline, sender, unfenced } from './text';
import type { FormatMessage } from './types';

/**
 * Slack incoming webhooks, which Mattermost and Rocket.Chat accept too: `text` (the notification and
 * what a client without attachments shows) plus one legacy attachment with the status colour, the
 * summary, the next step, the error and the facts. Slack reads &, < and > as control characters:
 * they are escaped everywhere (https://api.slack.com/reference/surfaces/formatting#escaping), so an
 * error holding "<!channel>" stays text.
 */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Short enough for a phone; far below Mattermost's 16383 characters a post. */
const MAX_ERROR = 1500;
const MAX_FIELD = 300;

function attachmentText(notice: Notice): string {
  return [
    notice.summary,
    notice.nextStep && `*Next step:* ${notice.nextStep}`,
    notice.error && `\`\`\`${unfenced(cut(notice.error, MAX_ERROR))}\`\`\``,
  ]
    .filter(Boolean)
    .map((part) => escapeSlack(part as string))
    .join('\n');
}

export const slackFormat: FormatMessage = (notice) => {
  const text = escapeSlack(cut(headline(notice), 300));
  const body = {
    text,
    attachments: [
      {
        fallback: text,
        color: STATUS_COLORS[notice.status],
        title: escapeSlack(cut(notice.title, 250)),
        text: attachmentText(notice),
        fields: notice.facts.map((fact) => ({ title: escapeSlack(cut(fact.label, 100)), value: escapeSlack(cut(fact.value, MAX_FIELD)), short: fact.value.length <= 40 })),
        footer: escapeSlack(sender(notice)),
        ...(Number.isFinite(Date.parse(notice.occurredAt)) ? { ts: Math.floor(Date.parse(notice.occurredAt) / 1000) } : {}),
        mrkdwn_in: ['text'],
      },
    ],
  };
  return { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
};
