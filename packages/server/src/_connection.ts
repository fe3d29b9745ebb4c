/**
 * The connection engine: the one place where sockets and HTTP meet (uWS `HttpContext.h`, hyper
 * `conn.rs` + `dispatch.rs`). Bytes in -> parser -> handler -> response bytes out, kept alive and
 * pipelined, every resource of a connection bounded.
 *
 * Per connection there is one {@link ConnState} and per request one {@link Exchange}. The state is
 * two small enums, and every transition of each is made by one method named in the tables below.
 *
 * Reading (what the parser is doing):
 *
 * | from        | to          | by                   | when                                               |
 * |-------------|-------------|----------------------|----------------------------------------------------|
 * | Idle        | Head        | `startRequest`       | the first byte of a request arrives                |
 * | Head        | Body        | `onHead`             | a head is complete (the body may be empty)         |
 * | Body        | Idle        | `onMessageComplete`  | the request is complete and another may follow     |
 * | any         | Done        | `stopReading`        | close requested, error, FIN, upgrade, cut          |
 *
 * Writing (what happens to the connection's output):
 *
 * | from        | to          | by                   | when                                               |
 * |-------------|-------------|----------------------|----------------------------------------------------|
 * | Open        | Closing     | `closeWhenDone`      | a response or an error says close                  |
 * | Closing     | Ended       | `flush`              | every queued response is handed to the transport   |
 * | Open        | Upgraded    | `handOff`            | the upgrade handler owns the connection now        |
 * | any         | Closed      | `onClose`, `cut`     | the transport closed, or the engine destroyed it   |
 *
 * Reading is paused (the parser stops, even inside one read, and the socket stops reading) while
 * any of these holds; `updateReading` is the one place that decides:
 * - the transport's write queue is full (`blocked`): the peer does not read our responses;
 * - `limits.maxPipelined` requests are being handled;
 * - the request body being parsed has `limits.maxBodyBuffer` bytes its handler has not taken;
 * - an upgrade waits for earlier responses.
 * Bytes the parser had not reached when it paused are kept in `held` and parsed on resume.
 *
 * Pipelining: exchanges form a FIFO linked list. Only the head exchange writes to the connection;
 * a later one buffers its bytes until every earlier response has ended.
 *
 * Write batching has one owner, the transport: the engine corks the connection at its first write
 * and uncorks it at the end of the read being handled (`batching`), or, for writes made outside a
 * read (async handlers), when the last open response ends or in one shared microtask. The transport
 * copies the batch into its byte pool and sends it with one `write`.
 */
import { FormError } from '@strata/forms';
import { HttpParseError, ParseStatus, type RequestHead, type RequestParser } from '@strata/http-parser';
import { type Http2Limits, matchPreface } from '@strata/http2';
import { cannedResponse, ResponseWriter, statusText } from '@strata/response';
import type { Connection } from '@strata/transport';
import { finishChannel, type RequestRefusedMessage, refusedChannel, requestTrace } from './_diagnostics';
import { ServerError, ServerErrorCode } from './_errors';
import { Exchange } from './_exchange';
import { type Flushable, scheduleFlush } from './_flush';
import { H2Session } from './_h2';
import { invokeHandler, logResponse, publishFinish, reportHandlerError } from './_invoke';
import type { ServerLimits, ServerTimeouts } from './_options';
import type { ParserPool, ParserSlot } from './_parser-pool';
import type { ConnRegistry, Counters, RegisteredConn } from './_registry';
import { ServerRequest } from './_request';
import { offersAccepted } from './_upgrade';

/** Handler signature: the router, a function, anything. */
export type Handler = (req: ServerRequest, res: ResponseWriter) => void | Promise<void>;

/** Upgrade/CONNECT hand-off: the connection is yours; `head` holds the bytes read past the request head. */
export type UpgradeHandler = (req: ServerRequest, conn: Connection, head: Uint8Array) => void;

/** One finished response, for access logs. */
export interface ResponseInfo {
  method: string;
  path: string;
  status: number;
  /** Response bytes (head + body) written for this request. */
  bytes: number;
  /** Milliseconds from the request head to the end of the response. */
  durationMs: number;
  /** Client address (the connection's peer). */
  remoteAddress: string;
}

/** Everything the engine shares between the connections of one server. @internal */
export interface EngineConfig {
  handler: Handler;
  onUpgrade: UpgradeHandler | null;
  /** Which offered upgrade protocols `onUpgrade` takes (lower case); null: any but `h2c`. */
  upgradeProtocols: ReadonlySet<string> | null;
  onError: ((error: unknown, req: ServerRequest | null) => void) | null;
  onResponse: ((info: ResponseInfo) => void) | null;
  limits: ServerLimits;
  /** `limits.maxBodyBytes` as a request starts with it (`Infinity` for 0, no limit). */
  bodyLimit: number;
  timeouts: ServerTimeouts;
  autoContinue: boolean;
  /** A FIN from the client leaves its requests running (true) or aborts them (false, default). */
  allowHalfOpen: boolean;
  trust: ((address: string) => boolean) | null;
  /** Parsers of closed connections, reused by new ones (see {@link ParserPool}). */
  parsers: ParserPool;
  /** HTTP/2 (ALPN `h2`, and the h2c preface on cleartext connections), or null when turned off. */
  http2: { limits: Partial<Http2Limits> | undefined } | null;
}

