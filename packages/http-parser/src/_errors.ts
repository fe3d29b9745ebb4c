/**
 * Stable error codes of the parser, each with the HTTP status a server should answer with.
 * Codes follow llhttp's `HPE_*` naming where llhttp has the same error; the rest are ours.
 */
export const ErrorCode = {
  /** Method is not a token, or is empty. */
  HPE_INVALID_METHOD: 'HPE_INVALID_METHOD',
  /** Method longer than the request-line limit allows. */
  HPE_METHOD_TOO_LONG: 'HPE_METHOD_TOO_LONG',
  /** Request-target has a forbidden byte, the wrong form for the method, or userinfo. */
  HPE_INVALID_URL: 'HPE_INVALID_URL',
  /** Request-target (request line) longer than `maxRequestLineBytes`. */
  HPE_URI_TOO_LONG: 'HPE_URI_TOO_LONG',
  /** Version is not `HTTP/DIGIT.DIGIT` followed by CRLF. */
  HPE_INVALID_VERSION: 'HPE_INVALID_VERSION',
  /** Well-formed version other than HTTP/1.0 and HTTP/1.1. */
  HPE_HTTP_VERSION_NOT_SUPPORTED: 'HPE_HTTP_VERSION_NOT_SUPPORTED',
  /** A CR was required (a bare LF ended a line). */
  HPE_CR_EXPECTED: 'HPE_CR_EXPECTED',
  /** An LF was required after CR (bare CR). */
  HPE_LF_EXPECTED: 'HPE_LF_EXPECTED',
  /** Field name is not a token, is empty, or has whitespace before the colon. */
  HPE_INVALID_HEADER_TOKEN: 'HPE_INVALID_HEADER_TOKEN',
  /** Field value contains a CTL (NUL, bare CR, ...) or DEL. */
  HPE_INVALID_HEADER_VALUE: 'HPE_INVALID_HEADER_VALUE',
  /** A field line starts with whitespace (obs-fold, or whitespace before the first field). */
  HPE_OBS_FOLD: 'HPE_OBS_FOLD',
  /** Head (request line + fields) larger than `maxHeadBytes`, or trailers larger than it. */
  HPE_HEADER_OVERFLOW: 'HPE_HEADER_OVERFLOW',
  /** More field lines than `maxHeaders`. */
  HPE_TOO_MANY_HEADERS: 'HPE_TOO_MANY_HEADERS',
  /** HTTP/1.1 request without exactly one valid Host, or an invalid authority. */
  HPE_INVALID_HOST: 'HPE_INVALID_HOST',
  /** Content-Length malformed, duplicated, or too large to represent. */
  HPE_INVALID_CONTENT_LENGTH: 'HPE_INVALID_CONTENT_LENGTH',
  /** Both Content-Length and Transfer-Encoding. */
  HPE_UNEXPECTED_CONTENT_LENGTH: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  /** Transfer-Encoding malformed, `chunked` not last or repeated, or sent in HTTP/1.0. */
  HPE_INVALID_TRANSFER_ENCODING: 'HPE_INVALID_TRANSFER_ENCODING',
  /** A transfer coding other than `chunked`. */
  HPE_UNKNOWN_TRANSFER_ENCODING: 'HPE_UNKNOWN_TRANSFER_ENCODING',
  /** Chunk size is not hex, empty, or overflows. */
  HPE_INVALID_CHUNK_SIZE: 'HPE_INVALID_CHUNK_SIZE',
  /** Chunk extension does not follow the grammar of RFC 9112 section 7.1.1. */
  HPE_INVALID_CHUNK_EXTENSION: 'HPE_INVALID_CHUNK_EXTENSION',
  /** Chunk extensions of one chunk longer than `maxChunkExtensionBytes`. */
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HPE_CHUNK_EXTENSIONS_OVERFLOW',
  /** A framing or routing field in the trailer section. */
  HPE_INVALID_TRAILER: 'HPE_INVALID_TRAILER',
  /** Body larger than `maxBodyBytes`. */
  HPE_BODY_TOO_LARGE: 'HPE_BODY_TOO_LARGE',
  /** The connection ended in the middle of a message. */
  HPE_INVALID_EOF_STATE: 'HPE_INVALID_EOF_STATE',
} as const;

/** One of the stable `HPE_*` codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status a server should send for each error code (the single error -> status table). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  HPE_INVALID_METHOD: 400,
  HPE_METHOD_TOO_LONG: 501,
  HPE_INVALID_URL: 400,
  HPE_URI_TOO_LONG: 414,
  HPE_INVALID_VERSION: 400,
  HPE_HTTP_VERSION_NOT_SUPPORTED: 505,
  HPE_CR_EXPECTED: 400,
  HPE_LF_EXPECTED: 400,
  HPE_INVALID_HEADER_TOKEN: 400,
  HPE_INVALID_HEADER_VALUE: 400,
  HPE_OBS_FOLD: 400,
  HPE_HEADER_OVERFLOW: 431,
  HPE_TOO_MANY_HEADERS: 431,
  HPE_INVALID_HOST: 400,
  HPE_INVALID_CONTENT_LENGTH: 400,
  HPE_UNEXPECTED_CONTENT_LENGTH: 400,
  HPE_INVALID_TRANSFER_ENCODING: 400,
  HPE_UNKNOWN_TRANSFER_ENCODING: 501,
  HPE_INVALID_CHUNK_SIZE: 400,
  HPE_INVALID_CHUNK_EXTENSION: 400,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 400,
  HPE_INVALID_TRAILER: 400,
  HPE_BODY_TOO_LARGE: 413,
  HPE_INVALID_EOF_STATE: 400,
};

/**
 * A parse error. The parser never throws it: `execute` returns `ParseStatus.ERROR` and exposes the
 * error as `parser.error`. Match on `code`, never on `message`.
 *
 * @example
 * if (parser.execute(chunk) === ParseStatus.ERROR) {
 *   const { code, status, offset } = parser.error!;
 *   // answer `status`, then close the connection
 * }
 */
export class HttpParseError extends Error {
  /** Stable `HPE_*` code. */
  readonly code: ErrorCode;
  /** HTTP status the server should answer with (400, 413, 414, 431, 501 or 505). */
  readonly status: number;
  /** Offset of the offending byte, counted from the first byte given to this parser (since `reset`). */
  readonly offset: number;

  constructor(code: ErrorCode, offset: number, reason: string) {
    super(reason);
    this.name = 'HttpParseError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.offset = offset;
  }
}
