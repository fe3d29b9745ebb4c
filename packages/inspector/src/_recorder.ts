/**
 * The recorder: subscribes to the layers' diagnostics channels while it runs, and keeps a bounded
 * ring of entries. It reads nothing else: no socket, no second parser.
 *
 *   strata:transport:connection.open/close   which connections are followed (from their first byte)
 *   strata:transport:connection.data         the bytes as read, one stream per connection id
 *   tracing:strata:server:request:start      a request reached the handler: its head is complete,
 *                                            and its bytes start where the previous request's ended
 *   strata:router:match                      the route of the current request (an AsyncLocalStorage
 *                                            bound to the request's start finds which request)
 *   strata:server:response.finish            status, bytes out, duration, the response head
 *   strata:server:request.refused            the engine answered on its own: code, status, offset
 *   strata:http-parser:error                 the parser's words for a refused request
 *   strata:http2:frame                       every HTTP/2 frame, both ways, with its decoded header
 *                                            list (see `_frames.ts`): an HTTP/2 connection's entries
 *                                            show frames, never bytes re-framed as HTTP/1.1
 *
 * Splitting one connection's stream into requests: the request that starts owns the bytes from
 * the end of the previous one. Its head ends at the first empty line; its body is
 * `Content-Length` bytes, or runs to the end of the chunked framing (followed by
 * {@link ChunkedEnd}). Every bound is named: {@link MAX_PENDING_BYTES} per followed connection,
 * `maxEntryBytes` per entry, `capacity` entries.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { cannedResponse, type ResponseWriter } from '@strata/response';
import {
  type RequestRefusedMessage,
  type RequestTraceContext,
  type ResponseFinishMessage,
  ServerChannel,
  type ServerRequest,
} from '@strata/server';
import {
  copyConnection,
  copyStream,
  type FrameMessage,
  H2Conn,
  HTTP2_FRAME_CHANNEL,
  MAX_H2_CONNECTIONS,
  prefaceState,
} from './_frames';
import type { InspectedConnection, InspectedRequest, InspectorEntry } from './_types';
import { ChunkedEnd, headEnd, headFields, maskHeaderLines, maskHeadText, maskValue } from './_wire';

/** Channel names of the layers the inspector may not import (it subscribes by name). */
export const Channels = {
  OPEN: 'strata:transport:connection.open',
  CLOSE: 'strata:transport:connection.close',
  DATA: 'strata:transport:connection.data',
  PARSE_ERROR: 'strata:http-parser:error',
  ROUTE_MATCH: 'strata:router:match',
  HTTP2_FRAME: HTTP2_FRAME_CHANNEL,
} as const;

/**
 * Bytes kept per followed connection that no request has claimed yet (the next heads, pipelined
 * requests, a body that arrived with its head). A request head is at most the server's
 * `maxHeaderBytes` (16 KiB by default), so 128 KiB holds every head with room for what arrived
 * with it. Past the bound the bytes are counted; a connection whose next head was cut this way
 * loses its place and shows no more bytes (its entries say why).
 */
export const MAX_PENDING_BYTES = 128 * 1024;

/** Why an entry has no bytes: the connection was open before recording started. */
export const UNOBSERVED_EARLIER =
  'not observed: this connection was already open when the inspector started recording, and a ' +
  'connection is followed from its first byte or not at all (a new connection shows its bytes)';
/** Why an HTTP/2 entry has no frames: its request head was not among the frames seen. */
export const UNOBSERVED_H2 =
  'not observed: the frames of this HTTP/2 request were not seen (recording started in the middle of its head)';
/** Why an entry has no bytes: the inspector lost its place in the connection's stream. */
export const UNOBSERVED_LOST =
  'not observed: the inspector lost its place in this connection (more unclaimed bytes than it keeps)';

