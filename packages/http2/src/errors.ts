/**
 * HTTP/2 error codes as sent on the wire in RST_STREAM and GOAWAY (RFC 9113 section 7).
 */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** One of the RFC 9113 section 7 error code numbers. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const NAMES: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** The RFC name of a wire error code (`0x9` is `COMPRESSION_ERROR`); unknown codes as `0x..`. */
export function errorCodeName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

/**
 * Stable `code` strings of {@link Http2Error}, one per reason a connection or stream fails. Match
 * on these, never on `message`. Each maps to the wire error code in {@link H2_ERROR_WIRE_CODE}.
 */
export const Http2ErrorCode = {
  // ---- connection preface and framing (RFC 9113 sections 3.4, 4) ------------------------------
  /** The client's first 24 bytes are not the connection preface. */
  H2_BAD_PREFACE: 'H2_BAD_PREFACE',
  /** The first frame after the preface is not SETTINGS. */
  H2_SETTINGS_EXPECTED: 'H2_SETTINGS_EXPECTED',
  /** A frame longer than our SETTINGS_MAX_FRAME_SIZE, or a fixed-size frame of the wrong size. */
  H2_FRAME_SIZE: 'H2_FRAME_SIZE',
  /** Padding longer than the frame's payload. */
  H2_BAD_PADDING: 'H2_BAD_PADDING',
  /** A frame on stream 0 that needs a stream, or on a stream that must be 0. */
  H2_BAD_STREAM_ID: 'H2_BAD_STREAM_ID',
  /** A frame other than CONTINUATION (same stream) while a header block is open. */
  H2_CONTINUATION_EXPECTED: 'H2_CONTINUATION_EXPECTED',
  /** CONTINUATION without an open header block. */
  H2_UNEXPECTED_CONTINUATION: 'H2_UNEXPECTED_CONTINUATION',
  /** A frame not allowed in the stream's state (DATA on a half-closed stream, HEADERS twice...). */
  H2_STREAM_STATE: 'H2_STREAM_STATE',
  /** A frame on a stream that is closed. */
  H2_STREAM_CLOSED: 'H2_STREAM_CLOSED',
  /** A client stream id that is even, or not above every earlier one. */
  H2_BAD_STREAM_ORDER: 'H2_BAD_STREAM_ORDER',
  /** A stream depending on itself (HEADERS or PRIORITY). */
  H2_SELF_DEPENDENCY: 'H2_SELF_DEPENDENCY',
  /** PUSH_PROMISE from a client (RFC 9113 section 8.4). */
  H2_PUSH_FROM_CLIENT: 'H2_PUSH_FROM_CLIENT',
  // ---- SETTINGS, flow control (sections 6.5, 6.9) -------------------------------------------
  /** A SETTINGS value out of range (ENABLE_PUSH not 0/1, MAX_FRAME_SIZE, INITIAL_WINDOW_SIZE). */
  H2_BAD_SETTING: 'H2_BAD_SETTING',
  /** A SETTINGS ACK with a payload. */
  H2_SETTINGS_ACK_PAYLOAD: 'H2_SETTINGS_ACK_PAYLOAD',
  /** The peer did not acknowledge our SETTINGS in time. */
  H2_SETTINGS_TIMEOUT: 'H2_SETTINGS_TIMEOUT',
  /** A WINDOW_UPDATE of 0. */
  H2_ZERO_WINDOW_INCREMENT: 'H2_ZERO_WINDOW_INCREMENT',
  /** A window pushed past 2^31-1 (by WINDOW_UPDATE or a SETTINGS change). */
  H2_WINDOW_OVERFLOW: 'H2_WINDOW_OVERFLOW',
  /** The peer sent more DATA than the window we gave it. */
  H2_FLOW_CONTROL: 'H2_FLOW_CONTROL',
  // ---- HPACK (RFC 7541) ----------------------------------------------------------------------
  /** A header block that cannot be decoded (bad index, integer overflow, bad Huffman, table size). */
  H2_COMPRESSION: 'H2_COMPRESSION',
  // ---- request semantics (section 8) -------------------------------------------------------
  /** A malformed request: pseudo-headers, field names or values, connection-specific fields, TE. */
  H2_MALFORMED_REQUEST: 'H2_MALFORMED_REQUEST',
  /** DATA received does not add up to the request's content-length. */
  H2_CONTENT_LENGTH_MISMATCH: 'H2_CONTENT_LENGTH_MISMATCH',
  // ---- named limits ------------------------------------------------------------------------
  /** More concurrent streams than `maxConcurrentStreams`. */
  H2_TOO_MANY_STREAMS: 'H2_TOO_MANY_STREAMS',
  /** The decoded header list is longer than `maxHeaderListSize` (answered with 431). */
  H2_HEADER_LIST_TOO_LARGE: 'H2_HEADER_LIST_TOO_LARGE',
  /** A header block (HEADERS + CONTINUATION) longer than `maxHeaderBlockBytes`, or too many frames. */
  H2_CONTINUATION_FLOOD: 'H2_CONTINUATION_FLOOD',
  /** Streams opened and reset by the client faster than `maxResetStreams` allows (Rapid Reset). */
  H2_RAPID_RESET: 'H2_RAPID_RESET',
  /** PING, SETTINGS or other control frames faster than `maxControlFrames` allows. */
  H2_CONTROL_FLOOD: 'H2_CONTROL_FLOOD',
  /** Empty DATA, HEADERS or CONTINUATION frames (no payload, no END flags) past `maxEmptyFrames`. */
  H2_EMPTY_FRAME_FLOOD: 'H2_EMPTY_FRAME_FLOOD',
  /** The peer kept the window shut (or did not read) past the send timeout. */
  H2_SEND_TIMEOUT: 'H2_SEND_TIMEOUT',
  // ---- API misuse ----------------------------------------------------------------------------
  /** A response call on a stream that cannot take it (unknown, closed, already responded). */
  H2_INVALID_STATE: 'H2_INVALID_STATE',
  /** A response header that cannot be sent over HTTP/2 (uppercase, connection-specific...). */
  H2_INVALID_HEADER: 'H2_INVALID_HEADER',
} as const;