/** What the parser is doing (see the table at the top of this file). */
const Reading = {
  /** No byte of a request is pending. */
  Idle: 0,
  /** Head bytes are arriving. */
  Head: 1,
  /** Head done, body bytes are arriving (or the request is complete but not yet reported). */
  Body: 2,
  /** Nothing more is parsed on this connection. */
  Done: 3,
} as const;
type Reading = (typeof Reading)[keyof typeof Reading];

/** What happens to the connection's output (see the table at the top of this file). */
const Writing = {
  /** Responses are written; the connection stays open. */
  Open: 0,
  /** The connection ends once every queued response is flushed. */
  Closing: 1,
  /** `end()` was called: the transport flushes and sends FIN; the state waits for its close. */
  Ended: 2,
  /** The upgrade handler owns the connection. */
  Upgraded: 3,
  /** The transport closed the connection. */
  Closed: 4,
} as const;
type Writing = (typeof Writing)[keyof typeof Writing];

/** 500 that keeps the connection usable (the request's framing is intact). */
const INTERNAL_ERROR_KEEP = Buffer.from(
  'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\nInternal Server Error',
  'latin1',
);

/** 400 for a body the handler could not parse (`ERR_INVALID_JSON`): the body was read whole. */
const BAD_REQUEST_KEEP = Buffer.from(
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\n\r\nBad Request',
  'latin1',
);

/**
 * The answer to a form body the handler could not parse (a `FormError` escaped it): its status
 * (400, 413 or 415) and its stable code as the body, e.g. `413 Content Too Large: FORM_FILE_TOO_LARGE`.
 */
function formErrorResponse(e: FormError, keep: boolean): Uint8Array {
  const body = `${e.status} ${statusText(e.status)}: ${e.code}`;
  return Buffer.from(
    `HTTP/1.1 ${e.status} ${statusText(e.status)}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\n${keep ? '' : 'Connection: close\r\n'}\r\n${body}`,
    'latin1',
  );
}

/** After `end()`, how long a peer that never closes its side (and never reads) keeps the socket. */
const ENDED_GRACE_MS = 5_000;

/**
 * Per-connection state: parser, response queue, cork buffer, deadlines. It is the parser's callback
 * target, so a request allocates only its head, request, exchange and writer.
 * @internal
 */
export class ConnState implements Flushable {
  readonly conn: Connection;
  readonly config: EngineConfig;
  readonly registry: ConnRegistry;
  /** Neighbours in the server's {@link ConnRegistry} (both null and not its first: not a member). */
  regPrev: RegisteredConn | null = null;
  regNext: RegisteredConn | null = null;
  readonly parser: RequestParser;
  /** Where `parser` came from; null once given back (the connection closed). */
  parserSlot: ParserSlot | null;
  readonly logBytes: boolean;
  /** The transport never reuses its read buffers: body views may be kept instead of copied. */
  readonly stableChunks: boolean;
  readonly clock: { now: number };
  readonly counters: Counters;
  /** The server is shutting down: every new request gets `Connection: close`. */
  draining = false;

  reading: Reading = Reading.Idle;
  writing: Writing = Writing.Open;

  /** Response queue: the head writes to the socket, the others buffer. */
  head: Exchange | null = null;
  tail: Exchange | null = null;
  /**
   * Requests being handled: their response is unfinished, or it is finished but their handler has
   * not returned (or settled) yet. `maxPipelined` bounds this.
   */
  inFlight = 0;
  /** The exchange whose request body is being parsed (null between requests and while draining). */
  parsing: Exchange | null = null;
  /** A request with a body whose handler has not been called yet (see onHead). */
  deferred: Exchange | null = null;
  /** The body being parsed belongs to a finished response: bytes are counted and dropped. */
  drainingBody = false;
  drainedBytes = 0;
  drainDeadline = 0;

  /** Bytes of the last read the parser had not reached when it paused (parsed on resume). */
  held: Uint8Array | null = null;
  /** Inside `execute` (or the end of a read): the parser must not be re-entered. */
  batching = false;

  /** The engine holds a cork on the transport: what it writes leaves at the next flush. */
  corked = false;
  /** Nesting of the response writers' `cork()` (a writer's `send` corks around its bytes). */
  corkDepth = 0;
  flushScheduled = false;
  /** The transport said false: wait for drain before reading more requests. */
  blocked = false;
  /** When `blocked` began (the send timeout counts from here). */
  blockedSince = 0;
  readPaused = false;

  /** Upgrade waiting for earlier responses: request and the bytes after its head. */
  upgradeReq: ServerRequest | null = null;
  upgradeHead: Uint8Array | null = null;
  /** The head in progress is CONNECT (an upgrade that cannot be declined). */
  connectHead = false;
  /** The connection's first bytes while they may still be the HTTP/2 preface. */
  prefaceHeld: Uint8Array | null = null;

  requests = 0;
  /** Whether the request being parsed allows another one after it. */
  lastKeepAlive = true;
  headDeadline = 0;
  requestDeadline = 0;
  /** When the request being read began (its first byte), for `req.setRequestTimeout`. */
  requestStart = 0;
  idleSince: number;
  /** When the connection was ended (`end()`), to cut a peer that never closes its side. */
  endedAt = 0;

