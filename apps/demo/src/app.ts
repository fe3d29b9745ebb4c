/**
 * The demo application: routes and pages composed from the Strata packages. Nothing here speaks
 * HTTP itself; framing, parsing, headers, files and WebSocket frames all come from the packages.
 *
 *   @strata/server     createServer: the connection engine; calls `handler` per request
 *   @strata/router     createRouter: method + path -> route and params (404, 405 + Allow, OPTIONS)
 *   @strata/response   the ResponseWriter (`res`), static files, ranges, compression, canned errors
 *   @strata/forms      (through req.parts()) the multipart/form-data parts of a `POST /upload` form
 *   @strata/websocket  WebSocketServer: the `/ws` chat room and the `/live/ws` feed after an Upgrade;
 *                      with a pub/sub backend the chat room spans every worker (or every process
 *                      on one Redis)
 *   @strata/inspector  the wire inspector's recording: every layer's diagnostics channels, while an
 *                      `/inspect` page is open (the demo draws the entries with its own pages)
 */

import { createHash } from 'node:crypto';
import { FormError } from '@strata/forms';
import { createInspector, type Inspector, type InspectorEntry } from '@strata/inspector';
import { cannedResponse, type ResponseWriter, serveStatic } from '@strata/response';
import { createRouter, type FindResult } from '@strata/router';
import { ServerError, type ServerRequest } from '@strata/server';
import type { Connection } from '@strata/transport';
import { type PubSubBackend, type WebSocket, WebSocketServer } from '@strata/websocket';
import type { DemoMode, InspectorMode } from './args';
import { ComputeError, type ComputePool } from './compute-pool';
import { addLearnRoutes } from './learn';
import type { Figures, LiveFeed, Meter, ServerFigures } from './live';
import {
  chatPage,
  DEMO_USERS,
  dashboardPage,
  errorPage,
  FAVICON_SVG,
  type InspectEntry,
  indexPage,
  inspectPage,
  livePage,
  type UploadedPart,
  uploadPage,
  uploadResultPage,
  userPage,
  usersPage,
} from './pages';

/** What a route does with a request; `params` are the router's, already percent-decoded. */
export type RouteHandler = (
  req: ServerRequest,
  res: ResponseWriter,
  params: Readonly<Record<string, string>>,
) => void | Promise<void>;

export interface DemoAppOptions {
  mode: DemoMode;
  /** Folder served under `/static/`. */
  staticDir: string;
  /** Worker processes in the cluster (0: single process). */
  workers: number;
  tls: boolean;
  /** When the wire inspector records (`--inspector`); default `watch`. */
  inspector?: InspectorMode;
  meter: Meter;
  feed: LiveFeed;
  /** Figures of every process (the chat room's online count comes from there). */
  figures: Figures;
  /**
   * Carries the chat room to the other processes (workers, or processes on one Redis); null: the
   * room is this process's.
   */
  chatPubSub: PubSubBackend | null;
  /** Appended to guest names (`guest-3-1f0a`) so names stay unique across processes; '' for none. */
  nameTag: string;
  pool: ComputePool;
  /** Largest `POST /upload` body in bytes (`--max-upload`); 0 means no limit. */
  maxUpload: number;
  /** This process's server counters: open connections and the client faults it counted. */
  serverFigures(): ServerFigures;
}

/** The pieces the CLI hands to `createServer`, plus the app's own shutdown. */
export interface DemoApp {
  handler(req: ServerRequest, res: ResponseWriter): void | Promise<void>;
  onUpgrade(req: ServerRequest, conn: Connection, head: Uint8Array): void;
  /** Closes every WebSocket with 1001 (going away), so a drain is not held up by them. */
  closeWebSockets(): Promise<void>;
  /** The wire inspector (`@strata/inspector`): records while an `/inspect` page is open. */
  readonly inspector: Inspector;
}

