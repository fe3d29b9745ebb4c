/**
 * `serve({ fetch })` side by side with `@hono/node-server`: one Hono app per server, both on
 * 127.0.0.1 port 0, every case through real sockets. Raw `net` where the framing is the point (exact
 * bytes: Content-Length vs chunked, HEAD without a body, the head before the first chunk), Node's
 * `fetch` (undici) where only the content is. Strata must answer what node-server answers; where it
 * deliberately differs, the test asserts Strata's answer and says why.
 *
 * node-server runs with `overrideGlobalObjects: false`: by default it replaces the global `Request`
 * and `Response` with its own, which would also change what the Strata side receives in this process.
 */
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { createAdaptorServer, serve as nodeServe } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Server, serve } from '../src/index';

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LARGE = 'x'.repeat(10 * 1024 * 1024);

/** What one app instance saw, for the cases that look inside the handler. */
interface AppState {
  /** The SSE case: when the first chunk was enqueued, and whether the client had seen the head by then. */
  sse: { enqueuedAt: number; headSeenFirst: boolean } | null;
  /** Set by the test when the client has the SSE head. */
  sseHeadSeen: boolean;
  /** The abort case: the Request's signal, once the handler runs. */
  abortSignal: AbortSignal | null;
  abortStarted: (() => void) | null;
}

function makeApp(state: AppState): Hono {
  const app = new Hono();
  app.get('/text', (c) => c.text('Hello, Hono!'));
  app.get('/json', (c) => c.json({ hello: 'hono', n: 42, nested: { ok: true } }));
  app.get('/body', (c) => c.body('c.body with a string', 200, { 'content-type': 'text/plain' }));
  app.get(
    '/arraybuffer',
    () =>
      new Response(enc.encode('an ArrayBuffer body').buffer as ArrayBuffer, {
        headers: { 'content-type': 'application/octet-stream' },
      }),
  );
  app.get(
    '/blob',
    () =>
      new Response(new Blob(['a Blob body']), {
        headers: { 'content-type': 'application/octet-stream' },
      }),
  );
  app.get(
    '/uint8array',
    () =>
      new Response(new Uint8Array([1, 2, 3, 4, 5, 0, 255]), {
        headers: { 'content-type': 'application/octet-stream' },
      }),
  );
  app.get('/large', (c) => c.text(LARGE));
  // A stream whose second chunk comes later: its length is unknown when the head must go.
  app.get('/stream', () => {
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        ctl.enqueue(enc.encode('one,'));
        await sleep(30);
        ctl.enqueue(enc.encode('two'));
        ctl.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  });
  // Server-sent events whose first event comes 200 ms after the Response is returned.
  app.get('/sse', () => {
    state.sse = null;
    state.sseHeadSeen = false;
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        await sleep(200);
        state.sse = { enqueuedAt: performance.now(), headSeenFirst: state.sseHeadSeen };
        ctl.enqueue(enc.encode('data: first\n\n'));
        await sleep(10);
        ctl.enqueue(enc.encode('data: second\n\n'));
        ctl.close();
      },
    });
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    });
  });
  app.get('/cl-zeros', (c) => {
    c.header('Content-Length', '00011');
    return c.body('hello world', 200, { 'content-type': 'text/plain' });
  });
  app.on('TRACE', '/', (c) => c.text(`${c.req.method} ${new URL(c.req.url).pathname}`));
  app.post('/empty', async (c) => {
    const bodyIsNull = c.req.raw.body === null;
    const text = await c.req.text();
    return c.json({ bodyIsNull, text });
  });
  app.get('/abort', async (c) => {
    const signal = c.req.raw.signal;
    state.abortSignal = signal;
    state.abortStarted?.();
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      setTimeout(resolve, 3000);
    });
    return c.text('done');
  });
  app.post('/unread', (c) => c.text('answered without reading the body'));
  return app;
}

/**
 * A fetch handler that answers HEAD with the GET's whole Response (as node:http apps do and leave
 * the server to drop the body). Hono itself answers HEAD with a null body (its GET body is dropped
 * inside `app.fetch`), so only through this the server gets a HEAD response whose length it can know.
 */
