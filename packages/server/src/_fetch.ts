/**
 * `serve({ fetch })`: the Web-standard adapter. A `Request` in, a `Response` out, so apps written for
 * Hono, Bun or Deno (`export default { fetch }`) run unchanged on the Strata engine.
 *
 * Framing of the answer (RFC 9112 section 6): a `Response` does not say how long its body is, so the
 * adapter reads the chunks the body already holds (a string, bytes, a Blob, JSON: one chunk, then the
 * end) without waiting for any the producer has not made yet. A body that ends within those reads
 * goes out with `Content-Length`; any other body streams (chunked), its head sent at once.
 */
import type { ResponseWriter } from '@strata/response';
import type { ListenOptions } from '@strata/transport';
import type { Handler } from './_connection';
import { byteLength } from './_flush';
import type { ServerRequest } from './_request';
import { createServer, type Server, type ServerOptions } from './_server';

/** What a fetch handler receives besides the `Request`. */
export interface FetchInfo {
  /** The client address (after the trust-proxy policy). */
  remoteAddress: string;
  /** The Strata request, for anything the Web `Request` cannot carry. */
  request: ServerRequest;
}

/** A Web-standard fetch handler. */
export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;

/** Options of {@link serve}: the server options without `handler`, plus `fetch` and where to listen. */
export interface ServeOptions extends Omit<ServerOptions, 'handler'> {
  fetch: FetchHandler;
  /** Listen options (default `{ host: '127.0.0.1', port: 0 }`). */
  listen?: ListenOptions;
}

type Chunk = Uint8Array | string;
type Read = Awaited<ReturnType<ReadableStreamDefaultReader<Chunk>['read']>>;

const EMPTY = new Uint8Array(0);

/**
 * Most reads made before the head is sent. A body Fetch builds from a string, bytes, a Blob or
 * URLSearchParams is one chunk and the end (2 reads), FormData a few; a stream that keeps producing
 * synchronously is cut off here and goes out chunked, so at most 7 chunks the producer had already
 * made wait for the head (never a chunk it has yet to make).
 */
const PREFETCH_READS = 8;

/**
 * Microtask turns a read gets to settle before it counts as waiting. A chunk already queued settles
 * in 1, Fetch's own string/bytes bodies in 2, FormData's parts in up to 6 (Node 20).
 */
const READ_TICKS = 8;

/** The body's next chunk is not there yet. */
const WAITING = Symbol('waiting');

/** Resolves with `WAITING` after `n` microtask turns. */
async function ticks(n: number): Promise<typeof WAITING> {
  for (let i = 0; i < n; i++) await null;
  return WAITING;
}

/** Resolves with `WAITING` after one turn of the event loop (the I/O and timers already due run first). */
function loopTurn(): Promise<typeof WAITING> {
  return new Promise((resolve) => setImmediate(resolve, WAITING));
}

/**
 * The start of a body: the chunks read before the head, and either the end (`done`) or the read
 * still in flight (`next`).
 */
interface BodyStart {
  chunks: Chunk[];
  done: boolean;
  next: Promise<Read> | null;
}

/**
 * Reads what the body already holds, waiting for no chunk its producer has not made: each read gets
 * {@link READ_TICKS} microtask turns, and once per response one turn of the event loop (a Blob or a
 * file may answer from the thread pool). A read that fails rejects here: nothing was sent yet, so
 * the engine can still answer 500.
 */
async function readStart(reader: ReadableStreamDefaultReader<Chunk>): Promise<BodyStart> {
  const chunks: Chunk[] = [];
  let turned = false;
  for (let i = 0; i < PREFETCH_READS; i++) {
    const next = reader.read();
    let r = await Promise.race([next, ticks(READ_TICKS)]);
    if (r === WAITING && !turned) {
      turned = true;
      r = await Promise.race([next, loopTurn()]);
    }
    if (r === WAITING) return { chunks, done: false, next };
    if (r.done) return { chunks, done: true, next: null };
    chunks.push(r.value);
  }
  return { chunks, done: false, next: null };
}

