/**
 * Each channel format against what its service documents (test/support/payload-shapes.ts), for every
 * sample event and for a pathological error; and the webhook's signature checked the way the README
 * tells a receiver to. Pure logic: the formatters make a request, nothing is sent.
 */
import { CHANNEL_FORMATS } from '../../src/config/channels';
import type { ChannelFormat } from '../../src/config';
import type { Notice } from '../../src/notify/notice';
import { noticeFor } from '../../src/notify/notice-for';
import { formatFor } from '../../src/notify/formats';
import { headerText } from '../../src/notify/formats/ntfy';
import { webhookSignatureHeaders } from '../../src/notify/formats/webhook-signature';
import { REPORT_EVENT_KINDS, type BackupFailedEvent, type ReportEvent } from '../../src/report/events';
import { SAMPLE_EVENTS, sampleNow } from '../../src/report/render/samples';
import { readmeSignatureCheck } from '../support/readme-signature';
import { SHAPE_FOR_FORMAT, discordShape, ntfyShape, slackShape, teamsShape, webhookShape, type ReceivedRequest } from '../support/payload-shapes';

const notice = (event: ReportEvent) => noticeFor(event, { now: sampleNow(event.kind), hostname: 'backup-1' });
const DELIVERY = '2026-11-22T02-01-30-000Z-backup-failed-3f9c2a';

/** The request as a receiver gets it: POST, header names in lower case. */
function request(format: ChannelFormat, n: Notice, deliveryId = DELIVERY): ReceivedRequest {
  const message = formatFor(format)(n, { deliveryId });
  return { method: 'POST', headers: Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name.toLowerCase(), value])), body: message.body };
}
const json = (r: ReceivedRequest) => JSON.parse(r.body);

/** An error no service would take whole: 50,000 characters with markup, mentions and emoji in it. */
const HOSTILE = `pg_dump exited with code 1: pg_dump: error: <!channel> @everyone <@123456> & <script>alert(1)</script> \`\`\` 💥 ${'x'.repeat(50_000)} 💥`;
const hostileNotice = () => notice({ ...(SAMPLE_EVENTS['backup-failed'] as BackupFailedEvent), error: HOSTILE });

describe('every format, every sample event, as its service documents it', () => {
  const cases = CHANNEL_FORMATS.flatMap((format) => REPORT_EVENT_KINDS.map((kind) => [format, kind] as const));
  it.each(cases)('%s: %s', (format, kind) => {
    expect(SHAPE_FOR_FORMAT[format](request(format, notice(SAMPLE_EVENTS[kind])))).toEqual([]);
  });

  it.each(CHANNEL_FORMATS.map((format) => [format]))('%s: a 50,000-character error is cut within the limits', (format) => {
    expect(SHAPE_FOR_FORMAT[format](request(format, hostileNotice()))).toEqual([]);
  });

  it('each format is its own (not one JSON for all)', () => {
    const bodies = CHANNEL_FORMATS.map((format) => request(format, notice(SAMPLE_EVENTS['backup-failed'])).body);
    expect(new Set(bodies).size).toBe(CHANNEL_FORMATS.length);
  });
});

