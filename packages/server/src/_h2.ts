/**
 * HTTP/2 in the engine: one {@link H2Session} per connection that speaks h2 (ALPN `h2` over TLS,
 * or the client preface on a cleartext connection), one {@link H2Exchange} per stream. The
 * protocol itself is `@strata/http2`'s sans-I/O connection; this file moves bytes between it and
 * the transport, and gives each stream the same `ServerRequest`, `ResponseWriter` and handler as an
 * HTTP/1.1 request.
 *
 * Backpressure: the transport's write queue full (`blocked`) stops reading and stops handing DATA
 * out, so stream queues fill and `sendData` says false, which makes the response writer wait. A
 * request body is given back to the client's window (WINDOW_UPDATE) only as the handler reads it.
 */
import { FormError } from '@strata/forms';
import {
  ErrorCode,
  type Http2Error,
  Http2ErrorCode,
  type Http2Handlers,
  type Http2Limits,
  Http2ServerConnection,
  type RequestHead,
} from '@strata/http2';
import { type FieldSink, ResponseWriter, statusText } from '@strata/response';
import type { Connection } from '@strata/transport';
import type { EngineConfig } from './_connection';
import {
  finishChannel,
  type RequestRefusedMessage,
  type RequestTraceContext,
  refusedChannel,
} from './_diagnostics';
import { ServerError, ServerErrorCode } from './_errors';
import { type Flushable, scheduleFlush } from './_flush';
import { type HandlerHost, invokeHandler, logResponse, publishFinish, reportHandlerError } from './_invoke';
import type { ConnRegistry, Counters, RegisteredConn } from './_registry';
import { type RequestOwner, ServerRequest } from './_request';

const EMPTY = new Uint8Array(0);
/** Shares of DATA (256 KiB each) written past the socket's high-water mark in one flush. */
const FLUSH_ROUNDS = 16;

/** The HTTP status a refused stream is counted with (`request.refused`). */
function refusedStatus(err: Http2Error): number {
  switch (err.code) {
    case Http2ErrorCode.H2_HEADER_LIST_TOO_LARGE:
      return 431;
    case Http2ErrorCode.H2_TOO_MANY_STREAMS:
      return 503;
    default:
      return 400;
  }
}

/**
 * RFC 9113 section 8.2.3: a client may split `cookie` into several fields (one per cookie, for
 * better compression); they are joined with `; ` into one, in place of the first, so that
 * `req.header('cookie')` reads every cookie as over HTTP/1.1. `raw` is returned when it has at most one.
 */
function joinCookies(raw: string[]): string[] {
  let first = -1;
  let more = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] !== 'cookie') continue;
    if (first < 0) first = i;
    else more = true;
  }
  if (!more) return raw;
  const out: string[] = [];
  let joined = '';
  let at = -1;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] !== 'cookie') out.push(raw[i]!, raw[i + 1]!);
    else {
      joined = joined === '' ? raw[i + 1]! : `${joined}; ${raw[i + 1]}`;
      if (i === first) {
        at = out.length + 1;
        out.push('cookie', '');
      }
    }
  }
  out[at] = joined;
  return out;
}

/** One stream: the response writer's field sink and the request's body owner. @internal */
export class H2Exchange implements FieldSink, RequestOwner {
  readonly session: H2Session;
  readonly id: number;
  req: ServerRequest | null = null;
  res: ResponseWriter | null = null;
  /** The response's last frame is queued (END_STREAM). */
  finSent = false;
  /** `end()` was called (or the stream closed). */
  ended = false;
  /** Writes are ignored: the stream is gone. */
  dead = false;
  aborted = false;
  handlerDone = false;
  /** Body bytes delivered to the request and not yet given back to the client's window. */
  unconsumed = 0;
  continued = false;
  measure = false;
  start = 0;
  bytes = 0;
  trace: RequestTraceContext | null = null;
  drain: (() => void) | null = null;
  /** When the request's body must be complete (`timeouts.request`, `req.setRequestTimeout`); 0: never. */
  deadline: number;
  readonly opened: number;

