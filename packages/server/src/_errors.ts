/**
 * The one place where every server-level failure gets its stable `code` and its HTTP status.
 *
 * Parse errors from `@strata/http-parser` already carry a status (`HttpParseError.status`); the
 * server's own failures (timeouts, limits it enforces, handler errors) are listed here. Each status
 * is answered with a pre-serialised `Connection: close` response from `@strata/response`
 * (`cannedResponse(status)`), built once and reused.
 */

/** Stable codes for the failures the server itself detects. */
export const ServerErrorCode = {
  /** The request head did not complete within `timeouts.headers` (slowloris defence). */
  HEADERS_TIMEOUT: 'ERR_HEADERS_TIMEOUT',
  /** The whole request (head and body) did not arrive within `timeouts.request`. */
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  /** A response made no progress for `timeouts.send` (the client stopped reading): the connection was cut. */
  SEND_TIMEOUT: 'ERR_SEND_TIMEOUT',
  /** The body is larger than `limits.maxBodyBytes` (or the request's `setBodyLimit`). */
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  /** The client went away before the body was complete. */
  ABORTED: 'ERR_ABORTED',
  /** `body()`, `text()`, `json()` or the iterator was used twice. */
  BODY_CONSUMED: 'ERR_BODY_CONSUMED',
  /** `json()` met a body that is not valid JSON. */
  INVALID_JSON: 'ERR_INVALID_JSON',
  /** The handler threw or its promise rejected. */
  HANDLER_FAILED: 'ERR_HANDLER_FAILED',
  /** `listen()` called twice, or `close()` before `listen()`. */
  INVALID_STATE: 'ERR_INVALID_STATE',
  /** An option has a value the server cannot use. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
} as const;

/** One of the {@link ServerErrorCode} values. */
export type ServerErrorCodeValue = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

/** HTTP status for each server error code (the single error -> status table). */
export const STATUS_BY_CODE: Readonly<Record<ServerErrorCodeValue, number>> = {
  ERR_HEADERS_TIMEOUT: 408,
  ERR_REQUEST_TIMEOUT: 408,
  ERR_SEND_TIMEOUT: 408,
  ERR_BODY_TOO_LARGE: 413,
  ERR_ABORTED: 400,
  ERR_BODY_CONSUMED: 500,
  ERR_INVALID_JSON: 400,
  ERR_HANDLER_FAILED: 500,
  ERR_INVALID_STATE: 500,
  ERR_INVALID_OPTION: 500,
};

/**
 * A failure detected by the server (not by the parser). `status` is the HTTP status the server
 * answers with when it still can.
 *
 * @example
 * ```ts
 * try { await req.json(); } catch (e) {
 *   if (e instanceof ServerError && e.code === 'ERR_INVALID_JSON') res.status(400).send('bad json');
 * }
 * ```
 */
export class ServerError extends Error {
  /** Stable machine-readable code, one of {@link ServerErrorCode}. */
  readonly code: ServerErrorCodeValue;
  /** HTTP status that matches the failure. */
  readonly status: number;
  constructor(code: ServerErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerError';
    this.code = code;
    this.status = STATUS_BY_CODE[code];
  }
}
