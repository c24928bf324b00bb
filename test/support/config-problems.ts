import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** The problems loadConfig reports for `env`, all at once; fails the test when it accepts `env`. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}
