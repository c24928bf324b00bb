import type { Notice } from '../notice';
import { STATUS_COLORS, cut, headline, sender, unfenced } from './text';
import type { FormatMessage } from './types';

/**
 * Discord's Execute Webhook: a one-line `content` (the notification) and one embed with the status
 * colour, the summary, next step and error, and the facts as fields. Discord refuses the whole
 * message when a limit is passed (embed title 256, description 4096, 25 fields of 256/1024, 6000 in
 * all, content 2000), so every part is cut below its limit. `allowed_mentions.parse: []` keeps an
 * error text holding @everyone or <@id> from pinging anyone.
 */
const LIMITS = { content: 2000, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000 };
/** The error's share of the description: room is left for the summary and the next step. */
const MAX_ERROR = 1800;

function description(notice: Notice): string {
  const parts = [notice.summary, notice.nextStep && `**Next step:** ${notice.nextStep}`, notice.error && `\`\`\`\n${unfenced(cut(notice.error, MAX_ERROR))}\n\`\`\``];
  return cut(parts.filter(Boolean).join('\n\n'), LIMITS.description);
}

export const discordFormat: FormatMessage = (notice) => {
  const title = cut(notice.title, LIMITS.title);
  const footer = cut(sender(notice), LIMITS.footer);
  const text = description(notice);
  // The facts fill what the 6000 characters leave; they are the first thing to give way.
  let room = LIMITS.total - title.length - text.length - footer.length;
  const fields: { name: string; value: string; inline: boolean }[] = [];
  for (const fact of notice.facts.slice(0, LIMITS.fields)) {
    const name = cut(fact.label, LIMITS.fieldName);
    const value = cut(fact.value, Math.min(LIMITS.fieldValue, 300));
    if (name.length + value.length > room) break;
    room -= name.length + value.length;
    fields.push({ name, value, inline: value.length <= 40 });
  }
  const body = {
    username: 'keepsake',
    content: cut(headline(notice), LIMITS.content),
    embeds: [{ title, description: text, color: Number.parseInt(STATUS_COLORS[notice.status].slice(1), 16), fields, footer: { text: footer }, ...(Number.isFinite(Date.parse(notice.occurredAt)) ? { timestamp: notice.occurredAt } : {}) }],
    allowed_mentions: { parse: [] as string[] },
  };
  return { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
};