/** One of the stable `H2_*` codes. */
export type Http2ErrorCode = (typeof Http2ErrorCode)[keyof typeof Http2ErrorCode];

/** The wire error code (RST_STREAM or GOAWAY) of each {@link Http2ErrorCode}: the single table. */
export const H2_ERROR_WIRE_CODE: Readonly<Record<Http2ErrorCode, ErrorCode>> = {
  H2_BAD_PREFACE: ErrorCode.PROTOCOL_ERROR,
  H2_SETTINGS_EXPECTED: ErrorCode.PROTOCOL_ERROR,
  H2_FRAME_SIZE: ErrorCode.FRAME_SIZE_ERROR,
  H2_BAD_PADDING: ErrorCode.PROTOCOL_ERROR,
  H2_BAD_STREAM_ID: ErrorCode.PROTOCOL_ERROR,
  H2_CONTINUATION_EXPECTED: ErrorCode.PROTOCOL_ERROR,
  H2_UNEXPECTED_CONTINUATION: ErrorCode.PROTOCOL_ERROR,
  H2_STREAM_STATE: ErrorCode.PROTOCOL_ERROR,
  H2_STREAM_CLOSED: ErrorCode.STREAM_CLOSED,
  H2_BAD_STREAM_ORDER: ErrorCode.PROTOCOL_ERROR,
  H2_SELF_DEPENDENCY: ErrorCode.PROTOCOL_ERROR,
  H2_PUSH_FROM_CLIENT: ErrorCode.PROTOCOL_ERROR,
  H2_BAD_SETTING: ErrorCode.PROTOCOL_ERROR,
  H2_SETTINGS_ACK_PAYLOAD: ErrorCode.FRAME_SIZE_ERROR,
  H2_SETTINGS_TIMEOUT: ErrorCode.SETTINGS_TIMEOUT,
  H2_ZERO_WINDOW_INCREMENT: ErrorCode.PROTOCOL_ERROR,
  H2_WINDOW_OVERFLOW: ErrorCode.FLOW_CONTROL_ERROR,
  H2_FLOW_CONTROL: ErrorCode.FLOW_CONTROL_ERROR,
  H2_COMPRESSION: ErrorCode.COMPRESSION_ERROR,
  H2_MALFORMED_REQUEST: ErrorCode.PROTOCOL_ERROR,
  H2_CONTENT_LENGTH_MISMATCH: ErrorCode.PROTOCOL_ERROR,
  H2_TOO_MANY_STREAMS: ErrorCode.REFUSED_STREAM,
  H2_HEADER_LIST_TOO_LARGE: ErrorCode.PROTOCOL_ERROR,
  H2_CONTINUATION_FLOOD: ErrorCode.ENHANCE_YOUR_CALM,
  H2_RAPID_RESET: ErrorCode.ENHANCE_YOUR_CALM,
  H2_CONTROL_FLOOD: ErrorCode.ENHANCE_YOUR_CALM,
  H2_EMPTY_FRAME_FLOOD: ErrorCode.ENHANCE_YOUR_CALM,
  H2_SEND_TIMEOUT: ErrorCode.CANCEL,
  H2_INVALID_STATE: ErrorCode.INTERNAL_ERROR,
  H2_INVALID_HEADER: ErrorCode.INTERNAL_ERROR,
};

/**
 * An HTTP/2 failure: a connection error (GOAWAY, then the connection closes) or a stream error
 * (RST_STREAM, the connection goes on). `code` is stable; `errorCode` is what went on the wire.
 *
 * @example
 * conn.onError = (err) => console.log(err.code, errorCodeName(err.errorCode)); // H2_FRAME_SIZE FRAME_SIZE_ERROR
 */
export class Http2Error extends Error {
  /** The stable reason (`H2_*`). */
  readonly code: Http2ErrorCode;
  /** The RFC 9113 error code sent in RST_STREAM or GOAWAY. */
  readonly errorCode: ErrorCode;
  /** The stream it concerns; 0 for a connection error. */
  readonly streamId: number;

  constructor(code: Http2ErrorCode, message: string, streamId = 0, errorCode?: ErrorCode) {
    super(message);
    this.name = 'Http2Error';
    this.code = code;
    this.errorCode = errorCode ?? H2_ERROR_WIRE_CODE[code];
    this.streamId = streamId;
  }
}