interface OpenMessage {
  id: number;
  remoteAddress: string;
  remotePort: number;
}
interface DataMessage {
  id: number;
  chunk: Uint8Array;
}
interface CloseMessage {
  id: number;
}
interface ParseErrorMessage {
  code: string;
  offset: number;
  reason: string;
}
interface RouteMatchMessage {
  result: { status: number; pattern?: string; params?: Readonly<Record<string, string>> };
}

/** One entry and what fills it while its request is in flight. */
class Rec {
  parts: Uint8Array[] = [];
  kept = 0;
  text: string | null = null;
  /** The writer, until its head has been taken (a streaming response shows its head mid-body). */
  writer: ResponseWriter | null = null;
  constructor(readonly entry: InspectorEntry) {}
}

/** The bytes of one request as they arrive: from stream offset `start` to `end`. */
interface Capture {
  /** Null for a request the inspector does not record (its own pages): its bytes are skipped. */
  rec: Rec | null;
  start: number;
  /** Stream offset reached. */
  pos: number;
  /** Stream offset of the message's end; -1 while a chunked body goes on. */
  end: number;
  /** Stream offset of the body's first byte. */
  body: number;
  chunked: ChunkedEnd | null;
}

/** A followed connection. */
class Followed {
  /** Unclaimed bytes, from stream offset `pendingStart`. */
  pending = new Uint8Array(4096);
  pendingLen = 0;
  pendingStart = 0;
  /** Unclaimed bytes counted past {@link MAX_PENDING_BYTES}. */
  dropped = 0;
  cur: Capture | null = null;
  lost = false;
  /** The connection speaks HTTP/2 (its preface, or a frame): its bytes are frames, left to `strata:http2:frame`. */
  h2 = false;
  constructor(
    readonly id: number,
    readonly remote: string,
  ) {}
}

export interface RecorderOptions {
  capacity: number;
  maxEntryBytes: number;
  /** Lower-case header names whose values are masked. */
  mask: ReadonlySet<string>;
  /** Requests the recorder leaves out (the inspector's own pages). */
  exclude: (path: string) => boolean;
  /** Called when an entry was added or changed. */
  changed: () => void;
}