describe('the validators can fail', () => {
  const good = (format: ChannelFormat) => request(format, notice(SAMPLE_EVENTS['backup-failed']));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test breaks payloads of every shape
  const withBody = (r: ReceivedRequest, change: (body: Record<string, any>) => void): ReceivedRequest => {
    const body = json(r);
    change(body);
    return { ...r, body: JSON.stringify(body) };
  };

  it('slack: raw < and &, no text, a GET', () => {
    expect(slackShape(withBody(good('slack'), (b) => (b.text = 'a <b> & c')))).toEqual(expect.arrayContaining([expect.stringMatching(/^text: raw < or >/), expect.stringMatching(/^text: raw &/)]));
    expect(slackShape(withBody(good('slack'), (b) => delete b.text))).not.toEqual([]);
    expect(slackShape({ ...good('slack'), method: 'GET' })).toContain('method: GET, expected POST');
    expect(slackShape(withBody(good('slack'), (b) => (b.text = 'x'.repeat(20_000))), 'mattermost')).not.toEqual([]);
  });

  it('discord: a title over 256, 26 fields, more than 6000 in all, nothing to show', () => {
    expect(discordShape(withBody(good('discord'), (b) => (b.embeds[0].title = 't'.repeat(257))))).not.toEqual([]);
    expect(discordShape(withBody(good('discord'), (b) => (b.embeds[0].fields = Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })))))).not.toEqual([]);
    expect(discordShape(withBody(good('discord'), (b) => (b.embeds = [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2500) }])))).toEqual(['embeds: 6500 characters in all, more than 6000']);
    expect(discordShape(withBody(good('discord'), (b) => ((b.content = ''), (b.embeds = []))))).not.toEqual([]);
  });

  it('teams: a MessageCard (the retired connector format), a wrong content type, a card too new', () => {
    expect(teamsShape(withBody(good('teams'), (b) => ((b['@type'] = 'MessageCard'), delete b.type)))).not.toEqual([]);
    expect(teamsShape(withBody(good('teams'), (b) => (b.attachments[0].contentType = 'application/json')))).not.toEqual([]);
    expect(teamsShape(withBody(good('teams'), (b) => (b.attachments[0].content.version = '1.6')))).not.toEqual([]);
  });

  it('ntfy: a body over 4096 bytes, a non-ASCII title, a priority ntfy does not know', () => {
    expect(ntfyShape({ ...good('ntfy'), body: 'é'.repeat(2049) })).toEqual(['body: 4098 bytes, more than 4096: ntfy keeps it as an attachment instead of the message']);
    expect(ntfyShape({ ...good('ntfy'), headers: { ...good('ntfy').headers, title: 'café' } })).toEqual(['title: not ASCII ("café")']);
    expect(ntfyShape({ ...good('ntfy'), headers: { ...good('ntfy').headers, priority: 'panic' } })).not.toEqual([]);
  });

  it('webhook: another schema, a delivery header that is not the id', () => {
    expect(webhookShape(withBody(good('webhook'), (b) => (b.schema = 'keepsake.notification/v2')))).not.toEqual([]);
    expect(webhookShape({ ...good('webhook'), headers: { ...good('webhook').headers, 'x-keepsake-delivery': 'other' } })).toEqual([`x-keepsake-delivery: other, the body's id is ${DELIVERY}`]);
  });
});

