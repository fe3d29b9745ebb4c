/**
 * The WebSocket layer's `node:diagnostics_channel` channels. Each costs one `hasSubscribers` read
 * per event when nobody listens (no message is built). Subscribers run synchronously: keep them
 * short and never throw.
 */
import { channel } from 'node:diagnostics_channel';
import type { WebSocketError } from './_constants';

/** Channel names (`strata:websocket:*`). */
export const WebSocketChannel = {
  /** A WebSocket opened (server side after the handshake was answered; client side once accepted). */
  OPEN: 'strata:websocket:open',
  /** A WebSocket closed: the close code and reason as its `'close'` event reports them. */
  CLOSE: 'strata:websocket:close',
  /** The connection failed: a protocol error, a limit, a timeout (`error.code`, `error.closeCode`). */
  ERROR: 'strata:websocket:error',
} as const;

/** The message of `strata:websocket:open`. */
export interface WebSocketOpenMessage {
  /** The `WebSocket` object. */
  websocket: object;
  /** True on the server side. */
  server: boolean;
  /** The negotiated subprotocol ('' when none). */
  protocol: string;
  /** The negotiated extensions header value ('' when none). */
  extensions: string;
}

/** The message of `strata:websocket:close`. */
export interface WebSocketCloseMessage {
  websocket: object;
  server: boolean;
  /** The close code `'close'` reports (1006 when the connection dropped without a close frame). */
  code: number;
  reason: string;
  /** The error that ended it, if any (also published on `strata:websocket:error` when it was ours). */
  error: Error | null;
}

/** The message of `strata:websocket:error`. */
export interface WebSocketErrorMessage {
  websocket: object;
  server: boolean;
  error: WebSocketError;
  /** `error.code`: a stable `WS_*` code. */
  code: string;
  /** The close code sent for it (1002 protocol error, 1007 bad UTF-8, 1009 too big, ...). */
  closeCode: number;
}

/** @internal */
export const openChannel = channel(WebSocketChannel.OPEN);
/** @internal */
export const closeChannel = channel(WebSocketChannel.CLOSE);
/** @internal */
export const errorChannel = channel(WebSocketChannel.ERROR);
