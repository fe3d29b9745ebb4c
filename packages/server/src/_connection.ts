/**
 * The connection engine: the one place where sockets and HTTP meet (uWS `HttpContext.h`, hyper
 * `conn.rs` + `dispatch.rs`). Bytes in -> parser -> handler -> response bytes out, kept alive and
 * pipelined, with limits, timeouts and one flush per batch.
 *
 * Per connection there is one {@link ConnState} (parser, response queue, cork buffer, deadlines) and
 * per request one {@link Exchange} (the byte sink of its response writer, and its place in the queue).
 *
 * Pipelining design: exchanges form a FIFO linked list. Only the head exchange writes to the
 * connection; a later one buffers its bytes until every earlier response has ended, then its buffer
 * moves to the connection in one step. Every byte bound for the socket goes through the cork buffer
 * (`pending`): while a read is being handled (`batching`) nothing is written; at the end of the read
 * the whole batch leaves in ONE `write` of one contiguous buffer (or one string). Writes made outside
 * a read (async handlers) are coalesced the same way and flushed in a microtask.
 */
import {
  type HttpParseError,
  type ParserCallbacks,
  ParseStatus,
  type RequestHead,
  RequestParser,
} from '@strata/http-parser';
import { type ByteSink, cannedResponse, ResponseWriter } from '@strata/response';
import type { Connection } from '@strata/transport';
import { ServerError, ServerErrorCode } from './_errors';
import type { ServerLimits, ServerTimeouts } from './_options';
import { type RequestOwner, ServerRequest } from './_request';

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
  onError: ((error: unknown, req: ServerRequest | null) => void) | null;
  onResponse: ((info: ResponseInfo) => void) | null;
  limits: ServerLimits;
  timeouts: ServerTimeouts;
  autoContinue: boolean;
  trust: ((address: string) => boolean) | null;
  /** Parsers of closed connections, reused by new ones (see {@link ParserPool}). */
  parsers: ParserPool;
}

/**
 * A pooled parser and the callback object it was built with: the callbacks forward to whichever
 * connection holds the slot now, so a parser (its field table is a 1 KiB `Int32Array`, an off-heap
 * backing store) outlives the connection it parsed for. @internal
 */
export class ParserSlot implements ParserCallbacks {
  state: ConnState | null = null;
  readonly parser: RequestParser;

  constructor(limits: ServerLimits) {
    this.parser = new RequestParser(this, {
      maxHeadBytes: limits.maxHeaderBytes,
      maxRequestLineBytes: limits.maxRequestLineBytes,
      maxHeaders: limits.maxHeaders,
      maxBodyBytes: limits.maxBodyBytes === 0 ? Number.POSITIVE_INFINITY : limits.maxBodyBytes,
    });
  }

  onHead(h: RequestHead): boolean {
    return this.state!.onHead(h);
  }

  onBody(chunk: Uint8Array): boolean {
    return this.state!.onBody(chunk);
  }

  onMessageComplete(trailers: string[] | null): boolean {
    return this.state!.onMessageComplete(trailers);
  }
}

/** Most parsers a pool keeps (each holds about 1 KiB plus the largest head it buffered). */
const PARSER_POOL_MAX = 256;

/**
 * Free parsers of one server (all built with its limits). Under `Connection: close` load every
 * request opens a connection: building its parser was a visible share of the per-connection cost.
 * @internal
 */
export class ParserPool {
  private readonly free: ParserSlot[] = [];
  private readonly limits: ServerLimits;

  constructor(limits: ServerLimits) {
    this.limits = limits;
  }

  acquire(state: ConnState): ParserSlot {
    const slot = this.free.pop() ?? new ParserSlot(this.limits);
    slot.state = state;
    return slot;
  }

  /** Back to the pool: the connection is closed and will never call `execute` again. */
  release(slot: ParserSlot): void {
    slot.state = null;
    slot.parser.reset();
    if (this.free.length < PARSER_POOL_MAX) this.free.push(slot);
  }
}

enum Phase {
  /** No byte of a request is pending. */
  Idle = 0,
  /** Head bytes are arriving. */
  Head = 1,
  /** Head done, body bytes are arriving. */
  Body = 2,
}