function headAsGet(app: Hono): (request: Request) => Response | Promise<Response> {
  return (request) => {
    if (request.method !== 'HEAD') return app.fetch(request);
    return app.fetch(new Request(request.url, { method: 'GET', headers: request.headers }));
  };
}

function newState(): AppState {
  return { sse: null, sseHeadSeen: false, abortSignal: null, abortStarted: null };
}

interface Target {
  name: 'strata' | 'node-server';
  port: number;
  /** The port of the same app behind {@link headAsGet}. */
  headPort: number;
  state: AppState;
}

const strata: Target = { name: 'strata', port: 0, headPort: 0, state: newState() };
const node: Target = { name: 'node-server', port: 0, headPort: 0, state: newState() };
const strataServers: Server[] = [];
const nodeServers: HttpServer[] = [];

function listenNode(fetch: (request: Request) => Response | Promise<Response>): Promise<number> {
  return new Promise((resolve) => {
    const server = nodeServe(
      { fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
      (info) => resolve(info.port),
    ) as HttpServer;
    nodeServers.push(server);
  });
}

async function listenStrata(fetch: (request: Request) => Response | Promise<Response>): Promise<number> {
  const server = await serve({ fetch });
  strataServers.push(server);
  return (server.address() as { port: number }).port;
}

beforeAll(async () => {
  const strataApp = makeApp(strata.state);
  const nodeApp = makeApp(node.state);
  strata.port = await listenStrata(strataApp.fetch);
  strata.headPort = await listenStrata(headAsGet(strataApp));
  node.port = await listenNode(nodeApp.fetch);
  node.headPort = await listenNode(headAsGet(nodeApp));
});

afterAll(async () => {
  await Promise.all(strataServers.map((s) => s.close({ deadline: 200 })));
  for (const s of nodeServers) {
    s.closeAllConnections();
    s.close();
  }
});

// ---- a raw HTTP/1.1 client ----------------------------------------------------------------------

/** One response as it came off the wire. */
interface Wire {
  status: number;
  /** Status line and fields exactly as received. */
  head: string;
  /** Field values by lower-case name, in order. */
  fields: Map<string, string[]>;
  /** The body, de-chunked. */
  body: Buffer;
  /** Bytes received after this response. */
  rest: Buffer;
}

/**
 * Parses the first response in `buf` (HEAD, 1xx, 204 and 304 have no body), or null when it is not
 * complete yet. `closed`: the connection ended, so a close-delimited body is complete.
 */
function parseResponse(buf: Buffer, method: string, closed: boolean): Wire | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end + 2).toString('latin1');
  const lines = head.split('\r\n').slice(0, -1);
  const status = Number(lines[0]!.split(' ')[1]);
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const list = fields.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    fields.set(name, list);
  }
  let at = end + 4;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304)
    return { status, head, fields, body: Buffer.alloc(0), rest: buf.subarray(at) };
  const te = fields.get('transfer-encoding');
  if (te?.join(',').toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2);
        if (trailerEnd < 0) return null;
        return { status, head, fields, body: Buffer.concat(parts), rest: buf.subarray(trailerEnd + 2) };
      }
      if (buf.length < lineEnd + 2 + size + 2) return null;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const cl = fields.get('content-length');
  if (cl !== undefined) {
    const n = Number(cl[0]);
    if (buf.length < at + n) return null;
    return { status, head, fields, body: buf.subarray(at, at + n), rest: buf.subarray(at + n) };
  }
  if (!closed) return null;
  return { status, head, fields, body: buf.subarray(at), rest: Buffer.alloc(0) };
}

/** Sends `request` (with `Connection: close`) on a new connection; resolves with all it got back. */
function exchange(port: number, request: string, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new Error(
          `no close within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(got).toString('latin1').slice(0, 300))}`,
        ),
      );
    }, timeoutMs);
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    sock.write(request);
  });
}