/**
 * The `Upgrade` protocols the demo's `onUpgrade` takes (the server's `upgradeProtocols`): only
 * WebSocket. Any other (`h2c` from `curl --http2`) is ignored and the request served as HTTP/1.1.
 */
export const UPGRADE_PROTOCOLS: readonly string[] = Object.freeze(['websocket']);

/** Entries the demo's inspector keeps. */
const INSPECTOR_CAPACITY = 20;

/** Largest `/download/:size` (1 GiB): bounded so a typo cannot ask for a petabyte. */
export const MAX_DOWNLOAD = 1024 * 1024 * 1024;
/** Largest `/compute?n=` (about 15 s of one core with trial division). */
export const MAX_COMPUTE_N = 50_000_000;
/** Largest chat message, in UTF-16 units. */
const MAX_CHAT_TEXT = 4096;

const TEXT = 'text/plain; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

const MIB = 1024 * 1024;
/** Largest `POST /upload?pace=` (ms of rest per MiB). */
const MAX_PACE_MS = 1000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a request `Content-Type` is `multipart/form-data` (any case, any parameters). */
function isMultipart(type: string | undefined): boolean {
  return type !== undefined && /^\s*multipart\/form-data\s*(;|$)/i.test(type);
}

function sendHtml(res: ResponseWriter, body: string): void {
  res.header('Content-Type', HTML).header('Cache-Control', 'no-store').send(body);
}

function sendText(res: ResponseWriter, status: number, body: string): void {
  res.status(status).header('Content-Type', TEXT).send(body);
}

function sendError(res: ResponseWriter, status: number, code: string, message: string): void {
  res.status(status).json({ error: message, code });
}

/** Whether the client asked for HTML (a browser navigating): error answers become pages then. */
function wantsHtml(req: ServerRequest): boolean {
  return (req.header('accept') ?? '').includes('text/html');
}

/** The reason phrases of the error pages. */
const ERROR_TITLES: Readonly<Record<number, string>> = Object.freeze({
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  414: 'URI Too Long',
  500: 'Internal Server Error',
});

/**
 * An error answer: a styled page with the way back for a browser (`Accept: text/html`); for curl
 * and scripts the plain text (`json` false) or the JSON `{ error, code }` it always was.
 */
function sendProblem(
  req: ServerRequest,
  res: ResponseWriter,
  status: number,
  message: string,
  json: { code: string } | null = null,
): void {
  if (wantsHtml(req)) {
    res.status(status).header('Content-Type', HTML).header('Cache-Control', 'no-store');
    res.send(errorPage(status, ERROR_TITLES[status] ?? 'Error', message, req.path));
  } else if (json !== null) sendError(res, status, json.code, message);
  else sendText(res, status, `${message}\n`);
}

/**
 * A route threw. For a browser that has no answer yet, the 500 is a page; then the error goes on
 * to the engine, which logs it through `onError` (the response is already finished, so it sends
 * nothing more). The client's own faults (ServerError: gone, too large, timed out; FormError) are
 * the engine's to answer and count, untouched.
 */
function routeFailed(req: ServerRequest, res: ResponseWriter, error: unknown): never {
  if (
    !(error instanceof ServerError) &&
    !(error instanceof FormError) &&
    !res.headersSent &&
    !req.signal.aborted
  ) {
    sendProblem(req, res, 500, 'The route failed while answering this request; the server logged why.');
  }
  throw error;
}

/** The long cache of the favicon: one year, never revalidated (RFC 8246 `immutable`). */
const FAVICON_CACHE = 'public, max-age=31536000, immutable';

/**
 * `http://HOST:PORT` as the client reached this server (its `Host` header, or `:authority` over
 * HTTP/2), for the example commands on the pages; a placeholder when it is missing or not a plain
 * host[:port].
 */
