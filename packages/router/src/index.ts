/**
 * @strata/router: a radix (segment) tree router with complete HTTP method semantics: 405 with a
 * complete Allow list, HEAD served by GET, automatic OPTIONS, any-method routes. Pure TypeScript,
 * generic over the value stored per route.
 *
 * @example
 * ```ts
 * import { createRouter } from '@strata/router';
 * const router = createRouter<string>();
 * router.add('GET', '/users/:id', 'show-user');
 * const r = router.find('GET', '/users/42?x=1');
 * // { status: 200, value: 'show-user', params: { id: '42' }, query: 'x=1', pattern: '/users/:id', method: 'GET' }
 * ```
 * @packageDocumentation
 */
import { Router, type RouterOptions } from './_router';

export { type RouteMatchMessage, RouterChannel } from './_diagnostics';
export { RouterError, RouterErrorCode } from './_errors';
export type {
  FindResult,
  Params,
  RouteBadRequest,
  RouteInfo,
  RouteMatch,
  RouteMethodNotAllowed,
  RouteNotFound,
  RouteOptions,
  RouteParamTooLong,
  RouteRedirect,
  RouterOptions,
} from './_router';
export { Router };

/**
 * Creates a router storing a `T` per route.
 *
 * Defaults: `trailingSlash: 'strict'`, `caseSensitive: true`, `maxParamLength: 100`,
 * `dotSegments: 'reject'`.
 *
 * @example
 * ```ts
 * const router = createRouter<Handler>({ trailingSlash: 'redirect' });
 * router.add('GET', '/files/:name.:ext', serveFile);
 * router.add('GET', '/static/*path', serveStatic);
 * ```
 */
export function createRouter<T>(options?: RouterOptions): Router<T> {
  return new Router<T>(options);
}