/** The chunks of a complete body as one piece, for `send` (Content-Length framing, one write). */
function joinChunks(chunks: Chunk[]): Chunk {
  if (chunks.length === 0) return EMPTY;
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (let i = 0; i < chunks.length; i++) total += byteLength(chunks[i]!);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (typeof c === 'string') at += out.write(c, at, 'utf8');
    else {
      out.set(c, at);
      at += c.byteLength;
    }
  }
  return out;
}

/**
 * The rest of a body once its head is out: the chunks read before it, then the read in flight, then
 * the reader. An iterator, so the writer pulls with backpressure, and `return()` cancels the reader
 * at once (which settles a pending read), even while a read waits.
 */
class BodyRest implements AsyncIterableIterator<Chunk> {
  private readonly reader: ReadableStreamDefaultReader<Chunk>;
  private readonly chunks: Chunk[];
  private at = 0;
  private pending: Promise<Read> | null;

  constructor(reader: ReadableStreamDefaultReader<Chunk>, start: BodyStart) {
    this.reader = reader;
    this.chunks = start.chunks;
    this.pending = start.next;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Chunk, undefined>> {
    if (this.at < this.chunks.length) return Promise.resolve({ done: false, value: this.chunks[this.at++]! });
    const pending = this.pending;
    this.pending = null;
    return (pending ?? this.reader.read()).then(toIteratorResult);
  }

  return(): Promise<IteratorResult<Chunk, undefined>> {
    return this.reader.cancel().then(finished, finished);
  }
}

function toIteratorResult(r: Read): IteratorResult<Chunk, undefined> {
  return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
}

function finished(): IteratorResult<Chunk, undefined> {
  return { done: true, value: undefined };
}

/**
 * Allowed in a Host authority (RFC 3986 section 3.2.2 `reg-name` / `IP-literal` and `:port`):
 * unreserved, sub-delims, `%`, `:`, `[`, `]`. Everything else (`/ ? # @ \`, space, controls...) would
 * make the URL mean another host or path.
 */
const HOST_CHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]")
  HOST_CHAR[c.charCodeAt(0)] = 1;

/** A non-empty authority made of {@link HOST_CHAR} only (the URL parser then checks the rest). */
function isHostLike(host: string): boolean {
  const n = host.length;
  if (n === 0) return false; // RFC 9110 section 4.2.1: an http(s) URI has a non-empty host
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c >= 128 || HOST_CHAR[c] === 0) return false;
  }
  return true;
}

/**
 * `new Request` refuses these (Fetch's forbidden methods); the app sees them anyway: the `Request` is
 * built as a bodiless GET and reports the real method (what `@hono/node-server` does for TRACE).
 */
function isForbiddenMethod(method: string): boolean {
  const m = method.length === 5 || method.length === 7 ? method.toUpperCase() : '';
  return m === 'TRACE' || m === 'TRACK' || m === 'CONNECT';
}

/** The request's URL, or null when its Host (or trusted forwarded host) cannot make one. */
function requestUrl(req: ServerRequest): string | null {
  const target = req.url;
  const first = target.charCodeAt(0);
  if (first !== 47 /* '/' */ && target !== '*') {
    if (!isForbiddenMethod(req.method)) return target; // absolute-form: `new Request` parses it
    // authority-form (CONNECT host:port)
    return isHostLike(target) ? `${req.protocol}://${target}/` : null;
  }
  const host = req.hostname;
  // No Host at all: only HTTP/1.0 gets here (the parser answers 400 to an HTTP/1.1 request without one).
  if (host !== null && !isHostLike(host)) return null;
  const authority = host ?? 'localhost';
  return first === 47 ? `${req.protocol}://${authority}${target}` : `${req.protocol}://${authority}/`;
}