const trace = tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST);
/** The tracing channel's start event: the handler is about to run, inside `start.runStores`. */
const START = `tracing:${ServerChannel.REQUEST}:start`;
const decoder = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export class Recorder {
  private readonly ring: Rec[] = [];
  private nextId = 1;
  private running = false;
  private readonly conns = new Map<number, Followed>();
  /** HTTP/2 connections open now, by id. */
  private readonly h2conns = new Map<number, H2Conn>();
  /** HTTP/2 connections listed, oldest first, at most {@link MAX_H2_CONNECTIONS}. */
  private readonly h2ring: InspectedConnection[] = [];
  private byCtx = new WeakMap<RequestTraceContext, Rec>();
  private observed = new WeakMap<ServerRequest, boolean>();
  private readonly refusedByConn = new Map<number, Rec>();
  private lastParseError: ParseErrorMessage | null = null;
  private readonly als = new AsyncLocalStorage<RequestTraceContext>();

  // Subscribers run inside the server's own event handlers, where a throw would surface as an
  // 'uncaughtException': each one is guarded, and an inspector fault costs an entry, not a server.
  private readonly onOpen = guard((m: OpenMessage) => {
    this.conns.set(m.id, new Followed(m.id, `${m.remoteAddress}:${m.remotePort}`));
  });
  private readonly onClose = guard((m: CloseMessage) => {
    const id = m.id;
    this.conns.delete(id);
    const h = this.h2conns.get(id);
    if (h !== undefined) {
      h.close();
      this.h2conns.delete(id);
      this.options.changed();
    }
    // The canned answer's finish comes before the close; give a late one a turn anyway.
    if (this.refusedByConn.has(id)) setImmediate(() => this.refusedByConn.delete(id));
  });
  private readonly onData = guard((m: DataMessage) => {
    const c = this.conns.get(m.id);
    if (c !== undefined && !c.lost && !c.h2) this.data(c, m.chunk);
  });
  private readonly onFrame = guard((m: FrameMessage) => this.frame(m));
  private readonly onParseError = guard((m: ParseErrorMessage) => {
    this.lastParseError = { code: m.code, offset: m.offset, reason: m.reason };
  });
  private readonly onRefused = guard((m: RequestRefusedMessage) => this.refused(m));
  private readonly onFinish = guard((m: ResponseFinishMessage) => this.finish(m));
  private readonly onMatch = guard((m: RouteMatchMessage) => this.match(m));
  private readonly onStart = guard((m: RequestTraceContext) => this.start(m));

  constructor(private readonly options: RecorderOptions) {}

  get capacity(): number {
    return this.options.capacity;
  }

  /** Whether the channels are subscribed. */
  get active(): boolean {
    return this.running;
  }

  /** Subscribes to every channel; connections already open are not followed. */
  run(): void {
    if (this.running) return;
    this.running = true;
    subscribe(Channels.OPEN, this.onOpen);
    subscribe(Channels.CLOSE, this.onClose);
    subscribe(Channels.DATA, this.onData);
    subscribe(Channels.PARSE_ERROR, this.onParseError);
    subscribe(Channels.ROUTE_MATCH, this.onMatch);
    subscribe(Channels.HTTP2_FRAME, this.onFrame);
    subscribe(ServerChannel.REQUEST_REFUSED, this.onRefused);
    subscribe(ServerChannel.RESPONSE_FINISH, this.onFinish);
    trace.start.bindStore(this.als, (ctx) => ctx);
    subscribe(START, this.onStart);
  }

  /** Unsubscribes everything and forgets every connection; entries stay. */
  halt(): void {
    if (!this.running) return;
    this.running = false;
    unsubscribe(Channels.OPEN, this.onOpen);
    unsubscribe(Channels.CLOSE, this.onClose);
    unsubscribe(Channels.DATA, this.onData);
    unsubscribe(Channels.PARSE_ERROR, this.onParseError);
    unsubscribe(Channels.ROUTE_MATCH, this.onMatch);
    unsubscribe(Channels.HTTP2_FRAME, this.onFrame);
    unsubscribe(ServerChannel.REQUEST_REFUSED, this.onRefused);
    unsubscribe(ServerChannel.RESPONSE_FINISH, this.onFinish);
    unsubscribe(START, this.onStart);
    trace.start.unbindStore(this.als);
    this.conns.clear();
    for (const h of this.h2conns.values()) h.close();
    this.h2conns.clear();
    this.refusedByConn.clear();
    this.lastParseError = null;
    this.byCtx = new WeakMap();
    this.observed = new WeakMap();
    // Requests still in flight keep what they have: the head if it was sent, no finish.
    for (const rec of this.ring) this.takeHead(rec);
    for (const rec of this.ring) rec.writer = null;
  }

  /** Whether the bytes of this request's connection are recorded (false when not recording). */
  observes(req: ServerRequest): boolean {
    return this.observed.get(req) === true;
  }

  /** Entries, newest first, as plain data (safe to JSON). */
  entries(): InspectorEntry[] {
    const out: InspectorEntry[] = [];
    for (let i = this.ring.length - 1; i >= 0; i--) out.push(this.snapshot(this.ring[i]!));
    return out;
  }

  /** HTTP/2 connections with their connection-level frames, oldest first, as plain data. */
  connections(): InspectedConnection[] {
    return this.h2ring.map(copyConnection);
  }

  clear(): void {
    this.ring.length = 0;
    this.h2ring.length = 0;
  }

  // ---- channels -------------------------------------------------------------------------------

  private data(c: Followed, chunk: Uint8Array): void {
    if (c.pendingStart === 0 && c.cur === null && c.dropped === 0) {
      // The first bytes of the connection: the HTTP/2 preface makes it an HTTP/2 connection.
      const before = c.pendingLen;
      this.addPending(c, chunk, 0, chunk.length);
      if (before < 24 && prefaceState(c.pending, c.pendingLen) === 1) {
        c.h2 = true;
        c.pendingLen = 0;
      }
      return;
    }
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const cap = c.cur;
      if (cap === null) {
        this.addPending(c, chunk, i, n);
        return;
      }
      i = this.feed(c, cap, chunk, i, n);
    }
  }

  private frame(m: FrameMessage): void {
    const id = m.connectionId;
    let h = this.h2conns.get(id);
    if (h === undefined) {
      const c = this.conns.get(id);
      if (c !== undefined) {
        // An HTTP/2 connection (ALPN h2, or a preface the first bytes did not show): no HTTP/1.1 here.
        c.h2 = true;
        c.pendingLen = 0;
        c.cur = null;
      }
      h = new H2Conn(id, c?.remote ?? '', c !== undefined, this.options.mask, this.options.maxEntryBytes);
      this.h2conns.set(id, h);
      this.h2ring.push(h.info);
      if (this.h2ring.length > MAX_H2_CONNECTIONS) this.h2ring.shift();
      this.options.changed();
    }
    const e = h.frame(m);
    if (e !== null || m.streamId === 0) this.options.changed();
  }

  /** An HTTP/2 request reached its handler: its stream is `req.streamId`. */
  private startH2(ctx: RequestTraceContext, rec: Rec | null): void {
    const h = this.h2conns.get(ctx.connectionId);
    const req = ctx.request;
    const s = h?.streams.get(req.streamId) ?? null;
    if (s === null || s.claimed || methodOf(s.head) !== req.method) {
      if (rec !== null) rec.entry.request.unobserved = UNOBSERVED_H2;
      return;
    }
    s.claimed = true;
    this.observed.set(req, true);
    if (rec === null) {
      s.ignored = true; // the inspector's own request
      s.data.frames.length = 0;
      return;
    }
    rec.writer = ctx.response;
    const e = rec.entry;
    s.entry = e;
    e.http2 = s.data;
    e.request.bytesTotal = s.bytesIn;
    e.request.complete = s.ended;
  }

  /** Gives `bytes[i, n)` to the capture up to its end; returns the index where it stopped. */
  private feed(c: Followed, cap: Capture, bytes: Uint8Array, i: number, n: number): number {
    let stop: number;
    if (cap.chunked !== null) stop = cap.chunked.feed(bytes, i, n);
    else stop = i + Math.min(n - i, cap.end - cap.pos);
    if (cap.rec !== null) this.keep(cap.rec, bytes, i, stop);
    cap.pos += stop - i;
    if (cap.chunked !== null ? cap.chunked.done : cap.pos >= cap.end) this.complete(c, cap);
    return stop;
  }

  private complete(c: Followed, cap: Capture): void {
    if (cap.rec !== null) {
      const trailers = cap.chunked?.trailerStart ?? -1;
      if (trailers >= 0) this.maskKept(cap.rec, cap.body - cap.start + trailers);
      cap.rec.entry.request.complete = true;
      this.options.changed();
    }
    c.cur = null;
    c.pendingStart = cap.pos;
  }

  private addPending(c: Followed, bytes: Uint8Array, i: number, n: number): void {
    if (c.dropped > 0) {
      c.dropped += n - i;
      return;
    }
    const room = MAX_PENDING_BYTES - c.pendingLen;
    const take = Math.min(room, n - i);
    if (c.pendingLen + take > c.pending.length) {
      let size = c.pending.length * 2;
      while (size < c.pendingLen + take) size *= 2;
      const grown = new Uint8Array(Math.min(size, MAX_PENDING_BYTES));
      grown.set(c.pending.subarray(0, c.pendingLen));
      c.pending = grown;
    }
    c.pending.set(bytes.subarray(i, i + take), c.pendingLen);
    c.pendingLen += take;
    c.dropped += n - i - take;
  }

  private start(ctx: RequestTraceContext): void {
    const req = ctx.request;
    const own = this.options.exclude(req.path);
    const rec = own ? null : this.open(this.requestEntry(req, ctx.connectionId));
    if (rec !== null) this.byCtx.set(ctx, rec);
    if (req.httpVersion === '2.0') {
      this.startH2(ctx, rec);
      return;
    }
    const c = this.conns.get(ctx.connectionId);
    if (c === undefined) {
      if (rec !== null) rec.entry.request.unobserved = UNOBSERVED_EARLIER;
      return;
    }
    if (c.cur !== null) c.lost = true; // the previous message did not end where the server's did
    const end = c.lost || c.cur !== null ? -1 : headEnd(c.pending, 0, c.pendingLen);
    if (end < 0) {
      c.lost = true;
      c.cur = null;
      if (rec !== null) rec.entry.request.unobserved = UNOBSERVED_LOST;
      return;
    }
    this.observed.set(req, true);
    if (rec !== null) {
      rec.writer = ctx.response;
      maskHeaderLines(c.pending, 0, end, this.options.mask);
    }
    const chunked = rec?.entry.request.framing === 'chunked' || (own && isChunked(req));
    const cap: Capture = {
      rec,
      start: c.pendingStart,
      pos: c.pendingStart,
      end: chunked ? -1 : c.pendingStart + end + Math.max(0, req.contentLength),
      body: c.pendingStart + end,
      chunked: null,
    };
    // The head, then whatever of the body (and of later requests) is already here.
    if (rec !== null) this.keep(rec, c.pending, 0, end);
    cap.pos += end;
    if (chunked) cap.chunked = new ChunkedEnd();
    c.cur = cap;
    const base = c.pendingStart;
    let used = end;
    if (cap.chunked === null && cap.pos >= cap.end) this.complete(c, cap);
    else used = this.feed(c, cap, c.pending, end, c.pendingLen);
    // The capture took `used` bytes: the rest stays unclaimed, for the next request.
    c.pending.copyWithin(0, used, c.pendingLen);
    c.pendingLen -= used;
    c.pendingStart = base + used;
    if (c.cur === cap && c.dropped > 0) {
      // The body goes on into bytes that were counted, not kept: Content-Length can skip them.
      if (cap.chunked === null && cap.end - cap.pos >= c.dropped) {
        if (rec !== null) rec.entry.request.bytesTotal += c.dropped;
        cap.pos += c.dropped;
        c.dropped = 0;
        if (cap.pos >= cap.end) this.complete(c, cap);
      } else c.lost = true;
    }
  }

  private refused(msg: RequestRefusedMessage): void {
    const parse = this.lastParseError;
    this.lastParseError = null;
    const reason =
      parse !== null && parse.code === msg.code && parse.offset === msg.offset ? parse.reason : null;
    const h = this.h2conns.get(msg.connectionId);
    if (h !== undefined) {
      this.refusedH2(msg, h);
      return;
    }
    const c = this.conns.get(msg.connectionId);
    const cap = c?.cur ?? null;
    if (c !== undefined && cap !== null && cap.rec !== null) {
      // A request whose body was refused (413, bad chunked framing): it reached its handler.
      const at = msg.offset >= 0 ? msg.offset - cap.start : -1;
      cap.rec.entry.refused = {
        code: msg.code,
        status: msg.status,
        reason,
        offset: msg.offset,
        at: at < cap.rec.kept ? at : -1,
        bytesAfter: 0,
      };
      c.cur = null;
      c.lost = true;
      this.refusedByConn.set(msg.connectionId, cap.rec);
      this.options.changed();
      return;
    }
    const entry: InspectorEntry = {
      id: 0,
      time: new Date().toISOString(),
      connectionId: msg.connectionId,
      remote: c?.remote ?? msg.remoteAddress,
      request: {
        method: null,
        target: null,
        version: null,
        headers: [],
        trailers: [],
        keepAlive: null,
        framing: 'unknown',
        contentLength: -1,
        bytes: null,
        bytesTotal: 0,
        complete: false,
        unobserved: null,
      },
      route: null,
      response: {
        status: msg.status,
        head: cannedHead(msg.status),
        headers: [],
        canned: true,
        finished: false,
        aborted: false,
        bytesOut: -1,
        bodyBytesIn: -1,
        durationMs: -1,
      },
      refused: { code: msg.code, status: msg.status, reason, offset: msg.offset, at: -1, bytesAfter: 0 },
      http2: null,
    };
    entry.response!.headers = headFields(entry.response!.head!);
    const rec = this.open(entry);
    if (c === undefined || c.lost) {
      entry.request.unobserved = c === undefined ? UNOBSERVED_EARLIER : UNOBSERVED_LOST;
    } else {
      // The bytes since the last request, up to and including the offending byte.
      const at = msg.offset >= 0 ? msg.offset - c.pendingStart : -1;
      const upTo = at >= 0 ? Math.min(c.pendingLen, at + 1) : c.pendingLen;
      maskHeaderLines(c.pending, 0, upTo, this.options.mask);
      this.keep(rec, c.pending, 0, upTo);
      entry.refused!.at = at >= 0 && at < upTo ? at : -1;
      entry.refused!.bytesAfter = c.pendingLen - upTo + c.dropped;
      c.lost = true;
      const line = firstLine(c.pending, upTo);
      if (line !== null) [entry.request.method, entry.request.target, entry.request.version] = line;
    }
    this.refusedByConn.set(msg.connectionId, rec);
    this.options.changed();
  }

  /**
   * The HTTP/2 engine refused a stream (RST_STREAM, or 431) or failed the connection (GOAWAY): an
   * entry with the code, the engine's words, and the stream's frames when it names one.
   */
  private refusedH2(msg: RequestRefusedMessage, h: H2Conn): void {
    const err = msg.error as { message?: unknown } | null;
    const streamId = msg.streamId;
    const s = streamId > 0 ? h.streams.get(streamId) : undefined;
    const head = s?.head ?? null;
    const entry: InspectorEntry = {
      id: 0,
      time: new Date().toISOString(),
      connectionId: msg.connectionId,
      remote: h.info.remote !== '' ? h.info.remote : `${msg.remoteAddress}:${msg.remotePort}`,
      request: {
        method: pseudo(head, ':method'),
        target: pseudo(head, ':path') ?? pseudo(head, ':authority'),
        version: head === null ? null : '2.0',
        headers: head === null ? [] : head.slice(),
        trailers: [],
        keepAlive: null,
        framing: 'http2',
        contentLength: -1,
        bytes: null,
        bytesTotal: s?.bytesIn ?? 0,
        complete: s?.ended ?? false,
        unobserved: null,
      },
      route: null,
      response: null,
      refused: {
        code: msg.code,
        status: msg.status,
        reason: typeof err?.message === 'string' ? err.message : null,
        offset: -1,
        at: -1,
        bytesAfter: 0,
      },
      http2: s === undefined ? null : s.data,
    };
    if (s !== undefined && s.entry === null && !s.ignored) {
      s.claimed = true;
      s.entry = entry;
    }
    this.open(entry);
  }

  private finish(msg: ResponseFinishMessage): void {
    let rec: Rec | undefined;
    if (msg.context !== null) rec = this.byCtx.get(msg.context);
    if (rec === undefined && msg.request === null) {
      rec = this.refusedByConn.get(msg.connectionId);
      this.refusedByConn.delete(msg.connectionId);
    }
    if (rec === undefined) return;
    const e = rec.entry;
    this.takeHead(rec);
    rec.writer = null;
    const r = e.response ?? emptyResponse();
    e.response = r;
    r.status = msg.status;
    r.finished = true;
    r.aborted = msg.aborted;
    r.bytesOut = msg.bytesOut;
    r.bodyBytesIn = msg.bytesIn;
    r.durationMs = msg.durationMs >= 0 ? Math.round(msg.durationMs * 1000) / 1000 : -1;
    if (e.route === null && msg.route !== null && e.refused === null)
      e.route = { pattern: msg.route, status: null, params: {} };
    const req = msg.request;
    if (req !== null && (e.request.framing === 'chunked' || e.request.framing === 'http2')) {
      const t = req.rawTrailers;
      for (let i = 0; i + 1 < t.length; i += 2)
        e.request.trailers.push([t[i]!, maskValue(t[i]!, t[i + 1]!, this.options.mask)]);
    }
    this.options.changed();
  }

  private match(msg: RouteMatchMessage): void {
    const ctx = this.als.getStore();
    if (ctx === undefined) return;
    const rec = this.byCtx.get(ctx);
    if (rec === undefined || rec.entry.route !== null) return;
    const r = msg.result;
    const pattern = r.status === 200 && typeof r.pattern === 'string' ? r.pattern : null;
    rec.entry.route = { pattern, status: r.status, params: r.status === 200 ? { ...r.params } : {} };
    if (ctx.route === null && pattern !== null) ctx.route = pattern; // for finish, and other subscribers
  }

  // ---- entries --------------------------------------------------------------------------------

  private open(entry: InspectorEntry): Rec {
    entry.id = this.nextId++;
    const rec = new Rec(entry);
    this.ring.push(rec);
    if (this.ring.length > this.options.capacity) {
      const gone = this.ring.shift()!;
      gone.writer = null;
      gone.parts = [];
    }
    this.options.changed();
    return rec;
  }

  private requestEntry(req: ServerRequest, connectionId: number): InspectorEntry {
    const mask = this.options.mask;
    const raw = req.rawHeaders;
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2)
      headers.push([raw[i]!, maskValue(raw[i]!, raw[i + 1]!, mask)]);
    const h2 = req.httpVersion === '2.0';
    const request: InspectedRequest = {
      method: req.method,
      target: req.url,
      version: req.httpVersion,
      headers,
      trailers: [],
      keepAlive: h2 ? null : keepAlive(req),
      framing: h2 ? 'http2' : req.contentLength >= 0 ? 'content-length' : isChunked(req) ? 'chunked' : 'none',
      contentLength: req.contentLength,
      bytes: null,
      bytesTotal: 0,
      complete: false,
      unobserved: null,
    };
    return {
      id: 0,
      time: new Date().toISOString(),
      connectionId,
      remote: `${req.remoteAddress}:${req.remotePort}`,
      request,
      route: null,
      response: null,
      refused: null,
      http2: null,
    };
  }

  /** Copies `bytes[from, to)` into the entry, up to `maxEntryBytes`; counts all of them. */
  private keep(rec: Rec, bytes: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    rec.entry.request.bytesTotal += to - from;
    const room = this.options.maxEntryBytes - rec.kept;
    if (room <= 0) return;
    const end = Math.min(to, from + room);
    rec.parts.push(bytes.slice(from, end));
    rec.kept += end - from;
    rec.text = null;
  }

  /** Masks the header lines of the kept bytes from index `from` on (a chunked body's trailers). */
  private maskKept(rec: Rec, from: number): void {
    if (from >= rec.kept || this.options.mask.size === 0) return;
    const all = rec.parts.length === 1 ? rec.parts[0]! : Buffer.concat(rec.parts);
    maskHeaderLines(all, from, all.length, this.options.mask);
    rec.parts = [all];
    rec.text = null;
  }

  private takeHead(rec: Rec): void {
    const w = rec.writer;
    if (w === null) return;
    const head = w.head;
    if (head === null) return;
    const r = rec.entry.response ?? emptyResponse();
    rec.entry.response = r;
    r.head = maskHeadText(head, this.options.mask);
    r.headers = headFields(r.head);
    if (r.status === 0) r.status = w.statusCode;
    rec.writer = null; // the head never changes once sent
  }

  private snapshot(rec: Rec): InspectorEntry {
    this.takeHead(rec);
    const e = rec.entry;
    if (rec.text === null && rec.parts.length > 0) {
      rec.text = rec.parts.length === 1 ? decoder(rec.parts[0]!) : decoder(Buffer.concat(rec.parts));
      if (rec.parts.length > 1) rec.parts = [Buffer.from(rec.text, 'latin1')];
    }
    const bytes = e.request.unobserved !== null || e.request.framing === 'http2' ? null : (rec.text ?? '');
    return {
      ...e,
      request: {
        ...e.request,
        headers: e.request.headers.map((h) => [h[0], h[1]]),
        trailers: e.request.trailers.map((h) => [h[0], h[1]]),
        bytes,
      },
      route: e.route === null ? null : { ...e.route, params: { ...e.route.params } },
      response:
        e.response === null ? null : { ...e.response, headers: e.response.headers.map((h) => [h[0], h[1]]) },
      refused: e.refused === null ? null : { ...e.refused },
      http2: e.http2 === null ? null : copyStream(e.http2),
    };
  }
}

