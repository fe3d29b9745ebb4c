/**
 * Every serve-mode route, driven through a real socket by curl, Node's fetch and raw TCP, against
 * the built CLI.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, curl, type Demo, splitResponse, startDemo } from './_harness';

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo(['serve', '--port', '0']);
});
afterAll(async () => {
  await demo?.stop();
});

/** Sends raw bytes on a fresh TCP connection and collects everything until the server closes. */
function raw(bytes: Buffer | string, pauseMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(demo.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.write(bytes);
    if (pauseMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    }
  });
}

/** Decodes a chunked body (test-side reference decoder). */
function unchunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    at = eol + 2;
    if (size === 0) break;
    out.push(body.subarray(at, at + size));
    at += size + 2;
  }
  return Buffer.concat(out);
}

describe('serve mode routes', () => {
  it('/ explains the layers and links every route', async () => {
    const res = await fetch(`${demo.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    for (const pkg of [
      '@strata/transport',
      '@strata/http-parser',
      '@strata/response',
      '@strata/router',
      '@strata/server',
      '@strata/websocket',
      '@strata/inspector',
    ]) {
      expect(page).toContain(pkg);
    }
    for (const href of [
      '/hello',
      '/user/ada',
      '/dashboard',
      '/health',
      '/echo',
      '/static/',
      '/stream',
      '/download/',
      '/compute?n=',
      '/live',
      '/inspect',
    ]) {
      expect(page).toContain(`href="${href}`);
    }
    // no external network: the only absolute URLs are the example commands, on this server
    expect(page.replaceAll(demo.url, '')).not.toMatch(/https?:\/\/(?!HOST)/);
  });

  it('/hello is plain text Hello, World! (curl -i, byte-exact body)', async () => {
    const r = await curl(['-i', `${demo.url}/hello`]);
    expect(r.code).toBe(0);
    const { status, headers, body } = splitResponse(r.stdout);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain/);
    expect(headers.get('content-length')).toBe('13');
    expect(body.toString()).toBe('Hello, World!');
  });

  it('HEAD /hello has the headers and no body; POST /hello is 405 with Allow', async () => {
    const head = await curl(['-sI', `${demo.url}/hello`]);
    const h = splitResponse(head.stdout);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-length')).toBe('13');
    expect(h.body.length).toBe(0);
    const post = await fetch(`${demo.url}/hello`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toMatch(/GET/);
    await post.arrayBuffer();
  });

  it('/user/:name greets the decoded name; unknown paths are 404', async () => {
    const res = await fetch(`${demo.url}/user/ada`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ada');
    const enc = await fetch(`${demo.url}/user/Ad%C3%A1`);
    expect(await enc.text()).toContain('Adá');
    const evil = await fetch(`${demo.url}/user/%3Cscript%3E`);
    expect(await evil.text()).not.toContain('<script>');
    const missing = await fetch(`${demo.url}/no/such/page`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });

  it('/dashboard is an HTML page; /health is JSON for load balancers', async () => {
    const dash = await fetch(`${demo.url}/dashboard`);
    expect(dash.status).toBe(200);
    expect(dash.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await dash.text()).toContain('Dashboard');
    const health = await fetch(`${demo.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await health.json()).toMatchObject({ status: 'ok', pid: expect.any(Number) });
  });

  it('/echo answers with the request as received (fetch, JSON body)', async () => {
    const res = await fetch(`${demo.url}/echo/any/sub?q=1`, {
      method: 'PUT',
      headers: { 'X-Custom': 'Value 1', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Record<string, unknown>;
    expect(echo).toMatchObject({
      method: 'PUT',
      url: '/echo/any/sub?q=1',
      httpVersion: '1.1',
      body: '{"a":1}',
      rawTrailers: [],
    });
    const headers = echo.rawHeaders as string[];
    expect(headers.indexOf('X-Custom') % 2).toBe(0);
    expect(headers[headers.indexOf('X-Custom') + 1]).toBe('Value 1');
  });

  it('/echo keeps raw header case and order, latin1 body bytes and chunked trailers (raw TCP)', async () => {
    const request = Buffer.concat([
      Buffer.from(
        'POST /echo?x=%20y HTTP/1.1\r\nHost: demo\r\nX-First: 1\r\nx-SECOND: two\r\nTransfer-Encoding: chunked\r\n' +
          'Trailer: X-Sum\r\nConnection: close\r\n\r\n',
        'latin1',
      ),
      Buffer.from('5\r\nhello\r\n3\r\n', 'latin1'),
      Buffer.from([0xff, 0x00, 0x21]),
      Buffer.from('\r\n0\r\nX-Sum: 42\r\n\r\n', 'latin1'),
    ]);
    const { status, body } = splitResponse(await raw(request));
    expect(status).toBe(200);
    const echo = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    expect(echo.method).toBe('POST');
    expect(echo.url).toBe('/echo?x=%20y');
    expect(echo.rawHeaders).toEqual([
      'Host',
      'demo',
      'X-First',
      '1',
      'x-SECOND',
      'two',
      'Transfer-Encoding',
      'chunked',
      'Trailer',
      'X-Sum',
      'Connection',
      'close',
    ]);
    expect(echo.body).toBe('hello\u00ff\u0000!');
    expect(echo.rawTrailers).toEqual(['X-Sum', '42']);
  });

  it('/echo answers HTTP/1.0 as 1.0', async () => {
    const { status, body } = splitResponse(await raw('GET /echo HTTP/1.0\r\n\r\n'));
    expect(status).toBe(200);
    expect(JSON.parse(body.toString())).toMatchObject({
      method: 'GET',
      httpVersion: '1.0',
      rawHeaders: [],
      body: '',
    });
  });

  it('/static/* serves the bundled folder with ETag, 304 and ranges', async () => {
    const file = readFileSync(join(APP_DIR, 'public', 'hello.txt'));
    const first = splitResponse((await curl(['-i', `${demo.url}/static/hello.txt`])).stdout);
    expect(first.status).toBe(200);
    expect(first.body.equals(file)).toBe(true);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();

    const again = splitResponse(
      (await curl(['-i', '-H', `If-None-Match: ${etag}`, `${demo.url}/static/hello.txt`])).stdout,
    );
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const range = splitResponse((await curl(['-i', '-r', '0-4', `${demo.url}/static/hello.txt`])).stdout);
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 0-4/${file.length}`);
    expect(range.body.toString()).toBe('Hello');

    const unsatisfiable = splitResponse(
      (await curl(['-i', '-r', '9999-', `${demo.url}/static/hello.txt`])).stdout,
    );
    expect(unsatisfiable.status).toBe(416);

    const index = await fetch(`${demo.url}/static/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('Static files');
  });

  it('/static/* compresses text files for clients that accept gzip (curl --compressed, node:http)', async () => {
    const file = readFileSync(join(APP_DIR, 'public', 'rfc9112-excerpt.txt'));
    expect(file.length).toBeGreaterThan(1024); // above the default threshold
    const url = `${demo.url}/static/rfc9112-excerpt.txt`;
    // curl -D - prints the head as received, --compressed decodes the body.
    const r = await curl(['--compressed', '-H', 'Accept-Encoding: gzip', '-D', '-', url]);
    expect(r.code).toBe(0);
    const z = splitResponse(r.stdout);
    expect(z.status).toBe(200);
    expect(z.headers.get('content-encoding')).toBe('gzip');
    expect(z.headers.get('vary')).toBe('Accept-Encoding');
    expect(z.headers.get('etag')).toMatch(/^W\/"/);
    expect(z.headers.has('content-length')).toBe(false);
    expect(z.body.equals(file)).toBe(true);

    // node:http: the bytes on the wire really are gzip (the client does not decode).
    const wire = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(url, { headers: { 'Accept-Encoding': 'gzip' }, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(wire.headers['content-encoding']).toBe('gzip');
    expect(wire.headers['transfer-encoding']).toBe('chunked');
    expect(wire.body.length).toBeLessThan(file.length);
    expect(gunzipSync(wire.body).equals(file)).toBe(true);

    // Without Accept-Encoding, or below the threshold: identity with Content-Length.
    const plain = splitResponse((await curl(['-i', url])).stdout);
    expect(plain.headers.has('content-encoding')).toBe(false);
    expect(plain.headers.get('content-length')).toBe(String(file.length));
    expect(plain.body.equals(file)).toBe(true);
    const small = splitResponse(
      (await curl(['-i', '-H', 'Accept-Encoding: gzip', `${demo.url}/static/hello.txt`])).stdout,
    );
    expect(small.headers.has('content-encoding')).toBe(false);
    // A range is served from the identity bytes even when gzip is accepted.
    const range = splitResponse((await curl(['-i', '-H', 'Accept-Encoding: gzip', '-r', '0-9', url])).stdout);
    expect(range.status).toBe(206);
    expect(range.headers.has('content-encoding')).toBe(false);
    expect(range.body.equals(file.subarray(0, 10))).toBe(true);
    // HEAD: the GET's headers.
    const head = splitResponse((await curl(['-sI', '-H', 'Accept-Encoding: gzip', url])).stdout);
    expect(head.headers.get('content-encoding')).toBe('gzip');
    expect(head.headers.get('etag')).toBe(z.headers.get('etag'));
  });

  it('/inspect.json shows the response head exactly as curl received it', async () => {
    // Opening the inspector page starts recording (for a grace period; the page's socket holds it).
    await (await fetch(`${demo.url}/inspect`, { headers: { connection: 'close' } })).text();
    const r = await curl(['-i', `${demo.url}/hello?inspect-head`]);
    const received = r.stdout.toString('latin1');
    const headOnWire = received.slice(0, received.indexOf('\r\n\r\n') + 4);
    const log = (await (await fetch(`${demo.url}/inspect.json`)).json()) as {
      entries: { received: string | null; responseHead: string | null }[];
    };
    const entry = log.entries.find((e) => e.received?.startsWith('GET /hello?inspect-head '));
    expect(entry, JSON.stringify(log.entries.slice(0, 2))).toBeDefined();
    const head = entry!.responseHead!;
    expect(head.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(head).toContain('\r\nContent-Length: 13\r\n');
    expect(head.endsWith('\r\n\r\n')).toBe(true);
    expect(head).toBe(headOnWire); // byte for byte what crossed the socket
    const page = await (await fetch(`${demo.url}/inspect`)).text();
    expect(page).toContain('<pre class="wire-out">HTTP/1.1 200 OK<span class="crlf">\\r\\n</span>');
  });

  it('/static/* refuses to leave its folder', async () => {
    for (const path of [
      '/static/../package.json',
      '/static/%2e%2e/package.json',
      '/static/..%2fpackage.json',
      '/static/%2e%2e%5cpackage.json',
    ]) {
      const r = await curl(['-i', '--path-as-is', `${demo.url}${path}`]);
      const { status, body } = splitResponse(r.stdout);
      expect([400, 403, 404], path).toContain(status);
      expect(body.toString()).not.toContain('@strata/demo');
    }
  });

  it('/stream is chunked and waits for the socket to drain (slow raw TCP reader)', async () => {
    const res = splitResponse(
      await raw('GET /stream?chunks=256&size=65536 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const body = unchunk(res.body).toString('latin1');
    const lines = body.trimEnd().split('\n');
    const last = lines.at(-1)!;
    const m = /^done: (\d+) chunks, (\d+) bytes, waited for drain (\d+) times$/.exec(last);
    expect(m, last).not.toBeNull();
    expect(Number(m![1])).toBe(256);
    expect(Number(m![2])).toBe(body.length - last.length - 1);
    expect(Number(m![3])).toBeGreaterThan(0);
  });

  it('/download/:size sends exactly that many bytes with Content-Length; bad sizes are 400', async () => {
    const r = await curl(['-i', `${demo.url}/download/1000003`]);
    const { status, headers, body } = splitResponse(r.stdout);
    expect(status).toBe(200);
    expect(headers.get('content-length')).toBe('1000003');
    expect(body.length).toBe(1000003);
    const zero = await fetch(`${demo.url}/download/0`);
    expect(zero.status).toBe(200);
    expect((await zero.arrayBuffer()).byteLength).toBe(0);
    for (const size of ['abc', '-1', '1e3', String(2 ** 40)]) {
      const bad = await fetch(`${demo.url}/download/${size}`);
      expect(bad.status, size).toBe(400);
      await bad.arrayBuffer();
    }
  });

  it('/compute?n= counts primes on a worker thread; bad n is 400', async () => {
    const res = await fetch(`${demo.url}/compute?n=100000`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ n: 100000, primes: 9592, thread: expect.any(Number) });
    for (const q of ['', 'n=', 'n=abc', 'n=-5', 'n=1e9', 'n=999999999999']) {
      const bad = await fetch(`${demo.url}/compute?${q}`);
      expect(bad.status, q).toBe(400);
      await bad.arrayBuffer();
    }
  });

  it('/hello stays fast while /compute keeps worker threads busy', async () => {
    let computeDone = false;
    const compute = Promise.all([
      fetch(`${demo.url}/compute?n=4000000`).then((r) => r.json()),
      fetch(`${demo.url}/compute?n=4000000`).then((r) => r.json()),
    ]).then((r) => {
      computeDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    // Sequential requests while both computations run. If the event loop counted primes itself, no
    // request could be answered before the computations end; on the thread pool, many are.
    let servedDuring = 0;
    for (let i = 0; i < 500 && !computeDone; i++) {
      const res = await fetch(`${demo.url}/hello`);
      expect(await res.text()).toBe('Hello, World!');
      if (!computeDone) servedDuring++;
    }
    const results = await compute;
    for (const r of results) expect(r).toMatchObject({ n: 4000000, primes: 283146 });
    expect(servedDuring).toBeGreaterThanOrEqual(10);
  });
});
