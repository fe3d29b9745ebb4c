/** Stable error codes raised by the transport layer. Match on `code`, never on `message`. */
export const TransportErrorCode = {
  /** An option passed to `listen()` or `runCluster()` is invalid. */
  INVALID_OPTION: 'ERR_TRANSPORT_INVALID_OPTION',
  /** The idle timeout fired and no `onTimeout` handler took charge of the connection. */
  IDLE_TIMEOUT: 'ERR_TRANSPORT_IDLE_TIMEOUT',
  /** A trusted peer sent a malformed PROXY protocol header (v1 or v2). */
  PROXY_HEADER: 'ERR_TRANSPORT_PROXY_HEADER',
  /** A trusted peer did not complete its PROXY protocol header in time. */
  PROXY_TIMEOUT: 'ERR_TRANSPORT_PROXY_TIMEOUT',
  /** The connection was still open when a graceful close reached its deadline. */
  CLOSE_DEADLINE: 'ERR_TRANSPORT_CLOSE_DEADLINE',
  /** The peer of an in-memory connection pair was destroyed. */
  PEER_RESET: 'ERR_TRANSPORT_PEER_RESET',
  /** A cluster worker failed before it became ready during start-up. */
  WORKER_START: 'ERR_TRANSPORT_WORKER_START',
} as const;

/** One of the {@link TransportErrorCode} values. */
export type TransportErrorCodeValue = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/**
 * Error raised by `@strata/transport`. The `code` is stable and is what callers should branch on.
 *
 * @example
 * ```ts
 * if (err instanceof TransportError && err.code === TransportErrorCode.IDLE_TIMEOUT) { ... }
 * ```
 */
export class TransportError extends Error {
  /** Stable machine-readable code, one of {@link TransportErrorCode}. */
  readonly code: TransportErrorCodeValue;

  constructor(code: TransportErrorCodeValue, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}
