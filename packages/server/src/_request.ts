import { Readable } from 'node:stream';
import { type FormLimits, type FormPart, formData, parts } from '@strata/forms';
import { copyToPool } from '@strata/transport';
import { ServerError, ServerErrorCode } from './_errors';
import { type ForwardedInfo, resolveForwarded } from './_proxy';

/**
 * What a request needs from the connection it arrived on (declared here, satisfied by the
 * connection engine): flow control for the body and the automatic `100 Continue`.
 * @internal
 */
export interface RequestOwner {
  /**
   * The handler started reading the body: the engine checks the body limit (413) and, in automatic
   * mode, sends `100 Continue`.
   */
  bodyWanted(req: ServerRequest): void;
  /** The handler took every buffered body byte: the engine may read more from the socket. */
  bodyRead(req: ServerRequest): void;
  /** `req.setSendTimeout(ms)`: this response's send timeout. */
  setSendTimeout(ms: number): void;
  /** `req.setRequestTimeout(ms)`: this request's body timeout. */
  setRequestTimeout(ms: number): void;
}

/**
 * The connection a request arrived on, as far as the request needs it (declared here, satisfied by
 * the transport's `Connection`). Its address is read when a handler first asks for it.
 * @internal
 */
export interface RequestPeer {
  readonly remoteAddress: string;
  readonly remotePort: number;
}

const EMPTY = new Uint8Array(0);

const decoder = new TextDecoder();

/** Throws `ERR_INVALID_OPTION` unless `value` is a finite number >= 0 (`what` names it). */
function nonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new ServerError(ServerErrorCode.INVALID_OPTION, `${what} must be a non-negative number`);
  }
}

enum BodyState {
  /** Body bytes may still arrive. */
  Open = 0,
  /** All body bytes arrived. */
  Complete = 1,
  /** The request failed (aborted, too large, timed out); `bodyError` says why. */
  Failed = 2,
}

/**
 * The request a handler sees. Head fields are plain properties set once; everything derived
 * (path, query, client address, signal) is computed on first use. Body bytes stay valid for as long
 * as the handler keeps them: they are copied out of the receive buffer as they arrive, or, where the
 * transport never reuses its read buffers (`Connection.stableChunks`, true for TCP and TLS), a body
 * piece that fills at least half of its read is kept as a view of it (zero-copy).
 *
 * @example
 * ```ts
 * createServer({ async handler(req, res) {
 *   if (req.method === 'POST') res.send(await req.body());
 *   else res.send(`${req.method} ${req.path}?${req.query}`);
 * } });
 * ```
 */
export class ServerRequest {
  /** Request method, exactly as sent (`GET`, `POST`, ...). */
  readonly method: string;
  /** The raw request target (origin-form `/a?b`, absolute-form, authority-form or `*`). */
  readonly url: string;
  /** `'1.0'`, `'1.1'` or `'2.0'` (HTTP/2). */
  readonly httpVersion: '1.0' | '1.1' | '2.0';
  /** Headers as sent: flat `[name, value, name, value, ...]`, original case and order. */
  readonly rawHeaders: string[];
  /** The authoritative host (absolute-form authority wins over `Host`), or null. */
  readonly host: string | null;
  /** Whether the connection is TLS. */
  readonly encrypted: boolean;
  /** Declared `Content-Length`, or -1 when none (chunked or no body). */
  readonly contentLength: number;

  /** @internal */ _owner: RequestOwner | null;
  /** @internal the connection (its address is read on first use, see {@link remoteAddress}). */
  _peer: RequestPeer;
  private _trailers: string[] | null = null;
  /** @internal */ _trust: ((a: string) => boolean) | null;
  /** @internal */ _hasBody: boolean;
  private _chunks: Uint8Array[] | null = null;
  /** @internal body bytes received so far (kept or not). */
  _received = 0;
  /** @internal body bytes buffered and not yet taken by the handler. */
  _buffered = 0;
  /** @internal the body limit in bytes (`Infinity`: none). */
  _limit: number;
  /** @internal the response ended before the body was read: body bytes are dropped as they come. */
  _discarding = false;
  private _state: BodyState;
  private _bodyError: Error | null = null;
  /** @internal the handler started reading the body. */
  _consumed = false;
  private _wake: (() => void) | null = null;
  private _controller: AbortController | null = null;
  private _gone: Error | null = null;
  private _pathEnd = -2;
  private _pathStart = 0;
  private _forwarded: ForwardedInfo | null = null;
  /** @internal the HTTP/2 stream id (0 over HTTP/1.x). */
  _stream = 0;