function requestOrigin(req: ServerRequest, tls: boolean): string {
  const host = req.header('host') ?? req.host ?? '';
  const scheme = tls ? 'https' : 'http';
  return /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/.test(host)
    ? `${scheme}://${host}`
    : `${scheme}://HOST:PORT`;
}

/** A whole number in [min, max] written as plain digits, or null. */
function wholeNumber(text: string | null | undefined, min: number, max: number): number | null {
  if (text === null || text === undefined || text.length === 0 || text.length > 16) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null; // '0'..'9'
  }
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/**
 * The request-target in origin form (`/path?query`), as the router wants it. A request sent to a
 * proxy (`curl -x`) carries the absolute form, `http://host/path?query`: the server has already
 * split out its path and query, so the route is the same one either way.
 */
export function originTarget(req: ServerRequest): string {
  const url = req.url;
  if (url.charCodeAt(0) === 47 /* '/' */) return url; // origin form: nearly every request
  if (url === '*' || req.method === 'CONNECT') return url; // asterisk and authority forms
  const query = req.query;
  return query === '' ? req.path : `${req.path}?${query}`;
}

/** Reads the body and answers with everything that arrived, as JSON (`/echo` and echo mode). */
export async function echo(req: ServerRequest, res: ResponseWriter): Promise<void> {
  const body = await req.body();
  res.json({
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'),
    rawTrailers: req.rawTrailers,
  });
}

/** A reusable block of printable bytes for `/download` (a view of it is sent, never copied). */
const PATTERN = Buffer.alloc(64 * 1024);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % 64 === 63 ? 10 : 33 + (i % 94); // '\n' every 64 bytes

function* downloadChunks(size: number): Generator<Uint8Array> {
  let left = size;
  while (left > 0) {
    const n = Math.min(left, PATTERN.length);
    yield PATTERN.subarray(0, n);
    left -= n;
  }
}

/**
 * `/stream` body: `chunks` lines of `size` bytes, then a summary line. An async generator fed to
 * `res.stream()`: the writer pulls the next chunk as soon as the socket accepts the last one
 * (microtasks only), and only after a drain event (an I/O callback, a new event-loop turn) when
 * the socket was full. A pull that comes back after an event-loop turn is a pull that waited for
 * drain: that is what the summary line counts.
 */
async function* streamChunks(chunks: number, size: number): AsyncGenerator<string> {
  let waits = 0;
  let bytes = 0;
  for (let i = 1; i <= chunks; i++) {
    const label = `chunk ${i}/${chunks} `;
    const line =
      size > label.length
        ? `${label}${'.'.repeat(size - label.length - 1)}\n`
        : `${label.slice(0, size - 1)}\n`;
    bytes += line.length;
    let turned = false;
    const marker = setImmediate(() => {
      turned = true;
    });
    yield line;
    clearImmediate(marker);
    if (turned) waits++;
  }
  yield `done: ${chunks} chunks, ${bytes} bytes, waited for drain ${waits} times\n`;
}

