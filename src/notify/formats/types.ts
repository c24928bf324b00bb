import type { ChannelFormat } from '../../config';
import type { Notice } from '../notice';

/** One HTTP POST: its body and the headers that describe it (Content-Type, and the format's own). */
export interface HttpMessage {
  body: string;
  headers: Record<string, string>;
}

/**
 * Pure: a notice as one service wants it posted. `deliveryId` is the outbox item's id, the same on
 * every retry, so a receiver can drop a duplicate.
 */
export type FormatMessage = (notice: Notice, context: { deliveryId: string }) => HttpMessage;

export type { ChannelFormat };
