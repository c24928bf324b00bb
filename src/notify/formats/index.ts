import { discordFormat } from './discord';
import { ntfyFormat } from './ntfy';
import { slackFormat } from './slack';
import { teamsFormat } from './teams';
import type { ChannelFormat, FormatMessage } from './types';
import { webhookFormat } from './webhook';

const FORMATS: Record<ChannelFormat, FormatMessage> = {
  webhook: webhookFormat,
  slack: slackFormat,
  discord: discordFormat,
  teams: teamsFormat,
  ntfy: ntfyFormat,
};

/** The formatter of a channel's NOTIFY_<NAME>_FORMAT: pure, so the outbox can format a stored notice again. */
export function formatFor(format: ChannelFormat): FormatMessage {
  return FORMATS[format];
}
