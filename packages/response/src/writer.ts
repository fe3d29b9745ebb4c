import { dateLine, dateValue } from './_date';
import { STATUS_LINES } from './_status';
import { assertName, assertValue, valueClass } from './_validate';
import { ResponseError, ResponseErrorCode } from './errors';

/**
 * The byte sink a {@link ResponseWriter} writes to. Declared here (the writer owns the seam); the
 * server's per-connection object satisfies it structurally.
 *
 * Strings handed to `write` are always UTF-8 text and are ASCII whenever they hold head bytes: the
 * sink must encode strings as UTF-8 (Node's socket default).
 */
export interface ByteSink {
  /** Queue bytes. Returns false when the sink is above its high-water mark: wait for `onDrain`. */
  write(chunk: Uint8Array | string): boolean;
  /** Start batching writes (one syscall at `uncork`). */
  cork(): void;
  /** Flush batched writes. */
  uncork(): void;
  /** Call `listener` once, at the next drain. */
  onDrain(listener: () => void): void;
  /** This response's bytes are complete (not a socket close: look at `keepAlive`). */
  end(): void;
}

/**
 * A sink that takes the response head and trailers as fields (HTTP/2): the writer adds no HTTP/1.1
 * framing. Declared here (the writer owns the seam); an HTTP/2 stream satisfies it structurally. The
 * body still goes through `write`, unframed (the sink cuts it into DATA frames).
 *
 * Field names are lower case; values are Latin-1 strings (one character per octet: obs-text bytes
 * 0x80..0xFF may occur, never controls). No pseudo-header (`:status` is the `status` argument) and no
 * connection-specific field (RFC 9113 section 8.2.2) is ever handed over.
 */
export interface FieldSink extends ByteSink {
  /**
   * A response head: `status` and a flat list `[lower-case name, value, ...]` without pseudo-headers
   * and without connection-specific fields. `end` true: no body and no trailers follow (HEADERS with
   * END_STREAM); the writer then still calls `end()`. Interim 1xx heads come with `end` false before
   * the final head. Returns false like `write()` (wait for `onDrain`).
   */
  writeHead(status: number, fields: string[], end: boolean): boolean;
  /** Trailer fields (flat, lower-case names), written as the last thing before `end()`. */
  writeTrailers(fields: string[]): void;
}

/** What the server tells the writer about the request it answers. */
export interface ResponseWriterOptions {
  /** Request method (`HEAD` suppresses the body but keeps the headers of the GET). */
  method: string;
  /** Request HTTP minor version: 1 allows chunked framing; 0 streams close-delimited. */
  versionMinor: 0 | 1;
  /** The server's keep-alive decision for this request (version + Connection tokens + server state). */
  keepAlive: boolean;
  /** Emit the cached `Date` header (default true). */
  date?: boolean;
  /**
   * The sink is a {@link FieldSink} (HTTP/2): heads and trailers go as fields, the body unframed, no
   * Connection/Keep-Alive/Transfer-Encoding. `versionMinor` is then ignored. A handler's
   * `Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding` and `Upgrade` headers are
   * dropped silently (RFC 9113 section 8.2.2) and `Connection: close` leaves `keepAlive` true.
   * `keepAlive` false after the response means the stream was cut: reset it (the connection stays).
   */
  http2?: boolean;
}

/** Any body the writer can stream. Chunks must be `Uint8Array` or `string` (UTF-8). */
export type StreamSource =
  | string
  | Uint8Array
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | ReadableStream<Uint8Array | string>
  | NodeJS.ReadableStream;

/** Options of {@link ResponseWriter.stream}. */
export interface StreamOptions {
  /** Aborts the stream: the source is cancelled and the response is cut (`keepAlive` becomes false). */
  signal?: AbortSignal;
}

/** A header value as stored: one string, or several (one field line each for Set-Cookie). */
export type HeaderValue = string | string[];

// Header kinds, computed once when a header is set, so serialisation compares small integers.
const K_OTHER = 0;
const K_CONTENT_LENGTH = 1;
const K_TRANSFER_ENCODING = 2;
const K_CONNECTION = 3;
const K_DATE = 4;
const K_SET_COOKIE = 5;
const K_CONTENT_TYPE = 6;

function kindOf(lower: string): number {
  switch (lower) {
    case 'content-length':
      return K_CONTENT_LENGTH;
    case 'transfer-encoding':
      return K_TRANSFER_ENCODING;
    case 'connection':
      return K_CONNECTION;
    case 'date':
      return K_DATE;
    case 'set-cookie':
      return K_SET_COOKIE;
    case 'content-type':
      return K_CONTENT_TYPE;
    default:
      return K_OTHER;
  }
}

/**
 * Header names already validated, mapped to their lower-case form: a hit skips the token scan and the
 * lower-casing. Bounded, so hostile names cannot grow it: past the limit names are checked each time.
 */
const NAME_CACHE = new Map<string, string>();
const NAME_CACHE_LIMIT = 512;

// Body framing modes (RFC 9112 section 6).
const M_UNDECIDED = 0;
const M_LENGTH = 1; // Content-Length
const M_CHUNKED = 2; // Transfer-Encoding: chunked (HTTP/1.1 only)
const M_CLOSE = 3; // close-delimited (HTTP/1.0 without a known length)
const M_NONE = 4; // no body: HEAD, 1xx, 204, 304
const M_RAW = 5; // HTTP/2 without a known length: unframed writes, the stream's END_STREAM ends the body

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
const CT_TEXT = 'text/plain; charset=utf-8';
const CT_BYTES = 'application/octet-stream';
const CT_JSON = 'application/json; charset=utf-8';
const EMPTY = new Uint8Array(0);

