import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sendCompressed, serveStatic, setCookie } from '@strata/response';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @strata/router is not a dependency of @strata/server: the app under test takes it from source.
import { createRouter } from '../../router/src/index';
import { type Handler, type Server, serve } from '../src/index';
import { makeCert, run, start } from './_helpers';

// HTTP/2 through real sockets with real clients (curl, nghttp, h2load, node:http2), and the same
// app answering HTTP/1.1 and HTTP/2 alike. Every server listens on 127.0.0.1.

// ---- fixtures --------------------------------------------------------------------------------------

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** 20 MiB in 320 chunks of 64 KiB, each filled from its index (deterministic). */
const BIG_CHUNKS = 320;
const BIG_CHUNK = 64 * 1024;
function bigChunk(i: number): Uint8Array {
  const c = new Uint8Array(BIG_CHUNK);
  for (let j = 0; j < BIG_CHUNK; j++) c[j] = (i * 31 + j * 7) & 0xff;
  return c;
}
let bigDigest = '';
function bigHash(): string {
  if (bigDigest !== '') return bigDigest;
  const h = createHash('sha256');
  for (let i = 0; i < BIG_CHUNKS; i++) h.update(bigChunk(i));
  bigDigest = h.digest('hex');
  return bigDigest;
}

/** 256 KiB, deterministic: several times the client windows used below. */
const MEDIUM = new Uint8Array(256 * 1024).map((_, i) => (i * 11 + (i >> 8)) & 0xff);

/** What the streaming handlers report back to a test (set by the test before the request). */
let probe: { aborted: Deferred<string>; sourceClosed: Deferred<number>; entered: Deferred; gate: Deferred } =
  fresh();
function fresh() {
  return {
    aborted: deferred<string>(),
    sourceClosed: deferred<number>(),
    entered: deferred(),
    gate: deferred(),
  };
}

const CSS = `body { color: #123456; }\n${'/* padding to cross the compression threshold */\n'.repeat(60)}`;
const JS = `document.title = 'script ran';\n`;
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200);

let dir: string;
let tls: { cert: string; key: string };
let files: ReturnType<typeof serveStatic>;

const router = createRouter<Handler>();
router.add('GET', '/hello', (_req, res) => {
  res.header('content-type', 'text/plain; charset=utf-8').send('hello world');
});
router.add('GET', '/version', (req, res) => {
  res.header('x-version', req.httpVersion).send(req.httpVersion);
});
router.add('POST', '/echo', async (req, res) => {
  const body = await req.bytes();
  res.header('content-type', 'application/octet-stream').header('x-sha256', sha256(body)).send(body);
});
router.add('POST', '/digest', async (req, res) => {
  req.setBodyLimit(0);
  const h = createHash('sha256');
  let n = 0;
  for await (const chunk of req) {
    h.update(chunk);
    n += chunk.length;
  }
  res.json({ length: n, sha256: h.digest('hex'), version: req.httpVersion });
});
router.add('POST', '/stream-echo', async (req, res) => {
  res.header('content-type', 'text/plain');
  for await (const chunk of req) res.write(chunk);
  res.end();
});
router.add('POST', '/limited', async (req, res) => {
  res.send(`read ${(await req.bytes()).length}`);
});
router.add('POST', '/form', async (req, res) => {
  const form = await req.formData();
  res.send(`fields ${[...form.keys()].join(',')}`);
});
router.add('GET', '/throw', () => {
  throw new Error('handler bug');
});
router.add('GET', '/trailers', (_req, res) => {
  res.header('content-type', 'text/plain');
  res.addTrailers({ 'x-checksum': 'abc123', 'x-count': '2' });
  res.write('part1,');
  res.end('part2');
});
router.add('GET', '/big', async (_req, res) => {
  res.header('content-type', 'application/octet-stream');
  await res.stream(
    (function* () {
      for (let i = 0; i < BIG_CHUNKS; i++) yield bigChunk(i);
    })(),
  );
});
router.add('GET', '/medium', (_req, res) => {
  res.header('content-type', 'application/octet-stream').send(MEDIUM);
});
router.add('GET', '/endless', async (req, res) => {
  const p = probe;
  req.signal.addEventListener('abort', () => p.aborted.resolve(String(req.signal.reason?.code ?? 'aborted')));
  let sent = 0;
  // Bounded: backpressure holds it long before the bound, and the client resets the stream.
  const source = (async function* () {
    try {
      for (; sent < 100_000; sent++) yield new Uint8Array(16 * 1024).fill(sent & 0xff);
    } finally {
      p.sourceClosed.resolve(sent);
    }
  })();
  await res.stream(source);
});
router.add('GET', '/wait', async (_req, res) => {
  const p = probe;
  p.entered.resolve();
  await p.gate.promise;
  res.send('released');
});
router.add('POST', '/request-trailers', async (req, res) => {
  const body = await req.text();
  res.json({ body, trailers: req.rawTrailers });
});
router.add('POST', '/continue', async (req, res) => {
  res.send(`read ${(await req.text()).length}`);
});
router.add('GET', '/hints', (_req, res) => {
  res.writeEarlyHints('</app.css>; rel=preload; as=style');
  res.send('after hints');
});
router.add('GET', '/cookies', (_req, res) => {
  setCookie(res, 'a', '1', { httpOnly: true });
  setCookie(res, 'b', '2', { path: '/' });
  setCookie(res, 'c', '3', { sameSite: 'Lax' });
  res.send('cookies');
});
router.add('GET', '/text', async (req, res) => {
  res.header('content-type', 'text/plain; charset=utf-8');
  await sendCompressed(req, res, TEXT);
});

