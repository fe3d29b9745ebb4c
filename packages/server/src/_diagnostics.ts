/**
 * The server's `node:diagnostics_channel` channels. With no subscriber each costs one
 * `hasSubscribers` read per request where it would publish; messages are built only for listeners.
 * Subscribers run synchronously inside the engine: keep them short and never throw.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { ResponseWriter } from '@strata/response';
import type { ServerRequest } from './_request';

/** Channel names (`strata:server:*`). */
export const ServerChannel = {
  /**
   * A `TracingChannel` around each handler call: `tracing:strata:server:request:start`, `:end`
   * (the handler returned), `:asyncStart` / `:asyncEnd` (its promise settled), `:error` (it threw
   * or rejected). The message is a {@link RequestTraceContext}; the handler runs inside
   * `start.runStores(context)`, so an `AsyncLocalStorage` bound with `start.bindStore()` holds the
   * context for the whole request.
   */
  REQUEST: 'strata:server:request',
  /** A response left the queue: its last byte was handed to the socket, or it was cut short. */
  RESPONSE_FINISH: 'strata:server:response.finish',
  /** The engine answered on its own, without a handler: a parse error, 408, 413, ... */
  REQUEST_REFUSED: 'strata:server:request.refused',
} as const;

/** The context object of the `strata:server:request` tracing channel, one per request. */
export interface RequestTraceContext {
  request: ServerRequest;
  response: ResponseWriter;
  /** The transport connection's `id`. */
  connectionId: number;
  /** `performance.now()` when the request head was parsed (the handler may start later). */
  startTime: number;
  /**
   * The route pattern that matched, for traces and logs. The server leaves it null; a subscriber
   * (the OpenTelemetry integration, the inspector) or the application sets it, e.g. from
   * `strata:router:match`.
   */
  route: string | null;
  /** What the handler threw or rejected with (on `error`, `asyncStart`, `asyncEnd`). */
  error?: unknown;
  /** What the handler returned (on `end`). */
  result?: unknown;
}

/** The message of `strata:server:response.finish`. */
export interface ResponseFinishMessage {
  /** The request (null for an answer the engine made to bytes that never became a request). */
  request: ServerRequest | null;
  response: ResponseWriter | null;
  connectionId: number;
  /** The trace context of this request when `strata:server:request` was traced, else null. */
  context: RequestTraceContext | null;
  /** The route pattern (`context.route`), or null. */
  route: string | null;
  /** The status sent (0 when nothing was sent: the connection went away first). */
  status: number;
  /** Body bytes received. */
  bytesIn: number;
  /** Response bytes (head and body) handed to the socket; -1 when not measured. */
  bytesOut: number;
  /** Milliseconds from the end of the request head to the end of the response (from `context.startTime` when traced); -1 when not measured. */
  durationMs: number;
  /** The response was cut short (the client went away, a timeout, a handler error after the head). */
  aborted: boolean;
}

/** The message of `strata:server:request.refused`. */
export interface RequestRefusedMessage {
  connectionId: number;
  remoteAddress: string;
  remotePort: number;
  /** The status the engine answered with (400, 408, 413, 431, 501, 505, ...). */
  status: number;
  /** The error's stable code (`HPE_*` from the parser, `ERR_*` from the server, `H2_*` over HTTP/2). */
  code: string;
  /** The HTTP/2 stream refused; 0 over HTTP/1.x and for an HTTP/2 connection error. */
  streamId: number;
  /** For a parse error, the stream offset of the offending byte on this connection; else -1. */
  offset: number;
  error: Error;
}

/** @internal */
export const requestTrace = tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST);
/** @internal */
export const finishChannel = channel(ServerChannel.RESPONSE_FINISH);
/** @internal */
export const refusedChannel = channel(ServerChannel.REQUEST_REFUSED);