/** Trailer fields that must not be sent as trailers (RFC 9110 section 6.5.1). */
const FORBIDDEN_TRAILERS = new Set([
  'content-length',
  'transfer-encoding',
  'trailer',
  'host',
  'content-type',
  'content-encoding',
  'content-range',
  'connection',
  'cache-control',
  'expect',
  'max-forwards',
  'pragma',
  'range',
  'te',
  'authorization',
  'set-cookie',
]);

/**
 * Connection-specific fields that HTTP/2 forbids (RFC 9113 section 8.2.2) among the names the kind
 * table calls K_OTHER (`connection` and `transfer-encoding` have kinds of their own).
 */
function isHopByHop(lower: string): boolean {
  switch (lower) {
    case 'keep-alive':
    case 'proxy-connection':
    case 'upgrade':
      return true;
    default:
      return false;
  }
}

/** Appends a header's lower-case field(s) to an HTTP/2 field list (Set-Cookie: one field each). */
function pushField(out: string[], lower: string, kind: number, v: HeaderValue): void {
  if (typeof v === 'string') out.push(lower, v);
  else if (kind === K_SET_COOKIE) for (let j = 0; j < v.length; j++) out.push(lower, v[j]!);
  else if (v.length > 0) out.push(lower, v.join(', '));
}

/** Renders an HTTP/2 head as text the way curl prints it (`HTTP/2 200`, then `name: value` lines). */
function renderFields(code: number, fields: string[]): string {
  let s = `HTTP/2 ${code}\r\n`;
  for (let i = 0; i < fields.length; i += 2) s += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return s + CRLF;
}

function byteLength(chunk: string | Uint8Array): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  throw new ResponseError(ResponseErrorCode.INVALID_BODY, 'Body chunks must be strings or Uint8Array');
}

/** 1..15 ASCII digits (a safe integer; RFC 9110 section 8.6 `1*DIGIT`, no sign, no spaces). */
function isDecimal(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false; // '0'..'9'
  }
  return true;
}

/** True when `value`'s comma-separated tokens include `token` (ASCII case-insensitive). */
function hasToken(value: string, token: string): boolean {
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) if (parts[i]!.trim().toLowerCase() === token) return true;
  return false;
}

/** A Node.js `Readable` as `stream()` recognises one: it is released with `destroy()`. */
interface NodeReadableLike {
  destroy(error?: Error): unknown;
  pipe: unknown;
}

/** The source as a Node `Readable` (it has `destroy` and `pipe`), or null. */
function asNodeReadable(source: StreamSource): NodeReadableLike | null {
  const node = source as Partial<NodeReadableLike>;
  return typeof node.destroy === 'function' && typeof node.pipe === 'function'
    ? (node as NodeReadableLike)
    : null;
}

/**
 * Releases a source that will never be pumped, so that whatever it holds (a file descriptor, a
 * socket) is freed now and not by the GC: `destroy()` a Node `Readable`, `cancel()` a web stream,
 * `return()` an iterator. Never rejects: a failing release is not the caller's error.
 */
