/**
 * Streaming HTTP reverse proxy on loopback that can answer chosen requests with an
 * injected S3 error instead of forwarding them, for fault-injection tests of S3 uploads.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

export interface FaultRequest {
  method: string;
  url: string;
  /** For UploadPart requests, their 1-based ordinal since start/clear(); 0 for any other request. */
  count: number;
  headers: http.IncomingHttpHeaders;
}

export interface FaultyProxy {
  endpoint: string;
  port: number;
  requests: Array<{ method: string; url: string; status: number }>;
  failWhen(predicate: (req: FaultRequest) => boolean, status?: number): void;
  clear(): void;
  close(): Promise<void>;
}

const INJECTED_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected</Message></Error>';

// Connection-level headers must not be forwarded (RFC 9110 §7.6.1). None of them is part of
// a SigV4 signature (the SDK never signs these).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  // Node's server already answered "100 Continue" to the client; re-sending it upstream would
  // only make the upstream answer it again.
  'expect',
]);

/** UploadPart is PUT /bucket/key?partNumber=N&uploadId=X (without x-amz-copy-source). */
export function isUploadPart(method: string, url: string): boolean {
  const query = new URL(url, 'http://proxy').searchParams;
  return method === 'PUT' && query.has('partNumber') && query.has('uploadId');
}

/** Fails every UploadPart once n of them have passed (i.e. the (n+1)th and later). */
export function uploadPartAfter(n: number): (req: FaultRequest) => boolean {
  return (req) => isUploadPart(req.method, req.url) && req.count > n;
}

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const target = new URL(upstream);
  // Own agent so close() can drop its pooled upstream sockets.
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const requests: FaultyProxy['requests'] = [];
  let rule: { predicate: (req: FaultRequest) => boolean; status: number } | undefined;
  let uploadParts = 0;

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const count = isUploadPart(method, url) ? ++uploadParts : 0;
    const record = (status: number): void => {
      requests.push({ method, url, status });
    };

    if (rule?.predicate({ method, url, count, headers: req.headers })) {
      record(rule.status);
      // Read the whole request body first, as S3 does, so the client gets the error response
      // instead of a broken pipe while it is still sending a 5 MiB part.
      const status = rule.status;
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(INJECTED_BODY) });
        res.end(INJECTED_BODY);
      });
      return;
    }

    // The Host header is kept as the client sent it: it is a signed SigV4 header, so a
    // rewrite would break verification by any server that checks signatures.
    const upstreamReq = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method,
      path: url,
      headers: forwardHeaders(req.headers),
      agent,
    });
    upstreamReq.on('response', (upstreamRes) => {
      const status = upstreamRes.statusCode ?? 502;
      record(status);
      res.writeHead(status, upstreamRes.statusMessage, forwardHeaders(upstreamRes.headers));
      pipeline(upstreamRes, res, () => undefined);
    });
    upstreamReq.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      record(502);
      const message = err.message.replace(/[<>&]/g, (ch) => `&#${ch.charCodeAt(0)};`);
      const body = `<Error><Code>BadGateway</Code><Message>${message}</Message></Error>`;
      res.writeHead(502, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    // Streams the body; a client abort destroys the upstream request too.
    pipeline(req, upstreamReq, () => undefined);
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    failWhen(predicate, status = 500) {
      rule = { predicate, status };
    },
    clear() {
      rule = undefined;
      uploadParts = 0;
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
    },
  };
}
