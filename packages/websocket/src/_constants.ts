/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Close codes used by this package (RFC 6455 §7.4.1). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  MANDATORY_EXTENSION: 1010,
  INTERNAL_ERROR: 1011,
} as const;

/** `WebSocket.readyState` values (same numbers as the browser API). */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;

/** What `send()` / `publish()` did with a message. */
export const SendStatus = {
  /** Written (or queued below the high-water mark). */
  SENT: 0,
  /** Queued above the high-water mark: wait for `'drain'` before sending more. */
  BACKPRESSURE: 1,
  /** Not sent: the socket is not open, or the `'drop'` slow-client policy discarded it. */
  DROPPED: 2,
} as const;
/** One of the {@link SendStatus} values. */
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

/** The GUID appended to the key for `Sec-WebSocket-Accept` (RFC 6455 §1.3). */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * An error raised by this package. `code` is stable (`WS_*`); `closeCode` is the WebSocket close code
 * sent to the peer when the error ends a connection, `status` the HTTP status for handshake errors.
 */
export class WebSocketError extends Error {
  readonly code: string;
  readonly closeCode: number;
  readonly status: number;
  constructor(code: string, message: string, closeCode = 1002, status = 400) {
    super(message);
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = closeCode;
    this.status = status;
  }
}

/**
 * Whether `code` may appear in a received close frame (RFC 6455 §7.4.1, §7.4.2; IANA registry:
 * 1012-1014 are registered). 1004, 1005, 1006 and 1015 must never be sent on the wire.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}
