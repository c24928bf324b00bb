/**
 * Every channel format end to end: real backups of a real PostgreSQL (one good, one failing) and
 * `notify test`, each posted by the built CLI to loopback HTTP receivers, and every request as it
 * arrived held to its service's documented shape (test/support/payload-shapes.ts). The webhook's
 * signature is checked with the README's own snippet; ntfy's token arrives as a Bearer header.
 */
import { CHANNEL_FORMATS } from '../../src/config/channels';
import type { ChannelFormat } from '../../src/config';
import { runCli } from '../support/cli';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../support/http-receiver';
import { SHAPE_FOR_FORMAT } from '../support/payload-shapes';
import { readmeSignatureCheck } from '../support/readme-signature';
import { useScenario } from '../support/scenario';

jest.setTimeout(120_000);

const SECRET = 'e2e-hmac-key';
const NTFY_TOKEN = 'tk_e2e_ntfy_token';

describe('each channel format, posted by keepsake over real HTTP, is what its service accepts', () => {
  const scenario = useScenario({ sql: 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50);' });
  let receiver: HttpReceiver;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });
  afterAll(async () => receiver?.stop());

  /** One channel per format, each at its own path on the receiver; all events, e-mail off. */
  const env = () => ({
    ...scenario().env,
    SCHEDULE_WEEKLY: 'off',
    ...Object.fromEntries(CHANNEL_FORMATS.flatMap((format) => [[`NOTIFY_${format.toUpperCase()}_URL`, receiver.url(`/${format}/hook`)], [`NOTIFY_${format.toUpperCase()}_FORMAT`, format]])),
    NOTIFY_WEBHOOK_SECRET: SECRET,
    NOTIFY_NTFY_SECRET: NTFY_TOKEN,
  });
  const formatOf = (request: ReceivedRequest) => request.path.split('/')[1] as ChannelFormat;

  it('a good backup, a failed one and the test message reach every channel, each in its documented shape', async () => {
    const { verify } = readmeSignatureCheck();
    const good = await runCli(['backup', '--db', 'app'], env());
    expect(good.code).toBe(0);
    const failed = await runCli(['backup', '--db', 'app'], { ...env(), POSTGRES_PORT: '1' });
    expect(failed.code).not.toBe(0);
    const test = await runCli(['notify', 'test'], env());
    expect([test.code, test.stdout]).toEqual([0, expect.stringContaining('ntfy')]);

    const requests = await receiver.waitForDeliveries(3 * CHANNEL_FORMATS.length);
    expect(requests).toHaveLength(3 * CHANNEL_FORMATS.length);
    for (const request of requests) {
      const format = formatOf(request);
      expect(CHANNEL_FORMATS).toContain(format);
      expect([format, request.method, SHAPE_FOR_FORMAT[format](request)]).toEqual([format, 'POST', []]);
    }
    // Each channel got the three messages: the good news, the failure and the test, in that order.
    const webhook = requests.filter((request) => formatOf(request) === 'webhook');
    expect(webhook.map((request) => JSON.parse(request.body).event)).toEqual(['backup-succeeded', 'backup-failed', 'test']);
    const [success, failure] = webhook.map((request) => JSON.parse(request.body));
    expect(success).toMatchObject({ schema: 'keepsake.notification/v1', status: 'ok', backup: { tier: 'manual', source: 'app', storedBytes: expect.any(Number) } });
    expect(success.sidecar.name).toBe(`app@127.0.0.1:${scenario().db.port}`);
    expect(success.links[0].href).toMatch(/^file:\/\/\/.*\.dump\.zst$/);
    expect(failure).toMatchObject({ status: 'fail', error: expect.stringMatching(/connect|refused/i), nextStep: expect.any(String) });
    // Signed, verifiably, with a fresh timestamp; a wrong key does not verify, so the check can fail.
    for (const request of webhook) expect(verify(SECRET, request.body, request.headers)).toBe(true);
    expect(verify('not-the-key', webhook[0]!.body, webhook[0]!.headers)).toBe(false);
    // ntfy's access token goes as a Bearer header; chat formats carry no signature headers.
    for (const request of requests.filter((r) => formatOf(r) === 'ntfy')) expect(request.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    for (const request of requests.filter((r) => !['webhook', 'ntfy'].includes(formatOf(r)))) expect(request.headers['x-keepsake-signature']).toBeUndefined();
    // The chat message says status, database@host (the failing run's port 1) and what happened.
    const slackFailure = JSON.parse(requests.filter((r) => formatOf(r) === 'slack')[1]!.body);
    expect(slackFailure.text).toMatch(/^FAILED app@127\.0\.0\.1:1: Backup failed: Cannot connect to PostgreSQL/);
    // No channel message waits: each was delivered at once (without SMTP the e-mail reports stay).
    const outbox = await runCli(['outbox', 'list', '--json'], env());
    const waiting = (JSON.parse(outbox.stdout) as { channel: string }[]).map((item) => item.channel);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.filter((channel) => channel !== 'email')).toEqual([]);
  });
});
