import type { ChannelFormat, FormatMessage } from './types';

/**
 * PLACEHOLDER until the formats land: every format posts the notice as JSON.
 * (Replaced by the real webhook, slack, discord, teams and ntfy formatters.)
 */
const asJson: FormatMessage = (notice, { deliveryId }) => ({ body: JSON.stringify({ id: deliveryId, ...notice }), headers: { 'Content-Type': 'application/json' } });

export function formatFor(_format: ChannelFormat): FormatMessage {
  return asJson;
}
