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

/** Largest message accepted by default, in bytes after inflation (`maxPayload`); over it: 1009. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** ms to wait for the closing handshake before destroying the connection (`closeTimeout`). */
export const DEFAULT_CLOSE_TIMEOUT = 5000;
/** ms between the server's heartbeat pings (`heartbeatInterval`). */
export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;
/** ms `WebSocketServer.close()` waits for closing handshakes before destroying (`deadline`). */
export const DEFAULT_CLOSE_DEADLINE = 5000;
/** ms the client waits for TCP connect and the handshake (`handshakeTimeout`). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Largest control frame payload (ping, pong, close), RFC 6455 §5.5. */
export const MAX_CONTROL_PAYLOAD = 125;
/** Largest close reason in UTF-8 bytes: a control payload less the 2-byte code (RFC 6455 §5.5.1). */
export const MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2;

/** The GUID appended to the key for `Sec-WebSocket-Accept` (RFC 6455 §1.3). */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Every error code this package raises, each with the close code sent to the peer when the error
 * ends a connection and, for a refused handshake, the HTTP status of the error response. A close
 * code of 0 means no close frame is sent for it (the error is thrown to the caller, or the
 * connection was never open); a status of 0 means the error is not a handshake refusal.
 */
export const WebSocketErrorCode = {
  // ---- server handshake refusals (RFC 6455 §4.2.1); the status is the response sent
  /** The upgrade request is not a GET. */
  METHOD: 'WS_METHOD',
  /** The upgrade request is not HTTP/1.1. */
  HTTP_VERSION: 'WS_HTTP_VERSION',
  /** No `Upgrade: websocket`. */
  UPGRADE_HEADER: 'WS_UPGRADE_HEADER',
  /** No `Connection: upgrade`. */
  CONNECTION_HEADER: 'WS_CONNECTION_HEADER',
  /** `Sec-WebSocket-Version` is not exactly 13 (426 lists the supported version). */
  VERSION: 'WS_VERSION',
  /** `Sec-WebSocket-Key` missing, repeated or not base64 of 16 bytes. */
  KEY: 'WS_KEY',
  /** `verifyOrigin` refused the `Origin`. */
  ORIGIN: 'WS_ORIGIN',
  /** A malformed `Sec-WebSocket-Protocol` list. */
  PROTOCOL: 'WS_PROTOCOL',
  /** `handleProtocols` chose a subprotocol the client did not offer (a server bug). */
  PROTOCOL_NOT_OFFERED: 'WS_PROTOCOL_NOT_OFFERED',
  /** A malformed `Sec-WebSocket-Extensions` header. */
  EXTENSIONS: 'WS_EXTENSIONS',
  /** A handshake callback (`handleProtocols`, `verifyOrigin`) threw. */
  INTERNAL: 'WS_INTERNAL',
  /** `WebSocketServer.close()` has started: no new connections. */
  SHUTTING_DOWN: 'WS_SHUTTING_DOWN',
  // ---- client connect
  /** `connect()` got a URL that is not `ws:` or `wss:`. */
  URL: 'WS_URL',
  /** The TCP or TLS connection failed. */
  CONNECT: 'WS_CONNECT',
  /** No complete handshake response within `handshakeTimeout`. */
  TIMEOUT: 'WS_TIMEOUT',
  /** The server's handshake response is not a valid 101 for the request sent. */
  HANDSHAKE: 'WS_HANDSHAKE',
  // ---- protocol errors from the peer (RFC 6455 §5, §7.4.1)
  /** RSV bits set without an extension that defines them. */
  RSV_BITS: 'WS_RSV_BITS',
  /** A reserved opcode. */
  BAD_OPCODE: 'WS_BAD_OPCODE',
  /** A fragmented control frame. */
  FRAGMENTED_CONTROL: 'WS_FRAGMENTED_CONTROL',
  /** A control frame payload over 125 bytes (also thrown by `ping()`/`pong()`). */
  CONTROL_TOO_LONG: 'WS_CONTROL_TOO_LONG',
  /** A continuation frame with no message in progress. */
  UNEXPECTED_CONTINUATION: 'WS_UNEXPECTED_CONTINUATION',
  /** A new data frame inside a fragmented message. */
  EXPECTED_CONTINUATION: 'WS_EXPECTED_CONTINUATION',
  /** A client frame without a mask. */
  UNMASKED: 'WS_UNMASKED',
  /** A server frame with a mask. */
  MASKED: 'WS_MASKED',
  /** A 64-bit length with its most significant bit set. */
  BAD_LENGTH: 'WS_BAD_LENGTH',
  /** A close frame with a 1-byte payload. */
  BAD_CLOSE: 'WS_BAD_CLOSE',
  /** A close frame with a code that must not be sent. */
  BAD_CLOSE_CODE: 'WS_BAD_CLOSE_CODE',
  /** Invalid UTF-8 in a text message or a close reason. */
  INVALID_UTF8: 'WS_INVALID_UTF8',
  /** Compressed data that does not inflate. */
  INFLATE: 'WS_INFLATE',
  /** A message over `maxPayload` (checked on the frame header, and while inflating). */
  TOO_BIG: 'WS_TOO_BIG',
  // ---- local policy
  /** A send found more than `maxBufferedAmount` unsent under the `'close'` slow-client policy. */
  BACKPRESSURE_LIMIT: 'WS_BACKPRESSURE_LIMIT',
  /** The peer left unsent bytes over the high-water mark for `backpressureTimeout`. */
  BACKPRESSURE_TIMEOUT: 'WS_BACKPRESSURE_TIMEOUT',
  /** Nothing received for a whole heartbeat interval. */
  HEARTBEAT: 'WS_HEARTBEAT',
  /** A compression job finished after the connection closed. */
  CLOSED: 'WS_CLOSED',
  // ---- invalid arguments (thrown to the caller; nothing is sent)
  /** `close()` with a code that must not be sent. */
  INVALID_CLOSE_CODE: 'WS_INVALID_CLOSE_CODE',
  /** `close()` with a reason over 123 UTF-8 bytes. */
  CLOSE_REASON_TOO_LONG: 'WS_CLOSE_REASON_TOO_LONG',
} as const;
/** One of the {@link WebSocketErrorCode} values. */
export type WebSocketErrorCode = (typeof WebSocketErrorCode)[keyof typeof WebSocketErrorCode];