const app: Handler = async (req, res) => {
  const r = router.find(req.method, req.path);
  if (r.status === 200) return r.value(req, res);
  if (r.status === 405) {
    res.status(405).header('allow', r.allow.join(', ')).send('Method Not Allowed');
    return;
  }
  if (await files(req, res)) return;
  res.status(404).send(`Not Found: ${req.path}`);
};

let plain: { server: Server; port: number; url: string };
let secure: { server: Server; port: number; url: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-h2-interop-'));
  tls = makeCert(dir);
  const pub = join(dir, 'public');
  mkdirSync(pub);
  writeFileSync(join(pub, 'index.html'), '<!doctype html><title>x</title><p>static index</p>');
  writeFileSync(join(pub, 'app.css'), CSS);
  writeFileSync(join(pub, 'app.js'), JS);
  files = serveStatic(pub, { compress: true });
  plain = await start({ handler: app });
  secure = await start({ handler: app, tls });
});

afterAll(async () => {
  await plain?.server.close({ deadline: 1000 });
  await secure?.server.close({ deadline: 1000 });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- clients ---------------------------------------------------------------------------------------

type Fields = Record<string, string | string[]>;
interface Reply {
  status: number;
  headers: Fields;
  body: Buffer;
  trailers: Fields;
}

function fieldsOf(h: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(h))
    if (!k.startsWith(':') && v !== undefined) out[k] = v as string | string[];
  return out;
}

/** One HTTP/1.1 request on its own connection (node:http or node:https). */
function h1(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; secure?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const o = { host: '127.0.0.1', port, method, path, headers: opts.headers ?? {}, agent: false as const };
    const req = opts.secure ? https.request({ ...o, ca: tls.cert }) : http.request(o);
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: fieldsOf(res.headers),
          body: Buffer.concat(chunks),
          trailers: fieldsOf(res.trailers),
        }),
      );
    });
    req.end(opts.body);
  });
}

/** One HTTP/2 request on `session`; a stream that closes without a response resolves status 0. */
function h2(
  session: http2.ClientHttp2Session,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve) => {
    const s = session.request(
      { ':method': method, ':path': path, ...opts.headers },
      { endStream: opts.body === undefined },
    );
    const reply: Reply = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: {} };
    const chunks: Buffer[] = [];
    s.on('response', (h) => {
      reply.status = Number(h[':status']);
      reply.headers = fieldsOf(h);
    });
    s.on('trailers', (t) => {
      reply.trailers = fieldsOf(t);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => {
      reply.body = Buffer.concat(chunks);
      resolve(reply);
    });
    if (opts.body !== undefined) s.end(opts.body);
  });
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, url.startsWith('https') ? { ca: tls.cert } : {});
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed) resolve();
    else session.close(() => resolve());
  });
}