async function releaseSource(source: StreamSource): Promise<void> {
  try {
    const node = asNodeReadable(source);
    if (node !== null) node.destroy();
    else if (typeof (source as ReadableStream).cancel === 'function')
      await (source as ReadableStream).cancel();
    else if (typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
      await (source as AsyncIterable<unknown>)[Symbol.asyncIterator]().return?.();
    else if (typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function')
      (source as Iterable<unknown>)[Symbol.iterator]().return?.();
  } catch {
    // already errored, locked by another reader, or a throwing return(): nothing more to release
  }
}

/**
 * Serialises one HTTP/1.1 response to a {@link ByteSink}: status line, validated headers, framing
 * (Content-Length, chunked or close-delimited), body and trailers. Nothing is written before the first
 * body byte or `end`/`send`, so every header error surfaces before a byte leaves.
 *
 * One writer per response. After the response ends (`finished`), the server reads `keepAlive`: false
 * means it must close the connection once the bytes are flushed.
 *
 * @example
 * const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true });
 * res.status(200).header('Content-Type', 'text/plain').send('hello');
 */
export class ResponseWriter {
  private readonly sink: ByteSink;
  private readonly isHead: boolean;
  // 0 or 1: HTTP/1.0 or HTTP/1.1; 2: HTTP/2 (a FieldSink). One field for both, so that an
  // HTTP/1.1 writer has exactly the fields it had before the HTTP/2 mode existed.
  private readonly versionMinor: 0 | 1 | 2;
  private readonly date: boolean;
  private ka: boolean;
  private code = 200;
  private reason: string | null = null;
  // Headers, flat with stride 4: [name as given, lower-case name, kind, value, ...]. One array per
  // response, allocated at the first header.
  private h: Array<string | number | string[]> | null = null;
  private high = 0; // 1 when a header holds obs-text: the head is then written as latin1 bytes
  private declared = -1; // Content-Length set by the caller
  private declaredText = ''; // ...as the caller wrote it (RFC 9110 section 8.6 allows leading zeros)
  private mode = M_UNDECIDED;
  private remaining = 0;
  private sent = false;
  private done = false;
  private body = 0;
  private trailerList: string[] | null = null;
  private headText: string | null = null;
  // HTTP/2 only: the final head's fields, rendered on demand. Declared, never initialised: an
  // HTTP/1.1 writer does not carry the slot.
  declare private fieldList: string[] | undefined;
  private aborted = false;
  private wake: (() => void) | null = null;
  private cancelSource: (() => void) | null = null;

  /**
   * `sink` must be a {@link FieldSink} when `options.http2` is true (checked: a `TypeError` when it
   * has no `writeHead`/`writeTrailers`).
   */
  constructor(sink: ByteSink | FieldSink, options: ResponseWriterOptions) {
    this.sink = sink;
    this.isHead = options.method === 'HEAD';
    const h2 = options.http2 === true;
    this.versionMinor = h2 ? 2 : options.versionMinor;
    this.ka = options.keepAlive;
    this.date = options.date !== false;
    if (
      h2 &&
      (typeof (sink as FieldSink).writeHead !== 'function' ||
        typeof (sink as FieldSink).writeTrailers !== 'function')
    )
      throw new TypeError('http2 mode needs a FieldSink (writeHead and writeTrailers)');
  }

  /** HTTP/2 mode (see `versionMinor`). */
  private get h2(): boolean {
    return this.versionMinor === 2;
  }

  /** Status code (default 200). */
  get statusCode(): number {
    return this.code;
  }
  /** True once the head has been written to the sink. */
  get headersSent(): boolean {
    return this.sent;
  }
  /** True once the response is complete (or cut by abort / error). */
  get finished(): boolean {
    return this.done;
  }
  /** The keep-alive decision after this response: false means the server must close the connection. */
  get keepAlive(): boolean {
    return this.ka;
  }
  /**
   * The serialised head exactly as handed to the sink (status line, fields and the empty line), or
   * null before it is written. Kept by reference, so reading it costs nothing; for logging and wire
   * inspectors. Interim (1xx) heads are not included. In HTTP/2 mode a text rendering of the fields
   * handed to `writeHead`, as curl prints it (`HTTP/2 200\r\nname: value\r\n...\r\n`), built at the
   * first read.
   */
  get head(): string | null {
    const t = this.headText;
    if (t !== null || this.fieldList === undefined) return t;
    this.headText = renderFields(this.code, this.fieldList);
    return this.headText;
  }
  /** Body bytes written so far (after framing decisions; 0 for HEAD/204/304). */
  get bytesWritten(): number {
    return this.body;
  }

  /**
   * Sets the status code and optionally a custom reason phrase (default: the IANA phrase).
   * Throws `ERR_INVALID_STATUS` for codes outside 100..599 or interim 1xx codes (use
   * `writeContinue`/`writeEarlyHints`/`writeInformational`; 101 is allowed as the final status, except
   * in HTTP/2 mode, which has no 101: RFC 9113 section 8.6), and `ERR_INVALID_REASON` for a phrase
   * with CR, LF, NUL or other controls. HTTP/2 has no reason phrase: it is checked, then ignored.
   */
  status(code: number, reason?: string): this {
    if (this.sent) throw new ResponseError(ResponseErrorCode.HEADERS_SENT, 'Headers already sent');
    if (!Number.isInteger(code) || code < 100 || code > 599 || (code < 200 && (code !== 101 || this.h2)))
      throw new ResponseError(ResponseErrorCode.INVALID_STATUS, `Invalid final status code: ${code}`);
    if (reason !== undefined) {
      const k = typeof reason === 'string' ? valueClass(reason) : -1;
      if (k < 0)
        throw new ResponseError(
          ResponseErrorCode.INVALID_REASON,
          `Invalid reason phrase: ${JSON.stringify(reason)}`,
        );
      if (k > 0) this.high = 1;
      this.reason = reason;
    } else this.reason = null;
    this.code = code;
    return this;
  }

  /**
   * Sets a header, replacing any previous value of the same name (case-insensitive). The name's case
   * is kept as given. An array gives a multi-valued header: joined with `, ` on one line, except
   * `Set-Cookie`, which gets one line per value. Throws `ERR_INVALID_HEADER_NAME` /
   * `ERR_INVALID_HEADER_VALUE` (CR, LF, NUL...) and stores nothing on error.
   */
  header(name: string, value: HeaderValue | number): this {
    return this.put(name, value, false);
  }

  /** Adds a value to a header (creating it when absent), keeping earlier values. Same validation. */
  appendHeader(name: string, value: HeaderValue | number): this {
    return this.put(name, value, true);
  }

  /** Sets several headers from a record (each as with {@link header}). */
  headers(record: Record<string, HeaderValue | number>): this {
    for (const name of Object.keys(record)) this.put(name, record[name]!, false);
    return this;
  }

  private put(name: string, value: HeaderValue | number, append: boolean): this {
    if (this.sent) throw new ResponseError(ResponseErrorCode.HEADERS_SENT, 'Headers already sent');
    let lower = NAME_CACHE.get(name);
    if (lower === undefined) {
      assertName(name);
      lower = name.toLowerCase();
      if (NAME_CACHE.size < NAME_CACHE_LIMIT) NAME_CACHE.set(name, lower);
    }
    let high = 0;
    let v: HeaderValue;
    if (typeof value === 'number') v = String(value);
    else v = value;
    if (Array.isArray(v)) {
      v = v.slice();
      for (let i = 0; i < v.length; i++) high |= assertValue(name, v[i]!);
    } else high = assertValue(name, v);
    const kind = kindOf(lower);
    let declared = this.declared;
    if (kind === K_CONTENT_LENGTH) {
      const s = Array.isArray(v) ? (v.length === 1 ? v[0]! : '') : v;
      if (append || !isDecimal(s))
        throw new ResponseError(
          ResponseErrorCode.INVALID_CONTENT_LENGTH,
          `Invalid Content-Length: ${String(v)}`,
        );
      declared = Number(s);
      this.declaredText = s;
      v = s;
    } else if (kind === K_TRANSFER_ENCODING) {
      const s = Array.isArray(v) ? v.join(',') : v;
      if (s.trim().toLowerCase() !== 'chunked')
        throw new ResponseError(
          ResponseErrorCode.INVALID_TRANSFER_ENCODING,
          'Only Transfer-Encoding: chunked is supported (framing is chosen by the writer)',
        );
    }
    const h = this.h;
    const at = h === null ? -1 : this.find(lower);
    if (at >= 0 && append) {
      const old = h![at + 3] as HeaderValue;
      const list = typeof old === 'string' ? [old] : old;
      if (Array.isArray(v)) for (const x of v) list.push(x);
      else list.push(v);
      h![at + 3] = list;
    } else if (at >= 0) {
      h![at] = name;
      h![at + 3] = v;
    } else if (h === null) {
      // the first header: an array of exactly its four entries, not an empty one grown by push
      this.h = [name, lower, kind, v];
    } else h.push(name, lower, kind, v);
    this.declared = declared;
    if (high) this.high = 1;
    if (kind === K_CONNECTION && !this.h2 && hasToken(Array.isArray(v) ? v.join(',') : v, 'close'))
      this.ka = false;
    return this;
  }

  /** The header's value (as set), case-insensitive lookup. */
  getHeader(name: string): HeaderValue | undefined {
    const lower = name.toLowerCase();
    const at = this.find(lower);
    return at < 0 ? undefined : (this.h![at + 3] as HeaderValue);
  }

  /** True when the header is set. */
  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  /** Names of the headers set, in order and case as given. */
  getHeaderNames(): string[] {
    const out: string[] = [];
    const h = this.h;
    if (h !== null) for (let i = 0; i < h.length; i += 4) out.push(h[i] as string);
    return out;
  }

  /** Removes a header; returns true when it was set. */
  removeHeader(name: string): boolean {
    if (this.sent) throw new ResponseError(ResponseErrorCode.HEADERS_SENT, 'Headers already sent');
    const lower = name.toLowerCase();
    const at = this.find(lower);
    if (at < 0) return false;
    if (this.h![at + 2] === K_CONTENT_LENGTH) this.declared = -1;
    this.h!.splice(at, 4);
    return true;
  }

  /**
   * Adds trailer fields, sent after the last chunk of a chunked response. Must be called before
   * `end`. Throws `ERR_TRAILERS_UNSUPPORTED` when the response is (or will be) not chunked, and
   * `ERR_FORBIDDEN_TRAILER` for fields that must not be trailers (Content-Length, Host, ...).
   * In HTTP/2 mode every response with a body may have trailers (`send()` included); HEAD drops them
   * and 204/304 refuse them, as over HTTP/1.1.
   */
  addTrailers(trailers: Record<string, string>): this {
    if (this.done) throw new ResponseError(ResponseErrorCode.FINISHED, 'Response already finished');
    if (this.sent && !this.h2 && this.mode !== M_CHUNKED && this.mode !== M_NONE)
      throw new ResponseError(ResponseErrorCode.TRAILERS_UNSUPPORTED, 'Trailers need a chunked response');
    const list = this.trailerList ?? [];
    const add: string[] = [];
    for (const name of Object.keys(trailers)) {
      assertName(name);
      const value = trailers[name]!;
      if (assertValue(name, value) !== 0)
        throw new ResponseError(ResponseErrorCode.INVALID_HEADER_VALUE, 'Trailer values must be ASCII');
      if (FORBIDDEN_TRAILERS.has(name.toLowerCase()))
        throw new ResponseError(ResponseErrorCode.FORBIDDEN_TRAILER, `${name} is not allowed as a trailer`);
      add.push(name, value);
    }
    for (const x of add) list.push(x);
    this.trailerList = list;
    return this;
  }

  /**
   * Writes `100 Continue` (RFC 9110 section 15.2.1) when the client is HTTP/1.1 and no head was sent.
   * Returns false (writes nothing) for HTTP/1.0 clients, which must not receive 1xx responses.
   */
  writeContinue(): boolean {
    return this.writeInformational(100);
  }

  /**
   * Writes `103 Early Hints` with one `Link` line per link (RFC 8297). Returns false for HTTP/1.0.
   *
   * @example
   * res.writeEarlyHints(['</style.css>; rel=preload; as=style']);
   */
  writeEarlyHints(links: string | string[], headers?: Record<string, HeaderValue>): boolean {
    const h: Record<string, HeaderValue> = { Link: links };
    if (headers) for (const k of Object.keys(headers)) h[k] = headers[k]!;
    return this.writeInformational(103, h);
  }

  /**
   * Writes an interim 1xx response (100, 102, 103, or any 1xx except 101) with the given headers.
   * Validates everything before writing; returns false for HTTP/1.0 clients. In HTTP/2 mode it is
   * always sent, as `writeHead(code, fields, false)` (connection-specific fields dropped), and the
   * answer is the sink's.
   */
  writeInformational(code: number, headers?: Record<string, HeaderValue>): boolean {
    if (!Number.isInteger(code) || code < 100 || code > 199 || code === 101)
      throw new ResponseError(ResponseErrorCode.INVALID_STATUS, `Not an interim status: ${code}`);
    if (this.sent || this.done)
      throw new ResponseError(
        ResponseErrorCode.INVALID_INFORMATIONAL,
        'Interim responses must precede the head',
      );
    if (this.h2) return this.interimFields(code, headers);
    if (this.versionMinor === 0) return false; // RFC 9110 section 15.2: never to HTTP/1.0
    let s = STATUS_LINES[code]!;
    let high = 0;
    if (headers)
      for (const name of Object.keys(headers)) {
        assertName(name);
        const v = headers[name]!;
        const list = Array.isArray(v) ? v : [v];
        for (const x of list) high |= assertValue(name, x);
        if (list.length > 0) s += `${name}: ${list.join(', ')}\r\n`;
      }
    s += CRLF;
    this.sink.write(high ? Buffer.from(s, 'latin1') : s);
    return true;
  }

  /**
   * Sends a complete body with Content-Length framing and ends the response. Strings are UTF-8;
   * a missing Content-Type defaults to `text/plain; charset=utf-8` (string) or
   * `application/octet-stream` (bytes). For HEAD the headers (Content-Length included) are those of
   * the GET and no body is written.
   */
  send(body?: string | Uint8Array): void {
    if (this.done) throw new ResponseError(ResponseErrorCode.FINISHED, 'Response already finished');
    if (this.sent) throw new ResponseError(ResponseErrorCode.HEADERS_SENT, 'Headers already sent');
    if (body === undefined) body = EMPTY;
    const len = byteLength(body);
    const c = this.code;
    if (len > 0 && c >= 200 && c !== 204 && c !== 304 && !this.hasKind(K_CONTENT_TYPE))
      this.putTrusted(
        'Content-Type',
        'content-type',
        K_CONTENT_TYPE,
        typeof body === 'string' ? CT_TEXT : CT_BYTES,
      );
    if (this.h2) {
      this.sendFields(body, len);
      return;
    }
    const head = this.begin(len);
    const sink = this.sink;
    // One cork around the bytes and the end: a sink that flushes at uncork can send the whole
    // response at once, knowing it is complete (no flush to schedule for later).
    sink.cork();
    if (this.mode === M_NONE || len === 0) this.writeHead(head);
    else if (typeof body === 'string') {
      if (this.high === 0) sink.write(head + body);
      else {
        sink.cork();
        sink.write(Buffer.from(head, 'latin1'));
        sink.write(body);
        sink.uncork();
      }
      this.body = len;
    } else {
      sink.cork();
      this.writeHead(head);
      sink.write(body);
      sink.uncork();
      this.body = len;
    }
    this.done = true;
    sink.end();
    sink.uncork();
  }

  /** Sends `JSON.stringify(value)` with `application/json; charset=utf-8` (unless set) and ends. */
  json(value: unknown): void {
    const text = JSON.stringify(value);
    if (text === undefined)
      throw new ResponseError(ResponseErrorCode.INVALID_BODY, 'Value is not JSON-serialisable');
    if (this.sent) throw new ResponseError(ResponseErrorCode.HEADERS_SENT, 'Headers already sent');
    if (!this.hasKind(K_CONTENT_TYPE))
      this.putTrusted('Content-Type', 'content-type', K_CONTENT_TYPE, CT_JSON);
    this.send(text);
  }

  /**
   * Writes a body chunk. The first call writes the head and fixes the framing: Content-Length when
   * set, else chunked (HTTP/1.1) or close-delimited (HTTP/1.0, `keepAlive` becomes false). Returns
   * the sink's answer: false means wait for drain (or use {@link stream}). Writing past a declared
   * Content-Length throws `ERR_CONTENT_LENGTH_MISMATCH` and writes nothing of that chunk.
   */
  write(chunk: string | Uint8Array): boolean {
    if (this.done) throw new ResponseError(ResponseErrorCode.FINISHED, 'Response already finished');
    const len = byteLength(chunk);
    if (this.h2) return this.writeRaw(chunk, len);
    let head: string | null = null;
    if (!this.sent) {
      if (this.mode === M_UNDECIDED) this.decideStreaming();
      if (this.mode === M_LENGTH && len > this.remaining) this.tooLong(len);
      head = this.begin(-1);
    }
    const sink = this.sink;
    const mode = this.mode;
    if (mode === M_NONE || (len === 0 && head === null)) return head === null ? true : this.writeHead(head);
    if (mode === M_LENGTH && len > this.remaining) this.tooLong(len);
    this.body += len;
    if (mode === M_CHUNKED) {
      if (len === 0) return this.writeHead(head!); // a zero-size chunk would end the body
      const size = `${len.toString(16)}\r\n`;
      if (typeof chunk === 'string' && (head === null || this.high === 0))
        return sink.write(head === null ? size + chunk + CRLF : head + size + chunk + CRLF);
      sink.cork();
      if (head !== null) this.writeHead(head);
      sink.write(size);
      sink.write(chunk);
      const ok = sink.write(CRLF);
      sink.uncork();
      return ok;
    }
    if (mode === M_LENGTH) this.remaining -= len;
    if (head === null) return sink.write(chunk);
    if (typeof chunk === 'string' && this.high === 0) return sink.write(head + chunk);
    sink.cork();
    this.writeHead(head);
    const ok = sink.write(chunk);
    sink.uncork();
    return ok;
  }

  /**
   * Ends the response, optionally with a last chunk. Before any `write`, this is `send(chunk)`
   * (Content-Length framing). A chunked response gets its last chunk and trailers. Ending with fewer
   * bytes than a declared Content-Length throws `ERR_CONTENT_LENGTH_MISMATCH` after marking the
   * response finished with `keepAlive` false (the server must close: the framing cannot be repaired).
   * A second `end` is a no-op.
   */
  end(chunk?: string | Uint8Array): void {
    if (this.done) return;
    if (this.h2) {
      this.endFields(chunk);
      return;
    }
    if (!this.sent) {
      if (this.mode === M_UNDECIDED && this.trailerList === null) {
        this.send(chunk);
        return;
      }
      if (chunk === undefined) chunk = EMPTY;
    }
    if (chunk !== undefined) this.write(chunk);
    const sink = this.sink;
    if (this.mode === M_CHUNKED) {
      const t = this.trailerList;
      if (t === null) sink.write(LAST_CHUNK);
      else {
        let s = '0\r\n';
        for (let i = 0; i < t.length; i += 2) s += `${t[i]}: ${t[i + 1]}\r\n`;
        sink.write(s + CRLF);
      }
    } else if (this.mode === M_LENGTH && this.remaining !== 0) {
      const missing = this.remaining;
      this.ka = false;
      this.done = true;
      sink.end();
      throw new ResponseError(
        ResponseErrorCode.CONTENT_LENGTH_MISMATCH,
        `Response ended ${missing} byte(s) short of its Content-Length`,
      );
    }
    this.done = true;
    sink.end();
  }

  /**
   * Streams a body from a string, bytes, Node `Readable`, Web `ReadableStream`, or (async) iterable,
   * with backpressure: no chunk is pulled while the sink is full; pulling resumes on drain. Resolves
   * when the response has ended. If the source fails before the head was sent, the writer is left
   * untouched (an error response can still be sent) and the error is rethrown; after the head, the
   * response is cut (`keepAlive` false). `options.signal` or {@link abort} cancel the source and
   * reject with `ERR_RESPONSE_ABORTED`.
   *
   * @example
   * await res.stream(fs.createReadStream(path));
   */
  async stream(source: StreamSource, options?: StreamOptions): Promise<void> {
    if (typeof source === 'string' || source instanceof Uint8Array) {
      this.send(source);
      return;
    }
    if (this.done) {
      // Finished or aborted already (abort() may arrive while the caller awaited open/stat): the
      // source was handed to us and will never be pumped, so release it here or nobody will.
      void releaseSource(source);
      throw new ResponseError(ResponseErrorCode.FINISHED, 'Response already finished');
    }
    const signal = options?.signal;
    let onAbort: (() => void) | null = null;
    if (signal) {
      if (signal.aborted) this.aborted = true;
      else {
        onAbort = () => this.abort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    }
    try {
      if (this.noBody() && !this.aborted) {
        // HEAD, 204, 304: nothing of the source is needed; release it without pulling.
        await releaseSource(source);
      } else if (typeof (source as ReadableStream).getReader === 'function')
        await this.pumpReader((source as ReadableStream<Uint8Array | string>).getReader());
      else if (typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
        await this.pumpIterator(
          (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator](),
          asNodeReadable(source),
        );
      else if (typeof (source as Iterable<unknown>)[Symbol.iterator] === 'function')
        await this.pumpSync((source as Iterable<Uint8Array | string>)[Symbol.iterator]());
      else throw new ResponseError(ResponseErrorCode.INVALID_BODY, 'Unsupported stream source');
      if (this.aborted) throw new ResponseError(ResponseErrorCode.ABORTED, 'Response aborted');
      if (!this.sent && this.noBody()) this.write(EMPTY); // HEAD/204/304: head only, streaming framing
      this.end();
    } catch (err) {
      if (this.aborted || this.sent) this.cut();
      if (this.aborted && !(err instanceof ResponseError && err.code === ResponseErrorCode.ABORTED))
        throw new ResponseError(ResponseErrorCode.ABORTED, 'Response aborted');
      throw err;
    } finally {
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      this.cancelSource = null;
    }
  }

  /**
   * Aborts the response: a running {@link stream} stops pulling, cancels its source and rejects with
   * `ERR_RESPONSE_ABORTED`. An unfinished response is cut: `finished` true, `keepAlive` false, and the
   * sink's `end` is called. The server calls this when the connection goes away.
   */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const cancel = this.cancelSource;
    if (cancel) cancel();
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
    else if (cancel === null) this.cut();
  }

  private cut(): void {
    if (this.done) return;
    this.ka = false;
    this.done = true;
    this.sink.end();
  }

  private waitDrain(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sink.onDrain(() => {
        if (this.wake === resolve) {
          this.wake = null;
          resolve();
        }
      });
    });
  }

  // The pumps below stop pulling while the sink is full (waitDrain) and, on any early exit (abort,
  // a write error such as a Content-Length overrun or a bad chunk type, a body-less status), close
  // their source: `destroy()` a Node Readable, `cancel()` a web stream, `return()` an iterator.

  /**
   * `node` is the Node `Readable` behind `it`, if any. It is destroyed directly, not through
   * `it.return()`: an async generator queues `return()` behind a pending `next()` (a source with
   * nothing to read yet would then never be released), and `return()` before the first `next()`
   * finishes the iterator without destroying the stream (an abort before the first pull).
   */
  private async pumpIterator(
    it: AsyncIterator<Uint8Array | string>,
    node: NodeReadableLike | null,
  ): Promise<void> {
    this.cancelSource =
      node !== null
        ? () => {
            node.destroy();
          }
        : () => {
            it.return?.()?.catch(() => {});
          };
    let complete = false;
    try {
      while (!this.aborted && !this.noBody()) {
        const r = await it.next();
        if (r.done) {
          complete = true;
          break;
        }
        if (this.aborted) break;
        if (!this.write(r.value)) await this.waitDrain();
      }
    } catch (err) {
      if (!this.aborted) throw err;
    } finally {
      if (!complete) {
        if (node !== null) node.destroy();
        await Promise.resolve(it.return?.()).catch(() => {});
      }
    }
  }

  private async pumpSync(it: Iterator<Uint8Array | string>): Promise<void> {
    let complete = false;
    try {
      while (!this.aborted && !this.noBody()) {
        const r = it.next();
        if (r.done) {
          complete = true;
          break;
        }
        if (!this.write(r.value)) await this.waitDrain();
      }
    } finally {
      if (!complete) it.return?.();
    }
  }

  private async pumpReader(reader: ReadableStreamDefaultReader<Uint8Array | string>): Promise<void> {
    this.cancelSource = () => {
      reader.cancel().catch(() => {});
    };
    let complete = false;
    try {
      while (!this.aborted && !this.noBody()) {
        const r = await reader.read();
        if (r.done) {
          complete = true;
          break;
        }
        if (this.aborted) break;
        if (!this.write(r.value)) await this.waitDrain();
      }
    } catch (err) {
      if (!this.aborted) {
        complete = true;
        reader.cancel(err).catch(() => {});
        throw err;
      }
    } finally {
      if (!complete) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  private hasKind(kind: number): boolean {
    const h = this.h;
    if (h !== null) for (let i = 2; i < h.length; i += 4) if (h[i] === kind) return true;
    return false;
  }

  /** Index of the header's slot in `h`, or -1. */
  private find(lower: string): number {
    const h = this.h;
    if (h !== null) for (let i = 1; i < h.length; i += 4) if (h[i] === lower) return i - 1;
    return -1;
  }

  /** Adds a header known to be valid and absent (writer defaults): no validation, no lookup. */
  private putTrusted(name: string, lower: string, kind: number, value: string): void {
    const h = this.h;
    if (h === null) this.h = [name, lower, kind, value];
    else h.push(name, lower, kind, value);
  }

  private tooLong(len: number): never {
    throw new ResponseError(
      ResponseErrorCode.CONTENT_LENGTH_MISMATCH,
      `Chunk of ${len} byte(s) exceeds the remaining ${this.remaining} of Content-Length`,
    );
  }

  private noBody(): boolean {
    const c = this.code;
    return this.isHead || c < 200 || c === 204 || c === 304;
  }

  /** Streaming framing: Content-Length when declared, else chunked (1.1) or close-delimited (1.0). */
  private decideStreaming(): void {
    const ka = this.ka;
    if (this.noBody()) this.mode = M_NONE;
    else if (this.declared >= 0) {
      this.mode = M_LENGTH;
      this.remaining = this.declared;
    } else if (this.versionMinor === 1) this.mode = M_CHUNKED;
    else {
      this.mode = M_CLOSE;
      this.ka = false; // RFC 9112 section 6.3: the body ends at connection close
    }
    if (this.trailerList !== null && this.mode !== M_CHUNKED && !this.isHead) {
      this.mode = M_UNDECIDED;
      this.ka = ka;
      throw new ResponseError(ResponseErrorCode.TRAILERS_UNSUPPORTED, 'Trailers need a chunked response');
    }
  }

  /**
   * Fixes framing and serialises the head. `known` is the full body length (send) or -1 (streaming).
   * Throws before anything is written on a framing conflict.
   */
  private begin(known: number): string {
    const code = this.code;
    let framing = '';
    if (known >= 0) {
      if (this.trailerList !== null && !this.isHead)
        throw new ResponseError(ResponseErrorCode.TRAILERS_UNSUPPORTED, 'Trailers need a chunked response');
      const declared = this.declared;
      if (this.noBody()) {
        this.mode = M_NONE;
        // HEAD keeps the GET's Content-Length; 304 may repeat the selected representation's length.
        if (this.isHead && code >= 200 && code !== 204 && code !== 304)
          framing = `Content-Length: ${declared >= 0 && known === 0 ? this.declaredText : known}\r\n`;
        else if (code === 304 && declared >= 0) framing = `Content-Length: ${this.declaredText}\r\n`;
      } else {
        if (declared >= 0 && declared !== known)
          throw new ResponseError(
            ResponseErrorCode.CONTENT_LENGTH_MISMATCH,
            `Body of ${known} byte(s) does not match Content-Length ${declared}`,
          );
        this.mode = M_LENGTH;
        this.remaining = 0;
        framing = `Content-Length: ${declared >= 0 ? this.declaredText : known}\r\n`;
      }
    } else {
      const mode = this.mode;
      if (mode === M_LENGTH) framing = `Content-Length: ${this.declaredText}\r\n`;
      else if (mode === M_CHUNKED) framing = 'Transfer-Encoding: chunked\r\n';
      else if (mode === M_NONE) {
        const d = this.declared;
        if (d >= 0 && ((this.isHead && code >= 200 && code !== 204) || code === 304))
          framing = `Content-Length: ${this.declaredText}\r\n`;
      }
    }
    let s = this.reason === null ? STATUS_LINES[code]! : `HTTP/1.1 ${code} ${this.reason}\r\n`;
    const h = this.h;
    let userDate = false;
    let userConnection: string | null = null;
    const n = h === null ? 0 : h.length;
    for (let i = 0; i < n; i += 4) {
      const kind = h![i + 2] as number;
      if (kind === K_CONTENT_LENGTH || kind === K_TRANSFER_ENCODING) continue; // framing decides
      const v = h![i + 3] as HeaderValue;
      if (kind === K_CONNECTION) {
        userConnection = typeof v === 'string' ? v : v.join(', ');
        continue;
      }
      if (kind === K_DATE) userDate = true;
      const name = h![i] as string;
      if (typeof v === 'string') s += `${name}: ${v}\r\n`;
      else if (kind === K_SET_COOKIE) for (let j = 0; j < v.length; j++) s += `${name}: ${v[j]}\r\n`;
      else if (v.length > 0) s += `${name}: ${v.join(', ')}\r\n`;
    }
    if (this.date && !userDate) s += dateLine();
    if (code === 101) {
      if (userConnection !== null) s += `Connection: ${userConnection}\r\n`;
    } else if (!this.ka) s += 'Connection: close\r\n';
    else if (userConnection !== null) s += `Connection: ${userConnection}\r\n`;
    else if (this.versionMinor === 0) s += 'Connection: keep-alive\r\n';
    s += framing;
    s += CRLF;
    this.sent = true;
    this.headText = s;
    return s;
  }

  private writeHead(head: string): boolean {
    return this.sink.write(this.high === 0 ? head : Buffer.from(head, 'latin1'));
  }

  // HTTP/2 mode (FieldSink). Each public method takes one boolean branch into these; the HTTP/1.1
  // path above never reaches them.

  /** Streaming framing over HTTP/2: as {@link decideStreaming}, with unframed writes in place of chunked. */
  private decideFields(): void {
    if (this.noBody()) this.mode = M_NONE;
    else if (this.declared >= 0) {
      this.mode = M_LENGTH;
      this.remaining = this.declared;
    } else this.mode = M_RAW;
    if (this.trailerList !== null && this.mode === M_NONE && !this.isHead) {
      this.mode = M_UNDECIDED;
      throw new ResponseError(ResponseErrorCode.TRAILERS_UNSUPPORTED, 'No trailers on a 204/304 response');
    }
  }

  /**
   * The HTTP/2 counterpart of {@link begin}: fixes the framing and returns the head's fields
   * (lower-case names, `date`, `content-length` as HTTP/1.1 would frame it; connection-specific
   * fields dropped). `known` is the full body length (send) or -1 (streaming).
   */
  private beginFields(known: number): string[] {
    const code = this.code;
    let length = ''; // the content-length value, or '' for none
    if (known >= 0) {
      if (this.trailerList !== null && this.noBody() && !this.isHead)
        throw new ResponseError(ResponseErrorCode.TRAILERS_UNSUPPORTED, 'No trailers on a 204/304 response');
      const declared = this.declared;
      if (this.noBody()) {
        this.mode = M_NONE;
        if (this.isHead && code >= 200 && code !== 204 && code !== 304)
          length = declared >= 0 && known === 0 ? this.declaredText : String(known);
        else if (code === 304 && declared >= 0) length = this.declaredText;
      } else {
        if (declared >= 0 && declared !== known)
          throw new ResponseError(
            ResponseErrorCode.CONTENT_LENGTH_MISMATCH,
            `Body of ${known} byte(s) does not match Content-Length ${declared}`,
          );
        this.mode = M_LENGTH;
        this.remaining = 0;
        length = declared >= 0 ? this.declaredText : String(known);
      }
    } else {
      const mode = this.mode;
      if (mode === M_LENGTH) length = this.declaredText;
      else if (mode === M_NONE) {
        if (this.declared >= 0 && ((this.isHead && code >= 200 && code !== 204) || code === 304))
          length = this.declaredText;
      }
    }
    const out: string[] = [];
    const h = this.h;
    let userDate = false;
    const n = h === null ? 0 : h.length;
    for (let i = 0; i < n; i += 4) {
      const kind = h![i + 2] as number;
      // framing decides Content-Length; Connection and Transfer-Encoding are connection-specific
      if (kind === K_CONTENT_LENGTH || kind === K_TRANSFER_ENCODING || kind === K_CONNECTION) continue;
      const lower = h![i + 1] as string;
      if (kind === K_OTHER && isHopByHop(lower)) continue;
      if (kind === K_DATE) userDate = true;
      pushField(out, lower, kind, h![i + 3] as HeaderValue);
    }
    if (this.date && !userDate) out.push('date', dateValue());
    if (length !== '') out.push('content-length', length);
    this.sent = true;
    this.fieldList = out;
    return out;
  }

  /** `send()` over HTTP/2: head, body, trailers, end, under one cork. */
  private sendFields(body: string | Uint8Array, len: number): void {
    const fields = this.beginFields(len);
    const sink = this.sink as FieldSink;
    const none = this.mode === M_NONE;
    const t = none ? null : this.trailerList; // HEAD drops trailers, as over HTTP/1.1
    const data = !none && len > 0;
    sink.cork();
    sink.writeHead(this.code, fields, !data && t === null);
    if (data) {
      sink.write(body);
      this.body = len;
    }
    if (t !== null) sink.writeTrailers(this.trailerFields(t));
    this.done = true;
    sink.end();
    sink.uncork();
  }

  /** `write()` over HTTP/2: the head once, then the chunk as it is (no chunked framing). */
  private writeRaw(chunk: string | Uint8Array, len: number): boolean {
    const sink = this.sink as FieldSink;
    if (!this.sent) {
      if (this.mode === M_UNDECIDED) this.decideFields();
      if (this.mode === M_LENGTH && len > this.remaining) this.tooLong(len);
      const fields = this.beginFields(-1);
      const mode = this.mode;
      if (mode === M_NONE) return sink.writeHead(this.code, fields, true);
      if (len === 0) return sink.writeHead(this.code, fields, false);
      if (mode === M_LENGTH) this.remaining -= len;
      this.body += len;
      sink.cork();
      sink.writeHead(this.code, fields, false);
      const ok = sink.write(chunk);
      sink.uncork();
      return ok;
    }
    const mode = this.mode;
    if (mode === M_NONE || len === 0) return true;
    if (mode === M_LENGTH) {
      if (len > this.remaining) this.tooLong(len);
      this.remaining -= len;
    }
    this.body += len;
    return sink.write(chunk);
  }

  /** `end()` over HTTP/2: the last chunk, the trailers (if any), then `sink.end()`. */
  private endFields(chunk: string | Uint8Array | undefined): void {
    if (!this.sent) {
      if (this.mode === M_UNDECIDED && this.trailerList === null) {
        this.send(chunk);
        return;
      }
      if (chunk === undefined) chunk = EMPTY;
    }
    if (chunk !== undefined) this.write(chunk);
    const sink = this.sink as FieldSink;
    if (this.mode === M_LENGTH && this.remaining !== 0) {
      const missing = this.remaining;
      this.ka = false;
      this.done = true;
      sink.end();
      throw new ResponseError(
        ResponseErrorCode.CONTENT_LENGTH_MISMATCH,
        `Response ended ${missing} byte(s) short of its Content-Length`,
      );
    }
    const t = this.trailerList;
    this.done = true;
    if (t !== null && this.mode !== M_NONE) sink.writeTrailers(this.trailerFields(t));
    sink.end();
  }

  /** The trailer list (names as given) as HTTP/2 fields: lower-case, connection-specific dropped. */
  private trailerFields(t: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < t.length; i += 2) {
      const lower = t[i]!.toLowerCase();
      if (!isHopByHop(lower)) out.push(lower, t[i + 1]!);
    }
    return out;
  }

  /** An interim 1xx head over HTTP/2 (validated first; connection-specific fields dropped). */
  private interimFields(code: number, headers: Record<string, HeaderValue> | undefined): boolean {
    const out: string[] = [];
    if (headers)
      for (const name of Object.keys(headers)) {
        assertName(name);
        const v = headers[name]!;
        const list = Array.isArray(v) ? v : [v];
        for (const x of list) assertValue(name, x);
        const lower = name.toLowerCase();
        const kind = kindOf(lower);
        if (kind === K_CONNECTION || kind === K_TRANSFER_ENCODING || isHopByHop(lower)) continue;
        if (list.length > 0) out.push(lower, list.join(', '));
      }
    return (this.sink as FieldSink).writeHead(code, out, false);
  }
}
