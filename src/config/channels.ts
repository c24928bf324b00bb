/**
 * Notification channels besides e-mail: NOTIFY_<NAME>_URL (or _URL_FILE) names one, and
 * NOTIFY_<NAME>_FORMAT, _SECRET (_SECRET_FILE) and _ON configure it. Like the named targets, the
 * variable names depend on the channel's name, so they are validated here rather than in the zod
 * object of schema.ts; every problem is collected so the user sees them all at once.
 * NOTIFY_ON and NOTIFY_ON_SUCCESS are the e-mail's (and every channel's default) event filter.
 */
import type { Env } from './env-source';
import { displayValue } from './env-source';
import { REPORT_EVENTS, SUCCESS_EVENTS, parseEventList } from './schema';
import type { ChannelConfig, ChannelFormat, ReportEventName } from './types';

export const CHANNEL_FORMATS = ['webhook', 'slack', 'discord', 'teams', 'ntfy'] as const;
/** Every <SETTING> of NOTIFY_<NAME>_<SETTING>, longest first so _URL_FILE is not read as _URL. */
export const CHANNEL_SETTINGS = ['URL_FILE', 'SECRET_FILE', 'FORMAT', 'SECRET', 'URL', 'ON'] as const;
/** The e-mail channel's name for `notify test --channel`, and the global filters' names: no channel may take them. */
const RESERVED_NAMES = ['email', 'on'];
const CHANNEL_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const GLOBAL_NOTIFY_VARIABLES = ['NOTIFY_ON', 'NOTIFY_ON_SUCCESS'];

export function channelVariable(name: string, setting: string): string {
  return `NOTIFY_${name.toUpperCase()}_${setting}`;
}

/** Only the scheme and host of a channel's URL may be shown: its path or query is often the token. */
export function channelHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Which format a well-known service's URL wants, so a Slack or Discord URL works without
 * NOTIFY_<NAME>_FORMAT. Self-hosted services (Mattermost, Rocket.Chat, ntfy on your own host)
 * cannot be told by their URL: they need FORMAT set.
 */
export function inferFormat(url: URL): ChannelFormat {
  const host = url.hostname.toLowerCase();
  if (host === 'hooks.slack.com') return 'slack';
  if (/(^|\.)discord(app)?\.com$/.test(host) && url.pathname.startsWith('/api/webhooks/')) return 'discord';
  if (/\.(webhook\.office\.com|logic\.azure\.com|powerplatform\.com)$/.test(host)) return 'teams';
  if (host === 'ntfy.sh') return 'ntfy';
  return 'webhook';
}

interface Given {
  [setting: string]: string;
}

/** Assigns each NOTIFY_<NAME>_<SETTING> variable to its channel, or reports it as unknown. */
function claimVariables(env: Env, problems: string[]): Map<string, Given> {
  const channels = new Map<string, Given>();
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('NOTIFY_') || GLOBAL_NOTIFY_VARIABLES.includes(variable) || env[variable] === undefined) continue;
    const setting = CHANNEL_SETTINGS.find((s) => variable.endsWith(`_${s}`) && variable.length > `NOTIFY__${s}`.length);
    const name = setting && variable.slice('NOTIFY_'.length, -setting.length - 1).toLowerCase();
    if (!setting || !name) {
      problems.push(`${variable}: not a setting keepsake knows; a channel is configured with NOTIFY_<NAME>_${CHANNEL_SETTINGS.filter((s) => !s.endsWith('_FILE')).join(', _')} (and _URL_FILE, _SECRET_FILE)`);
      continue;
    }
    if (!CHANNEL_NAME.test(name) || RESERVED_NAMES.includes(name)) {
      const why = RESERVED_NAMES.includes(name) ? `"${name}" is reserved (${name === 'email' ? 'the SMTP reports' : 'NOTIFY_ON'})` : 'a name is a letter, then letters, digits or _ (at most 32)';
      problems.push(`${variable}: cannot name a channel "${name}": ${why}; pick another name, like NOTIFY_SLACK_URL or NOTIFY_OPS_URL`);
      continue;
    }
    const given = channels.get(name) ?? {};
    given[setting] = env[variable]!;
    channels.set(name, given);
  }
  return channels;
}

/**
 * Validates every NOTIFY_<NAME>_* variable. `env` has the _FILE secrets already read (env-source.ts
 * resolves NOTIFY_<NAME>_URL_FILE and _SECRET_FILE), so URL_FILE and SECRET_FILE are only seen here
 * when they are set together with the value (reported there). `defaultEvents` is NOTIFY_ON as
 * filtered by NOTIFY_ON_SUCCESS: what a channel without its own _ON receives.
 */
export function readChannels(env: Env, defaultEvents: readonly ReportEventName[]): { channels: ChannelConfig[]; problems: string[] } {
  const problems: string[] = [];
  const channels: ChannelConfig[] = [];
  for (const [name, given] of claimVariables(env, problems)) {
    const variable = (setting: string) => channelVariable(name, setting);
    if (given.URL === undefined) {
      if (given.URL_FILE === undefined) problems.push(`${Object.keys(given).map(variable).join(', ')} set, but ${variable('URL')} is not: set ${variable('URL')} (or ${variable('URL_FILE')}) to where the messages go, or remove the others`);
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(given.URL.trim());
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      problems.push(`${variable('URL')}=${displayValue(variable('URL'), given.URL)}: expected an http:// or https:// URL, like the incoming-webhook URL the service gave you`);
      url = undefined;
    }
    let format: ChannelFormat | undefined = url ? inferFormat(url) : undefined;
    if (given.FORMAT !== undefined) {
      const value = given.FORMAT.trim().toLowerCase();
      if ((CHANNEL_FORMATS as readonly string[]).includes(value)) format = value as ChannelFormat;
      else problems.push(`${variable('FORMAT')}=${JSON.stringify(given.FORMAT)}: expected one of ${CHANNEL_FORMATS.join(', ')} (Mattermost and Rocket.Chat take slack)`);
    }
    const secret = given.SECRET;
    if (secret !== undefined && format && format !== 'webhook' && format !== 'ntfy') {
      problems.push(`${variable('SECRET')}: a ${format} channel is not signed (its URL is the secret); remove ${variable('SECRET')}, or set ${variable('FORMAT')}=webhook for a signed JSON webhook`);
    }
    let events = defaultEvents;
    if (given.ON !== undefined) {
      try {
        events = parseEventList(given.ON);
      } catch (error) {
        problems.push(`${variable('ON')}=${JSON.stringify(given.ON)}: ${(error as Error).message}`);
      }
    }
    if (url && format) channels.push({ name, format, url: url.toString(), secret, events, formatInferred: given.FORMAT === undefined });
  }
  return { channels: problems.length ? [] : channels, problems };
}

/** The events a channel gets by default: NOTIFY_ON, less the good news when NOTIFY_ON_SUCCESS=false. */
export function defaultChannelEvents(notifyOn: readonly ReportEventName[] | undefined, onSuccess: boolean): ReportEventName[] {
  return (notifyOn ?? [...REPORT_EVENTS]).filter((event) => onSuccess || !(SUCCESS_EVENTS as readonly string[]).includes(event));
}