  constructor(
    conn: Connection,
    config: EngineConfig,
    registry: ConnRegistry,
    clock: { now: number },
    counters: Counters,
  ) {
    this.conn = conn;
    this.counters = counters;
    const logBytes = config.onResponse !== null;
    this.config = config;
    this.registry = registry;
    this.clock = clock;
    this.logBytes = logBytes;
    this.stableChunks = conn.stableChunks === true;
    const slot = config.parsers.acquire(this);
    this.parserSlot = slot;
    this.parser = slot.parser;
    this.idleSince = clock.now;
    conn.idle = true;
  }

  // ---- transport events -------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    // After Connection: close, an error or an upgrade: ignore (never resynchronise).
    if (this.reading === Reading.Done || this.writing !== Writing.Open) return;
    // The first bytes of a cleartext connection may be the HTTP/2 preface (h2c by prior knowledge,
    // RFC 9113 section 3.3): looked at before the HTTP/1.1 parser sees them. 0x50 is 'P'.
    if (this.requests === 0 && this.reading === Reading.Idle && this.config.http2 !== null) {
      if (this.prefaceHeld !== null || chunk[0] === 0x50) {
        const rest = this.sniffPreface(chunk);
        if (rest === null) return;
        chunk = rest;
      }
    }
    const held = this.held;
    if (held !== null) {
      // Paused with bytes held, yet the transport delivered more (a read already under way): they
      // queue behind the held bytes, in order, as one copy.
      const both = new Uint8Array(held.length + chunk.length);
      both.set(held);
      both.set(chunk, held.length);
      this.held = both;
      return;
    }
    this.batching = true;
    this.feed(chunk);
    this.endBatch();
  }

  onDrain(): void {
    this.blocked = false;
    this.blockedSince = 0;
    const head = this.head;
    if (head !== null && head.drain !== null) {
      const d = head.drain;
      head.drain = null;
      d();
    }
    this.resumeReading();
  }

  /** The client half-closed (FIN). */
  onEnd(): void {
    if (this.writing !== Writing.Open && this.writing !== Writing.Closing) return;
    // Requests still in flight may ask for the client's address after the socket has gone: read
    // it while the socket is still open (a no-op when it is known already).
    if (this.head !== null) void this.conn.remoteAddress;
    const parsing = this.parsing;
    this.stopReading();
    if (parsing !== null && parsing.req !== null && !parsing.req._bodyDone) {
      parsing.req._fail(
        new ServerError(ServerErrorCode.ABORTED, 'client ended the request body early'),
        false,
      );
    }
    if (!this.config.allowHalfOpen) {
      // As node:http does (httpAllowHalfOpen false): a client that closed its side has gone. The
      // responses not yet complete are aborted (signals fire, streams close their sources); those
      // already retired have been handed over and are flushed before the connection ends.
      this.abortQueue('client closed its side of the connection', true);
    }
    this.closeWhenDone();
  }

  onClose(): void {
    if (this.writing === Writing.Closed) return;
    const wasUpgraded = this.writing === Writing.Upgraded;
    this.writing = Writing.Closed;
    this.reading = Reading.Done;
    this.held = null;
    this.registry.delete(this);
    if (wasUpgraded) return;
    this.abortQueue('client closed the connection', true);
  }

  /** The transport closed the connection: its parser goes back to the pool (never after an upgrade). */
  releaseParser(): void {
    const slot = this.parserSlot;
    if (slot === null || this.writing === Writing.Upgraded) return;
    this.parserSlot = null;
    this.reading = Reading.Done; // onData ignores anything late: the parser may belong to another connection now
    this.config.parsers.release(slot);
  }

  // ---- reading ----------------------------------------------------------------------------------

  /**
   * The connection's first bytes, while they match the HTTP/2 preface: all 24 hand the connection
   * to an {@link H2Session} (null returned); fewer are held until more arrive (null). Bytes that
   * differ are returned, with any held before them, for the HTTP/1.1 parser.
   */
  sniffPreface(chunk: Uint8Array): Uint8Array | null {
    let bytes = chunk;
    const held = this.prefaceHeld;
    if (held !== null) {
      bytes = new Uint8Array(held.length + chunk.length);
      bytes.set(held);
      bytes.set(chunk, held.length);
      this.prefaceHeld = null;
    }
    const m = matchPreface(bytes);
    if (m === 24) {
      const s = new H2Session(
        this.conn,
        this.config,
        this.registry,
        this.clock,
        this.counters,
        this.config.http2!.limits,
      );
      this.registry.delete(this);
      this.reading = Reading.Done;
      this.writing = Writing.Upgraded;
      this.conn.data = s;
      this.registry.add(s);
      this.releaseParser();
      s.onData(bytes);
      return null;
    }
    if (m === bytes.length) {
      this.prefaceHeld = Uint8Array.prototype.slice.call(bytes);
      return null;
    }
    return bytes;
  }

  /** Parse `chunk` (inside a batch); whatever the parser does not reach is held. */
  feed(chunk: Uint8Array): void {
    if (this.reading === Reading.Idle) this.startRequest();
    const parser = this.parser;
    let status = parser.execute(chunk);
    for (;;) {
      if (status === ParseStatus.PAUSED) {
        if (this.reading !== Reading.Done) {
          // Held even when empty: a head without a body paused in onHead completes on the next
          // `execute`. A view of a read nothing reuses is kept; otherwise the rest is copied (at
          // most one read, and only while the connection is paused).
          const rest = chunk.subarray(parser.consumed);
          this.held = this.stableChunks ? rest : Uint8Array.prototype.slice.call(rest);
        }
      } else if (status === ParseStatus.UPGRADE) {
        if (this.upgradeReq === null && !this.connectHead && parser.declineUpgrade()) {
          // RFC 9110 section 7.8: the server ignores the Upgrade and serves the request as HTTP/1.1.
          chunk = chunk.subarray(parser.consumed);
          status = chunk.length > 0 ? parser.execute(chunk) : ParseStatus.OK;
          continue;
        }
        this.upgradeStop(chunk, parser.consumed);
      } else if (status === ParseStatus.ERROR) {
        this.failRequest((parser.error as HttpParseError).status, parser.error as HttpParseError);
      }
      break;
    }
  }

  /** End of a batch: call a deferred handler, parse what was held if nothing pauses now, flush. */
  endBatch(): void {
    for (;;) {
      if (this.deferred !== null) this.invokeDeferred();
      const held = this.held;
      if (held === null || this.mustPause() || this.reading === Reading.Done) break;
      this.held = null;
      this.feed(held);
    }
    if (this.reading === Reading.Done) this.held = null;
    this.batching = false;
    this.updateReading();
    this.flush();
  }

  /** Whether reading must stop now (see the list at the top of this file). */
  mustPause(): boolean {
    if (this.blocked || this.upgradeReq !== null) return true;
    if (this.inFlight >= this.config.limits.maxPipelined) return true;
    const p = this.parsing;
    return p !== null && p.req !== null && p.req._buffered >= this.config.limits.maxBodyBuffer;
  }

  /** The one place that pauses and resumes the socket. */
  updateReading(): void {
    const pause =
      this.writing === Writing.Open &&
      this.reading !== Reading.Done &&
      (this.held !== null || this.mustPause());
    if (pause && !this.readPaused) {
      this.readPaused = true;
      this.conn.pause();
    } else if (!pause && this.readPaused) {
      this.readPaused = false;
      if (this.writing === Writing.Open || this.writing === Writing.Closing) this.conn.resume();
    }
  }

  /** A reason to pause may have cleared: parse what was held, then resume the socket. */
  resumeReading(): void {
    if (this.batching) return; // the batch in progress looks again at its end
    if (this.held !== null && this.reading !== Reading.Done && !this.mustPause()) {
      this.batching = true;
      this.endBatch();
      return;
    }
    this.updateReading();
  }

  /** Idle -> Head. */
  startRequest(): void {
    this.reading = Reading.Head;
    this.conn.idle = false;
    const t = this.config.timeouts;
    const now = this.clock.now;
    this.headDeadline = t.headers > 0 ? now + t.headers : 0;
    this.requestDeadline = t.request > 0 ? now + t.request : 0;
    this.requestStart = now;
  }

  /** any -> Done: nothing more is parsed; bytes that arrive are ignored. */
  stopReading(): void {
    this.reading = Reading.Done;
    this.held = null;
    this.parsing = null;
    this.drainingBody = false;
    this.headDeadline = this.requestDeadline = this.drainDeadline = 0;
  }

  // ---- parser callbacks -------------------------------------------------------------------------

  /** Head -> Body. Returns true to pause the parser (the pipeline is full). */
  onHead(h: RequestHead): boolean {
    // The connection is closing (an earlier response in this read said so): ignore the rest.
    if (this.reading === Reading.Done) return true;
    this.reading = Reading.Body;
    this.headDeadline = 0;
    const cfg = this.config;
    this.requests++;
    const hasBody = h.chunked || h.contentLength > 0;
    const limit = cfg.bodyLimit;
    this.connectHead = false;
    let upgrade = h.upgrade;
    if (upgrade) {
      this.connectHead = h.method === 'CONNECT';
      if (
        cfg.onUpgrade !== null &&
        (this.connectHead || offersAccepted(h.rawHeaders, cfg.upgradeProtocols))
      ) {
        this.upgradeReq = this.newRequest(h, false, limit);
        return false;
      }
      // Declined (no handler, or a protocol it does not take): served as plain HTTP/1.1. CONNECT
      // cannot be: its bytes after the head are a tunnel, so its connection closes after the answer.
      upgrade = this.connectHead;
    }
    const max = cfg.limits.maxRequestsPerConnection;
    const keepAlive = h.keepAlive && !upgrade && !this.draining && (max === 0 || this.requests < max);
    this.lastKeepAlive = keepAlive;
    this.counters.requests++;
    const req = this.newRequest(h, hasBody, limit);
    const ex = new Exchange(this, req, keepAlive);
    req._owner = ex;
    // startTime for a trace is taken here (start subscribers are the ones that read it).
    if (this.logBytes || finishChannel.hasSubscribers || requestTrace.start.hasSubscribers) {
      ex.measure = true;
      ex.start = performance.now();
    }
    ex.expect = h.expectContinue && hasBody;
    const res = new ResponseWriter(ex, { method: h.method, versionMinor: h.versionMinor, keepAlive });
    ex.res = res;
    if (this.tail === null) this.head = this.tail = ex;
    else {
      this.tail.next = ex;
      this.tail = ex;
    }
    this.inFlight++;
    this.parsing = hasBody ? ex : null;
    this.drainingBody = false;
    // A request with a body is handed to the handler once its body is complete, or at the end of
    // this read, whichever comes first: a small body read together with its head is then complete
    // when the handler asks for it (no wait), and a large one still streams.
    if (hasBody) this.deferred = ex;
    else this.invoke(ex, req, res);
    // maxPipelined holds inside one read: stop parsing here until a response finishes.
    return this.inFlight >= cfg.limits.maxPipelined;
  }

  newRequest(h: RequestHead, hasBody: boolean, limit: number): ServerRequest {
    const conn = this.conn;
    return new ServerRequest(
      null,
      h.method,
      h.target,
      h.versionMinor,
      h.rawHeaders,
      h.host,
      h.contentLength,
      hasBody,
      conn,
      conn.encrypted,
      this.config.trust,
      limit,
    );
  }

  /** Returns true to pause the parser (the handler has not taken `maxBodyBuffer` bytes). */
  onBody(chunk: Uint8Array): boolean {
    if (this.drainingBody) {
      this.drainedBytes += chunk.length;
      if (this.drainedBytes > this.config.limits.maxDrainBytes) {
        // More unread body than is worth reading: close instead (the response is already out).
        this.stopReading();
        this.markLastExchange();
        this.closeWhenDone();
        return true;
      }
      return false;
    }
    const ex = this.parsing;
    if (ex === null || ex.req === null) return false;
    const req = ex.req;
    req._push(chunk, this.stableChunks);
    if (req._consumed && req._received > req._limit) {
      this.tooLarge(ex);
      return true;
    }
    return req._buffered >= this.config.limits.maxBodyBuffer;
  }

  /** Body -> Idle (or Done when the request said close). */
  onMessageComplete(trailers: string[] | null): boolean {
    const ex = this.parsing;
    if (ex !== null && ex.req !== null) ex.req._complete(trailers);
    if (this.deferred !== null) this.invokeDeferred();
    this.parsing = null;
    this.drainingBody = false;
    this.drainDeadline = 0;
    this.reading = Reading.Idle;
    this.requestDeadline = 0;
    if (this.head === null) this.becomeIdle();
    if (!this.lastKeepAlive || this.draining) {
      // Connection: close (or HTTP/1.0, or the last allowed request): bytes after it are ignored.
      this.stopReading();
      return true;
    }
    return false;
  }

  // ---- the request body -------------------------------------------------------------------------

  /** The handler started reading the body of `ex`: check the limit, then `100 Continue`. */
  bodyWanted(ex: Exchange, req: ServerRequest): void {
    if (req.contentLength > req._limit || req._received > req._limit) {
      this.tooLarge(ex);
      return;
    }
    if (!req._bodyDone && ex.expect && !ex.continued && this.config.autoContinue) ex.sendContinue();
  }

  /** `req.setRequestTimeout(ms)`: the request timeout of `ex`'s body, counted from its first byte. */
  setRequestTimeout(ex: Exchange, ms: number): void {
    if (ex !== this.parsing) return; // its body is complete (or failed): nothing left to time
    this.requestDeadline = ms > 0 ? this.requestStart + ms : 0;
  }

  /** The handler took the buffered body of `ex`: reading may resume. */
  bodyRead(ex: Exchange): void {
    if (ex === this.parsing && this.readPaused) this.resumeReading();
  }

  /** The body of `ex` is over its limit: the read fails, 413 (when nothing was sent yet), then close. */
  tooLarge(ex: Exchange): void {
    const error = new ServerError(ServerErrorCode.BODY_TOO_LARGE, 'request body is larger than its limit');
    if (ex === this.parsing) {
      // Still arriving: the rest of the body is never read, so the connection closes after the 413.
      this.failRequest(413, error);
      return;
    }
    // The whole body had arrived (read together with its head) before the handler asked for it.
    this.counters.rejected++;
    if (ex.req !== null) ex.req._reject(error);
    const res = ex.res;
    if (!ex.ended && !ex.dead && res !== null && !res.headersSent) {
      ex.respondRaw(cannedResponse(413), 413, false);
      if (!this.batching) this.scheduleFlush();
    }
  }

  // ---- handler ----------------------------------------------------------------------------------

  invokeDeferred(): void {
    const ex = this.deferred!;
    this.deferred = null;
    if (!ex.dead && ex.req !== null && ex.res !== null) this.invoke(ex, ex.req, ex.res);
    else this.handlerSettled(ex); // answered by the engine before its handler ran: it never will
  }

  invoke(ex: Exchange, req: ServerRequest, res: ResponseWriter): void {
    invokeHandler(this, ex, req, res);
  }

  /** The transport connection's id, for trace contexts. */
  get connectionId(): number {
    return this.conn.id;
  }

  /** Publishes `strata:server:response.finish` for `ex` (the caller checked `hasSubscribers`). */
  publishFinish(ex: Exchange, aborted: boolean): void {
    const res = ex.res;
    publishFinish(
      this.conn.id,
      ex,
      ex.status !== 0 ? ex.status : res?.headersSent ? res.statusCode : 0,
      aborted,
    );
  }

  /** The handler of `ex` returned or settled: once its response is retired too, it is no longer in flight. */
  handlerSettled(ex: Exchange): void {
    if (ex.handlerDone) return;
    ex.handlerDone = true;
    if (ex.retired) {
      this.inFlight--;
      this.resumeReading();
    }
  }

  /** `ex` leaves the queue (its response ended, or it was dropped). */
  retire(ex: Exchange): void {
    if (ex.retired) return;
    ex.retired = true;
    if (ex.handlerDone) this.inFlight--;
  }

  /**
   * A handler threw. The client's own faults (gone, too large, bad JSON or form, timed out) are
   * counted, not logged; a bad JSON body answers 400, a bad form body its `FormError` status. Anything else is logged once through `onError` and
   * answers 500 when nothing was sent yet; otherwise the response is cut and the connection closes.
   */
  handlerFailed(ex: Exchange, error: unknown): void {
    // Whatever a handler throws after its client went away is a consequence of that (a write to a
    // finished response, a stream cut short), not a bug to log.
    reportHandlerError(this.config, ex.aborted, error, ex.req);
    if (ex.dead || ex.ended) return;
    const res = ex.res;
    if (res !== null && !res.headersSent) {
      const invalidJson = error instanceof ServerError && error.code === ServerErrorCode.INVALID_JSON;
      const badForm = error instanceof FormError;
      if (invalidJson || badForm) this.counters.rejected++;
      // The request framing is intact: the parser discards any unread body (within
      // `limits.maxDrainBytes`, else the connection closes after the answer), so keep-alive survives.
      const keep = ex.keepAlive && ex.req !== null && ex.req.httpVersion === '1.1';
      if (badForm) {
        ex.respondRaw(formErrorResponse(error, keep), error.status, keep);
        if (!this.batching) this.scheduleFlush();
        return;
      }
      const status = invalidJson ? 400 : 500;
      const bytes = keep ? (invalidJson ? BAD_REQUEST_KEEP : INTERNAL_ERROR_KEEP) : cannedResponse(status);
      ex.respondRaw(bytes, status, keep);
    } else {
      // Half a response is on its way: the client must see it cut, so the connection closes after it.
      ex.keepAlive = false;
      ex.dead = true;
      ex.end();
    }
    if (!this.batching) this.scheduleFlush();
  }

  // ---- queue ------------------------------------------------------------------------------------

  /** Head exchange ended: retire it (and every already-finished one behind it). */
  advance(): void {
    for (;;) {
      const ex = this.head;
      if (ex === null || !ex.ended) break;
      this.head = ex.next;
      if (this.head === null) this.tail = null;
      this.retire(ex);
      ex.next = null;
      const res = ex.res;
      let keep = ex.keepAlive && (res === null || res.keepAlive);
      const req = ex.req;
      if (keep && req !== null && !req._bodyDone) {
        // Expect: 100-continue answered without reading: the body may or may not follow, framing is lost.
        if (ex.expect && !ex.continued) keep = false;
        else if (ex === this.parsing) keep = this.startDrain(ex, req);
      }
      if (this.config.onResponse !== null) this.logResponse(ex);
      if (finishChannel.hasSubscribers) this.publishFinish(ex, ex.aborted);
      this.counters.responded(ex.status !== 0 ? ex.status : res !== null ? res.statusCode : 0);
      if (!keep) {
        // Responses queued behind one that closes the connection are never sent.
        this.abortQueue('connection closing before this request was answered', false);
        this.stopReading();
        this.closeWhenDone();
        break;
      }
      const nx = this.head;
      if (nx === null) {
        if (this.reading === Reading.Idle) this.becomeIdle();
        break;
      }
      const chunks = nx.chunks;
      if (chunks !== null) {
        nx.chunks = null;
        nx.buffered = 0;
        for (let i = 0; i < chunks.length; i++) this.out(chunks[i]!);
      }
      if (nx.drain !== null && !this.batching) this.scheduleFlush();
    }
    if (this.upgradeReq !== null && this.head === null && !this.batching) this.scheduleFlush();
    // The last queued response finished outside a read (an async handler): its bytes leave now
    // instead of in a microtask (one write either way; an upgrade still waits for its microtask).
    if (this.head === null && this.flushScheduled && !this.batching && this.corkDepth === 0) {
      if (this.upgradeReq === null) this.flush();
    }
    this.resumeReading();
  }

  /**
   * The response of `ex` ended before its body was read: drop the body as it comes, within
   * `maxDrainBytes` and `timeouts.drain`. Returns false when the rest is too long to be worth it.
   */
  startDrain(ex: Exchange, req: ServerRequest): boolean {
    const limits = this.config.limits;
    if (req.contentLength >= 0 && req.contentLength - req._received > limits.maxDrainBytes) return false;
    req._discard();
    this.parsing = null;
    if (this.deferred === ex) this.deferred = null;
    this.drainingBody = true;
    this.drainedBytes = 0;
    const t = this.config.timeouts.drain;
    this.drainDeadline = t > 0 ? this.clock.now + t : 0;
    return true;
  }

  /** The connection closes after the last queued response (or now, when none is queued). */
  markLastExchange(): void {
    const tail = this.tail;
    if (tail !== null) tail.keepAlive = false;
  }

  /**
   * Every exchange still queued is aborted and never sent (bytes already flushed stay sent): its
   * request fails, its signal fires, a response being produced stops. `clientGone`: the client went
   * away, and each unfinished response is counted in `aborted`; otherwise the server is closing or
   * cutting the connection (a cut is counted as a timeout by `cut`).
   */
  abortQueue(why: string, clientGone: boolean): void {
    const head = this.head;
    this.head = this.tail = this.parsing = this.deferred = null;
    if (head === null) return;
    // Built only when a request is pending: capturing a stack costs more than the rest of a close.
    const gone = new ServerError(ServerErrorCode.ABORTED, why);
    for (let ex: Exchange | null = head; ex !== null; ) {
      const next: Exchange | null = ex.next;
      ex.next = null;
      if (clientGone && !ex.ended) this.counters.aborted++;
      this.retire(ex);
      ex.abort(gone);
      if (finishChannel.hasSubscribers) this.publishFinish(ex, true);
      ex = next;
    }
  }

  logResponse(ex: Exchange): void {
    const status = ex.status !== 0 ? ex.status : ex.res !== null ? ex.res.statusCode : 0;
    logResponse(this.config, ex, status, this.conn.remoteAddress);
  }

  // ---- output -----------------------------------------------------------------------------------

  /** Bytes of the head exchange, bound for the socket (through the transport's cork). */
  out(chunk: string | Uint8Array): boolean {
    if (!this.corked) {
      this.corked = true;
      this.conn.cork();
    }
    const ok = this.conn.write(chunk);
    if (!ok && !this.blocked) {
      // The transport's queue (with this batch) is over its mark: it owes an onDrain. Reading stops
      // until then (the peer does not read our responses).
      this.blocked = true;
      this.blockedSince = this.clock.now || 1;
      this.updateReading();
    }
    if (!this.batching && this.corkDepth === 0) this.scheduleFlush();
    return ok;
  }

  /** The outermost `uncork` of a response writer. */
  uncorked(): void {
    if (this.batching) return;
    // Every response has ended (e.g. `send` corks around its bytes and its end): nothing more is
    // coming from this tick's writer, so the bytes leave now instead of in a microtask.
    if (this.head === null && this.upgradeReq === null) this.flush();
    else this.scheduleFlush();
  }

  scheduleFlush(): void {
    scheduleFlush(this);
  }

  /** The batch leaves: the transport sends everything written since the last flush in one write. */
  flush(): void {
    this.flushScheduled = false;
    const w = this.writing;
    if (w !== Writing.Open && w !== Writing.Closing) return;
    if (this.corked) {
      this.corked = false;
      this.conn.uncork();
    }
    if (this.upgradeReq !== null && this.head === null) {
      this.handOff();
      return;
    }
    const head = this.head;
    if (w === Writing.Closing && head === null) {
      // Closing -> Ended: every byte is with the transport, which sends FIN after it.
      this.writing = Writing.Ended;
      this.endedAt = this.clock.now || 1;
      this.conn.end();
      return;
    }
    // Tell the transport only once the bytes are handed over: a graceful close ends idle connections.
    if (head === null && this.reading === Reading.Idle) this.conn.idle = true;
    if (head !== null && head.drain !== null && !this.blocked) {
      const d = head.drain;
      head.drain = null;
      d();
    }
  }

  /** Open -> Closing: close once the queue is empty and flushed. */
  closeWhenDone(): void {
    if (this.writing === Writing.Open) this.writing = Writing.Closing;
    if (this.writing !== Writing.Closing) return;
    if (!this.batching) this.scheduleFlush();
  }

  /** any -> Closed by the engine: a timeout or a stalled peer. Everything in flight is aborted. */
  cut(error: ServerError): void {
    if (this.writing === Writing.Closed) return;
    this.counters.timedOut++;
    const upgraded = this.writing === Writing.Upgraded;
    this.writing = Writing.Closed;
    this.stopReading();
    this.registry.delete(this);
    if (!upgraded) this.abortQueue(error.message, false);
    this.conn.destroy(error);
  }

  // ---- errors, upgrade, timeouts ----------------------------------------------------------------

  /** Answer the request being parsed (or a new slot) with a canned error in order, then close. */
  failRequest(status: number, error: Error): void {
    if (status !== 408) this.counters.rejected++;
    if (refusedChannel.hasSubscribers) {
      const msg: RequestRefusedMessage = {
        connectionId: this.conn.id,
        remoteAddress: this.conn.remoteAddress,
        remotePort: this.conn.remotePort,
        status,
        code: (error as { code?: string }).code ?? 'ERR_UNKNOWN',
        offset: error instanceof HttpParseError ? error.offset : -1,
        streamId: 0,
        error,
      };
      refusedChannel.publish(msg);
    }
    const bytes = cannedResponse(status);
    const parsing = this.parsing;
    // A handler never called for the failing request is not called at all: the error answers it.
    if (parsing !== null && this.deferred === parsing) {
      this.deferred = null;
      parsing.handlerDone = true;
    }
    this.stopReading();
    if (parsing !== null && parsing.req !== null) {
      parsing.req._fail(error, false);
      // The request whose body failed gets the error response, if its handler has not started one.
      if (
        !parsing.ended &&
        !parsing.dead &&
        parsing.res !== null &&
        !parsing.res.headersSent &&
        parsing.chunks === null
      ) {
        parsing.respondRaw(bytes, status, false);
        this.closeWhenDone();
        return;
      }
      parsing.keepAlive = false;
    }
    const ex = new Exchange(this, null, false);
    ex.handlerDone = true; // no handler: the engine answers
    if (finishChannel.hasSubscribers) {
      ex.measure = true;
      ex.start = performance.now();
    }
    if (this.tail === null) this.head = this.tail = ex;
    else {
      this.tail.next = ex;
      this.tail = ex;
    }
    this.inFlight++;
    ex.respondRaw(bytes, status, false);
    this.closeWhenDone();
  }

  /** The parser stopped after an Upgrade/CONNECT head that the engine does not decline. */
  upgradeStop(chunk: Uint8Array, consumed: number): void {
    const parsing = this.parsing;
    this.stopReading();
    if (this.upgradeReq === null) {
      // CONNECT without an upgrade handler: it went to the normal handler; the bytes after its head
      // are a tunnel nobody reads, so the connection closes after the response.
      if (parsing !== null && parsing.req !== null) parsing.req._complete(null);
      this.markLastExchange();
      if (this.head === null) this.closeWhenDone();
      return;
    }
    const rest = chunk.length - consumed;
    const head = new Uint8Array(rest);
    if (rest > 0) head.set(chunk.subarray(consumed));
    this.upgradeHead = head;
    this.updateReading();
  }

  /** Open -> Upgraded: every earlier response is out; the connection belongs to the upgrade handler. */
  handOff(): void {
    const req = this.upgradeReq!;
    const head = this.upgradeHead ?? new Uint8Array(0);
    this.upgradeReq = this.upgradeHead = null;
    this.writing = Writing.Upgraded;
    this.registry.delete(this);
    if (this.readPaused) {
      this.readPaused = false;
      this.conn.resume();
    }
    try {
      this.config.onUpgrade!(req, this.conn, head);
    } catch (e) {
      const onError = this.config.onError;
      if (onError !== null) onError(e, req);
      this.conn.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }

  becomeIdle(): void {
    this.idleSince = this.clock.now;
  }

  /** The send timeout of the response being written now (ms; 0: none). */
  sendTimeout(): number {
    const head = this.head;
    if (head !== null && head.sendTimeout >= 0) return head.sendTimeout;
    return this.config.timeouts.send;
  }

  /** Called by the server's sweep with the current time: every deadline of this connection. */
  sweep(now: number): void {
    const w = this.writing;
    if (w === Writing.Closed || w === Writing.Upgraded) return;
    const t = this.config.timeouts;
    if (w === Writing.Ended) {
      // FIN sent: a peer that neither reads the last bytes nor closes its side is cut.
      const grace = t.send > 0 ? Math.min(t.send, ENDED_GRACE_MS) : ENDED_GRACE_MS;
      if (now - this.endedAt >= grace) {
        this.cut(new ServerError(ServerErrorCode.SEND_TIMEOUT, 'peer did not close after the last response'));
      }
      return;
    }
    if (this.blocked) {
      const send = this.sendTimeout();
      if (send > 0 && now - this.blockedSince >= send) {
        this.cut(new ServerError(ServerErrorCode.SEND_TIMEOUT, 'client did not read the response in time'));
        return;
      }
    }
    if (w === Writing.Closing) return;
    if (this.headDeadline !== 0 && now >= this.headDeadline) {
      this.failRequest(
        408,
        new ServerError(ServerErrorCode.HEADERS_TIMEOUT, 'request head not received in time'),
      );
      this.counters.timedOut++;
    } else if (this.requestDeadline !== 0 && now >= this.requestDeadline && this.reading !== Reading.Idle) {
      this.failRequest(408, new ServerError(ServerErrorCode.REQUEST_TIMEOUT, 'request not received in time'));
      this.counters.timedOut++;
    } else if (this.drainDeadline !== 0 && now >= this.drainDeadline && this.drainingBody) {
      // The unread body of a finished response did not arrive in time: stop waiting for it.
      this.counters.timedOut++;
      this.stopReading();
      this.markLastExchange();
      this.closeWhenDone();
      if (this.head === null) this.flush();
    } else if (
      this.head === null &&
      this.reading === Reading.Idle &&
      t.keepAlive > 0 &&
      now - this.idleSince >= t.keepAlive
    ) {
      this.stopReading();
      this.closeWhenDone();
      this.flush();
    }
  }

  /** Graceful shutdown: idle connections close now, busy ones after their current responses. */
  shutdown(): void {
    if (this.writing !== Writing.Open) return;
    if (this.head === null && this.reading === Reading.Idle) {
      this.stopReading();
      this.closeWhenDone();
      return;
    }
    // A request still arriving completes and is answered with `Connection: close`; otherwise the
    // connection closes right after the responses already queued (their framing is kept).
    this.draining = true;
    if (this.reading === Reading.Head) return;
    // No request in progress: nothing after the queued ones is accepted (a pipelined request read
    // later would be answered by nobody once the last queued response closes the connection).
    if (this.reading === Reading.Idle) this.stopReading();
    const tail = this.tail;
    if (tail !== null) {
      tail.keepAlive = false;
      // Tell the client too, when the last response has not started yet.
      const res = tail.res;
      if (res !== null && !res.headersSent && !tail.dead) res.header('connection', 'close');
    }
  }
}
