import { hostOnly } from './env-source';
import type { Config } from './types';

/** The effective configuration as `keepsake config` prints it: every secret replaced by ***. */
export function redactedConfig(config: Config): unknown {
  // Sources name variables, never values: a source named "password" is not a secret.
  const sources = new WeakSet<object>();
  return JSON.parse(
    JSON.stringify(config, function (this: unknown, key, value) {
      if (value === undefined) return undefined;
      if (key === 'origin') sources.add(value as object);
      if (sources.has(this as object)) return value;
      // The ping URL's and a channel's path are their tokens: the origin says enough.
      if (key === 'pingUrl' || key === 'url') return hostOnly(String(value));
      return /password|secret|passphrase/i.test(key) ? '***' : key === 'accessKeyId' ? `${String(value).slice(0, 4)}***` : value;
    }),
  );
}