/** Builds the demo's handler and upgrade hook over the given state. */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { meter, feed, pool } = options;
  // The inspector records from the layers' diagnostics channels (nothing is subscribed while it does
  // not record); `/inspect`, `/inspect.json` and `/inspect/ws` are the demo's own, drawn from its entries.
  const inspector = createInspector({
    capacity: INSPECTOR_CAPACITY,
    basePath: '/inspect',
    mode: options.mode === 'serve' ? (options.inspector ?? 'watch') : 'off',
  });
  const started = Date.now();
  const router = createRouter<RouteHandler>();

  // ---- pages ----------------------------------------------------------------------------------
  router.add('GET', '/', (req, res) => {
    sendHtml(
      res,
      indexPage({
        mode: options.mode,
        workers: options.workers,
        tls: options.tls,
        origin: requestOrigin(req, options.tls),
      }),
    );
  });
  router.add('GET', '/live', (_req, res) => sendHtml(res, livePage()));
  router.add('GET', '/chat', (_req, res) => sendHtml(res, chatPage()));
  const favicon: RouteHandler = (_req, res) => {
    res.header('Content-Type', 'image/svg+xml').header('Cache-Control', FAVICON_CACHE).send(FAVICON_SVG);
  };
  router.add('GET', '/favicon.ico', favicon);
  router.add('GET', '/favicon.svg', favicon);
  const recordingState = () => ({ ...inspector.state(), tls: options.tls, workers: options.workers });
  const entries = () => inspector.entries().map(inspectEntry);
  router.add('GET', '/inspect', (req, res) => {
    // A connection that is not followed never will be: close it, so the browser's next request
    // comes on a new connection, followed from its first byte.
    const followed = inspector.observes(req);
    inspector.viewed(); // record the page's own WebSocket and whatever the reader does next
    if (!followed && inspector.state().on) res.header('Connection', 'close');
    sendHtml(res, inspectPage(entries(), inspector.capacity, process.pid, recordingState()));
  });
  router.add('GET', '/inspect.json', (_req, res) => {
    res.header('Cache-Control', 'no-store').json({
      pid: process.pid,
      capacity: inspector.capacity,
      recording: recordingState(),
      entries: entries(),
    });
  });
  router.add('GET', '/dashboard', (_req, res) => {
    const server = options.serverFigures();
    sendHtml(
      res,
      dashboardPage({
        pid: process.pid,
        uptimeS: Math.round((Date.now() - started) / 1000),
        requests: meter.requests,
        connections: server.connections,
        aborted: server.aborted,
        timedOut: server.timedOut,
        rejected: server.rejected,
        rssMb: Math.round(process.memoryUsage.rss() / (1024 * 1024)),
        threads: pool.stats().threads,
      }),
    );
  });

  // ---- the tutorial's routes ------------------------------------------------------------------
  router.add('GET', '/hello', (_req, res) => {
    res.header('Content-Type', 'text/plain').send('Hello, World!');
  });
  router.add('GET', '/user', (_req, res) => sendHtml(res, usersPage(DEMO_USERS)));
  router.add('GET', '/user/:name', (_req, res, params) => {
    const name = params.name ?? '';
    sendHtml(res, userPage(name, DEMO_USERS.find((u) => u.name === name.toLowerCase()) ?? null));
  });
  router.add('GET', '/health', (_req, res) => {
    res
      .header('Cache-Control', 'no-store')
      .json({ status: 'ok', pid: process.pid, uptimeS: Math.round((Date.now() - started) / 1000) });
  });
  router.add('*', '/echo', echo);
  router.add('*', '/echo/*rest', echo);

  // The Learn path: /learn, a page per chapter, the files they link to, /learn/status/:code (learn.ts).
  addLearnRoutes((method, pattern, route) => router.add(method, pattern, route));

  // ---- bodies: files, streams, generated bytes ---------------------------------------------------
  // The router matched and decoded `*path`; the static helper wants the raw path below /static
  // (it decodes once itself and refuses traversal), so it gets the undecoded rest of req.path.
  // `compress`: whole-file answers of text types >= 1 KiB go out br/gzip/deflate as the client
  // accepts (weak ETag, Vary: Accept-Encoding); ranges stay identity bytes.
  const files = serveStatic(options.staticDir, { redirectDirectories: false, compress: true });
  router.add('GET', '/static', (_req, res) => {
    res.status(308).header('Location', '/static/').header('Content-Type', TEXT).send('Moved to /static/\n');
  });
  router.add('GET', '/static/*path', async (req, res) => {
    const staticReq = {
      method: req.method,
      path: req.path.slice('/static'.length),
      query: req.query,
      header: (name: string) => req.header(name),
    };
    if (!(await files(staticReq, res))) sendProblem(req, res, 404, `Not Found: ${req.path}`);
  });
  router.add('GET', '/stream', async (req, res) => {
    const q = new URLSearchParams(req.query);
    const chunks = wholeNumber(q.get('chunks') ?? '64', 1, 4096);
    const size = wholeNumber(q.get('size') ?? '16384', 16, 1024 * 1024);
    if (chunks === null || size === null) {
      sendProblem(req, res, 400, 'chunks must be 1..4096 and size 16..1048576', {
        code: 'ERR_STREAM_PARAMS',
      });
      return;
    }
    res.header('Content-Type', TEXT).header('Cache-Control', 'no-store');
    // The server's send timeout stays on (`--send-timeout`): this route shows a writer waiting for
    // a slow reader, not one that never reads. A client stalled that long holds a generator and a
    // connection for nothing, so it is cut like any other response.
    await res.stream(streamChunks(chunks, size), { signal: req.signal });
  });
  router.add('GET', '/download/:size', async (req, res, params) => {
    const size = wholeNumber(params.size, 0, MAX_DOWNLOAD);
    if (size === null) {
      sendProblem(req, res, 400, `size must be a whole number of bytes from 0 to ${MAX_DOWNLOAD}`, {
        code: 'ERR_DOWNLOAD_SIZE',
      });
      return;
    }
    res
      .header('Content-Type', 'application/octet-stream')
      .header('Content-Disposition', `attachment; filename="strata-${size}.bin"`)
      .header('Content-Length', String(size));
    // The server's send timeout stays on: a download the client stopped reading is cut after
    // `--send-timeout` ms (a stalled 1 GiB download would otherwise hold its connection forever).
    await res.stream(downloadChunks(size), { signal: req.signal });
  });

  // ---- uploads: a body of any size through SHA-256, never held whole ------------------------------
  router.add('GET', '/upload', (req, res) =>
    sendHtml(res, uploadPage(options.maxUpload, requestOrigin(req, options.tls))),
  );
  router.add('POST', '/upload', async (req, res) => {
    // This route's own body limit (`--max-upload`, 0: none) replaces the server's 1 MiB. The body
    // streams: each chunk is hashed and dropped, the engine buffers at most 64 KiB ahead of this
    // loop and stops reading the socket past that, so a 1 GiB upload costs no more memory than 1 KiB.
    req.setBodyLimit(options.maxUpload);
    // `?pace=MS`: a deliberately slow consumer that rests MS ms after each MiB it hashes, to watch
    // backpressure at work: the sender slows to the server's pace, the server's memory stays flat.
    const pace = wholeNumber(new URLSearchParams(req.query).get('pace') ?? '0', 0, MAX_PACE_MS);
    if (pace === null) {
      sendProblem(req, res, 400, `pace must be a whole number of ms from 0 to ${MAX_PACE_MS}`, {
        code: 'ERR_UPLOAD_PACE',
      });
      return;
    }
    if (isMultipart(req.header('content-type'))) {
      await uploadForm(req, res, options.maxUpload, pace);
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    let rested = 0;
    // A body past the limit makes the loop throw ServerError ERR_BODY_TOO_LARGE, and so does a
    // client that goes away (ERR_ABORTED). Both are left to escape: the engine has answered 413
    // itself (or there is nobody left to answer), counts them in stats() and logs neither.
    for await (const chunk of req) {
      hash.update(chunk);
      bytes += chunk.length;
      if (pace > 0 && bytes - rested >= MIB) {
        rested = bytes;
        await sleep(pace);
      }
    }
    res.header('Cache-Control', 'no-store').json({ bytes, sha256: hash.digest('hex') });
  });

  /**
   * A `multipart/form-data` upload (an HTML form, `curl -F`, fetch with a FormData): each part in
   * turn through `req.parts()`, every file hashed as it streams (the socket is read only as fast as
   * the hash runs). A bad form escapes as a FormError: the server answers its status and code.
   */
  async function uploadForm(
    req: ServerRequest,
    res: ResponseWriter,
    maxUpload: number,
    pace: number,
  ): Promise<void> {
    const max = maxUpload === 0 ? Number.POSITIVE_INFINITY : maxUpload;
    const parts: UploadedPart[] = [];
    for await (const part of req.parts({ maxFileBytes: max, maxTotalBytes: max })) {
      const hash = createHash('sha256');
      let bytes = 0;
      let value: string | undefined;
      if (part.isFile) {
        let rested = 0;
        for await (const chunk of part) {
          hash.update(chunk);
          bytes += chunk.length;
          if (pace > 0 && bytes - rested >= MIB) {
            rested = bytes;
            await sleep(pace);
          }
        }
      } else {
        const content = await part.bytes(); // a field: at most 1 MiB (maxFieldBytes)
        hash.update(content);
        bytes = content.length;
        value = new TextDecoder().decode(content);
      }
      parts.push({
        name: part.name,
        filename: part.filename ?? null,
        type: part.mediaType,
        bytes,
        sha256: hash.digest('hex'),
        ...(value === undefined ? {} : { value }),
      });
    }
    res.header('Cache-Control', 'no-store');
    // A browser that submitted the page's <form> navigates to the answer: give it a page.
    if ((req.header('accept') ?? '').includes('text/html')) sendHtml(res, uploadResultPage(parts));
    else res.json({ parts });
  }

  // ---- threads ----------------------------------------------------------------------------------
  router.add('GET', '/compute', async (req, res) => {
    const n = wholeNumber(new URLSearchParams(req.query).get('n'), 0, MAX_COMPUTE_N);
    if (n === null) {
      sendProblem(req, res, 400, `n must be a whole number from 0 to ${MAX_COMPUTE_N}`, {
        code: 'ERR_COMPUTE_N',
      });
      return;
    }
    try {
      const result = await pool.countPrimes(n);
      res
        .header('Cache-Control', 'no-store')
        .json({ n, primes: result.primes, ms: result.ms, thread: result.thread, pid: process.pid });
    } catch (err) {
      if (err instanceof ComputeError && err.code === 'ERR_POOL_BUSY') {
        res.header('Retry-After', '1');
        sendError(res, 503, err.code, err.message);
      } else throw err;
    }
  });

  // ---- WebSockets -------------------------------------------------------------------------------
  const upgradeRequired: RouteHandler = (_req, res) => {
    res
      .status(426)
      .header('Upgrade', 'websocket')
      .header('Connection', 'Upgrade')
      .header('Content-Type', TEXT);
    res.send('This route speaks WebSocket: connect with a WebSocket client.\n');
  };
  router.add('GET', '/ws', upgradeRequired);
  router.add('GET', '/live/ws', upgradeRequired);
  router.add('GET', '/inspect/ws', upgradeRequired);

  // The chat room: `join`, `message` and `leave` go to every member on every process through the
  // pub/sub backend. The online count is the sum of every process's members (see `Figures`): each
  // process tells its own members (`local`) whenever that sum changes.
  const { figures } = options;
  const chat = new WebSocketServer({
    perMessageDeflate: true,
    maxPayload: 64 * 1024,
    pubsub: options.chatPubSub ?? undefined,
  });
  figures.onOnline = (online) => {
    if (chat.subscribers('chat') > 0) {
      chat.publish('chat', JSON.stringify({ type: 'online', online }), { local: true });
    }
  };
  let guests = 0;
  chat.on('connection', (ws: WebSocket) => {
    const name = options.nameTag === '' ? `guest-${++guests}` : `guest-${++guests}-${options.nameTag}`;
    // Counted first (the members already here hear the new total), then welcomed, then subscribed.
    figures.setChat(chat.subscribers('chat') + 1);
    ws.send(JSON.stringify({ type: 'welcome', name, online: figures.online(), pid: process.pid }));
    ws.subscribe('chat');
    chat.publish('chat', JSON.stringify({ type: 'join', name }), { except: ws });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(1003, 'text messages only');
        return;
      }
      const text = String(data).slice(0, MAX_CHAT_TEXT);
      chat.publish('chat', JSON.stringify({ type: 'message', from: name, text }));
    });
    ws.on('close', () => {
      chat.publish('chat', JSON.stringify({ type: 'leave', name }));
      figures.setChat(chat.subscribers('chat'));
    });
  });

  const live = new WebSocketServer({ perMessageDeflate: false, maxPayload: 1024 });
  live.on('connection', (ws: WebSocket) => {
    ws.subscribe('live');
    if (feed.last !== null) ws.send(JSON.stringify(feed.last));
  });
  const unsubscribe = feed.subscribe((snapshot) => {
    if (live.subscribers('live') > 0) live.publish('live', JSON.stringify(snapshot));
  });

  // `/inspect/ws`: an open inspector page. While one is connected the inspector records (in
  // `watch` mode), and each page hears when the log changed (the inspector says so at most every
  // 250 ms).
  const watchers = new WebSocketServer({ perMessageDeflate: false, maxPayload: 1024 });
  watchers.on('connection', (ws: WebSocket) => {
    ws.subscribe('inspect');
    const release = inspector.watch();
    ws.send(JSON.stringify({ type: 'recording', ...recordingState() }));
    ws.on('close', release);
  });
  const stopNotices = inspector.onChange(() => {
    if (watchers.subscribers('inspect') > 0)
      watchers.publish('inspect', JSON.stringify({ type: 'changed', ...recordingState() }));
  });

  // ---- dispatch ---------------------------------------------------------------------------------
  function answerMiss(
    req: ServerRequest,
    res: ResponseWriter,
    found: Exclude<FindResult<RouteHandler>, { status: 200 }>,
  ): void {
    switch (found.status) {
      case 204:
        res.status(204).header('Allow', found.allow.join(', ')).end();
        return;
      case 308:
        res
          .status(308)
          .header('Location', found.location)
          .header('Content-Type', TEXT)
          .send(`Moved to ${found.location}\n`);
        return;
      case 405:
        res.header('Allow', found.allow.join(', '));
        sendProblem(
          req,
          res,
          405,
          `${req.method} is not allowed on ${req.path}; allowed: ${found.allow.join(', ')}`,
        );
        return;
      case 400:
      case 414:
        sendProblem(req, res, found.status, `bad request path (${found.code})`, { code: found.code });
        return;
      default:
        sendProblem(req, res, 404, `Not Found: ${req.path}`);
    }
  }

  /** Every request: straight to the route (the inspector records from the channels, not from here). */
  function handler(req: ServerRequest, res: ResponseWriter): void | Promise<void> {
    meter.requests++;
    if (options.mode === 'echo') return echo(req, res);
    const found = router.find(req.method, originTarget(req));
    if (found.status !== 200) return answerMiss(req, res, found);
    if (!wantsHtml(req)) return found.value(req, res, found.params);
    // A browser: a route that throws answers a 500 page (see routeFailed).
    try {
      const done = found.value(req, res, found.params);
      if (done instanceof Promise) return done.catch((error: unknown) => routeFailed(req, res, error));
    } catch (error) {
      routeFailed(req, res, error);
    }
  }

  function onUpgrade(req: ServerRequest, conn: Connection, head: Uint8Array): void {
    meter.requests++;
    const path = req.path;
    if (options.mode === 'serve' && path === '/ws') chat.handleUpgrade(req, conn, head);
    else if (options.mode === 'serve' && path === '/live/ws') live.handleUpgrade(req, conn, head);
    else if (options.mode === 'serve' && path === '/inspect/ws') watchers.handleUpgrade(req, conn, head);
    else conn.end(cannedResponse(404));
  }

  return {
    handler,
    onUpgrade,
    inspector,
    async closeWebSockets() {
      unsubscribe();
      stopNotices();
      inspector.close();
      await Promise.all([
        chat.close({ deadline: 2000 }),
        live.close({ deadline: 2000 }),
        watchers.close({ deadline: 2000 }),
      ]);
    },
  };
}

