import { FormError } from '@strata/forms';
import type { ResponseWriter } from '@strata/response';
import type { EngineConfig, ResponseInfo } from './_connection';
import {
  finishChannel,
  type RequestTraceContext,
  type ResponseFinishMessage,
  requestTrace,
} from './_diagnostics';
import { ServerError, ServerErrorCode } from './_errors';
import type { ServerRequest } from './_request';

/** One request being handled, as far as calling its handler needs it (HTTP/1.1 and HTTP/2). @internal */
export interface HandledExchange {
  /** `performance.now()` at the head, or 0 when not measured. */
  start: number;
  /** The trace context while `strata:server:request` is traced. */
  trace: RequestTraceContext | null;
}

/** The connection a handler runs for (HTTP/1.1 `ConnState` or the HTTP/2 session). @internal */
export interface HandlerHost<E extends HandledExchange> {
  readonly config: EngineConfig;
  readonly connectionId: number;
  /** The handler returned, or its promise settled. */
  handlerSettled(ex: E): void;
  /** The handler threw or rejected. */
  handlerFailed(ex: E, error: unknown): void;
}

/**
 * Calls the server's handler for `ex`: synchronously, then once more when its promise settles. With
 * `strata:server:request` traced, the handler runs inside `start.runStores(context)`, and end,
 * asyncStart, asyncEnd and error are published as `TracingChannel.tracePromise` does.
 */
export function invokeHandler<E extends HandledExchange>(
  host: HandlerHost<E>,
  ex: E,
  req: ServerRequest,
  res: ResponseWriter,
): void {
  if (requestTrace.hasSubscribers) {
    invokeTraced(host, ex, req, res);
    return;
  }
  try {
    const r = host.config.handler(req, res);
    if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') {
      // The request stays in flight until its handler settles, not just its response.
      (r as Promise<void>).then(
        () => host.handlerSettled(ex),
        (e: unknown) => {
          host.handlerSettled(ex);
          host.handlerFailed(ex, e);
        },
      );
      return;
    }
  } catch (e) {
    host.handlerSettled(ex);
    host.handlerFailed(ex, e);
    return;
  }
  host.handlerSettled(ex);
}

function invokeTraced<E extends HandledExchange>(
  host: HandlerHost<E>,
  ex: E,
  req: ServerRequest,
  res: ResponseWriter,
): void {
  const ctx: RequestTraceContext = {
    request: req,
    response: res,
    connectionId: host.connectionId,
    startTime: ex.start !== 0 ? ex.start : performance.now(),
    route: null,
  };
  ex.trace = ctx;
  requestTrace.start.runStores(ctx, () => {
    let r: unknown;
    try {
      r = host.config.handler(req, res);
    } catch (e) {
      ctx.error = e;
      requestTrace.error.publish(ctx);
      requestTrace.end.publish(ctx);
      host.handlerSettled(ex);
      host.handlerFailed(ex, e);
      return;
    }
    ctx.result = r;
    requestTrace.end.publish(ctx);
    if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => {
          requestTrace.asyncStart.publish(ctx);
          host.handlerSettled(ex);
          requestTrace.asyncEnd.publish(ctx);
        },
        (e: unknown) => {
          ctx.error = e;
          requestTrace.error.publish(ctx);
          requestTrace.asyncStart.publish(ctx);
          host.handlerSettled(ex);
          host.handlerFailed(ex, e);
          requestTrace.asyncEnd.publish(ctx);
        },
      );
      return;
    }
    host.handlerSettled(ex);
  });
}

/**
 * Whether an error escaping a handler is the client's doing (it went away, sent too much, sent a
 * bad body, took too long), not a bug: such errors are counted, never logged as handler errors.
 */
function clientFault(e: unknown): boolean {
  if (e instanceof ServerError) {
    const c = e.code;
    return (
      c === ServerErrorCode.ABORTED ||
      c === ServerErrorCode.BODY_TOO_LARGE ||
      c === ServerErrorCode.INVALID_JSON ||
      c === ServerErrorCode.HEADERS_TIMEOUT ||
      c === ServerErrorCode.REQUEST_TIMEOUT ||
      c === ServerErrorCode.SEND_TIMEOUT
    );
  }
  if (e instanceof FormError) return true;
  if (e === null || typeof e !== 'object') return false;
  const code = (e as { code?: unknown }).code;
  // A response aborted because its connection went away (`@strata/response`), or an AbortSignal's
  // AbortError whose reason is one of ours.
  if (code === 'ERR_RESPONSE_ABORTED') return true;
  if ((e as { name?: unknown }).name === 'AbortError') return true;
  return false;
}

/**
 * A handler's error, for `onError`, unless it is the client's doing (see {@link clientFault}) or its
 * client had already gone (whatever it throws then is a consequence). A failing logger is ignored.
 */
export function reportHandlerError(
  config: EngineConfig,
  clientGone: boolean,
  error: unknown,
  req: ServerRequest | null,
): void {
  if (clientGone || clientFault(error)) return;
  const onError = config.onError;
  if (onError === null) return;
  try {
    onError(error, req);
  } catch {
    // a failing logger must not take the connection down
  }
}

/** A finished exchange of either framing, as the access log and `response.finish` read it. @internal */
export interface FinishedExchange extends HandledExchange {
  readonly req: ServerRequest | null;
  res: ResponseWriter | null;
  /** Response bytes written (when measured). */
  bytes: number;
  /** Bytes and time are measured (an `onResponse` logger, or a `response.finish` subscriber). */
  measure: boolean;
}

/** Calls `config.onResponse` (the caller checked it is set) for `ex`; a failing logger is ignored. */
export function logResponse(
  config: EngineConfig,
  ex: FinishedExchange,
  status: number,
  remoteAddress: string,
): void {
  const req = ex.req;
  const info: ResponseInfo = {
    method: req !== null ? req.method : '',
    path: req !== null ? req.path : '',
    status,
    bytes: ex.bytes,
    durationMs: ex.start === 0 ? 0 : performance.now() - ex.start,
    remoteAddress,
  };
  try {
    config.onResponse!(info);
  } catch {
    // a failing logger must not take the connection down
  }
}

/** Publishes `strata:server:response.finish` for `ex` (the caller checked `hasSubscribers`). */
export function publishFinish(
  connectionId: number,
  ex: FinishedExchange,
  status: number,
  aborted: boolean,
): void {
  const req = ex.req;
  const ctx = ex.trace;
  const msg: ResponseFinishMessage = {
    request: req,
    response: ex.res,
    connectionId,
    context: ctx,
    route: ctx !== null ? ctx.route : null,
    status,
    bytesIn: req !== null ? req._received : 0,
    bytesOut: ex.measure ? ex.bytes : -1,
    durationMs: ex.measure ? performance.now() - ex.start : -1,
    aborted,
  };
  finishChannel.publish(msg);
}
