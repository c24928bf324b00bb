import type { ChannelConfig } from '../config';
import { channelHost, channelVariable } from '../config/channels';
import { formatDuration } from '../format';
import { webhookSignatureHeaders } from './formats/webhook-signature';
import type { HttpMessage } from './formats/types';

/** How long one POST may take, answer included: a job's report must not wait longer. */
export const HTTP_TIMEOUT_MS = 10_000;
/** A Retry-After longer than this is not believed: the message is tried again after an hour. */
const RETRY_AFTER_CAP_MS = 3_600_000;

/**
 * What one attempt came to. `retry`: worth trying again later (the service is down, busy or slow);
 * `permanent`: the service refused the message and will again until someone fixes the settings.
 * `error` says what to check and names only the URL's host: its path or query is often the token.
 */
export type SendOutcome =
  | { kind: 'delivered'; httpStatus: number }
  | { kind: 'retry'; error: string; httpStatus?: number; retryAfterMs?: number }
  | { kind: 'permanent'; error: string; httpStatus: number };

/** Pure: what an HTTP status means for the message. */
export function classifyStatus(status: number): SendOutcome['kind'] {
  if (status >= 200 && status < 300) return 'delivered';
  // 408 timeout, 425 too early, 429 rate limited, 5xx: the service will likely take it later.
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

/** Pure: Retry-After (seconds, or an HTTP date) as milliseconds from `now`, at most an hour; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = new Date()): number | undefined {
  if (!value?.trim()) return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now.getTime();
  if (Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(0, ms), RETRY_AFTER_CAP_MS);
}

/** What a refusal usually means, and the setting to fix. */
export function explainStatus(status: number, channel: Pick<ChannelConfig, 'name' | 'format'>): string {
  const url = channelVariable(channel.name, 'URL');
  if (status === 404 || status === 410) return `the webhook was probably deleted (or the URL is mistyped): create a new one and set ${url}`;
  if (status === 401 || status === 403) return `the token is wrong or was revoked: fix ${channel.format === 'ntfy' || channel.format === 'webhook' ? `${url} or ${channelVariable(channel.name, 'SECRET')}` : url}`;
  if (status === 400 || status === 422) return `the service did not accept the message: check that ${channelVariable(channel.name, 'FORMAT')} (${channel.format}) is what it expects`;
  if (status === 413) return 'the message was too large for the service';
  if (status === 429) return 'the service limits how often it may be posted to; keepsake tries again later';
  if (status >= 500 || status === 408 || status === 425) return 'the service has a problem on its side; keepsake tries again later';
  return `check ${url} and ${channelVariable(channel.name, 'FORMAT')}`;
}

/** Why a request got no answer, from fetch's error (never its message verbatim: it may hold the URL). */
function explainNetworkError(error: unknown, host: string, variable: string, timeoutMs: number): string {
  const err = error as { name?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return `${host} did not answer within ${formatDuration(timeoutMs)}: the service is slow or a firewall drops the connection; keepsake tries again later`;
  const code = err?.cause?.code ?? '';
  if (code === 'ECONNREFUSED') return `${host} refused the connection: check the host and port in ${variable} and that the service is up; keepsake tries again later`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${host} cannot be resolved (${code}): check the host name in ${variable} and the container's DNS`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${host} closed the connection before answering; keepsake tries again later`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return `the TLS certificate of ${host} was not accepted (${code}): check ${variable}'s host, or the service's certificate`;
  return `could not reach ${host}${code ? ` (${code})` : ''}: check ${variable} and the network; keepsake tries again later`;
}

/** Every piece of the URL that may be a token, as written and decoded, longest first. */
function secretParts(url: URL, secret: string | undefined): string[] {
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const raw = [...url.pathname.split('/'), url.search.slice(1), ...[...url.searchParams.values()], url.username, url.password, secret ?? ''];
  const parts = raw.flatMap((part) => [part, decode(part), encodeURIComponent(decode(part))]).filter((part) => part.length >= 4);
  return [...new Set(parts)].sort((a, b) => b.length - a.length);
}

/**
 * A short piece of the answer's body (Slack says "invalid_token"), with anything that repeats a part
 * of the URL or the secret (a service may echo the token it refused) replaced by ***.
 */
function safeSnippet(body: string, url: URL, secret: string | undefined): string {
  let text = body;
  for (const part of secretParts(url, secret)) text = text.split(part).join('***');
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 160);
  return snippet ? ` ("${snippet}")` : '';
}

/**
 * The request as it goes out: the URL without its userinfo, which fetch refuses, as an
 * Authorization: Basic header instead; the webhook's signature (fresh at each attempt); ntfy's
 * access token as a Bearer token (it replaces userinfo, if both are given).
 */
export function prepareRequest(channel: Pick<ChannelConfig, 'url' | 'format' | 'secret'>, message: HttpMessage, now = new Date()): { url: string; headers: Record<string, string> } {
  const url = new URL(channel.url);
  const headers: Record<string, string> = { 'User-Agent': 'keepsake', ...message.headers };
  if (url.username || url.password) {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  if (channel.secret && channel.format === 'webhook') Object.assign(headers, webhookSignatureHeaders(channel.secret, message.body, Math.floor(now.getTime() / 1000)));
  if (channel.secret && channel.format === 'ntfy') headers.Authorization = `Bearer ${channel.secret}`;
  return { url: url.toString(), headers };
}

/** " to <host>" of a redirect's Location; nothing when it is no URL (URL's error would carry the channel's URL as its base). */
function redirectTarget(location: string | null, base: string): string {
  if (!location) return '';
  try {
    return ` to ${new URL(location, base).host}`;
  } catch {
    return '';
  }
}

/** One POST of a message to a channel; never throws. */
export async function sendHttp(channel: ChannelConfig, message: HttpMessage, options: { timeoutMs?: number; now?: Date } = {}): Promise<SendOutcome> {
  const timeoutMs = options.timeoutMs ?? HTTP_TIMEOUT_MS;
  const host = channelHost(channel.url);
  const variable = channelVariable(channel.name, 'URL');
  let request: ReturnType<typeof prepareRequest>;
  try {
    request = prepareRequest(channel, message, options.now);
  } catch {
    return { kind: 'permanent', httpStatus: 0, error: `${variable} is not a URL keepsake can post to: set it to the webhook URL the service gave you` };
  }
  let response: Response;
  let body: string;
  try {
    // redirect 'manual': webhook services do not redirect a POST; following one would hand the
    // message (and the Authorization header) to wherever the redirect points. A 3xx is a setting to fix.
    response = await fetch(request.url, { method: 'POST', headers: request.headers, body: message.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    body = await response.text().catch(() => '');
  } catch (error) {
    return { kind: 'retry', error: explainNetworkError(error, host, variable, timeoutMs) };
  }
  const status = response.status;
  const kind = classifyStatus(status);
  if (kind === 'delivered') return { kind, httpStatus: status };
  const answered = `${host} answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}${safeSnippet(body, new URL(channel.url), channel.secret)}`;
  if (status >= 300 && status < 400) {
    const to = redirectTarget(response.headers.get('location'), request.url);
    return { kind: 'permanent', httpStatus: status, error: `${answered}: it redirects${to}; set ${variable} to the address the service gives you now (keepsake does not follow redirects with the message)` };
  }
  if (kind === 'retry') {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.now);
    const wait = retryAfterMs !== undefined ? ` (it asked to wait ${formatDuration(retryAfterMs)})` : '';
    return { kind, httpStatus: status, retryAfterMs, error: `${answered}: ${explainStatus(status, channel)}${wait}` };
  }
  return { kind, httpStatus: status, error: `${answered}: ${explainStatus(status, channel)}` };
}
