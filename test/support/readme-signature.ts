import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type VerifySignature = (secret: string, rawBody: string, headers: Record<string, string | string[] | undefined>, nowSeconds?: number) => boolean;

/**
 * The README's signature check itself (the ```js block defining verifyKeepsakeSignature), so the
 * tests verify keepsake's webhooks the way a receiver is told to and the documentation cannot drift.
 */
export function readmeSignatureCheck(): { snippet: string | undefined; verify: VerifySignature } {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const snippet = /```js\n(const \{ createHmac, timingSafeEqual \}[\s\S]*?function verifyKeepsakeSignature[\s\S]*?)```/.exec(readme)?.[1];
  const verify = new Function('require', `${snippet}\nreturn verifyKeepsakeSignature;`)(require) as VerifySignature;
  return { snippet, verify };
}
