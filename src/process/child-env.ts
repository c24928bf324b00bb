/**
 * What children inherit from keepsake's own environment: where programs and locales are, never
 * configuration. Secrets (S3 keys, DATABASE_URL...) stay out: a throwaway postgres runs SQL from the
 * backup under another user, and anything that user runs could read its environment.
 */
const INHERITED = /^(PATH|HOME|USER|LOGNAME|SHELL|TZ|TMPDIR|LANG|LANGUAGE|LC_[A-Z]+|PGSSL(MODE|CERT|KEY|ROOTCERT|CRL)|PGCONNECT_TIMEOUT|PGTZ|PGCLIENTENCODING)$/;

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Pass-through, not configuration: the one place outside config/ that touches the environment.
  // eslint-disable-next-line no-restricted-properties
  for (const [name, value] of Object.entries(process.env)) if (INHERITED.test(name)) env[name] = value;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