const C = WebSocketErrorCode;
/** Each code's `[closeCode, status]`: the one place protocol errors map to close codes and statuses. */
const ERROR_TABLE: Record<WebSocketErrorCode, readonly [closeCode: number, status: number]> = {
  [C.METHOD]: [0, 405],
  [C.HTTP_VERSION]: [0, 400],
  [C.UPGRADE_HEADER]: [0, 400],
  [C.CONNECTION_HEADER]: [0, 400],
  [C.VERSION]: [0, 426],
  [C.KEY]: [0, 400],
  [C.ORIGIN]: [0, 403],
  [C.PROTOCOL]: [0, 400],
  [C.PROTOCOL_NOT_OFFERED]: [0, 500],
  [C.EXTENSIONS]: [0, 400],
  [C.INTERNAL]: [0, 500],
  [C.SHUTTING_DOWN]: [0, 503],
  [C.URL]: [0, 0],
  [C.CONNECT]: [CloseCode.ABNORMAL, 0],
  [C.TIMEOUT]: [CloseCode.ABNORMAL, 0],
  [C.HANDSHAKE]: [CloseCode.ABNORMAL, 0],
  [C.RSV_BITS]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.BAD_OPCODE]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.FRAGMENTED_CONTROL]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.CONTROL_TOO_LONG]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.UNEXPECTED_CONTINUATION]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.EXPECTED_CONTINUATION]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.UNMASKED]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.MASKED]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.BAD_LENGTH]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.BAD_CLOSE]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.BAD_CLOSE_CODE]: [CloseCode.PROTOCOL_ERROR, 0],
  [C.INVALID_UTF8]: [CloseCode.INVALID_PAYLOAD, 0],
  [C.INFLATE]: [CloseCode.INVALID_PAYLOAD, 0],
  [C.TOO_BIG]: [CloseCode.MESSAGE_TOO_BIG, 0],
  [C.BACKPRESSURE_LIMIT]: [CloseCode.POLICY_VIOLATION, 0],
  [C.BACKPRESSURE_TIMEOUT]: [CloseCode.POLICY_VIOLATION, 0],
  [C.HEARTBEAT]: [CloseCode.ABNORMAL, 0],
  [C.CLOSED]: [CloseCode.ABNORMAL, 0],
  [C.INVALID_CLOSE_CODE]: [0, 0],
  [C.CLOSE_REASON_TOO_LONG]: [0, 0],
};

/**
 * An error raised by this package. `code` is stable (see {@link WebSocketErrorCode}); `closeCode`
 * is the close code sent to the peer when the error ends a connection (0: none is sent), `status`
 * the HTTP status of a refused handshake (0: not a handshake refusal). Both come from the code.
 */
export class WebSocketError extends Error {
  readonly code: WebSocketErrorCode;
  readonly closeCode: number;
  readonly status: number;
  constructor(code: WebSocketErrorCode, message: string) {
    super(message);
    this.name = 'WebSocketError';
    this.code = code;
    const row = ERROR_TABLE[code];
    this.closeCode = row[0];
    this.status = row[1];
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