async function rawRequest(port: number, method: string, path: string, extra = ''): Promise<Wire> {
  const buf = await exchange(
    port,
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`,
  );
  const wire = parseResponse(buf, method, true);
  if (wire === null)
    throw new Error(`incomplete response: ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`);
  return wire;
}

function field(wire: Wire, name: string): string | undefined {
  const list = wire.fields.get(name);
  if (list === undefined) return undefined;
  expect(list, `one ${name} line`).toHaveLength(1);
  return list[0];
}

/** Fields worth comparing between the two servers (not Date, Connection, Keep-Alive). */
function comparable(wire: Wire): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'content-length', 'transfer-encoding', 'cache-control']) {
    const v = field(wire, name);
    if (v !== undefined) out[name] = name === 'content-type' ? v.toLowerCase().replace(/;\s*/g, ';') : v;
  }
  return out;
}

// ---- cases ----------------------------------------------------------------------------------------

const KNOWN_LENGTH: { path: string; what: string }[] = [
  { path: '/text', what: 'c.text' },
  { path: '/json', what: 'c.json' },
  { path: '/body', what: 'c.body(string)' },
  { path: '/arraybuffer', what: 'an ArrayBuffer' },
  { path: '/blob', what: 'a Blob' },
  { path: '/uint8array', what: 'a Uint8Array' },
  { path: '/large', what: 'a 10 MB string' },
];

describe('serve({ fetch }) beside @hono/node-server: bodies of known length', () => {
  it.each(KNOWN_LENGTH)('$what: Content-Length, no chunked framing, same bytes', async ({ path }) => {
    const [s, n] = await Promise.all([
      rawRequest(strata.port, 'GET', path),
      rawRequest(node.port, 'GET', path),
    ]);
    expect(n.status).toBe(200);
    expect(s.status).toBe(200);
    expect(field(n, 'content-length')).toBe(String(n.body.length));
    expect(field(s, 'content-length')).toBe(String(s.body.length));
    expect(field(s, 'transfer-encoding')).toBeUndefined();
    expect(s.body.equals(n.body)).toBe(true);
    expect(comparable(s)).toEqual(comparable(n));
  });

  it.each(KNOWN_LENGTH)('$what: the same content through fetch', async ({ path }) => {
    const [s, n] = await Promise.all([
      fetch(`http://127.0.0.1:${strata.port}${path}`),
      fetch(`http://127.0.0.1:${node.port}${path}`),
    ]);
    expect(s.status).toBe(n.status);
    expect(s.headers.get('content-length')).toBe(n.headers.get('content-length'));
    expect(Buffer.from(await s.arrayBuffer()).equals(Buffer.from(await n.arrayBuffer()))).toBe(true);
  });

  it.each(KNOWN_LENGTH)('HEAD, $what (Hono app): the GET headers, no body', async ({ path }) => {
    const [s, n] = await Promise.all([
      rawRequest(strata.port, 'HEAD', path),
      rawRequest(node.port, 'HEAD', path),
    ]);
    expect(s.status).toBe(200);
    expect(s.status).toBe(n.status);
    expect(s.rest.length).toBe(0);
    expect(n.rest.length).toBe(0);
    // Hono answers HEAD with `new Response(null, getResponse)`: the GET body is dropped inside
    // `app.fetch`, so no server can know its length. Neither sends one; Strata used to send a
    // false `Content-Length: 0` (RFC 9110 section 9.3.2: HEAD carries the GET's length, or none).
    expect(field(s, 'content-length')).toBeUndefined();
    expect(field(s, 'transfer-encoding')).toBeUndefined();
    expect(comparable(s)).toEqual(comparable(n));
  });

  it.each(KNOWN_LENGTH)(
    "HEAD, $what (handler that answers HEAD with the GET's Response): the GET's Content-Length, no body",
    async ({ path }) => {
      const [get, s, n] = await Promise.all([
        rawRequest(strata.port, 'GET', path),
        rawRequest(strata.headPort, 'HEAD', path),
        rawRequest(node.headPort, 'HEAD', path),
      ]);
      expect(s.status).toBe(200);
      expect(field(s, 'content-length')).toBe(String(get.body.length));
      expect(field(s, 'transfer-encoding')).toBeUndefined();
      expect(s.rest.length).toBe(0); // not one body byte after the head
      expect(n.rest.length).toBe(0);
      expect(comparable(s)).toEqual(comparable(n));
    },
  );
});