/** 500 that keeps the connection usable (the request's framing is intact). */
const INTERNAL_ERROR_KEEP = Buffer.from(
  'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\nInternal Server Error',
  'latin1',
);
const INTERNAL_ERROR_CLOSE_STATUS = 500;

/**
 * Pre-serialised `Connection: close` error response. `cannedResponse` caches per status and
 * refreshes its `Date` at most once a second, so it is called every time (never cached here).
 */
function canned(status: number): Uint8Array {
  return cannedResponse(status);
}

/**
 * Bytes the head exchange may queue before its writer is told to wait (`write` returns false),
 * even while the socket itself is not yet full: a handler writing synchronously in a loop must see
 * backpressure before the flush that would reveal it.
 */
const PENDING_HIGH_WATER = 64 * 1024;

/** Bytes a chunk will occupy on the wire (strings are UTF-8, as the response writer produces them). */
function byteLength(chunk: string | Uint8Array): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.length;
}

/** Join a batch into one contiguous buffer (one `write`, cheaper than `writev`: see ANCHORS.md). */
function concat(parts: (string | Uint8Array)[]): string | Uint8Array {
  let allStrings = true;
  for (let i = 0; i < parts.length; i++) {
    if (typeof parts[i] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return (parts as string[]).join('');
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += byteLength(parts[i]!);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') at += out.write(p, at, 'utf8');
    else {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

/**
 * Connections with a flush scheduled, flushed by one shared microtask (no per-connection closure).
 * A connection appears at most once: `flushScheduled` guards it, and `flush` clears the flag first.
 */
const flushQueue: ConnState[] = [];
let flushQueued = false;

function runFlushes(): void {
  // A flush may schedule more (a drain listener that writes): they join this same pass.
  let i = 0;
  try {
    for (; i < flushQueue.length; i++) {
      const state = flushQueue[i]!;
      if (state.flushScheduled) state.flush();
    }
  } finally {
    flushQueued = false;
    if (i >= flushQueue.length) flushQueue.length = 0;
    else {
      // A callback threw: the connections after it still get their flush, in a new microtask.
      flushQueue.splice(0, i + 1);
      if (flushQueue.length > 0) {
        flushQueued = true;
        queueMicrotask(runFlushes);
      }
    }
  }
}

/**
 * The open connections of one server, for its sweep and shutdown: an intrusive doubly linked list
 * through the states themselves. Not a Set: V8 rebuilds a Set's table every few dozen adds and
 * deletes and links each replaced table to its successor, so under short connections every table
 * survived the scavenge and was promoted. @internal
 */
export class ConnRegistry {
  first: ConnState | null = null;
  size = 0;

  /** Whether `s` is in the list: it has a predecessor, or it is the first. */
  has(s: ConnState): boolean {
    return s.regPrev !== null || this.first === s;
  }

  add(s: ConnState): void {
    if (this.has(s)) return;
    const first = this.first;
    if (first !== null) first.regPrev = s;
    s.regNext = first;
    s.regPrev = null;
    this.first = s;
    this.size++;
  }

  delete(s: ConnState): void {
    if (!this.has(s)) return;
    const prev = s.regPrev;
    const next = s.regNext;
    if (prev !== null) prev.regNext = next;
    else this.first = next;
    if (next !== null) next.regPrev = prev;
    s.regPrev = s.regNext = null;
    this.size--;
  }

  /** A copy of the members (safe to iterate while they leave). */
  toArray(): ConnState[] {
    const out: ConnState[] = [];
    for (let s = this.first; s !== null; s = s.regNext) out.push(s);
    return out;
  }
}

/** Server-wide counters, updated by every connection. @internal */
export class Counters {
  requests = 0;
  responses = 0;
  /** Responses per status code (index = status). */
  readonly byStatus = new Float64Array(600);
  responded(status: number): void {
    this.responses++;
    if (status > 0 && status < 600) this.byStatus[status]!++;
  }
}

/**
 * One request/response pair: the response writer's byte sink and the request's body owner.
 * @internal
 */
export class Exchange implements ByteSink, RequestOwner {
  readonly state: ConnState;
  readonly req: ServerRequest | null;
  res: ResponseWriter | null = null;
  next: Exchange | null = null;
  /** Bytes buffered while an earlier response is still open. */
  chunks: (string | Uint8Array)[] | null = null;
  buffered = 0;
  /** The response's bytes are complete. */
  ended = false;
  /** Writes are ignored (the server took over the response, or the connection is gone). */
  dead = false;
  /** The connection closes after this response. */
  keepAlive: boolean;
  /** `Expect: 100-continue` was asked / answered. */
  expect = false;
  continued = false;
  /** Status when the server wrote the response itself (canned). */
  status = 0;
  bytes = 0;
  start = 0;
  drain: (() => void) | null = null;

  constructor(state: ConnState, req: ServerRequest | null, keepAlive: boolean) {
    this.state = state;
    this.req = req;
    this.keepAlive = keepAlive;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.dead || this.ended) return false;
    const s = this.state;
    if (s.logBytes) this.bytes += byteLength(chunk);
    if (s.head === this) return s.out(chunk);
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.buffered += chunk.length;
    // A response queued behind a slow one holds its bytes here: ask its writer to wait past 64 KiB.
    return this.buffered < 65536;
  }

  cork(): void {
    this.state.corkDepth++;
  }

  uncork(): void {
    const s = this.state;
    if (s.corkDepth > 0 && --s.corkDepth === 0 && !s.batching) {
      // Every response has ended (e.g. `send` corks around its bytes and its end): nothing more is
      // coming from this tick's writer, so the bytes leave now instead of in a microtask.
      if (s.head === null && s.upgradeReq === null) s.flush();
      else s.scheduleFlush();
    }
  }

  onDrain(listener: () => void): void {
    this.drain = listener;
    const s = this.state;
    // Not blocked any more (or never was, for a queued exchange that is now the head): call it soon.
    if (s.head === this && !s.blocked) s.scheduleFlush();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const s = this.state;
    if (s.head !== this) return;
    s.advance();
    // The last queued response finished outside a read (an async handler): its bytes leave now
    // instead of in a microtask (one write either way; an upgrade still waits for its microtask).
    if (s.flushScheduled && s.head === null && !s.batching && s.corkDepth === 0 && s.upgradeReq === null) {
      s.flush();
    }
  }

  /** The server answers instead of the handler (errors): raw bytes, then the exchange ends. */
  respondRaw(bytes: Uint8Array, status: number, keepAlive: boolean): void {
    if (!keepAlive) this.keepAlive = false;
    this.status = status;
    this.write(bytes);
    this.dead = true;
    this.end();
  }

  bodyWanted(_req: ServerRequest): void {
    if (this.expect && !this.continued && this.state.config.autoContinue) this.sendContinue();
  }

  sendContinue(): void {
    const res = this.res;
    if (res === null || res.headersSent || this.continued) return;
    this.continued = true;
    res.writeContinue();
  }
}

/**
 * Per-connection state: parser, response queue, cork buffer, deadlines. It is the parser's callback
 * object, so a request allocates only its head, request, exchange and writer.
 * @internal
 */
export class ConnState {
  readonly conn: Connection;
  readonly config: EngineConfig;
  readonly registry: ConnRegistry;
  /** Neighbours in the server's {@link ConnRegistry} (both null and not its first: not a member). */
  regPrev: ConnState | null = null;
  regNext: ConnState | null = null;
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

  /** Response queue: the head writes to the socket, the others buffer. */
  head: Exchange | null = null;
  tail: Exchange | null = null;
  queued = 0;
  /** The exchange whose request body is being parsed. */
  parsing: Exchange | null = null;
  /** A request with a body whose handler has not been called yet (see onHead). */
  deferred: Exchange | null = null;
  phase: Phase = Phase.Idle;

  /** Cork buffer: everything bound for the socket until the next flush. */
  pending: (string | Uint8Array)[] = [];
  /** Length of `pending` (UTF-16 units for strings: close enough for a high-water mark). */
  pendingBytes = 0;
  batching = false;
  corkDepth = 0;
  flushScheduled = false;
  /** The transport said false: wait for drain before reading more requests. */
  blocked = false;
  readPaused = false;

  /** Stop parsing: bytes that arrive are ignored (after Connection: close, an error, half-close). */
  readDone = false;
  /** Close the connection once every queued response has been flushed. */
  endAfterFlush = false;
  closed = false;
  /** Upgrade waiting for earlier responses: request and the bytes after its head. */
  upgradeReq: ServerRequest | null = null;
  upgradeHead: Uint8Array | null = null;
  upgraded = false;

  requests = 0;
  /** Whether the request being parsed allows another one after it. */
  lastKeepAlive = true;
  headDeadline = 0;
  requestDeadline = 0;
  idleSince: number;
  /** When the server decided to close (to destroy a peer that never reads the last bytes). */
  closingSince = 0;

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
    if (this.readDone || this.upgraded) return; // after Connection: close / an error: ignore (never resync)
    if (this.phase === Phase.Idle) this.startRequest();
    this.batching = true;
    const status = this.parser.execute(chunk);
    if (status === ParseStatus.ERROR) this.parseError(this.parser.error as HttpParseError);
    else if (status === ParseStatus.UPGRADE) this.upgradeStop(chunk, this.parser.consumed);
    // PAUSED: onMessageComplete of a request that closes the connection; the rest is ignored.
    if (this.deferred !== null) this.invokeDeferred();
    this.batching = false;
    this.flush();
  }

  onDrain(): void {
    this.blocked = false;
    const head = this.head;
    if (head !== null && head.drain !== null) {
      const d = head.drain;
      head.drain = null;
      d();
    }
    this.updateReading();
  }

  /** The client half-closed: answer what is complete, then close. */
  onEnd(): void {
    if (this.upgraded || this.closed) return;
    // Requests still in flight may ask for the client's address after the socket has gone: read
    // it while the socket is still open (a no-op when it is known already).
    if (this.head !== null) void this.conn.remoteAddress;
    if (!this.readDone) {
      this.readDone = true;
      const parsing = this.parsing;
      if (parsing !== null && parsing.req !== null && !parsing.req._bodyDone) {
        parsing.req._fail(
          new ServerError(ServerErrorCode.ABORTED, 'client ended the request body early'),
          false,
        );
      }
      this.parsing = null;
      this.phase = Phase.Idle;
    }
    this.closeWhenDone();
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.delete(this);
    if (this.upgraded) return;
    this.deferred = null;
    // Built only when a request is pending: capturing a stack costs more than the rest of a close.
    const gone =
      this.head === null ? null : new ServerError(ServerErrorCode.ABORTED, 'client closed the connection');
    for (let ex = this.head; ex !== null; ex = ex.next) {
      ex.dead = true;
      if (ex.req !== null) ex.req._fail(gone!, true);
      if (ex.drain !== null) {
        const d = ex.drain;
        ex.drain = null;
        d();
      }
    }
    this.head = this.tail = this.parsing = null;
    this.queued = 0;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  /** The transport closed the connection: its parser goes back to the pool (never after an upgrade). */
  releaseParser(): void {
    const slot = this.parserSlot;
    if (slot === null || this.upgraded) return;
    this.parserSlot = null;
    this.readDone = true; // onData ignores anything late: the parser may belong to another connection now
    this.config.parsers.release(slot);
  }

  // ---- parser callbacks -------------------------------------------------------------------------

  onHead(h: RequestHead): boolean {
    // The connection is closing (an earlier response in this read said so): ignore the rest.
    if (this.readDone) return true;
    this.phase = Phase.Body;
    this.headDeadline = 0;
    const cfg = this.config;
    this.requests++;
    const conn = this.conn;
    const hasBody = h.chunked || h.contentLength > 0;
    if (h.upgrade && cfg.onUpgrade !== null) {
      this.upgradeReq = new ServerRequest(
        null,
        h.method,
        h.target,
        h.versionMinor,
        h.rawHeaders,
        h.host,
        h.contentLength,
        false,
        conn,
        conn.encrypted,
        cfg.trust,
      );
      return false;
    }
    const max = cfg.limits.maxRequestsPerConnection;
    const keepAlive = h.keepAlive && !h.upgrade && !this.draining && (max === 0 || this.requests < max);
    this.lastKeepAlive = keepAlive;
    this.counters.requests++;
    const req = new ServerRequest(
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
      cfg.trust,
    );
    const ex = new Exchange(this, req, keepAlive);
    req._owner = ex;
    if (this.logBytes) ex.start = performance.now();
    ex.expect = h.expectContinue && hasBody;
    const res = new ResponseWriter(ex, { method: h.method, versionMinor: h.versionMinor, keepAlive });
    ex.res = res;
    if (this.tail === null) this.head = this.tail = ex;
    else {
      this.tail.next = ex;
      this.tail = ex;
    }
    this.queued++;
    this.parsing = hasBody ? ex : null;
    if (this.queued >= cfg.limits.maxPipelined) this.updateReading();
    // A request with a body is handed to the handler once its body is complete, or at the end of
    // this read, whichever comes first: a small body read together with its head is then complete
    // when the handler asks for it (no wait), and a large one still streams.
    if (hasBody) this.deferred = ex;
    else this.invoke(ex, req, res);
    return false;
  }

  onBody(chunk: Uint8Array): boolean {
    const ex = this.parsing;
    if (ex !== null && ex.req !== null) ex.req._push(chunk, this.stableChunks);
    return false;
  }

  onMessageComplete(trailers: string[] | null): boolean {
    const ex = this.parsing;
    if (ex !== null && ex.req !== null) ex.req._complete(trailers);
    if (this.deferred !== null) this.invokeDeferred();
    this.parsing = null;
    this.phase = Phase.Idle;
    this.requestDeadline = 0;
    if (this.head === null) this.becomeIdle();
    if (!this.lastKeepAlive || this.readDone || this.draining) {
      // Connection: close (or HTTP/1.0, or the last allowed request): bytes after it are ignored.
      this.readDone = true;
      return true;
    }
    return false;
  }

  // ---- handler ---------------------------------------------------------------------------------

  invokeDeferred(): void {
    const ex = this.deferred!;
    this.deferred = null;
    if (!ex.dead && ex.req !== null && ex.res !== null) this.invoke(ex, ex.req, ex.res);
  }

  invoke(ex: Exchange, req: ServerRequest, res: ResponseWriter): void {
    try {
      const r = this.config.handler(req, res);
      if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).then(undefined, (e: unknown) => this.handlerFailed(ex, e));
      }
    } catch (e) {
      this.handlerFailed(ex, e);
    }
  }

  /** A handler threw: 500 when nothing was sent yet, else the response is cut and the connection closes. */
  handlerFailed(ex: Exchange, error: unknown): void {
    const onError = this.config.onError;
    if (onError !== null) {
      try {
        onError(error, ex.req);
      } catch {
        // a failing logger must not take the connection down
      }
    }
    if (ex.dead || ex.ended) return;
    const res = ex.res;
    if (res !== null && !res.headersSent) {
      // The request framing is intact: the parser discards any unread body, so keep-alive survives.
      const keep = ex.keepAlive && ex.req !== null && ex.req.httpVersion === '1.1';
      ex.respondRaw(keep ? INTERNAL_ERROR_KEEP : canned(INTERNAL_ERROR_CLOSE_STATUS), 500, keep);
    } else {
      // Half a response is on its way: the client must see it cut, so the connection closes after it.
      ex.keepAlive = false;
      ex.dead = true;
      ex.end();
    }
    if (!this.batching) this.scheduleFlush();
  }

  // ---- queue -----------------------------------------------------------------------------------

  /** Head exchange ended: retire it (and every already-finished one behind it). */
  advance(): void {
    for (;;) {
      const ex = this.head;
      if (ex === null || !ex.ended) break;
      this.head = ex.next;
      if (this.head === null) this.tail = null;
      this.queued--;
      ex.next = null;
      const res = ex.res;
      let keep = ex.keepAlive && (res === null || res.keepAlive);
      // Expect: 100-continue answered without reading: the body may or may not follow, framing is lost.
      if (keep && ex.expect && !ex.continued && ex.req !== null && !ex.req._bodyDone) keep = false;
      if (this.config.onResponse !== null) this.logResponse(ex);
      this.engineCount(ex);
      if (!keep) {
        this.dropQueue();
        this.readDone = true;
        this.closeWhenDone();
        break;
      }
      const nx = this.head;
      if (nx === null) {
        if (this.phase === Phase.Idle) this.becomeIdle();
        if (this.readDone) this.closeWhenDone();
        break;
      }
      const chunks = nx.chunks;
      if (chunks !== null) {
        nx.chunks = null;
        nx.buffered = 0;
        for (let i = 0; i < chunks.length; i++) {
          this.pending.push(chunks[i]!);
          this.pendingBytes += chunks[i]!.length;
        }
        if (!this.batching) this.scheduleFlush();
      }
    }
    if (this.readPaused) this.updateReading();
    if (this.upgradeReq !== null && this.head === null && !this.batching) this.scheduleFlush();
  }

  /** Responses queued behind one that closes the connection are never sent. */
  dropQueue(): void {
    const head = this.head;
    this.head = this.tail = this.parsing = this.deferred = null;
    this.queued = 0;
    if (head === null) return;
    const gone = new ServerError(
      ServerErrorCode.ABORTED,
      'connection closing before this request was answered',
    );
    for (let ex: Exchange | null = head; ex !== null; ex = ex.next) {
      ex.dead = true;
      if (ex.req !== null) ex.req._fail(gone, true);
    }
  }

  engineCount(ex: Exchange): void {
    this.counters.responded(ex.status !== 0 ? ex.status : ex.res !== null ? ex.res.statusCode : 0);
  }

  logResponse(ex: Exchange): void {
    const req = ex.req;
    const info: ResponseInfo = {
      method: req !== null ? req.method : '',
      path: req !== null ? req.path : '',
      status: ex.status !== 0 ? ex.status : ex.res !== null ? ex.res.statusCode : 0,
      bytes: ex.bytes,
      durationMs: ex.start === 0 ? 0 : performance.now() - ex.start,
      remoteAddress: this.conn.remoteAddress,
    };
    try {
      this.config.onResponse!(info);
    } catch {
      // a failing logger must not take the connection down
    }
  }

  // ---- output ----------------------------------------------------------------------------------

  /** Bytes of the head exchange, bound for the socket. */
  out(chunk: string | Uint8Array): boolean {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (!this.batching && this.corkDepth === 0) this.scheduleFlush();
    return !this.blocked && this.pendingBytes < PENDING_HIGH_WATER;
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    flushQueue.push(this);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(runFlushes);
    }
  }

  /** One write for everything produced since the last flush. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const p = this.pending;
    const n = p.length;
    if (n > 0) {
      let data: string | Uint8Array;
      if (n === 1)
        data = p.pop()!; // cheaper than setting `length`
      else {
        data = concat(p);
        p.length = 0;
      }
      this.pendingBytes = 0;
      if (!this.conn.write(data)) {
        this.blocked = true;
        this.updateReading();
      }
    }
    if (this.upgradeReq !== null && this.head === null) {
      this.handOff();
      return;
    }
    if (this.endAfterFlush && this.head === null) {
      this.closed = true;
      this.registry.delete(this);
      this.conn.end();
      return;
    }
    const head = this.head;
    // Tell the transport only once the bytes are handed over: a graceful close ends idle connections.
    if (head === null && this.phase === Phase.Idle) this.conn.idle = true;
    if (head !== null && head.drain !== null && !this.blocked) {
      const d = head.drain;
      head.drain = null;
      d();
    }
  }

  /** Close once the queue is empty and flushed. */
  closeWhenDone(): void {
    this.endAfterFlush = true;
    if (this.closingSince === 0) this.closingSince = this.clock.now || 1;
    if (!this.batching) this.scheduleFlush();
  }

  /** Pause reading while the peer does not read or too many responses wait; resume when not. */
  updateReading(): void {
    const pause = this.blocked || this.queued >= this.config.limits.maxPipelined || this.upgradeReq !== null;
    if (pause && !this.readPaused) {
      this.readPaused = true;
      this.conn.pause();
    } else if (!pause && this.readPaused) {
      this.readPaused = false;
      this.conn.resume();
    }
  }

  // ---- errors, upgrade, timeouts ---------------------------------------------------------------

  /** Framing error: answer it in order with its canned response, then close (never resynchronise). */
  parseError(error: HttpParseError): void {
    this.failRequest(error.status, error);
  }

  failRequest(status: number, error: Error): void {
    this.readDone = true;
    this.phase = Phase.Idle;
    this.headDeadline = this.requestDeadline = 0;
    const bytes = canned(status);
    const parsing = this.parsing;
    this.parsing = null;
    // A handler never called for the failing request is not called at all: the error answers it.
    if (this.deferred === parsing) this.deferred = null;
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
    if (this.tail === null) this.head = this.tail = ex;
    else {
      this.tail.next = ex;
      this.tail = ex;
    }
    this.queued++;
    ex.respondRaw(bytes, status, false);
    this.closeWhenDone();
  }

  /** The parser stopped after an Upgrade/CONNECT head. */
  upgradeStop(chunk: Uint8Array, consumed: number): void {
    this.readDone = true;
    this.phase = Phase.Idle;
    this.requestDeadline = 0;
    if (this.upgradeReq === null) {
      // No upgrade handler: the request went to the normal handler; it has no body we can frame.
      const ex = this.parsing;
      if (ex !== null && ex.req !== null) ex.req._complete(null);
      this.parsing = null;
      const tail = this.tail;
      if (tail !== null) tail.keepAlive = false;
      if (this.head === null) this.closeWhenDone();
      return;
    }
    const rest = chunk.length - consumed;
    const head = new Uint8Array(rest);
    if (rest > 0) head.set(chunk.subarray(consumed));
    this.upgradeHead = head;
    this.updateReading();
  }

  /** Every earlier response is out: the connection now belongs to the upgrade handler. */
  handOff(): void {
    const req = this.upgradeReq!;
    const head = this.upgradeHead ?? new Uint8Array(0);
    this.upgradeReq = this.upgradeHead = null;
    this.upgraded = true;
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

  startRequest(): void {
    this.phase = Phase.Head;
    this.conn.idle = false;
    const t = this.config.timeouts;
    const now = this.clock.now;
    this.headDeadline = t.headers > 0 ? now + t.headers : 0;
    this.requestDeadline = t.request > 0 ? now + t.request : 0;
  }

  /** Called by the server's sweep with the current time. */
  sweep(now: number): void {
    if (this.closed || this.upgraded) return;
    if (this.endAfterFlush) {
      // Closing, but the peer never reads the last bytes: give it one keep-alive period, then cut.
      const grace = Math.max(this.config.timeouts.headers, 1000);
      if (this.closingSince !== 0 && now - this.closingSince >= grace) {
        this.closed = true;
        this.registry.delete(this);
        this.conn.destroy();
      }
      return;
    }
    if (this.headDeadline !== 0 && now >= this.headDeadline) {
      this.failRequest(
        408,
        new ServerError(ServerErrorCode.HEADERS_TIMEOUT, 'request head not received in time'),
      );
    } else if (this.requestDeadline !== 0 && now >= this.requestDeadline && this.phase !== Phase.Idle) {
      this.failRequest(408, new ServerError(ServerErrorCode.REQUEST_TIMEOUT, 'request not received in time'));
    } else if (
      this.head === null &&
      this.phase === Phase.Idle &&
      this.config.timeouts.keepAlive > 0 &&
      now - this.idleSince >= this.config.timeouts.keepAlive
    ) {
      this.closed = true;
      this.registry.delete(this);
      this.conn.end();
    }
  }

  /** Graceful shutdown: idle connections close now, busy ones after their current responses. */
  shutdown(): void {
    if (this.closed || this.upgraded) return;
    if (this.head === null && this.phase === Phase.Idle) {
      this.readDone = true;
      this.closeWhenDone();
      return;
    }
    // A request still arriving completes and is answered with `Connection: close`; otherwise the
    // connection closes right after the responses already queued (their framing is kept).
    this.draining = true;
    if (this.phase === Phase.Head) return;
    // No request in progress: nothing after the queued ones is accepted (a pipelined request read
    // later would be answered by nobody once the last queued response closes the connection).
    if (this.phase === Phase.Idle) this.readDone = true;
    const tail = this.tail;
    if (tail !== null) {
      tail.keepAlive = false;
      // Tell the client too, when the last response has not started yet.
      const res = tail.res;
      if (res !== null && !res.headersSent && !tail.dead) res.header('connection', 'close');
    }
  }
}
