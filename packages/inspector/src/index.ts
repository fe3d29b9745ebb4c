/**
 * @strata/inspector: a wire inspector any `@strata/server` app mounts. It records each request's
 * raw bytes (as the transport read them), route, response head, status, bytes and timing from the
 * layers' `node:diagnostics_channel` channels, only while someone watches, into a bounded ring,
 * with secrets masked; and serves a page, JSON and a live feed under one base path.
 *
 * @example
 * ```ts
 * import { createInspector } from '@strata/inspector';
 * import { createServer } from '@strata/server';
 * const inspector = createInspector({ basePath: '/inspect' });
 * const server = createServer({
 *   handler(req, res) {
 *     if (inspector.handle(req, res)) return;
 *     res.send('hello');
 *   },
 * });
 * ```
 */
export { createInspector, type Inspector, type InspectorOptions, NOTIFY_MS } from './_inspector';
export { escapeHtml, showWire } from './_pages';
export { MAX_PENDING_BYTES, UNOBSERVED_EARLIER, UNOBSERVED_LOST } from './_recorder';
export type {
  InspectedRefusal,
  InspectedRequest,
  InspectedResponse,
  InspectedRoute,
  InspectorEntry,
  RecordingMode,
  RecordingState,
} from './_types';
export { DEFAULT_MASKED_HEADERS } from './_wire';