describe('what each service is sent', () => {
  it('webhook: the notice under schema v1, with the delivery id in body and header, the same on a retry', () => {
    const n = notice(SAMPLE_EVENTS['backup-succeeded']);
    const first = request('webhook', n);
    expect(json(first)).toEqual({ schema: 'keepsake.notification/v1', id: DELIVERY, ...JSON.parse(JSON.stringify(n)) });
    expect(first.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': `keepsake/${n.sidecar.version}`, 'x-keepsake-event': 'backup-succeeded', 'x-keepsake-delivery': DELIVERY });
    expect(request('webhook', n).body).toBe(first.body);
  });

  it('slack: the headline as text, escaped; the error in the attachment, escaped and cut', () => {
    const body = json(request('slack', hostileNotice()));
    expect(body.text).toMatch(/^FAILED app@db-prod:5432: Backup failed: /);
    const text: string = body.attachments[0].text;
    expect(text).toContain('&lt;!channel&gt; @everyone &lt;@123456&gt; &amp; &lt;script&gt;');
    expect(text).toMatch(/x…```$/);
    expect(text.length).toBeLessThan(3000);
    expect(body.attachments[0].color).toBe('#b91c1c');
  });

  it('discord: nobody is pinged, the embed is coloured by status, the error cut', () => {
    const body = json(request('discord', hostileNotice()));
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.username).toBe('keepsake');
    expect(body.embeds[0].color).toBe(0xb91c1c);
    expect(body.embeds[0].description).toContain("@everyone <@123456> & <script>alert(1)</script> '''");
    expect(body.embeds[0].description).toMatch(/x…\n```$/);
  });

  it('teams: one adaptive card with the headline, the next step, the error and the facts', () => {
    const body = json(request('teams', notice(SAMPLE_EVENTS['health-alert'])));
    const card = body.attachments[0].content;
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'ALERT app@db-prod:5432: Unhealthy: 2 checks failing', color: 'attention' });
    expect(card.body[2].text).toBe('**Next step:** Cannot connect to PostgreSQL: connection refused at db-prod:5432; check POSTGRES_HOST and POSTGRES_PORT and that the server is running');
    expect(card.body.find((block: { type: string }) => block.type === 'FactSet').facts[0]).toEqual({ title: 'Failing', value: 'database, last-run:daily' });
  });

  it('ntfy: title, priority and tags by status; the message within 4096 bytes', () => {
    const failed = request('ntfy', hostileNotice());
    expect(failed.headers).toMatchObject({ priority: '4', tags: 'rotating_light,backup-failed', 'content-type': 'text/plain; charset=utf-8' });
    expect(Buffer.byteLength(failed.body)).toBeLessThanOrEqual(4096);
    expect(failed.body).toMatch(/x…$/);
    expect(request('ntfy', notice(SAMPLE_EVENTS['health-alert'])).headers).toMatchObject({ priority: '5', tags: 'rotating_light,health-alert' });
    expect(request('ntfy', notice(SAMPLE_EVENTS['backup-succeeded'])).headers).toMatchObject({ priority: '3', tags: 'white_check_mark,backup-succeeded', title: 'OK app@db-prod:5432: Backup succeeded' });
  });

  it('ntfy: a title with non-ASCII text is sent as RFC 2047 encoded-words that decode to it', () => {
    const n = notice(SAMPLE_EVENTS['backup-failed']);
    const title = request('ntfy', { ...n, sidecar: { ...n.sidecar, name: 'café@db-prod:5432' } }).headers.title as string;
    expect(title).toMatch(/^=\?UTF-8\?B\?/);
    const decoded = Buffer.concat(title.split(' ').map((word) => Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(word)![1]!, 'base64'))).toString('utf8');
    expect(decoded).toBe(`FAILED café@db-prod:5432: ${n.title}`);
    expect(headerText('plain ASCII')).toBe('plain ASCII');
  });
});

describe('the webhook signature, verified as the README tells a receiver to', () => {
  // The README's snippet itself, so the documentation cannot drift from what works.
  const { snippet, verify } = readmeSignatureCheck();
  const sent = request('webhook', notice(SAMPLE_EVENTS['backup-failed']));
  const at = 1_795_312_890;
  const headers = { ...sent.headers, ...Object.fromEntries(Object.entries(webhookSignatureHeaders('s3cret-key', sent.body, at)).map(([name, value]) => [name.toLowerCase(), value])) } as Record<string, string>;

  it('the README has the snippet', () => {
    expect(snippet).toContain('timingSafeEqual');
  });

  it('verifies the request keepsake signs', () => {
    expect(verify('s3cret-key', sent.body, headers, at + 2)).toBe(true);
  });

  it('fails with a wrong secret, a changed body, a changed timestamp, an old timestamp or no signature', () => {
    expect(verify('wrong-key', sent.body, headers, at)).toBe(false);
    expect(verify('s3cret-key', sent.body.replace('"fail"', '"ok"'), headers, at)).toBe(false);
    expect(verify('s3cret-key', sent.body, { ...headers, 'x-keepsake-timestamp': String(at + 1) }, at)).toBe(false);
    expect(verify('s3cret-key', sent.body, headers, at + 301)).toBe(false);
    const { 'x-keepsake-signature': _, ...unsigned } = headers;
    expect(verify('s3cret-key', sent.body, unsigned, at)).toBe(false);
  });
});