/** The framing of an entry in words, as the demo's page shows it. */
function framingText(e: InspectorEntry): string {
  switch (e.request.framing) {
    case 'chunked':
      return 'chunked (Transfer-Encoding)';
    case 'content-length':
      return `Content-Length: ${e.request.contentLength}`;
    case 'none':
      return 'no body (neither Content-Length nor Transfer-Encoding)';
    case 'http2':
      return 'HTTP/2 frames: DATA frames until one flagged END_STREAM';
    default:
      return 'none: the head was refused';
  }
}

/**
 * An `@strata/inspector` entry as the demo's page and `/inspect.json` show it: the bytes, what the
 * head and the body's end said (the "parser events", rebuilt from what the server reported), the
 * route, and the response once the route has answered (its head as soon as it is sent).
 */
export function inspectEntry(e: InspectorEntry): InspectEntry {
  const r = e.request;
  const headParsed = r.framing !== 'unknown';
  const events: string[] = [];
  const h2 = e.http2;
  if (headParsed)
    events.push(
      h2 !== null
        ? `head ${r.method} ${r.target} HTTP/2 (${r.headers.length} fields, stream ${h2.streamId})`
        : `head ${r.method} ${r.target} HTTP/${r.version} (${r.headers.length} fields, keep-alive ${r.keepAlive ? 'yes' : 'no'})`,
    );
  // A request with an Upgrade that reached the handler is one the server declined (RFC 9110
  // section 7.8): the protocols it takes go to `onUpgrade`, never to a handler.
  if (headParsed && r.headers.some(([name]) => name.toLowerCase() === 'upgrade'))
    events.push('upgrade declined: not a protocol the server takes, served as HTTP/1.1');
  const res = e.response;
  if (res !== null && res.bodyBytesIn > 0) events.push(`body ${res.bodyBytesIn} bytes`);
  if (r.trailers.length > 0)
    events.push(`trailers ${r.trailers.length} (${r.trailers.map(([n, v]) => `${n}: ${v}`).join(', ')})`);
  if (headParsed && r.complete) events.push('message complete');
  const f = e.refused;
  if (f !== null)
    events.push(
      `error ${f.code}${f.offset >= 0 ? ` at byte ${f.offset}` : ''}${f.reason === null ? '' : `: ${f.reason}`} (answered ${f.status}, then close)`,
    );
  const headBytes = res?.head?.length ?? 0;
  return {
    id: e.id,
    time: e.time,
    remote: e.remote,
    received: r.bytes,
    receivedBytes: r.bytes === null ? null : r.bytesTotal,
    unobserved: r.unobserved,
    parserEvents: events,
    framing: framingText(e),
    route:
      e.route !== null
        ? { pattern: e.route.pattern, status: e.route.status ?? 200, params: e.route.params }
        : headParsed
          ? { pattern: null, status: 0, params: {} }
          : null,
    response: res?.finished
      ? {
          status: res.status,
          headers: res.headers,
          bodyBytes: res.bytesOut >= 0 ? Math.max(0, res.bytesOut - headBytes) : 0,
          ms: res.durationMs >= 0 ? Math.round(res.durationMs * 100) / 100 : 0,
        }
      : null,
    responseHead: res?.head ?? null,
    http2:
      h2 === null
        ? null
        : {
            streamId: h2.streamId,
            framesTotal: h2.framesTotal,
            frames: h2.frames.map((f) => ({
              direction: f.direction,
              type: f.typeName,
              flags: f.flagNames,
              length: f.length,
              fields: f.fields,
              bytes: f.bytes,
              hidden: f.hidden,
            })),
          },
  };
}
