import { coerceError } from '../errors';
import type { Logger } from '../log';

/**
 * Dead man's switch (healthchecks.io convention): the URL after each successful backup, the URL
 * with /fail appended after a failure. An outside service then notices when pings stop, which
 * is the one failure keepsake cannot report itself: its own death. Never throws; the URL is a
 * secret (its path is the check's token), so only its host is logged.
 */
export async function pingDeadMansSwitch(url: string | undefined, outcome: 'ok' | 'fail', log: Logger, timeoutMs = 10_000): Promise<boolean> {
  if (!url) return false;
  const parsed = new URL(url);
  const host = parsed.host;
  // The path gets /fail, whatever query follows it (…/<uuid>?rid=1 -> …/<uuid>/fail?rid=1).
  if (outcome === 'fail') parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/fail`;
  const target = parsed.toString();
  try {
    const response = await fetch(target, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'keepsake' } });
    await response.body?.cancel();
    if (!response.ok) {
      log.warn({ host, status: response.status }, 'HEALTHCHECK_PING_URL answered with an error status');
      return false;
    }
    return true;
  } catch (error) {
    log.warn({ host, error: coerceError(error).message }, 'could not reach HEALTHCHECK_PING_URL');
    return false;
  }
}
