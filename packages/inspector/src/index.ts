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

export {
  flagNames,
  MAX_CONNECTION_FRAMES,
  MAX_H2_CONNECTIONS,
  MAX_STREAM_FRAMES,
  MAX_TRACKED_STREAMS,
} from './_frames';
export { createInspector, type Inspector, type InspectorOptions, NOTIFY_MS } from './_inspector';
export { escapeHtml, hexDump, showWire } from './_pages';
export { MAX_PENDING_BYTES, UNOBSERVED_EARLIER, UNOBSERVED_H2, UNOBSERVED_LOST } from './_recorder';
export type {
  InspectedConnection,
  InspectedFrame,
  InspectedRefusal,
  InspectedRequest,
  InspectedResponse,
  InspectedRoute,
  InspectedStream,
  InspectorEntry,
  RecordingMode,
  RecordingState,
} from './_types';
export { DEFAULT_MASKED_HEADERS } from './_wire';