/** The `:method` of a decoded request head, or null. */
function methodOf(head: [string, string][] | null): string | null {
  return pseudo(head, ':method');
}

/** The value of pseudo-header field `name` in a decoded head, or null. */
function pseudo(head: [string, string][] | null, name: string): string | null {
  if (head === null) return null;
  for (let i = 0; i < head.length; i++) if (head[i]![0] === name) return head[i]![1];
  return null;
}

/** The head of the server's canned answer to a refused request (`cannedResponse` of `@strata/response`). */
function cannedHead(status: number): string {
  const text = decoder(cannedResponse(status));
  const end = text.indexOf('\r\n\r\n');
  return end === -1 ? text : text.slice(0, end + 4);
}

/** A channel subscriber that never throws. */
function guard<T>(fn: (message: T) => void): (message: unknown) => void {
  return (message) => {
    try {
      fn(message as T);
    } catch {
      // Nothing to do: the server carries on, the entry stays as far as it got.
    }
  };
}

function emptyResponse(): NonNullable<InspectorEntry['response']> {
  return {
    status: 0,
    head: null,
    headers: [],
    canned: false,
    finished: false,
    aborted: false,
    bytesOut: -1,
    bodyBytesIn: -1,
    durationMs: -1,
  };
}

function isChunked(req: ServerRequest): boolean {
  const te = req.header('transfer-encoding');
  return te !== undefined && /(^|,)\s*chunked\s*$/i.test(te);
}

/** Whether the connection may carry another request after this one (RFC 9112 section 9.3). */
function keepAlive(req: ServerRequest): boolean {
  const tokens = (req.header('connection') ?? '').toLowerCase();
  if (/(^|,)\s*close\s*(,|$)/.test(tokens)) return false;
  return req.httpVersion === '1.1' || /(^|,)\s*keep-alive\s*(,|$)/.test(tokens);
}

/** Method, target and version of a request line in `bytes[0, to)`, when it is all there. */
function firstLine(bytes: Uint8Array, to: number): [string, string, string] | null {
  let i = 0;
  while (i < to && (bytes[i] === 13 || bytes[i] === 10)) i++; // leading CR / LF
  let end = i;
  while (end < to && bytes[end] !== 10) end++; // '\n'
  if (end === to) return null;
  const line = decoder(bytes.subarray(i, end)).replace(/\r$/, '');
  const parts = line.split(' ');
  if (parts.length !== 3 || !parts[2]!.startsWith('HTTP/')) return null;
  return [parts[0]!, parts[1]!, parts[2]!.slice(5)];
}
