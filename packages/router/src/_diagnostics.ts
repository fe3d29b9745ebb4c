/**
 * The router's `node:diagnostics_channel` channel. `find()` publishes only when someone subscribes
 * (one `hasSubscribers` read per lookup otherwise).
 */
import { channel } from 'node:diagnostics_channel';
import type { FindResult } from './_router';

/** Channel names (`strata:router:*`). */
export const RouterChannel = {
  /** Every `find()`, with its result (a match, or 204, 308, 400, 404, 405, 414). */
  MATCH: 'strata:router:match',
} as const;

/**
 * The message of `strata:router:match`. Published synchronously inside `find()`: a subscriber
 * that tracks the current request (an `AsyncLocalStorage` bound to `strata:server:request`) can
 * attach the matched `pattern` to it, which is how the OpenTelemetry integration sets `http.route`.
 */
export interface RouteMatchMessage {
  /** The router that answered. */
  router: object;
  /** The method and the request target as given to `find()`. */
  method: string;
  path: string;
  /** What `find()` returned; `result.pattern` is the route's pattern when `result.status` is 200. */
  result: FindResult<unknown>;
}

/** @internal */
export const matchChannel = channel(RouterChannel.MATCH);
