import { createHmac } from 'node:crypto';

/**
 * The generic webhook's signature: HMAC-SHA256 with NOTIFY_<NAME>_SECRET over "<timestamp>.<body>",
 * hex, in `X-Keepsake-Signature: sha256=<hex>`, the Unix time in `X-Keepsake-Timestamp`. The
 * timestamp is signed too, so a receiver that refuses old timestamps (5 minutes is usual) cannot
 * be fed a recorded request again. Made at each attempt: a retry carries a fresh timestamp.
 */
export function webhookSignatureHeaders(secret: string, body: string, timestampSeconds: number): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return { 'X-Keepsake-Timestamp': String(timestampSeconds), 'X-Keepsake-Signature': `sha256=${signature}` };
}
