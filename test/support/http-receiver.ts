import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The reply it got. */
  status: number | 'hang';
}

/** How to answer one request: a status (after `delayMs`), or never (`hang`: the sender's timeout must end it). */
export type Reply = { status: number; delayMs?: number; retryAfter?: string; body?: string; headers?: Record<string, string> } | 'hang';

/**
 * A webhook receiver on loopback: a real HTTP server that records every request (method, path,
 * headers, body) and answers as the test scripts it: queued replies first, one per request, then
 * the default reply (200 unless changed).
 */
export interface HttpReceiver {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** Requests it answered 2xx: what was delivered. */
  delivered(): ReceivedRequest[];
  /** The next requests get these replies, in turn. */
  script(...replies: Reply[]): void;
  /** Every request beyond the script gets this. */
  setDefault(reply: Reply): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  waitForDeliveries(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  stop(): Promise<void>;
}

export async function startHttpReceiver(options: { port?: number; reply?: Reply } = {}): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const queued: Reply[] = [];
  let fallback: Reply = options.reply ?? { status: 200 };
  const sockets = new Set<Socket>();
  const answer = (response: ServerResponse, reply: Exclude<Reply, 'hang'>) => {
    const headers: Record<string, string> = { 'content-type': 'text/plain', ...reply.headers };
    if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
    response.writeHead(reply.status, headers).end(reply.body ?? (reply.status < 300 ? 'ok' : 'no'));
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = queued.shift() ?? fallback;
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status: reply === 'hang' ? 'hang' : reply.status });
      if (reply === 'hang') return; // never answered: stop() closes the socket
      if (reply.delayMs) setTimeout(() => answer(response, reply), reply.delayMs);
      else answer(response, reply);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const waitUntil = (pick: () => ReceivedRequest[], count: number, timeoutMs: number, what: string) =>
    new Promise<ReceivedRequest[]>((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        if (pick().length >= count) return resolve(pick());
        if (Date.now() - started > timeoutMs) return reject(new Error(`expected ${count} ${what} within ${timeoutMs} ms, saw ${pick().length}: ${JSON.stringify(requests.map((r) => [r.path, r.status]))}`));
        setTimeout(poll, 25);
      };
      poll();
    });
  const delivered = () => requests.filter((request) => typeof request.status === 'number' && request.status >= 200 && request.status < 300);
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests,
    delivered,
    script: (...replies) => void queued.push(...replies),
    setDefault: (reply) => void (fallback = reply),
    waitForRequests: (count, timeoutMs = 15_000) => waitUntil(() => requests, count, timeoutMs, 'requests'),
    waitForDeliveries: (count, timeoutMs = 15_000) => waitUntil(delivered, count, timeoutMs, 'deliveries'),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