  /** @internal */
  constructor(
    owner: RequestOwner | null,
    method: string,
    url: string,
    /** 0 or 1: HTTP/1.0 or HTTP/1.1; 2: HTTP/2. */
    version: 0 | 1 | 2,
    rawHeaders: string[],
    host: string | null,
    contentLength: number,
    hasBody: boolean,
    peer: RequestPeer,
    encrypted: boolean,
    trust: ((a: string) => boolean) | null,
    bodyLimit = Number.POSITIVE_INFINITY,
  ) {
    this._limit = bodyLimit;
    this._owner = owner;
    this.method = method;
    this.url = url;
    this.httpVersion = version === 1 ? '1.1' : version === 0 ? '1.0' : '2.0';
    this.rawHeaders = rawHeaders;
    this.host = host;
    this.contentLength = contentLength;
    this._hasBody = hasBody;
    this._state = hasBody ? BodyState.Open : BodyState.Complete;
    this._peer = peer;
    this.encrypted = encrypted;
    this._trust = trust;
  }

  /**
   * Peer address of the connection (after the PROXY protocol, if the transport uses it). Read from
   * the connection on first use (one `getpeername` per connection, none when nobody asks); a
   * connection that closed before anything asked for it reports `''`.
   */
  get remoteAddress(): string {
    return this._peer.remoteAddress;
  }

  /** Peer port of the connection (read like {@link remoteAddress}; 0 when unknown). */
  get remotePort(): number {
    return this._peer.remotePort;
  }

  /** Trailer fields of a chunked body, flat `[name, value, ...]`; empty until the body completed. */
  get rawTrailers(): string[] {
    if (this._trailers === null) this._trailers = [];
    return this._trailers;
  }

  private _split(): number {
    if (this._pathEnd === -2) {
      const url = this.url;
      if (url.charCodeAt(0) !== 47 /* '/' */ && url !== '*' && this.method !== 'CONNECT') {
        // absolute-form `scheme://authority/path?query` (RFC 9112 section 3.2.2): the path is the
        // origin-form part, so a check written against `path` sees what an origin-form request
        // would show. The parser validated the scheme and the authority.
        const scheme = url.indexOf(':');
        let p = scheme + 1;
        if (url.charCodeAt(p) === 47 /* '/' */ && url.charCodeAt(p + 1) === 47) {
          p += 2;
          while (p < url.length) {
            const c = url.charCodeAt(p);
            if (c === 47 /* '/' */ || c === 63 /* '?' */ || c === 35 /* '#' */) break;
            p++;
          }
        }
        this._pathStart = p;
      }
      this._pathEnd = this.url.indexOf('?', this._pathStart); // '?'
    }
    return this._pathEnd;
  }

  /**
   * The target's path (before `?`), not decoded. For an absolute-form target
   * (`GET http://host/a?b`, as sent to a proxy) it is the path part (`/a`; `/` when empty), and
   * {@link host} is the target's authority. For `*` and CONNECT's `host:port` it is the target.
   */
  get path(): string {
    const q = this._split();
    const start = this._pathStart;
    const path = q === -1 ? this.url.slice(start) : this.url.slice(start, q);
    return start > 0 && path === '' ? '/' : path;
  }

  /** The raw query string after `?` (without it), `''` when none. */
  get query(): string {
    const q = this._split();
    return q === -1 ? '' : this.url.slice(q + 1);
  }

