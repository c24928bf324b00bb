import { createHmac } from 'node:crypto';
import type { ChannelConfig } from '../../src/config';
import { channelCheck, type ChannelFacts } from '../../src/notify/channel-health';
import { digestNotice } from '../../src/notify/channel-digest';
import { classifyStatus, parseRetryAfter, prepareRequest } from '../../src/notify/http-send';
import type { Notice } from '../../src/notify/notice';

const NOW = new Date('2026-11-30T12:00:00Z');
const notice = (event: Notice['event'], title: string, occurredAt: string, status: Notice['status'] = 'ok'): Notice => ({
  event,
  status,
  occurredAt,
  sidecar: { name: 'app@db:5432', database: 'app', host: 'db', port: 5432, hostname: 'sidecar-1', version: 'test' },
  title,
  summary: title,
  hints: [],
  facts: [],
  links: [],
});

describe('what an answer means for a message', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [408, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [301, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
  ])('HTTP %i: %s', (status, kind) => {
    expect(classifyStatus(status)).toBe(kind);
  });

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['86400', 3_600_000],
    ['Mon, 30 Nov 2026 12:05:00 GMT', 300_000],
    ['Mon, 30 Nov 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('Retry-After %j waits %j ms (at most an hour)', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });
});

describe('the request as it goes out', () => {
  const channel = (url: string, format: ChannelConfig['format'], secret?: string) => ({ url, format, secret });
  const message = { body: '{"a":1}', headers: { 'Content-Type': 'application/json' } };

  it('turns userinfo into Authorization: Basic and takes it out of the URL', () => {
    const request = prepareRequest(channel('https://bot:p%40ss@hooks.example.com/x', 'webhook'), message, NOW);
    expect(request.url).toBe('https://hooks.example.com/x');
    expect(request.headers.Authorization).toBe(`Basic ${Buffer.from('bot:p@ss').toString('base64')}`);
  });

  it('signs a webhook with its secret over the timestamp and the body', () => {
    const { headers } = prepareRequest(channel('https://hooks.example.com/x', 'webhook', 's3cret'), message, NOW);
    const ts = String(NOW.getTime() / 1000);
    expect(headers['X-Keepsake-Timestamp']).toBe(ts);
    expect(headers['X-Keepsake-Signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(`${ts}.${message.body}`).digest('hex')}`);
  });

  it('gives ntfy its access token as a Bearer token, and signs nothing', () => {
    const { headers } = prepareRequest(channel('https://ntfy.example.com/alerts', 'ntfy', 'tk_abc'), message, NOW);
    expect(headers.Authorization).toBe('Bearer tk_abc');
    expect(headers['X-Keepsake-Signature']).toBeUndefined();
  });
});

describe('the digest notice of a chat channel that was failing', () => {
  it('counts the waiting messages in its title and names every failure', () => {
    const waiting = [
      notice('backup-succeeded', 'Backup OK', '2026-11-22T02:00:00.000Z'),
      notice('backup-failed', 'Backup failed: connection refused', '2026-11-23T02:00:00.000Z', 'fail'),
      notice('backup-succeeded', 'Backup OK', '2026-11-24T02:00:00.000Z'),
      notice('restore-test-failed', 'Restore test failed: row counts differ', '2026-11-25T02:00:00.000Z', 'fail'),
    ];
    const digest = digestNotice('slack', waiting, NOW);
    expect(digest).toMatchObject({ event: 'digest', status: 'fail', occurredAt: NOW.toISOString(), title: 'While slack was failing: 2 backups OK, 1 backup failed, 1 restore test failed' });
    expect(digest.summary).toBe('4 messages from 2026-11-22 02:00:00Z to 2026-11-25 02:00:00Z waited in the outbox; here they are in one. The failures: Backup failed: connection refused; Restore test failed: row counts differ.');
    expect(digest.facts.map((fact) => fact.value)).toEqual(['Backup failed: connection refused', 'Restore test failed: row counts differ']);
  });

  it('is good news when nothing failed', () => {
    expect(digestNotice('ops', [notice('backup-succeeded', 'Backup OK', '2026-11-22T02:00:00.000Z')], NOW)).toMatchObject({ status: 'info', title: 'While ops was failing: 1 backup OK' });
  });
});

describe('the notify:<channel> health check', () => {
  const facts = (change: Partial<ChannelFacts> = {}): ChannelFacts => ({ name: 'ops', host: 'hooks.example.com', waiting: 0, status: { givenUp: [], dropped: [] }, ...change });
  const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();
  const givenUp = { at: hoursAgo(2), id: 'x', event: 'backup-failed', title: 'Backup failed', error: 'hooks.example.com answered HTTP 404 Not Found: the webhook was probably deleted (or the URL is mistyped): create a new one and set NOTIFY_OPS_URL', httpStatus: 404 };

  it.each([
    ['nothing waits', facts(), 'ok', /^no messages waiting for hooks\.example\.com$/],
    ['a message waits a little', facts({ waiting: 1, oldestCreatedAt: hoursAgo(0.5), lastError: 'hooks.example.com answered HTTP 500' }), 'ok', /^1 message\(s\) waiting to be retried, the oldest for 30m00s \(hooks\.example\.com answered HTTP 500\)/],
    ['a message waits two hours', facts({ waiting: 2, oldestCreatedAt: hoursAgo(2), lastError: 'hooks.example.com refused the connection' }), 'fail', /^2 message\(s\) waiting, the oldest for 2h00m: delivery to hooks\.example\.com fails \(hooks\.example\.com refused the connection\); fix NOTIFY_OPS_URL.*keepsake notify test --channel ops/],
    ['a message given up', facts({ status: { givenUp: [givenUp], dropped: [], lastDelivery: { at: hoursAgo(3), id: 'y' } } }), 'fail', /^1 message\(s\) given up since the last delivery.*HTTP 404.*webhook was probably deleted.*NOTIFY_OPS_URL; then check with `keepsake notify test --channel ops`/],
    ['a message given up before the last delivery', facts({ status: { givenUp: [givenUp], dropped: [], lastDelivery: { at: hoursAgo(1), id: 'y' } } }), 'ok', /^no messages waiting/],
    ['a message given up 8 days ago', facts({ status: { givenUp: [{ ...givenUp, at: hoursAgo(8 * 24) }], dropped: [] } }), 'ok', /^no messages waiting/],
    ['messages dropped from a full outbox', facts({ status: { givenUp: [], dropped: [{ at: hoursAgo(1), count: 4, failures: [] }] } }), 'warn', /^4 undelivered message\(s\) dropped in the last 7 days/],
  ])('%s: %s', (_what, channelFacts, status, message) => {
    const check = channelCheck(channelFacts, NOW.getTime());
    expect(check).toMatchObject({ name: 'notify:ops', status });
    expect(check.message).toMatch(message);
  });
});