  constructor(session: H2Session, id: number) {
    this.session = session;
    this.id = id;
    const now = session.clock.now;
    this.opened = now;
    const t = session.config.timeouts.request;
    this.deadline = t > 0 ? now + t : 0;
  }

  // ---- FieldSink ---------------------------------------------------------------------------------

  writeHead(status: number, fields: string[], end: boolean): boolean {
    if (this.dead) return false;
    const s = this.session;
    s.h2.respond(this.id, status, fields, end);
    if (end) this.finSent = true;
    s.touched();
    return true;
  }

  writeTrailers(fields: string[]): void {
    if (this.dead || this.finSent) return;
    this.finSent = true;
    this.session.h2.sendTrailers(this.id, fields);
    this.session.touched();
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.dead || this.finSent) return false;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.measure) this.bytes += bytes.length;
    const ok = this.session.h2.sendData(this.id, bytes, false);
    this.session.touched();
    return ok && !this.session.blocked;
  }

  cork(): void {
    this.session.corkDepth++;
  }

  uncork(): void {
    const s = this.session;
    if (s.corkDepth > 0 && --s.corkDepth === 0) s.touched();
  }

  onDrain(listener: () => void): void {
    this.drain = listener;
    const s = this.session;
    if (!s.blocked && s.h2.buffered(this.id) < s.h2.limits.streamHighWater) s.touched();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const s = this.session;
    if (!this.dead && !this.finSent) {
      this.finSent = true;
      s.h2.sendData(this.id, EMPTY, true);
    }
    s.finished(this, this.aborted);
    s.touched();
  }

  // ---- RequestOwner ------------------------------------------------------------------------------

  bodyWanted(req: ServerRequest): void {
    if (req.contentLength > req._limit || req._received > req._limit) {
      this.session.tooLarge(this);
      return;
    }
    if (!req._bodyDone && !this.continued && this.session.config.autoContinue) {
      const expect = req.header('expect');
      if (expect !== undefined && expect.toLowerCase() === '100-continue') this.sendContinue();
    }
  }

  bodyRead(_req: ServerRequest): void {
    const n = this.unconsumed;
    if (n > 0) {
      this.unconsumed = 0;
      this.session.h2.consume(this.id, n);
      this.session.touched();
    }
  }

  setSendTimeout(_ms: number): void {
    // HTTP/2 streams share the connection's send timeout (`timeouts.send`).
  }

  setRequestTimeout(ms: number): void {
    this.deadline = ms > 0 ? this.opened + ms : 0;
  }

  sendContinue(): void {
    const res = this.res;
    if (res === null || res.headersSent || this.continued || this.dead) return;
    this.continued = true;
    res.writeContinue();
  }

  /** The stream is gone before its response ended: the request fails, a streamed body stops. */
  abort(reason: Error): void {
    this.dead = true;
    if (!this.ended) this.aborted = true;
    const req = this.req;
    if (req !== null) req._fail(reason, true);
    const res = this.res;
    if (!this.ended && res !== null) res.abort();
    const d = this.drain;
    if (d !== null) {
      this.drain = null;
      d();
    }
  }
}

/**
 * One HTTP/2 connection in the engine. It takes the connection's place in the server's registry
 * and as `conn.data`. @internal
 */
export class H2Session implements Http2Handlers, HandlerHost<H2Exchange>, Flushable, RegisteredConn {
  readonly conn: Connection;
  readonly config: EngineConfig;
  readonly registry: ConnRegistry;
  readonly clock: { now: number };
  readonly counters: Counters;
  readonly h2: Http2ServerConnection;
  regPrev: RegisteredConn | null = null;
  regNext: RegisteredConn | null = null;
  private readonly streams = new Map<number, H2Exchange>();
  batching = false;
  corkDepth = 0;
  flushScheduled = false;
  /** The transport's write queue is over its mark: reading and DATA wait for its drain. */
  blocked = false;
  blockedSince = 0;
  private closing = false;
  private closed = false;
  idleSince: number;