  /** First value of a header, case-insensitive; undefined when absent. */
  header(name: string): string | undefined {
    const h = this.rawHeaders;
    const n = name.length;
    for (let i = 0; i < h.length; i += 2) {
      const k = h[i]!;
      if (k.length === n && (k === name || k.toLowerCase() === name.toLowerCase())) return h[i + 1];
    }
    return undefined;
  }

  /** All values of a header, case-insensitive, in order. */
  headerAll(name: string): string[] {
    const out: string[] = [];
    const h = this.rawHeaders;
    const lower = name.toLowerCase();
    for (let i = 0; i < h.length; i += 2) {
      if (h[i]!.length === lower.length && h[i]!.toLowerCase() === lower) out.push(h[i + 1]!);
    }
    return out;
  }

  private _fwd(): ForwardedInfo {
    if (this._forwarded === null) this._forwarded = resolveForwarded(this, this._trust);
    return this._forwarded;
  }

  /**
   * The client's address under the server's `trustProxy` policy: the connection's peer unless that
   * peer is a trusted proxy, in which case `Forwarded` / `X-Forwarded-For` are walked from the right.
   */
  get ip(): string {
    return this._fwd().ip;
  }

  /** The HTTP/2 stream this request came on (odd, from 1); 0 over HTTP/1.x. */
  get streamId(): number {
    return this._stream;
  }

  /** `'https'` or `'http'`: TLS on this connection, or the trusted proxy's `proto` / `X-Forwarded-Proto`. */
  get protocol(): 'http' | 'https' {
    return this._fwd().protocol;
  }

  /** The host the client asked for (trusted `Forwarded host=` / `X-Forwarded-Host`, else {@link host}). */
  get hostname(): string | null {
    return this._fwd().host;
  }

