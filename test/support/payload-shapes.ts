/**
 * What each service documents that it accepts, as checks on a received HTTP request: one function
 * per service, each returning the list of violations (empty: the service would take it). They test
 * the request as it arrives (method, headers, raw body), so the lead's end-to-end test can run them
 * on what a loopback receiver got, and the unit tests on what a formatter made.
 * The limits are the services' documented ones, not keepsake's own (tighter) choices.
 */
import { z } from 'zod';

export interface ReceivedRequest {
  method: string;
  /** As node's IncomingMessage has them: names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const header = (request: ReceivedRequest, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

function issues(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

function jsonPost(request: ReceivedRequest): { problems: string[]; body?: unknown } {
  const problems: string[] = [];
  if (request.method !== 'POST') problems.push(`method: ${request.method}, expected POST`);
  if (!/^application\/json\b/i.test(header(request, 'content-type') ?? '')) problems.push(`content-type: ${header(request, 'content-type')}, expected application/json`);
  try {
    return { problems, body: JSON.parse(request.body) };
  } catch {
    return { problems: [...problems, 'body: not JSON'] };
  }
}

/** An HTTP header value a client can send: visible ASCII and spaces (non-ASCII must be encoded). */
const headerSafe = (name: string, value: string | undefined) => (value !== undefined && !/^[\x20-\x7e]*$/.test(value) ? [`${name}: not ASCII (${JSON.stringify(value)})`] : []);

// ---------------------------------------------------------------------------------------------
// Slack incoming webhooks: https://api.slack.com/messaging/webhooks
// Legacy attachments: https://api.slack.com/reference/messaging/attachments
// Escaping (&, <, > and only those): https://api.slack.com/reference/surfaces/formatting#escaping
// Mattermost (same payload, posts up to 16383 characters):
//   https://developers.mattermost.com/integrate/webhooks/incoming/
//   https://developers.mattermost.com/integrate/reference/message-attachments/
// Rocket.Chat incoming webhook (text and attachments with title, text, color, fields):
//   https://docs.rocket.chat/docs/integrations
// ---------------------------------------------------------------------------------------------

/** Text keepsake sends holds no control sequences: no raw < or >, and & only as the three entities. */
function slackEscaping(path: string, text: string): string[] {
  const problems: string[] = [];
  if (/[<>]/.test(text)) problems.push(`${path}: raw < or > (Slack reads them as control sequences; escape as &lt; &gt;)`);
  if (/&(?!amp;|lt;|gt;)/.test(text)) problems.push(`${path}: raw & (escape as &amp;)`);
  return problems;
}

const SLACK_LIMITS = { slack: 40_000, mattermost: 16_383, rocketchat: 16_383 } as const;

export function slackShape(request: ReceivedRequest, service: keyof typeof SLACK_LIMITS = 'slack'): string[] {
  const { problems, body } = jsonPost(request);
  if (body === undefined) return problems;
  const max = SLACK_LIMITS[service];
  const field = z.strictObject({ title: z.string(), value: z.string(), short: z.boolean().optional() });
  const attachment = z.looseObject({
    fallback: z.string().min(1),
    color: z.string().regex(/^(#[0-9a-fA-F]{6}|good|warning|danger)$/).optional(),
    pretext: z.string().optional(),
    title: z.string().optional(),
    title_link: z.string().url().optional(),
    text: z.string().max(max).optional(),
    fields: z.array(field).optional(),
    footer: z.string().max(300).optional(),
    ts: z.number().int().optional(),
    mrkdwn_in: z.array(z.enum(['pretext', 'text', 'fields'])).optional(),
  });
  const payload = z.looseObject({ text: z.string().min(1).max(max), attachments: z.array(attachment).max(100).optional() });
  problems.push(...issues(payload, body));
  if (!problems.length) {
    const parsed = payload.parse(body);
    problems.push(...slackEscaping('text', parsed.text));
    parsed.attachments?.forEach((a, i) => {
      for (const key of ['fallback', 'pretext', 'title', 'text', 'footer'] as const) if (typeof a[key] === 'string') problems.push(...slackEscaping(`attachments.${i}.${key}`, a[key] as string));
      a.fields?.forEach((f, j) => problems.push(...slackEscaping(`attachments.${i}.fields.${j}.title`, f.title), ...slackEscaping(`attachments.${i}.fields.${j}.value`, f.value)));
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Discord Execute Webhook: https://discord.com/developers/docs/resources/webhook#execute-webhook
// Embed limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
// Allowed mentions: https://discord.com/developers/docs/resources/message#allowed-mentions-object
// ---------------------------------------------------------------------------------------------

export function discordShape(request: ReceivedRequest): string[] {
  const { problems, body } = jsonPost(request);
  if (body === undefined) return problems;
  const embed = z.looseObject({
    title: z.string().max(256).optional(),
    description: z.string().max(4096).optional(),
    url: z.string().url().optional(),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    color: z.number().int().min(0).max(0xffffff).optional(),
    footer: z.looseObject({ text: z.string().min(1).max(2048) }).optional(),
    author: z.looseObject({ name: z.string().max(256) }).optional(),
    fields: z.array(z.strictObject({ name: z.string().min(1).max(256), value: z.string().min(1).max(1024), inline: z.boolean().optional() })).max(25).optional(),
  });
  const payload = z
    .looseObject({
      content: z.string().max(2000).optional(),
      // 1-80 characters, and a webhook's name may not contain "clyde" or "discord".
      username: z.string().min(1).max(80).refine((name) => !/clyde|discord/i.test(name), 'may not contain "clyde" or "discord"').optional(),
      embeds: z.array(embed).max(10).optional(),
      allowed_mentions: z.looseObject({ parse: z.array(z.enum(['roles', 'users', 'everyone'])).optional() }).optional(),
    })
    .refine((p) => Boolean(p.content) || Boolean(p.embeds?.length), 'needs content or embeds');
  problems.push(...issues(payload, body));
  if (!problems.length) {
    const embeds = (body as { embeds?: z.infer<typeof embed>[] }).embeds ?? [];
    // "The combined sum of characters in all title, description, field.name, field.value, footer.text, and author.name fields across all embeds ... must not exceed 6000".
    const total = embeds.reduce((sum, e) => sum + (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0), 0);
    if (total > 6000) problems.push(`embeds: ${total} characters in all, more than 6000`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Teams Workflows ("When a Teams webhook request is received", Post card in a chat or channel):
//   https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook
//   https://support.microsoft.com/en-us/office/create-incoming-webhooks-with-workflows-for-microsoft-teams-8ae491c7-0394-4861-ba59-055e33f75498
// Adaptive Card schema (TextBlock, FactSet; Teams renders up to 1.5): https://adaptivecards.io/explorer/
// Message size limit 28 KB: https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams#chat
// ---------------------------------------------------------------------------------------------

const insensitive = (...values: string[]) => z.string().refine((value) => values.includes(value.toLowerCase()), `expected one of ${values.join(', ')}`);

export function teamsShape(request: ReceivedRequest): string[] {
  const { problems, body } = jsonPost(request);
  if (body === undefined) return problems;
  if (Buffer.byteLength(request.body) > 28 * 1024) problems.push(`body: ${Buffer.byteLength(request.body)} bytes, more than Teams' 28 KB`);
  const textBlock = z.looseObject({
    type: z.literal('TextBlock'),
    text: z.string().min(1),
    wrap: z.boolean().optional(),
    color: insensitive('default', 'dark', 'light', 'accent', 'good', 'warning', 'attention').optional(),
    size: insensitive('default', 'small', 'medium', 'large', 'extralarge').optional(),
    weight: insensitive('default', 'lighter', 'bolder').optional(),
    fontType: insensitive('default', 'monospace').optional(),
    isSubtle: z.boolean().optional(),
  });
  const factSet = z.looseObject({ type: z.literal('FactSet'), facts: z.array(z.strictObject({ title: z.string(), value: z.string() })).min(1) });
  const other = z.looseObject({ type: z.string().refine((type) => type !== 'TextBlock' && type !== 'FactSet') });
  const card = z.looseObject({
    $schema: z.string().optional(),
    type: z.literal('AdaptiveCard'),
    version: z.string().regex(/^1\.[0-5]$/, 'Teams renders Adaptive Cards up to version 1.5'),
    fallbackText: z.string().optional(),
    body: z.array(z.union([textBlock, factSet, other])).min(1),
  });
  const payload = z.looseObject({
    type: z.literal('message'),
    attachments: z.array(z.looseObject({ contentType: z.literal('application/vnd.microsoft.card.adaptive'), contentUrl: z.null().optional(), content: card })).min(1),
  });
  return [...problems, ...issues(payload, body)];
}

// ---------------------------------------------------------------------------------------------
// ntfy publish: https://docs.ntfy.sh/publish/ (Title, Priority 1-5 or min/low/default/high/max/urgent,
// Tags as a comma list; non-ASCII header values RFC 2047-encoded). A body over 4096 bytes is not
// shown as the message (ntfy.sh stores it as an attachment): https://docs.ntfy.sh/publish/#limitations
// ---------------------------------------------------------------------------------------------

export function ntfyShape(request: ReceivedRequest): string[] {
  const problems: string[] = [];
  if (request.method !== 'POST' && request.method !== 'PUT') problems.push(`method: ${request.method}, expected POST or PUT`);
  const bytes = Buffer.byteLength(request.body);
  if (bytes === 0) problems.push('body: empty (ntfy would show "triggered")');
  if (bytes > 4096) problems.push(`body: ${bytes} bytes, more than 4096: ntfy keeps it as an attachment instead of the message`);
  const title = header(request, 'title') ?? header(request, 't');
  const priority = header(request, 'priority') ?? header(request, 'p');
  const tags = header(request, 'tags') ?? header(request, 'ta');
  for (const [name, value] of [['title', title], ['priority', priority], ['tags', tags]] as const) problems.push(...headerSafe(name, value));
  if (title !== undefined && /=\?/.test(title) && !/^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)( =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=)*$/i.test(title)) problems.push(`title: a malformed RFC 2047 encoded-word: ${title}`);
  if (title !== undefined && title.split(' ').some((word) => word.startsWith('=?') && word.length > 75)) problems.push('title: an encoded-word longer than 75 characters (RFC 2047)');
  if (priority !== undefined && !/^([1-5]|min|low|default|high|max|urgent)$/i.test(priority)) problems.push(`priority: ${priority}, expected 1-5 or min, low, default, high, max, urgent`);
  if (tags !== undefined && tags.split(',').some((tag) => !tag.trim())) problems.push(`tags: an empty tag in ${JSON.stringify(tags)}`);
  const type = header(request, 'content-type');
  if (type !== undefined && !/^text\/plain\b/i.test(type)) problems.push(`content-type: ${type}, expected text/plain for a message body`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// keepsake's own generic webhook, schema keepsake.notification/v1: README "Notification channels".
// ---------------------------------------------------------------------------------------------

export function webhookShape(request: ReceivedRequest): string[] {
  const { problems, body } = jsonPost(request);
  if (body === undefined) return problems;
  const status = z.enum(['ok', 'warn', 'fail', 'info']);
  const payload = z.strictObject({
    schema: z.literal('keepsake.notification/v1'),
    id: z.string().min(1),
    event: z.string().regex(/^[a-z-]+$/),
    status,
    occurredAt: z.iso.datetime(),
    sidecar: z.strictObject({ name: z.string().min(1), database: z.string().optional(), host: z.string().optional(), port: z.number().int().optional(), hostname: z.string().min(1), version: z.string().min(1) }),
    title: z.string().min(1),
    summary: z.string(),
    nextStep: z.string().optional(),
    error: z.string().optional(),
    hints: z.array(z.string()),
    facts: z.array(z.strictObject({ label: z.string().min(1), value: z.string() })),
    backup: z
      .strictObject({ id: z.string(), tier: z.string(), source: z.string(), startedAt: z.iso.datetime(), finishedAt: z.iso.datetime().optional(), durationMs: z.number().optional(), rawBytes: z.number().optional(), storedBytes: z.number().optional(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() })
      .optional(),
    durationMs: z.number().nonnegative().optional(),
    checks: z.array(z.strictObject({ name: z.string(), status: z.enum(['ok', 'warn', 'fail']), message: z.string() })).optional(),
    links: z.array(z.strictObject({ rel: z.string(), href: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\//i), title: z.string().optional() })),
  });
  problems.push(...issues(payload, body));
  const parsed = body as { id?: unknown; event?: unknown };
  if (!/^keepsake\/\S+$/.test(header(request, 'user-agent') ?? '')) problems.push(`user-agent: ${header(request, 'user-agent')}, expected keepsake/<version>`);
  if (header(request, 'x-keepsake-event') !== parsed.event) problems.push(`x-keepsake-event: ${header(request, 'x-keepsake-event')}, the body says ${String(parsed.event)}`);
  if (header(request, 'x-keepsake-delivery') !== parsed.id) problems.push(`x-keepsake-delivery: ${header(request, 'x-keepsake-delivery')}, the body's id is ${String(parsed.id)}`);
  return problems;
}

/** The validator for each keepsake channel format; slack is held to Mattermost's and Rocket.Chat's tighter limit, so one message suits all three. */
export const SHAPE_FOR_FORMAT = {
  webhook: webhookShape,
  slack: (request: ReceivedRequest) => slackShape(request, 'mattermost'),
  discord: discordShape,
  teams: teamsShape,
  ntfy: ntfyShape,
} as const;