/** The Web `Request` for `req`, or null when none can represent it (invalid Host). */
function toRequest(req: ServerRequest): Request | null {
  const url = requestUrl(req);
  if (url === null) return null;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const method = req.method;
  const forbidden = isForbiddenMethod(method);
  const init: RequestInit & { duplex?: 'half' } = {
    method: forbidden ? 'GET' : method,
    headers,
    signal: req.signal,
  };
  if (!forbidden && method !== 'GET' && method !== 'HEAD') {
    // Every such request gets a body stream, an empty one for `Content-Length: 0` (as node-server
    // gives). It pulls only when the app reads: a body nobody reads is never claimed (no automatic
    // `100 Continue`), and the engine discards it.
    init.body = req.stream();
    init.duplex = 'half';
  }
  let request: Request;
  try {
    request = new Request(url, init);
  } catch {
    return null; // the URL did not parse (a Host such as `a:b:c` or `%zz`)
  }
  if (forbidden) Object.defineProperty(request, 'method', { value: method, enumerable: true });
  return request;
}

/** The adapter's own 400: the request is well framed but no `Request` can represent it. */
function badRequest(res: ResponseWriter): void {
  res
    .status(400)
    .header('content-type', 'text/plain; charset=utf-8')
    .send('Bad Request: missing or invalid Host header\n');
}

/** Copies status and headers (every `Set-Cookie` on its own line). */
function writeHead(response: Response, res: ResponseWriter): void {
  res.status(response.status);
  const cookies = response.headers.getSetCookie();
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.header(name, value);
  });
  if (cookies.length > 0) res.header('set-cookie', cookies);
}

async function writeResponse(
  response: Response,
  res: ResponseWriter,
  method: string,
  signal: AbortSignal,
): Promise<void> {
  const body = response.body;
  if (res.finished) {
    // The client went away while the app worked (the engine aborted the response): release the body.
    if (body !== null) body.cancel().catch(() => {});
    return;
  }
  try {
    writeHead(response, res);
  } catch (err) {
    if (body !== null) body.cancel().catch(() => {});
    throw err; // a header the writer refuses: nothing was sent, the engine answers 500
  }
  const status = response.status;
  if (body === null || status === 204 || status === 304) {
    if (body !== null) body.cancel().catch(() => {});
    // HEAD: the GET's length is unknown here (Hono answers HEAD with a null body), and `0` would be
    // false (RFC 9110 section 9.3.2), so the head goes without one, unless the app set it.
    if (method === 'HEAD' && !res.hasHeader('content-length')) res.write(EMPTY);
    res.end();
    return;
  }
  const reader = body.getReader();
  // The app chose chunked framing: keep it (nothing to measure).
  const chunked = response.headers.get('transfer-encoding') !== null;
  const start: BodyStart = chunked ? { chunks: [], done: false, next: null } : await readStart(reader);
  if (res.finished) {
    reader.cancel().catch(() => {}); // aborted while the first chunks were read
    return;
  }
  if (start.done) {
    // The whole body is here: Content-Length framing (for HEAD too, with no body).
    res.send(joinChunks(start.chunks));
    return;
  }
  // A body still being produced: the head leaves now, with the chunks already read, or alone (an
  // empty write flushes the head: a stream or SSE that waits must not hold the status line back).
  if (start.chunks.length === 0) res.write(EMPTY);
  await res.stream(new BodyRest(reader, start), { signal });
}

/**
 * Turn a fetch handler into a Strata handler (for `createServer`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * const app = new Hono().get('/', (c) => c.text('hi'));
 * createServer({ handler: fetchHandler(app.fetch) });
 * ```
 */
export function fetchHandler(fetch: FetchHandler): Handler {
  return async (req, res) => {
    const request = toRequest(req);
    if (request === null) {
      badRequest(res);
      return;
    }
    const response = await fetch(request, { remoteAddress: req.ip, request: req });
    await writeResponse(response, res, req.method, req.signal);
  };
}

/**
 * Serve a Web-standard fetch handler (Hono, Bun- or Deno-style apps) and start listening.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app.fetch, listen: { port: 3000 } });
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { fetch, listen, ...rest } = options;
  const server = createServer({ ...rest, handler: fetchHandler(fetch) });
  await server.listen(listen ?? { host: '127.0.0.1', port: 0 });
  return server;
}
