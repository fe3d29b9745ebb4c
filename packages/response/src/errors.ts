/**
 * Stable error codes thrown by `@strata/response`. Compare `error.code`, never the message.
 */
export const ResponseErrorCode = {
  /** Header name is not an RFC 9110 token. */
  INVALID_HEADER_NAME: 'ERR_INVALID_HEADER_NAME',
  /** Header value contains CR, LF, NUL, another control character or a character above U+00FF. */
  INVALID_HEADER_VALUE: 'ERR_INVALID_HEADER_VALUE',
  /** Status code is not an integer in 100..599 (or a 1xx used as the final status). */
  INVALID_STATUS: 'ERR_INVALID_STATUS',
  /** Custom reason phrase contains a forbidden character. */
  INVALID_REASON: 'ERR_INVALID_REASON',
  /** The head was already written: status and headers can no longer change. */
  HEADERS_SENT: 'ERR_HEADERS_SENT',
  /** The response is already complete. */
  FINISHED: 'ERR_RESPONSE_FINISHED',
  /** More or fewer body bytes than the declared Content-Length. */
  CONTENT_LENGTH_MISMATCH: 'ERR_CONTENT_LENGTH_MISMATCH',
  /** Content-Length value is not a non-negative decimal integer. */
  INVALID_CONTENT_LENGTH: 'ERR_INVALID_CONTENT_LENGTH',
  /** Transfer-Encoding other than `chunked` was set (the writer only frames with chunked). */
  INVALID_TRANSFER_ENCODING: 'ERR_INVALID_TRANSFER_ENCODING',
  /** Trailers were given for a response that is not chunked. */
  TRAILERS_UNSUPPORTED: 'ERR_TRAILERS_UNSUPPORTED',
  /** A trailer field that must not appear in trailers (RFC 9110 section 6.5.1). */
  FORBIDDEN_TRAILER: 'ERR_FORBIDDEN_TRAILER',
  /** A body chunk of an unsupported type. */
  INVALID_BODY: 'ERR_INVALID_BODY',
  /** The response stream was aborted before completion. */
  ABORTED: 'ERR_RESPONSE_ABORTED',
  /** Informational (1xx) response not allowed here (after the head, or 100 to HTTP/1.0). */
  INVALID_INFORMATIONAL: 'ERR_INVALID_INFORMATIONAL',
  /** Cookie name, value or attribute is invalid. */
  INVALID_COOKIE: 'ERR_INVALID_COOKIE',
  /** Redirect Location is invalid. */
  INVALID_LOCATION: 'ERR_INVALID_LOCATION',
} as const;

/** One of the {@link ResponseErrorCode} values. */
export type ResponseErrorCodeValue = (typeof ResponseErrorCode)[keyof typeof ResponseErrorCode];

/**
 * The only error class this package throws for misuse or bad input.
 *
 * @example
 * try { res.header('X-A', 'a\r\nb'); } catch (e) { if (e instanceof ResponseError) e.code; // 'ERR_INVALID_HEADER_VALUE' }
 */
export class ResponseError extends Error {
  /** Stable machine-readable code (see {@link ResponseErrorCode}). */
  readonly code: ResponseErrorCodeValue;
  constructor(code: ResponseErrorCodeValue, message: string) {
    super(message);
    this.name = 'ResponseError';
    this.code = code;
  }
}