  constructor(
    conn: Connection,
    config: EngineConfig,
    registry: ConnRegistry,
    clock: { now: number },
    counters: Counters,
    limits: Partial<Http2Limits> | undefined,
  ) {
    this.conn = conn;
    this.config = config;
    this.registry = registry;
    this.clock = clock;
    this.counters = counters;
    this.idleSince = clock.now;
    this.h2 = new Http2ServerConnection(this, { limits, id: conn.id });
    conn.idle = true;
  }

  get connectionId(): number {
    return this.conn.id;
  }

  // ---- transport events -------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.batching = true;
    this.h2.receive(chunk);
    this.batching = false;
    this.flush();
  }

  onDrain(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.conn.resume();
    this.flush();
    if (this.blocked) return;
    // Streams whose writers waited on the socket (not on their window) may go on.
    for (const ex of this.streams.values()) {
      const d = ex.drain;
      if (d !== null && this.h2.buffered(ex.id) < this.h2.limits.streamHighWater) {
        ex.drain = null;
        d();
      }
    }
  }

  onEnd(): void {
    // The client closed its side: nothing more can arrive, and HTTP/2 has no half-close of a
    // connection. Streams still open are aborted.
    this.abortAll('client closed the connection', true);
    this.finish();
  }

  onClose(): void {
    this.closed = true;
    this.registry.delete(this);
    this.abortAll('connection closed', true);
  }

  releaseParser(): void {
    // An HTTP/2 session holds no HTTP/1.1 parser (it was given back at the switch).
  }

  // ---- Http2Handlers ----------------------------------------------------------------------------

  write(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.conn.write(chunk) && !this.blocked) {
      this.blocked = true;
      this.blockedSince = this.clock.now || 1;
      this.conn.pause();
    }
  }

  onRequest(id: number, head: RequestHead, end: boolean): void {
    const cfg = this.config;
    this.counters.requests++;
    this.conn.idle = false;
    const ex = new H2Exchange(this, id);
    const fields = head.fields;
    const raw = joinCookies(head.fieldsStart === 0 ? fields : fields.slice(head.fieldsStart));
    let host: string | null = head.authority !== '' ? head.authority : null;
    if (host === null)
      for (let i = 0; i < raw.length; i += 2)
        if (raw[i] === 'host') {
          host = raw[i + 1]!;
          break;
        }
    const conn = this.conn;
    const req = new ServerRequest(
      ex,
      head.method,
      head.method === 'CONNECT' ? head.authority : head.path,
      2,
      raw,
      host,
      head.contentLength,
      !end,
      conn,
      conn.encrypted,
      cfg.trust,
      cfg.bodyLimit,
    );
    req._stream = id;
    ex.req = req;
    const res = new ResponseWriter(ex, {
      method: head.method,
      versionMinor: 1,
      keepAlive: true,
      http2: true,
    });
    ex.res = res;
    if (cfg.onResponse !== null || finishChannel.hasSubscribers) {
      ex.measure = true;
      ex.start = performance.now();
    }
    this.streams.set(id, ex);
    invokeHandler(this, ex, req, res);
  }

  onRequestData(id: number, data: Uint8Array, end: boolean): void {
    const ex = this.streams.get(id);
    if (ex === undefined) {
      this.h2.consume(id, data.length);
      return;
    }
    const req = ex.req!;
    const n = data.length;
    if (n > 0) {
      if (req._discarding || ex.ended) this.h2.consume(id, n);
      else {
        req._push(data, false);
        ex.unconsumed += n;
        if (req._consumed && req._received > req._limit) {
          this.tooLarge(ex);
          return;
        }
      }
    }
    if (end) req._complete(null);
  }

  onTrailers(id: number, fields: string[]): void {
    const ex = this.streams.get(id);
    if (ex !== undefined) ex.req!._complete(fields.slice());
  }

  onStreamClose(id: number, error: Http2Error | null): void {
    const ex = this.streams.get(id);
    if (ex === undefined) return;
    this.streams.delete(id);
    if (this.streams.size === 0) {
      this.idleSince = this.clock.now;
    }
    const req = ex.req;
    if (error === null) {
      // Our END_STREAM is out. A request body still arriving was stopped (RST_STREAM NO_ERROR):
      // what is left of it is dropped, as HTTP/1.1 drains the body of a finished response.
      if (req !== null && !req._bodyDone) req._discard();
      return;
    }
    // Reset (by the client or by us) or the connection failed before the response ended: the
    // writer is cut, and its end() counts the response as aborted.
    if (!ex.ended) {
      this.counters.aborted++;
      ex.abort(new ServerError(ServerErrorCode.ABORTED, `stream ${id} closed: ${error.message}`));
    } else if (req !== null && !req._bodyDone)
      req._fail(new ServerError(ServerErrorCode.ABORTED, error.message), true);
  }

  /** Resets the stream of `ex` with `code` and cuts its response (its end() counts it aborted). */
  private reset(ex: H2Exchange, code: number, why: string): void {
    this.h2.resetStream(ex.id, code);
    if (this.streams.delete(ex.id) && this.streams.size === 0) {
      this.idleSince = this.clock.now;
    }
    ex.abort(new ServerError(ServerErrorCode.ABORTED, why));
    this.touched();
  }

  onStreamWritable(id: number): void {
    const ex = this.streams.get(id);
    if (ex === undefined || this.blocked) return;
    const d = ex.drain;
    if (d !== null) {
      ex.drain = null;
      d();
    }
  }

  onRefused(_id: number, error: Http2Error): void {
    this.counters.rejected++;
    this.publishRefused(error, refusedStatus(error));
  }

  onError(error: Http2Error): void {
    // A connection error of the client's making (or a timeout of ours): GOAWAY is queued; the
    // connection ends once it is flushed.
    if (error.code === Http2ErrorCode.H2_SETTINGS_TIMEOUT || error.code === Http2ErrorCode.H2_SEND_TIMEOUT)
      this.counters.timedOut++;
    else this.counters.rejected++;
    this.publishRefused(error, 400);
    this.closing = true;
  }

  private publishRefused(error: Http2Error, status: number): void {
    if (!refusedChannel.hasSubscribers) return;
    const conn = this.conn;
    const msg: RequestRefusedMessage = {
      connectionId: conn.id,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      status,
      code: error.code,
      offset: -1,
      streamId: error.streamId,
      error,
    };
    refusedChannel.publish(msg);
  }

  // ---- handler ----------------------------------------------------------------------------------

  handlerSettled(ex: H2Exchange): void {
    ex.handlerDone = true;
  }

  /** A handler threw: as over HTTP/1.1, but the answer is a response on its stream, or a reset. */
  handlerFailed(ex: H2Exchange, error: unknown): void {
    reportHandlerError(this.config, ex.aborted, error, ex.req);
    if (ex.dead || ex.ended) return;
    const res = ex.res!;
    if (!res.headersSent) {
      const invalidJson = error instanceof ServerError && error.code === ServerErrorCode.INVALID_JSON;
      let status = invalidJson ? 400 : 500;
      let body = statusText(status);
      if (error instanceof FormError) {
        status = error.status;
        body = `${status} ${statusText(status)}: ${error.code}`;
      }
      if (invalidJson || error instanceof FormError) this.counters.rejected++;
      this.answer(ex, status, body);
      return;
    }
    // Half a response is out: the client must see it cut.
    this.reset(ex, ErrorCode.INTERNAL_ERROR, 'handler failed after the head was sent');
  }

  /** The body of `ex` is over its limit: reads fail, 413 when nothing was sent, the stream ends. */
  tooLarge(ex: H2Exchange): void {
    this.counters.rejected++;
    const error = new ServerError(ServerErrorCode.BODY_TOO_LARGE, 'request body is larger than its limit');
    if (ex.req !== null) ex.req._reject(error);
    const res = ex.res;
    if (!ex.ended && !ex.dead && res !== null && !res.headersSent) this.answer(ex, 413, statusText(413));
    else if (!ex.ended) this.reset(ex, ErrorCode.CANCEL, 'request body is larger than its limit');
  }

  private answer(ex: H2Exchange, status: number, body: string): void {
    const res = ex.res!;
    try {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.status(status).header('content-type', 'text/plain; charset=utf-8').send(body);
    } catch {
      this.reset(ex, ErrorCode.INTERNAL_ERROR, 'error response failed');
    }
  }

  /** The response of `ex` ended (or was cut): counters, access log, `response.finish`. */
  finished(ex: H2Exchange, aborted: boolean): void {
    const res = ex.res;
    const status = res?.headersSent ? res.statusCode : 0;
    if (!aborted) this.counters.responded(status);
    const req = ex.req;
    if (!aborted && req !== null && !req._bodyDone) req._discard();
    if (this.config.onResponse !== null && !aborted && req !== null)
      logResponse(this.config, ex, status, this.conn.remoteAddress);
    if (finishChannel.hasSubscribers) publishFinish(this.conn.id, ex, status, aborted);
  }

  // ---- output ----------------------------------------------------------------------------------

  /** Something was queued: flush at the end of the read, or in the shared microtask. */
  touched(): void {
    if (!this.batching && this.corkDepth === 0) scheduleFlush(this);
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    if (!this.blocked) {
      // Each h2 flush hands out a bounded share of DATA (256 KiB); go on until nothing is left
      // that the windows allow, or the socket's queue is full and FLUSH_ROUNDS more shares went
      // into it (its drain flushes again). Full DATA frames are views of the response's own
      // bytes, so a deep queue costs references, not copies, and one writev carries megabytes.
      this.conn.cork();
      let extra = 0;
      while (!this.h2.flush()) if (this.blocked && ++extra >= FLUSH_ROUNDS) break;
      this.conn.uncork();
    }
    // Only now, with the batch handed over, may the transport hear that the connection is idle: a
    // graceful close ends an idle connection at once, which inside the batch would lose its bytes.
    // While our own GOAWAY shutdown runs, the session ends the connection itself when it is done.
    const idle = this.streams.size === 0 && !this.h2.goingAway;
    if (idle !== this.conn.idle) this.conn.idle = idle;
    if (this.closing || this.h2.closed) this.finish();
  }

  /** Ends the transport once the last frames are written. */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.delete(this);
    this.abortAll('connection closing', false);
    this.conn.end();
  }

  private abortAll(why: string, clientGone: boolean): void {
    if (this.streams.size === 0) return;
    const gone = new ServerError(ServerErrorCode.ABORTED, why);
    const list = Array.from(this.streams.values());
    this.streams.clear();
    for (const ex of list) {
      if (ex.ended) continue;
      if (clientGone) this.counters.aborted++;
      ex.abort(gone);
    }
  }

  // ---- timers and shutdown ---------------------------------------------------------------------

  sweep(now: number): void {
    if (this.closed) return;
    const t = this.config.timeouts;
    if (this.blocked && t.send > 0 && now - this.blockedSince >= t.send) {
      this.counters.timedOut++;
      this.closed = true;
      this.registry.delete(this);
      this.abortAll('client did not read the response in time', false);
      this.conn.destroy(
        new ServerError(ServerErrorCode.SEND_TIMEOUT, 'client did not read the response in time'),
      );
      return;
    }
    this.h2.checkTimers(now, t.send);
    // A request body that is not complete by its deadline: 408 (or a reset once the head is out).
    let late: H2Exchange[] | null = null;
    for (const ex of this.streams.values())
      if (ex.deadline !== 0 && now >= ex.deadline && ex.req !== null && !ex.req._bodyDone)
        (late ??= []).push(ex);
    if (late !== null)
      for (const ex of late) {
        this.counters.timedOut++;
        const error = new ServerError(ServerErrorCode.REQUEST_TIMEOUT, 'request not received in time');
        ex.req!._fail(error, false);
        const res = ex.res;
        if (!ex.ended && !ex.dead && res !== null && !res.headersSent) this.answer(ex, 408, statusText(408));
        else if (!ex.ended) this.reset(ex, ErrorCode.CANCEL, error.message);
      }
    if (
      this.streams.size === 0 &&
      !this.h2.goingAway &&
      t.keepAlive > 0 &&
      now - this.idleSince >= t.keepAlive
    )
      this.h2.shutdown();
    this.flush();
  }

  shutdown(): void {
    if (this.closed) return;
    this.h2.shutdown();
    this.flush();
  }
}