  /** Fires when the client goes away (connection closed) before the response finished. */
  get signal(): AbortSignal {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this._gone !== null) this._controller.abort(this._gone);
    }
    return this._controller.signal;
  }

  /**
   * Limit this request's body to `bytes` (0: no limit), in place of the server's
   * `limits.maxBodyBytes`. Call it before reading the body: a body declared or streamed past the
   * limit is refused with 413 and the connection closes. The body streams with backpressure, so a
   * large limit costs no memory unless the handler buffers the body (`bytes()`, `text()`, `json()`).
   *
   * @example
   * ```ts
   * router.add('POST', '/upload', async (req, res) => {
   *   req.setBodyLimit(0); // any size: hashed as it streams, never held whole
   *   const hash = createHash('sha256');
   *   for await (const chunk of req) hash.update(chunk);
   *   res.send(hash.digest('hex'));
   * });
   * ```
   */
  setBodyLimit(bytes: number): this {
    nonNegative(bytes, 'setBodyLimit: bytes');
    this._limit = bytes === 0 ? Number.POSITIVE_INFINITY : bytes;
    return this;
  }

  /**
   * This response's send timeout in ms, in place of the server's `timeouts.send`: a response whose
   * bytes the client does not take for this long closes the connection. 0 turns it off for this
   * response (a Server-Sent Events stream to clients that may stall on purpose, a long poll).
   */
  setSendTimeout(ms: number): this {
    nonNegative(ms, 'setSendTimeout: ms');
    if (this._owner !== null) this._owner.setSendTimeout(ms);
    return this;
  }

  /**
   * This request's timeout in ms, in place of the server's `timeouts.request`: the whole request
   * (head and body) must arrive within it, counted from its first byte; 0 turns it off for this
   * request. For a large upload over a slow link: the default (300 s) cuts a 1 GiB body arriving
   * slower than about 3.4 MB/s.
   */
  setRequestTimeout(ms: number): this {
    nonNegative(ms, 'setRequestTimeout: ms');
    if (this._owner !== null) this._owner.setRequestTimeout(ms);
    return this;
  }

  /**
   * @internal body bytes: a view valid during the call, copied into the transport's byte pool
   * (`copyToPool`: a view nothing overwrites), unless `stable` (the transport
   * never reuses its read buffers) and the view is at least half of its buffer: then the view is
   * kept as it is (no copy; keeping it pins at most twice its size).
   */
  _push(chunk: Uint8Array, stable: boolean): void {
    this._received += chunk.length;
    if (this._state !== BodyState.Open || this._discarding) return;
    const copy = stable && chunk.byteLength * 2 >= chunk.buffer.byteLength ? chunk : copyToPool(chunk);
    if (this._chunks === null) this._chunks = [copy];
    else this._chunks.push(copy);
    this._buffered += chunk.length;
    this._notify();
  }

  /** @internal the response ended without reading the body: drop what is buffered and what comes. */
  _discard(): void {
    this._discarding = true;
    this._chunks = null;
    this._buffered = 0;
  }

  /** @internal */
  _complete(trailers: string[] | null): void {
    if (this._state !== BodyState.Open) return;
    if (trailers !== null) this._trailers = trailers;
    this._state = BodyState.Complete;
    this._notify();
  }

  /** @internal the request can no longer complete (client gone, limit, timeout). */
  _fail(error: Error, clientGone: boolean): void {
    if (clientGone && this._gone === null) {
      this._gone = error;
      if (this._controller !== null) this._controller.abort(error);
    }
    if (this._state !== BodyState.Open) return;
    this._state = BodyState.Failed;
    this._bodyError = error;
    this._notify();
  }

  /** @internal the body is refused (over its limit) even if it arrived whole: reads reject with `error`. */
  _reject(error: Error): void {
    this._chunks = null;
    this._buffered = 0;
    this._state = BodyState.Failed;
    this._bodyError = error;
    this._notify();
  }

  /** @internal the body was fully received (or there was none). */
  get _bodyDone(): boolean {
    return this._state !== BodyState.Open;
  }

  private _notify(): void {
    const wake = this._wake;
    if (wake !== null) {
      this._wake = null;
      wake();
    }
  }

  private _claim(): void {
    if (this._consumed) throw new ServerError(ServerErrorCode.BODY_CONSUMED, 'request body already consumed');
    this._consumed = true;
    if (this._hasBody && this._owner !== null) this._owner.bodyWanted(this);
  }

  /** Take every buffered chunk (null when none); the connection may read more. */
  private _take(): Uint8Array[] | null {
    const chunks = this._chunks;
    if (chunks === null) return null;
    this._chunks = null;
    const was = this._buffered;
    this._buffered = 0;
    if (this._state === BodyState.Open && this._owner !== null && was > 0) this._owner.bodyRead(this);
    return chunks;
  }

  private _wait(): Promise<void> {
    return new Promise<void>((r) => (this._wake = r));
  }

  /**
   * The whole body (up to the body limit: `limits.maxBodyBytes` or {@link setBodyLimit}), one copy.
   * Rejects with a {@link ServerError}: `ERR_BODY_TOO_LARGE` (the server answers 413),
   * `ERR_ABORTED` (the client went away), `ERR_BODY_CONSUMED` (read twice).
   */
  bytes(): Promise<Uint8Array> {
    try {
      this._claim();
    } catch (e) {
      return Promise.reject(e);
    }
    // The common case, a body that arrived whole with its head: no async function to run.
    if (this._state === BodyState.Complete && this._chunks !== null && this._chunks.length === 1) {
      const only = this._chunks[0]!;
      this._chunks = null;
      this._buffered = 0;
      return Promise.resolve(only);
    }
    return this._collect();
  }

  private async _collect(): Promise<Uint8Array> {
    let all: Uint8Array[] | null = null;
    for (;;) {
      const chunks = this._take();
      if (chunks !== null) {
        if (all === null) all = chunks;
        else for (let i = 0; i < chunks.length; i++) all.push(chunks[i]!);
      }
      if (this._state === BodyState.Failed) throw this._bodyError!;
      if (this._state === BodyState.Complete && this._chunks === null) break;
      if (this._state === BodyState.Open && this._chunks === null) await this._wait();
    }
    if (all === null) return EMPTY;
    if (all.length === 1) return all[0]!;
    let total = 0;
    for (let i = 0; i < all.length; i++) total += all[i]!.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < all.length; i++) {
      out.set(all[i]!, at);
      at += all[i]!.length;
    }
    return out;
  }

  /** Same as {@link bytes} (the name in the agreed contract). */
  body(): Promise<Uint8Array> {
    return this.bytes();
  }

  /** The body decoded as UTF-8 (invalid sequences become U+FFFD). */
  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  /**
   * The body parsed as JSON. Rejects with `ERR_INVALID_JSON` (status 400) when it is not JSON: a
   * handler that lets it escape answers 400, not 500.
   */
  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new ServerError(ServerErrorCode.INVALID_JSON, 'request body is not valid JSON', { cause });
    }
  }

  /**
   * The form parts of a `multipart/form-data` or `application/x-www-form-urlencoded` body, in
   * order, as they arrive (`@strata/forms`' `parts()` over this request's body). A file part's
   * content streams with backpressure: the socket is read only as fast as the handler reads the
   * part, so an upload of any size costs about one read of memory. Read each part before asking
   * for the next. The server's body limit still applies (`limits.maxBodyBytes`, 1 MiB by
   * default): raise it with {@link setBodyLimit} for uploads.
   *
   * A malformed body, a form limit or another media type throws a `FormError` (`code`, `status`
   * 400, 413 or 415, `offset`); a handler that lets it escape answers that status with the code.
   *
   * @example
   * ```ts
   * router.add('POST', '/upload', async (req, res) => {
   *   req.setBodyLimit(1024 ** 3);
   *   const out = [];
   *   for await (const part of req.parts({ maxFileBytes: 1024 ** 3 })) {
   *     if (!part.isFile) out.push({ name: part.name, value: await part.text() });
   *     else {
   *       let bytes = 0;
   *       for await (const chunk of part) bytes += chunk.length; // or write it to disk
   *       out.push({ name: part.name, filename: part.filename, bytes });
   *     }
   *   }
   *   res.json(out);
   * });
   * ```
   */
  parts(limits?: FormLimits): AsyncIterableIterator<FormPart> {
    return parts(this, this.header('content-type'), limits);
  }

  /**
   * The whole form body as a Web `FormData` (fields as strings, files as `File`s held in memory,
   * bounded by the form limits and the body limit). Throws a `FormError` as {@link parts} does.
   * For large files, stream them with {@link parts}.
   */
  formData(limits?: FormLimits): Promise<FormData> {
    return formData(this, this.header('content-type'), limits);
  }

  /**
   * Body chunks as they arrive, with backpressure: at most `limits.maxBodyBuffer` bytes wait ahead
   * of the loop; past that the server stops reading the socket until the loop takes them. The caller
   * owns each chunk (a copy, or a view of a read nothing reuses). Throws a {@link ServerError} when the
   * body fails (client gone, limit, timeout).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    this._claim();
    for (;;) {
      const chunks = this._take();
      if (chunks !== null) {
        for (let i = 0; i < chunks.length; i++) yield chunks[i]!;
        continue;
      }
      if (this._state === BodyState.Complete) return;
      if (this._state === BodyState.Failed) throw this._bodyError!;
      await this._wait();
    }
  }

  /** The body as a Web `ReadableStream` of byte chunks (pulled: backpressure as the iterator). */
  stream(): ReadableStream<Uint8Array> {
    const it = this[Symbol.asyncIterator]();
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const r = await it.next();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        },
        async cancel() {
          await it.return(undefined);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * The body as a Node `Readable` (for `pipeline()` and libraries that take a stream), with the
   * iterator's backpressure: the socket is read only as fast as the `Readable` is consumed.
   *
   * @example
   * ```ts
   * await pipeline(req.readable(), createWriteStream('/tmp/upload'));
   * ```
   */
  readable(): Readable {
    return Readable.from(this[Symbol.asyncIterator](), { objectMode: false, highWaterMark: 0 });
  }
}
