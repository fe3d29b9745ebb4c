/**
 * Stable error codes thrown by registration (`add`, `remove`, `createRouter`) and carried by the
 * 400/414 results of `find`. Codes are the contract; messages are for humans and may change.
 */
export const RouterErrorCode = {
  /** A pattern does not follow the pattern grammar (see the README). */
  INVALID_PATTERN: 'ROUTER_INVALID_PATTERN',
  /** A method is not an RFC 9110 token (or `'*'`). */
  INVALID_METHOD: 'ROUTER_INVALID_METHOD',
  /** The same method and pattern were registered twice. */
  DUPLICATE_ROUTE: 'ROUTER_DUPLICATE_ROUTE',
  /** Two different patterns on the same method can never be told apart. */
  ROUTE_CONFLICT: 'ROUTER_ROUTE_CONFLICT',
  /** A param's regex constraint does not compile. */
  INVALID_REGEX: 'ROUTER_INVALID_REGEX',
  /** A param's regex constraint could backtrack catastrophically (nested quantifiers, backreferences...). */
  UNSAFE_REGEX: 'ROUTER_UNSAFE_REGEX',
  /** An option passed to `createRouter` is out of range. */
  INVALID_OPTION: 'ROUTER_INVALID_OPTION',
  /** `find` result (400): a `%` not followed by two hex digits, or a param that is not UTF-8 once decoded. */
  BAD_PERCENT_ENCODING: 'ROUTER_BAD_PERCENT_ENCODING',
  /** `find` result (400): the path holds a `.` or `..` segment and `dotSegments` is `'reject'`. */
  DOT_SEGMENT: 'ROUTER_DOT_SEGMENT',
  /** `find` result (400): the path does not start with `/` (and is not `OPTIONS *`). */
  INVALID_PATH: 'ROUTER_INVALID_PATH',
  /** `find` result (414): nothing matched and a param candidate was longer than `maxParamLength`. */
  PARAM_TOO_LONG: 'ROUTER_PARAM_TOO_LONG',
} as const;

/** One of the {@link RouterErrorCode} values. */
export type RouterErrorCode = (typeof RouterErrorCode)[keyof typeof RouterErrorCode];

/**
 * Thrown by registration when a route or an option is refused. `code` is stable; match on it,
 * never on `message`.
 *
 * @example
 * ```ts
 * try { router.add('GET', '/:b', 2); } catch (e) {
 *   if (e instanceof RouterError && e.code === 'ROUTER_ROUTE_CONFLICT') { ... }
 * }
 * ```
 */
export class RouterError extends Error {
  /** Stable machine-readable code, one of {@link RouterErrorCode}. */
  readonly code: RouterErrorCode;

  constructor(code: RouterErrorCode, message: string) {
    super(message);
    this.name = 'RouterError';
    this.code = code;
  }
}
