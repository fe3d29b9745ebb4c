/**
 * @strata/server: the HTTP/1.1 connection engine. Composes `@strata/transport` (sockets),
 * `@strata/http-parser` (request bytes -> heads and bodies) and `@strata/response` (response bytes),
 * and takes any handler (a router is one).
 *
 * @example
 * ```ts
 * import { createServer } from '@strata/server';
 * const server = createServer({
 *   handler(req, res) { res.header('content-type', 'text/plain').send(`Hello from ${req.path}`); },
 * });
 * await server.listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export type { Handler, ResponseInfo, UpgradeHandler } from './_connection';
export {
  type RequestRefusedMessage,
  type RequestTraceContext,
  type ResponseFinishMessage,
  ServerChannel,
} from './_diagnostics';
export { ServerError, ServerErrorCode, type ServerErrorCodeValue, STATUS_BY_CODE } from './_errors';
export { type FetchHandler, type FetchInfo, fetchHandler, type ServeOptions, serve } from './_fetch';
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type ServerLimits, type ServerTimeouts } from './_options';
export type { TrustProxy } from './_proxy';
export { ServerRequest } from './_request';
export { createServer, type Server, type ServerOptions, type ServerStats } from './_server';
export { acceptsUpgrade } from './_upgrade';