/** Headers that HTTP/2 forbids (RFC 9113 section 8.2.2). */
const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

/** A curl `-i` dump: status line, lower-cased header fields (repeated names kept), body. */
function parseDump(out: string): { statusLine: string; fields: [string, string][]; body: string } {
  const end = out.indexOf('\r\n\r\n');
  const head = out.slice(0, end).split('\r\n');
  const fields: [string, string][] = [];
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { statusLine: head[0]!, fields, body: out.slice(end + 4) };
}

const names = (fields: [string, string][]) => fields.map(([n]) => n);
const field = (fields: [string, string][], name: string) => fields.find(([n]) => n === name)?.[1];

// ---- curl ------------------------------------------------------------------------------------------

describe('curl', () => {
  const cacert = () => join(dir, 'cert.pem');
  const targets = () => [
    {
      name: 'TLS (ALPN h2)',
      args: ['--http2', '--cacert', cacert()],
      base: `https://127.0.0.1:${secure.port}`,
    },
    { name: 'h2c prior knowledge', args: ['--http2-prior-knowledge'], base: plain.url },
  ];

  it('GET over TLS and h2c: HTTP/2 status, date, no connection-specific fields, the body', async () => {
    for (const t of targets()) {
      const { code, out } = await run('curl', ['-sS', '-i', ...t.args, `${t.base}/hello`]);
      expect(code, t.name).toBe(0);
      const r = parseDump(out);
      expect(r.statusLine, t.name).toBe('HTTP/2 200 ');
      expect(field(r.fields, 'date'), t.name).toMatch(
        /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
      );
      expect(field(r.fields, 'content-type'), t.name).toBe('text/plain; charset=utf-8');
      expect(field(r.fields, 'content-length'), t.name).toBe('11');
      for (const n of CONNECTION_SPECIFIC) expect(names(r.fields), `${t.name} ${n}`).not.toContain(n);
      expect(r.body, t.name).toBe('hello world');
      const v = await run('curl', ['-sS', ...t.args, `${t.base}/version`]);
      expect(v.out, t.name).toBe('2.0');
    }
  });

  it('POST bodies: a small one echoed, 3 MB with --data-binary hashed whole', async () => {
    const file = join(dir, 'upload.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    writeFileSync(file, data);
    for (const t of targets()) {
      const small = await run('curl', [
        '-sS',
        ...t.args,
        '--data-binary',
        'small body \x01 bytes',
        `${t.base}/echo`,
      ]);
      expect(small.out, t.name).toBe('small body \x01 bytes');
      const big = await run(
        'curl',
        ['-sS', ...t.args, '--data-binary', `@${file}`, `${t.base}/digest`],
        20_000,
      );
      expect(JSON.parse(big.out), t.name).toEqual({
        length: data.length,
        sha256: sha256(data),
        version: '2.0',
      });
    }
  });

  it('a 20 MiB streamed download arrives intact over both', async () => {
    for (const t of targets()) {
      const file = join(dir, 'download.bin');
      const r = await run(
        'curl',
        ['-sS', ...t.args, '-o', file, '-w', '%{http_version} %{http_code}', `${t.base}/big`],
        20_000,
      );
      expect(r.out, t.name).toBe('2 200');
      expect(sha256(readFileSync(file)), t.name).toBe(bigHash());
    }
  });

  it('HEAD has the GET head and no body; a path no route knows is 404', async () => {
    for (const t of targets()) {
      const head = await run('curl', ['-sS', '-I', ...t.args, `${t.base}/hello`]);
      const r = parseDump(head.out);
      expect(r.statusLine, t.name).toBe('HTTP/2 200 ');
      expect(field(r.fields, 'content-length'), t.name).toBe('11');
      expect(r.body, t.name).toBe('');
      const missing = await run('curl', ['-sS', '-i', ...t.args, `${t.base}/nope`]);
      const m = parseDump(missing.out);
      expect(m.statusLine, t.name).toBe('HTTP/2 404 ');
      expect(m.body, t.name).toBe('Not Found: /nope');
    }
  });

  it('--http2 over cleartext without prior knowledge (Upgrade: h2c) gets a plain HTTP/1.1 answer', async () => {
    const { code, out } = await run('curl', ['-sS', '-i', '-v', '--http2', `${plain.url}/version`]);
    expect(code).toBe(0);
    expect(out).toContain('> Upgrade: h2c');
    const r = parseDump(out.slice(out.indexOf('HTTP/1.1 ')));
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
    expect(field(r.fields, 'x-version')).toBe('1.1');
    expect(r.body.startsWith('1.1')).toBe(true);
    expect(out).not.toContain('101 Switching Protocols');
  });
});

describe('ALPN choices', () => {
  it('an HTTP/1.1-only client over TLS gets HTTP/1.1 from the same port', async () => {
    const cacert = join(dir, 'cert.pem');
    const url = `https://127.0.0.1:${secure.port}/version`;
    const { out } = await run('curl', [
      '-sS',
      '--http1.1',
      '--cacert',
      cacert,
      '-w',
      ' %{http_version}',
      url,
    ]);
    expect(out).toBe('1.1 1.1');
  });

  it('http2: false: curl --http2 over TLS is served HTTP/1.1; h2c by prior knowledge gets no HTTP/2', async () => {
    const off = await start({ handler: app, tls, http2: false });
    const offPlain = await start({ handler: app, http2: false });
    try {
      const cacert = join(dir, 'cert.pem');
      const url = `https://127.0.0.1:${off.port}/version`;
      const t = await run('curl', ['-sS', '--http2', '--cacert', cacert, '-w', ' %{http_version}', url]);
      expect(t.out).toBe('1.1 1.1');
      const pk = await run('curl', ['-sS', '-i', '--http2-prior-knowledge', `${offPlain.url}/version`]);
      expect(pk.code).not.toBe(0);
      expect(pk.out).not.toContain('HTTP/2 200');
      expect(offPlain.server.stats().byStatus['200'] ?? 0).toBe(0);
    } finally {
      await off.server.close({ deadline: 1000 });
      await offPlain.server.close({ deadline: 1000 });
    }
  });
});

// ---- nghttp2 tools ---------------------------------------------------------------------------------

describe('nghttp and h2load', () => {
  it('nghttp -nv shows the SETTINGS exchange, HEADERS and DATA, and status 200', async () => {
    const { code, out } = await run('nghttp', ['-nv', `${plain.url}/hello`]);
    expect(code).toBe(0);
    expect(out).toContain('recv SETTINGS frame');
    expect(out).toMatch(/recv SETTINGS frame <length=0, flags=0x01, stream_id=0>\s+; ACK/);
    expect(out).toMatch(/recv HEADERS frame <length=\d+, flags=0x04, stream_id=13>/);
    expect(out).toMatch(/recv \(stream_id=13\) :status: 200/);
    expect(out).toMatch(/recv DATA frame <length=11, flags=0x01, stream_id=13>/);
    expect(out).not.toContain(
      'GOAWAY frame <length=8, flags=0x00, stream_id=0>\n          (last_stream_id=0, error_code=PROTOCOL',
    );
  });

  it('nghttp -d sends a request body in DATA frames; the server reads it whole', async () => {
    const file = join(dir, 'nghttp-body.bin');
    const data = Buffer.alloc(200_000, 'n');
    writeFileSync(file, data);
    const verbose = await run('nghttp', ['-nv', '-d', file, `${plain.url}/digest`]);
    expect(verbose.out).toMatch(/send HEADERS frame[^\n]*\n[^\n]*END_HEADERS/);
    expect(verbose.out).toContain(':method: POST');
    expect(verbose.out).toMatch(/send DATA frame <length=\d+, flags=0x01, stream_id=13>/);
    expect(verbose.out).toMatch(/recv \(stream_id=13\) :status: 200/);
    const body = await run('nghttp', ['-d', file, `${plain.url}/digest`]);
    expect(JSON.parse(body.out)).toEqual({ length: data.length, sha256: sha256(data), version: '2.0' });
  });

  it('nghttp with a 1 KiB stream window: the server sends within it and refills on WINDOW_UPDATE', async () => {
    const { code, out } = await run('nghttp', ['-nv', '-w', '10', '-W', '16', `${plain.url}/medium`]);
    expect(code).toBe(0);
    expect(out).toMatch(/recv \(stream_id=13\) :status: 200/);
    let total = 0;
    let frames = 0;
    for (const m of out.matchAll(/recv DATA frame <length=(\d+), flags=0x0([01]), stream_id=13>/g)) {
      const n = Number(m[1]);
      expect(n).toBeLessThanOrEqual(1023);
      total += n;
      frames++;
    }
    expect(total).toBe(MEDIUM.length);
    expect(frames).toBeGreaterThanOrEqual(Math.ceil(MEDIUM.length / 1023));
    expect(out).toMatch(/send WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=13>/);
    expect(out).toMatch(/recv DATA frame <length=\d+, flags=0x01, stream_id=13>\s+; END_STREAM/);
  });

  it('h2load over TLS (ALPN h2), 256 KiB responses, 10 streams at a time: all complete', async () => {
    const url = `https://127.0.0.1:${secure.port}/medium`;
    const { out } = await run('h2load', ['-n', '200', '-c', '2', '-m', '10', url], 20_000);
    expect(out).toContain('Application protocol: h2');
    expect(out).toMatch(
      /requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored, 0 timeout/,
    );
    expect(out).toContain(`${200 * MEDIUM.length}) data`);
  });

  it('h2load -n 2000 -c 4 -m 8 over h2c: every request succeeds', async () => {
    const { out } = await run('h2load', ['-n', '2000', '-c', '4', '-m', '8', `${plain.url}/hello`], 20_000);
    expect(out).toContain('Application protocol: h2c');
    expect(out).toMatch(
      /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/,
    );
    expect(out).toMatch(/status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx/);
  });
});

// ---- node:http2 --------------------------------------------------------------------------------------

describe.each([
  { name: 'h2c', url: () => plain.url, server: () => plain.server },
  { name: 'TLS', url: () => `https://127.0.0.1:${secure.port}`, server: () => secure.server },
])('node:http2 client over $name', ({ url, server }) => {
  it('50 concurrent streams on one session, each answered with its own body', async () => {
    const before = server().stats().totalConnections;
    const session = await connect(url());
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h2(session, 'POST', '/echo', { body: `stream ${i} `.repeat(50 + i) }),
      ),
    );
    for (let i = 0; i < 50; i++) {
      const body = `stream ${i} `.repeat(50 + i);
      expect(replies[i]!.status).toBe(200);
      expect(replies[i]!.body.toString()).toBe(body);
      expect(replies[i]!.headers['x-sha256']).toBe(sha256(body));
    }
    expect(server().stats().totalConnections - before).toBe(1);
    await closeSession(session);
  });

  it('a request body streamed: each piece comes back before the next is sent', async () => {
    const session = await connect(url());
    const s = session.request({ ':method': 'POST', ':path': '/stream-echo' });
    const status = new Promise<number>((r) => s.on('response', (h) => r(Number(h[':status']))));
    let got = '';
    let waiter: (() => void) | null = null;
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      got += c;
      waiter?.();
    });
    const ended = new Promise<void>((r) => s.on('end', r));
    for (let i = 0; i < 5; i++) {
      const piece = `piece-${i};`;
      const want = got + piece;
      const arrived = new Promise<void>((r) => {
        waiter = () => {
          if (got === want) r();
        };
      });
      s.write(piece);
      await arrived;
    }
    s.end();
    await ended;
    expect(await status).toBe(200);
    expect(got).toBe('piece-0;piece-1;piece-2;piece-3;piece-4;');
    await closeSession(session);
  });

  it('response trailers arrive after the body', async () => {
    const session = await connect(url());
    const r = await h2(session, 'GET', '/trailers');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('part1,part2');
    expect(r.trailers).toEqual({ 'x-checksum': 'abc123', 'x-count': '2' });
    expect(r.headers['content-type']).toBe('text/plain');
    await closeSession(session);
  });

  it('request trailers reach the handler; 100-continue and 103 Early Hints arrive as informational heads', async () => {
    const session = await connect(url());
    const withTrailers = await new Promise<string>((resolve) => {
      const s = session.request(
        { ':method': 'POST', ':path': '/request-trailers' },
        { waitForTrailers: true },
      );
      s.on('wantTrailers', () => s.sendTrailers({ 'x-digest': 'sha-256=abc' }));
      let body = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        body += c;
      });
      s.on('close', () => resolve(body));
      s.end('uploaded');
    });
    expect(JSON.parse(withTrailers)).toEqual({ body: 'uploaded', trailers: ['x-digest', 'sha-256=abc'] });

    const continued = await new Promise<{ informational: number[]; status: number; body: string }>(
      (resolve) => {
        const s = session.request({ ':method': 'POST', ':path': '/continue', expect: '100-continue' });
        const informational: number[] = [];
        let status = 0;
        let body = '';
        s.on('continue', () => {
          informational.push(100);
          s.end('x'.repeat(1234));
        });
        s.on('response', (h) => {
          status = Number(h[':status']);
        });
        s.setEncoding('utf8');
        s.on('data', (c: string) => {
          body += c;
        });
        s.on('close', () => resolve({ informational, status, body }));
      },
    );
    expect(continued).toEqual({ informational: [100], status: 200, body: 'read 1234' });

    const hints = await new Promise<{ early: (string | undefined)[]; status: number }>((resolve) => {
      const s = session.request({ ':path': '/hints' });
      const early: (string | undefined)[] = [];
      let status = 0;
      s.on('headers', (h) => {
        early.push(String(h[':status']), h.link as string | undefined);
      });
      s.on('response', (h) => {
        status = Number(h[':status']);
      });
      s.resume();
      s.on('close', () => resolve({ early, status }));
    });
    expect(hints).toEqual({ early: ['103', '</app.css>; rel=preload; as=style'], status: 200 });
    await closeSession(session);
  });

  it('a 20 MiB streamed response arrives complete and intact', async () => {
    const session = await connect(url());
    const r = await h2(session, 'GET', '/big');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(BIG_CHUNKS * BIG_CHUNK);
    expect(sha256(r.body)).toBe(bigHash());
    await closeSession(session);
  });

  it('the client resets a stream mid-response: the signal aborts, the source closes, the session lives on', async () => {
    probe = fresh();
    const aborted = server().stats().aborted;
    const session = await connect(url());
    const s = session.request({ ':method': 'GET', ':path': '/endless' });
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('data', () => r()));
    s.close(http2.constants.NGHTTP2_CANCEL);
    expect(await probe.aborted.promise).toBe('ERR_ABORTED');
    expect(await probe.sourceClosed.promise).toBeLessThan(100_000);
    expect(server().stats().aborted - aborted).toBe(1);
    const next = await h2(session, 'GET', '/hello');
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('hello world');
    await closeSession(session);
  });

  it('session.close() is graceful: the stream in flight completes, then the session closes', async () => {
    probe = fresh();
    const session = await connect(url());
    const reply = h2(session, 'GET', '/wait');
    await probe.entered.promise;
    const closed = new Promise<void>((r) => session.once('close', r));
    session.close();
    probe.gate.resolve();
    const r = await reply;
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('released');
    await closed;
    expect(session.destroyed).toBe(true);
  });
});