describe('serve({ fetch }) beside @hono/node-server: streams', () => {
  it('a ReadableStream whose length is unknown streams chunked, unbuffered', async () => {
    const [s, n] = await Promise.all([
      rawRequest(strata.port, 'GET', '/stream'),
      rawRequest(node.port, 'GET', '/stream'),
    ]);
    for (const w of [s, n]) {
      expect(w.status).toBe(200);
      expect(field(w, 'transfer-encoding')).toBe('chunked');
      expect(field(w, 'content-length')).toBeUndefined();
      expect(w.body.toString()).toBe('one,two');
    }
  });

  it('HEAD on a stream: no length, no body', async () => {
    for (const port of [strata.port, strata.headPort, node.port, node.headPort]) {
      const w = await rawRequest(port, 'HEAD', '/stream');
      expect(w.status).toBe(200);
      expect(field(w, 'content-length')).toBeUndefined();
      expect(field(w, 'transfer-encoding')).toBeUndefined();
      expect(w.rest.length).toBe(0);
    }
  });

  it.each([strata, node])('SSE ($name): the head arrives before the first event is enqueued', async (t) => {
    const sock = net.connect(t.port, '127.0.0.1');
    const got: Buffer[] = [];
    let headAt = 0;
    let firstRead = '';
    const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
    sock.on('data', (d) => {
      got.push(d);
      if (headAt === 0 && Buffer.concat(got).includes('\r\n\r\n')) {
        headAt = performance.now();
        firstRead = Buffer.concat(got).toString('latin1');
        t.state.sseHeadSeen = true;
      }
    });
    sock.write('GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await closed;
    const sse = t.state.sse;
    expect(sse).not.toBeNull();
    expect(headAt).toBeGreaterThan(0);
    expect(sse!.headSeenFirst).toBe(true);
    expect(headAt).toBeLessThan(sse!.enqueuedAt);
    expect(firstRead).toMatch(/^HTTP\/1\.1 200 /);
    expect(firstRead).not.toContain('data: first');
    const wire = parseResponse(Buffer.concat(got), 'GET', true)!;
    expect(field(wire, 'content-type')).toBe('text/event-stream');
    expect(field(wire, 'transfer-encoding')).toBe('chunked');
    expect(wire.body.toString()).toBe('data: first\n\ndata: second\n\n');
  });
});

describe("serve({ fetch }) beside @hono/node-server: the app's own headers", () => {
  it('keeps an app-set `Content-Length: 00011` as given (RFC 9110 section 8.6: 1*DIGIT)', async () => {
    const [s, n] = await Promise.all([
      rawRequest(strata.port, 'GET', '/cl-zeros'),
      rawRequest(node.port, 'GET', '/cl-zeros'),
    ]);
    expect(field(n, 'content-length')).toBe('00011');
    expect(n.body.toString()).toBe('hello world');
    expect(s.status).toBe(200);
    expect(s.body.toString()).toBe('hello world');
    expect(field(s, 'transfer-encoding')).toBeUndefined();
    expect(field(s, 'content-length')).toBe('00011');
  });
});

describe('serve({ fetch }) beside @hono/node-server: requests', () => {
  it('TRACE reaches the app with its method (node-server builds it as a GET that says TRACE)', async () => {
    const [s, n] = await Promise.all([
      rawRequest(strata.port, 'TRACE', '/'),
      rawRequest(node.port, 'TRACE', '/'),
    ]);
    expect(n.status).toBe(200);
    expect(n.body.toString()).toBe('TRACE /');
    expect(s.status).toBe(200);
    expect(s.body.toString()).toBe('TRACE /');
  });

  it('an empty Host is a 400 with a body, never a 500', async () => {
    const request = 'GET /text HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n';
    const s = parseResponse(await exchange(strata.port, request), 'GET', true)!;
    expect(s.status).toBe(400);
    expect(s.body.toString()).toBe('Bad Request: missing or invalid Host header\n');
    // node-server's listener answers 400 too (an empty body) when it has no default hostname...
    const bare = createAdaptorServer({ fetch: makeApp(newState()).fetch, overrideGlobalObjects: false });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (bare.address() as net.AddressInfo).port;
      const b = parseResponse(await exchange(port, request), 'GET', true)!;
      expect(b.status).toBe(400);
    } finally {
      bare.close();
    }
    // ...but its `serve({ hostname })` makes the listen address the default host, so there the empty
    // Host becomes 127.0.0.1 and gets a 200. Strata does not guess: an http URI with an empty host
    // is invalid (RFC 9110 section 4.2.1), and the URL would otherwise be wrong.
    const n = parseResponse(await exchange(node.port, request), 'GET', true)!;
    expect(n.status).toBe(200);
  });

  it('a `Content-Length: 0` POST has an empty body stream, not a null body', async () => {
    const request =
      'POST /empty HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
    for (const port of [strata.port, node.port]) {
      const w = parseResponse(await exchange(port, request), 'POST', true)!;
      expect(w.status).toBe(200);
      expect(JSON.parse(w.body.toString())).toEqual({ bodyIsNull: false, text: '' });
    }
    // and through fetch, which sends `Content-Length: 0` for an empty body
    for (const port of [strata.port, node.port]) {
      const r = await fetch(`http://127.0.0.1:${port}/empty`, { method: 'POST', body: '' });
      expect(await r.json()).toEqual({ bodyIsNull: false, text: '' });
    }
  });

  // The engine aborts `ServerRequest.signal` when the client goes away (FIN or reset); the adapter
  // hands that signal to the Request as it is, and nothing in between may break the chain.
  it.each([
    { t: strata, how: 'FIN' },
    { t: strata, how: 'reset' },
    { t: node, how: 'FIN' },
    { t: node, how: 'reset' },
  ])('Request.signal aborts within 50 ms of a client $how ($t.name)', async ({ t, how }) => {
    t.state.abortSignal = null;
    const started = new Promise<void>((resolve) => {
      t.state.abortStarted = resolve;
    });
    const sock = net.connect(t.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write('GET /abort HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await started;
    const signal = t.state.abortSignal!;
    expect(signal.aborted).toBe(false);
    if (how === 'FIN') sock.destroy();
    else sock.resetAndDestroy();
    await sleep(50);
    expect(signal.aborted).toBe(true);
  });

  // What becomes of the connection after a response to a request whose body the app never read is
  // the engine's: it reads and drops the rest (connection reused), or closes. node-server reuses it
  // either way: node:http drops the rest once the response has finished (node-server bounds that at
  // 64 MB and 500 ms). Strata drains at most `limits.maxDrainBytes` (64 KiB) within `timeouts.drain`
  // and otherwise closes right after the response: reading and throwing away 2 MB costs the server
  // more than a new connection costs the client. Deliberate, so for 2 MB this asserts Strata's close;
  // for 32 KiB both reuse the connection.
  it.each([
    { t: strata, bytes: 2 * 1024 * 1024, next: 'closed' },
    { t: node, bytes: 2 * 1024 * 1024, next: 'answered' },
    { t: strata, bytes: 32 * 1024, next: 'answered' },
    { t: node, bytes: 32 * 1024, next: 'answered' },
  ] as const)(
    'an unread body of $bytes bytes ($t.name): the response arrives, then the connection is $next',
    async ({ t, bytes, next }) => {
      const outcome = await unreadBody(t.port, bytes);
      expect(outcome.first?.status).toBe(200);
      expect(outcome.first?.body.toString()).toBe('answered without reading the body');
      expect(outcome.next).toBe(next);
    },
  );
});

/**
 * POSTs `bytes` the app never reads, then (after the response) a GET on the same connection. `next`:
 * `answered` (the connection was reused), `closed` (the server closed it after the response), or
 * `silent` (neither within 3 s).
 */
function unreadBody(
  port: number,
  bytes: number,
): Promise<{ first: Wire | null; next: 'answered' | 'closed' | 'silent' }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf: Buffer = Buffer.alloc(0);
    let first: Wire | null = null;
    let done = false;
    const finish = (next: 'answered' | 'closed' | 'silent') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ first, next });
    };
    const timer = setTimeout(() => finish('silent'), 3000);
    sock.on('error', () => {});
    sock.on('close', () => finish('closed'));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (first === null) {
        first = parseResponse(buf, 'POST', false);
        if (first === null) return;
        buf = first.rest;
        sock.write('GET /text HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      }
      const second = parseResponse(buf, 'GET', false);
      if (second !== null && second.status === 200) finish('answered');
    });
    sock.write(`POST /unread HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${bytes}\r\n\r\n`);
    sock.write(Buffer.alloc(bytes, 0x61));
  });
}
