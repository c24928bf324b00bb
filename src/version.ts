import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** keepsake's own version, from package.json (one level above dist/ and src/). */
export const KEEPSAKE_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