// ---- one app, both versions ----------------------------------------------------------------------------

/** The fields a response's meaning depends on (the per-version framing and the date left out). */
function comparable(r: Reply, keep: string[]) {
  const headers: Fields = {};
  for (const k of keep) if (r.headers[k] !== undefined) headers[k] = r.headers[k]!;
  return { status: r.status, headers, body: r.body.toString('latin1') };
}

describe('the same app over HTTP/1.1 and HTTP/2', () => {
  const cases: {
    name: string;
    method: string;
    path: string;
    headers?: Record<string, string>;
    keep: string[];
  }[] = [
    { name: 'route', method: 'GET', path: '/hello', keep: ['content-type', 'content-length'] },
    { name: 'router 404', method: 'GET', path: '/missing/page', keep: ['content-type', 'content-length'] },
    {
      name: 'router 405',
      method: 'DELETE',
      path: '/hello',
      keep: ['allow', 'content-type', 'content-length'],
    },
    { name: 'HEAD by GET', method: 'HEAD', path: '/hello', keep: ['content-type', 'content-length'] },
    {
      name: 'static file',
      method: 'GET',
      path: '/app.js',
      keep: ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control'],
    },
    { name: 'static index', method: 'GET', path: '/', keep: ['content-type', 'content-length', 'etag'] },
    {
      name: 'static HEAD',
      method: 'HEAD',
      path: '/app.css',
      keep: ['content-type', 'content-length', 'etag', 'vary'],
    },
    {
      name: 'static range',
      method: 'GET',
      path: '/app.css',
      headers: { range: 'bytes=5-24' },
      keep: ['content-type', 'content-length', 'content-range'],
    },
    { name: 'cookies', method: 'GET', path: '/cookies', keep: ['set-cookie', 'content-length'] },
  ];

  for (const c of cases)
    it(`${c.name}: ${c.method} ${c.path}`, async () => {
      const one = await h1(plain.port, c.method, c.path, { headers: c.headers ?? {} });
      const session = await connect(plain.url);
      const two = await h2(session, c.method, c.path, { headers: c.headers ?? {} });
      await closeSession(session);
      expect(comparable(two, c.keep)).toEqual(comparable(one, c.keep));
      expect(two.headers.date).toMatch(/ GMT$/);
      expect(one.headers.date).toMatch(/ GMT$/);
      for (const n of CONNECTION_SPECIFIC) expect(two.headers[n], n).toBeUndefined();
      expect(one.status).toBeGreaterThan(0);
      for (const k of c.keep.filter((k) => k !== 'vary' && k !== 'allow' && k !== 'content-range'))
        if (c.method !== 'HEAD' && one.status === 200) expect(one.headers[k], k).toBeDefined();
    });

  it('the 405 and the cookies carry what each version shows', async () => {
    const session = await connect(plain.url);
    const notAllowed = await h2(session, 'DELETE', '/hello');
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.allow).toBe('GET, HEAD, OPTIONS');
    const cookies = await h2(session, 'GET', '/cookies');
    expect(cookies.headers['set-cookie']).toEqual(['a=1; HttpOnly', 'b=2; Path=/', 'c=3; SameSite=Lax']);
    const head = await h2(session, 'HEAD', '/hello');
    expect(head.headers['content-length']).toBe('11');
    expect(head.body.length).toBe(0);
    await closeSession(session);
  });

  it('compression: a static file and sendCompressed give the same encoded bytes over both versions', async () => {
    const session = await connect(plain.url);
    for (const [path, want] of [
      ['/app.css', CSS],
      ['/text', TEXT],
    ] as const) {
      const headers = { 'accept-encoding': 'gzip' };
      const one = await h1(plain.port, 'GET', path, { headers });
      const two = await h2(session, 'GET', path, { headers });
      for (const r of [one, two]) {
        expect(r.status, path).toBe(200);
        expect(r.headers['content-encoding'], path).toBe('gzip');
        expect(r.headers.vary, path).toBe('Accept-Encoding');
        expect(gunzipSync(r.body).toString(), path).toBe(want);
      }
      expect(two.headers['content-type']).toBe(one.headers['content-type']);
      expect(gunzipSync(two.body)).toEqual(gunzipSync(one.body));
    }
    await closeSession(session);
  });

  it('serve({ fetch }): status, body, headers and several Set-Cookie alike', async () => {
    const srv = await serve({
      fetch: async (request) => {
        const u = new URL(request.url);
        if (request.method === 'POST') {
          const text = await request.text();
          return new Response(text.toUpperCase(), {
            status: 201,
            headers: { 'x-length': String(text.length) },
          });
        }
        const h = new Headers({ 'content-type': 'application/json' });
        h.append('set-cookie', 'one=1');
        h.append('set-cookie', 'two=2; Secure');
        return new Response(JSON.stringify({ path: u.pathname, query: u.search, method: request.method }), {
          headers: h,
        });
      },
    });
    try {
      const port = (srv.address() as { port: number }).port;
      const session = await connect(`http://127.0.0.1:${port}`);
      const getOne = await h1(port, 'GET', '/fetch/path?x=1');
      const getTwo = await h2(session, 'GET', '/fetch/path?x=1');
      const keep = ['content-type', 'content-length', 'set-cookie'];
      expect(comparable(getTwo, keep)).toEqual(comparable(getOne, keep));
      expect(JSON.parse(getTwo.body.toString())).toEqual({
        path: '/fetch/path',
        query: '?x=1',
        method: 'GET',
      });
      expect(getTwo.headers['set-cookie']).toEqual(['one=1', 'two=2; Secure']);
      const postOne = await h1(port, 'POST', '/up', { body: 'payload' });
      const postTwo = await h2(session, 'POST', '/up', { body: 'payload' });
      expect(comparable(postTwo, ['x-length', 'content-length'])).toEqual(
        comparable(postOne, ['x-length', 'content-length']),
      );
      expect(postTwo.status).toBe(201);
      expect(postTwo.body.toString()).toBe('PAYLOAD');
      await closeSession(session);
    } finally {
      await srv.close({ deadline: 1000 });
    }
  });
});

