import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import type { Logger } from '../log';
import { UnavailableError } from '../errors';
import { readHealthMemory } from '../state/health-memory';
import { judgeLastRun } from './quick';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The daemon's small HTTP face for orchestrators and Prometheus. GET /healthz answers 200, or 503
 * when the last health run found a failing check, with that run's JSON; GET /metrics answers in
 * the Prometheus text format. Both read STATE_DIR, so a scrape never runs a probe.
 */
export async function startHealthServer(config: Config, log: Logger, options: { nextRuns: () => Record<string, string | null> }): Promise<HealthServer | undefined> {
  if (!config.health.http) return undefined;
  const { port, host } = config.health.http;
  // Loaded only here: a daemon without the HTTP server does not carry prom-client.
  const { createMetrics } = await import('./metrics');
  const metrics = createMetrics(config, options.nextRuns);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const answer = async () => {
      if (path === '/healthz') {
        const last = await readHealthMemory(config.stateDir);
        const verdict = judgeLastRun(last, config);
        // Before the first run: "unknown" (200; the daemon is up). A stale verdict is a failure.
        const body = last ? { ...last, ...(verdict.stale && { stale: true, message: verdict.message }) } : { format: 1, status: 'unknown', message: verdict.message };
        response.writeHead(verdict.healthy ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        return response.end(`${JSON.stringify(body, null, 2)}\n`);
      }
      if (path === '/metrics') {
        const text = await metrics.render();
        response.writeHead(200, { 'content-type': metrics.contentType });
        return response.end(text);
      }
      response.writeHead(404, { 'content-type': 'text/plain' }).end('keepsake serves /healthz and /metrics\n');
    };
    answer().catch((error: unknown) => {
      log.error({ err: error, path }, 'health server could not answer');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error; see the daemon log\n');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // After start-up an error (a client gone mid-answer) is logged; it must not stop the daemon.
      server.on('error', (error) => log.warn({ err: error }, 'health server error'));
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UnavailableError(`HEALTHCHECK_PORT=${port}: cannot listen on ${host}:${port} (${error.code ?? error.message}); choose a free port or unset HEALTHCHECK_PORT`);
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ host, port: bound }, 'health server listening: /healthz and /metrics');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