// ---- limits over HTTP/2 ------------------------------------------------------------------------------

describe('limits and errors over HTTP/2', () => {
  it('a body over limits.maxBodyBytes is 413, announced or not; the session serves on', async () => {
    const session = await connect(plain.url);
    const big = Buffer.alloc(1024 * 1024 + 1, 'x');
    const announced = await h2(session, 'POST', '/limited', {
      headers: { 'content-length': String(big.length) },
      body: big,
    });
    expect(announced.status).toBe(413);
    expect(announced.body.toString()).toBe('Content Too Large');
    const streamed = await h2(session, 'POST', '/limited', { body: big });
    expect(streamed.status).toBe(413);
    const within = await h2(session, 'POST', '/limited', { body: Buffer.alloc(1000, 'y') });
    expect(within.status).toBe(200);
    expect(within.body.toString()).toBe('read 1000');
    await closeSession(session);
  });

  it('a handler that throws is 500', async () => {
    const session = await connect(plain.url);
    const r = await h2(session, 'GET', '/throw');
    expect(r.status).toBe(500);
    expect(r.body.toString()).toBe('Internal Server Error');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    await closeSession(session);
  });

  it('a malformed multipart body makes formData() answer its FormError status', async () => {
    const session = await connect(plain.url);
    const bad = await h2(session, 'POST', '/form', {
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue-without-closing-boundary',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toMatch(/^400 Bad Request: FORM_[A-Z_]+$/);
    const wrongType = await h2(session, 'POST', '/form', {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.toString()).toBe('415 Unsupported Media Type: FORM_UNSUPPORTED_MEDIA_TYPE');
    const good = await h2(session, 'POST', '/form', {
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XYZ--\r\n',
    });
    expect(good.status).toBe(200);
    expect(good.body.toString()).toBe('fields a');
    await closeSession(session);
  });
});
