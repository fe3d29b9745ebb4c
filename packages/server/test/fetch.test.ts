import net from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type Server, serve } from '../src/index';
import { raw, run, statuses } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

describe('serve({ fetch }): Web-standard adapter', () => {
  it('runs a real Hono app unchanged: routing, params, JSON bodies, headers, cookies, streaming', async () => {
    const app = new Hono();
    app.get('/hello/:name', (c) => c.text(`Hello, ${c.req.param('name')}! q=${c.req.query('q')}`));
    app.post('/json', async (c) => c.json({ got: await c.req.json(), ua: c.req.header('x-test') }, 201));
    app.get('/cookies', (c) => {
      c.header('Set-Cookie', 'a=1', { append: true });
      c.header('Set-Cookie', 'b=2', { append: true });
      return c.body(null, 204);
    });
    app.get('/stream', () => {
      const enc = new TextEncoder();
      // The second chunk comes later: the length is unknown when the head goes, so it streams chunked
      // (a body whose chunks are all there at once goes out with Content-Length instead).
      const body = new ReadableStream({
        async start(ctl) {
          ctl.enqueue(enc.encode('one,'));
          await new Promise((r) => setTimeout(r, 20));
          ctl.enqueue(enc.encode('two'));
          ctl.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    });
    server = await serve({ fetch: app.fetch });
    const { port } = server.address() as { port: number };
    const base = `http://127.0.0.1:${port}`;

    const hello = await fetch(`${base}/hello/ada?q=1`);
    expect(hello.status).toBe(200);
    expect(await hello.text()).toBe('Hello, ada! q=1');

    const posted = await fetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      body: JSON.stringify({ n: 42 }),
    });
    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ got: { n: 42 }, ua: 'yes' });

    const cookies = await fetch(`${base}/cookies`);
    expect(cookies.status).toBe(204);
    expect(cookies.headers.getSetCookie()).toEqual(['a=1', 'b=2']);

    const streamed = await run('curl', ['-si', `${base}/stream`]);
    expect(streamed.out).toMatch(/transfer-encoding: chunked/i);
    expect(streamed.out.endsWith('one,two')).toBe(true);

    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
  });
});

/** Head and body of the one response in `text` (a raw exchange that ended with the connection). */
function split(text: string): { head: string; body: string } {
  const at = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, at + 2), body: text.slice(at + 4) };
}

describe('serve({ fetch }): framing edge cases', () => {
  it('a stream with more chunks ready than it reads ahead goes out chunked, every byte in order', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => `part${i};`);
    server = await serve({
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(ctl) {
              for (const p of parts) ctl.enqueue(new TextEncoder().encode(p));
              ctl.close();
            },
          }),
        ),
    });
    const { port } = server.address() as { port: number };
    const r = await raw(port, ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    const { head, body } = split(r.text);
    expect(head).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
    expect(head).not.toMatch(/content-length/i);
    expect(body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '')).toBe(`${parts.join('')}\r\n`);
  });

  it('an empty body gets Content-Length: 0; HEAD keeps an app-set length and sends no body', async () => {
    const app = new Hono();
    app.get('/empty', (c) => c.body(''));
    app.get('/sized', (c) => c.body('12345', 200, { 'content-length': '5' }));
    server = await serve({ fetch: app.fetch });
    const { port } = server.address() as { port: number };
    const empty = await raw(port, ['GET /empty HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(split(empty.text).head).toMatch(/\r\nContent-Length: 0\r\n/);
    const head = await raw(port, ['HEAD /sized HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(split(head.text).head).toMatch(/\r\nContent-Length: 5\r\n/);
    expect(split(head.text).body).toBe('');
  });

  it('a body that fails before the head is a 500 that keeps the connection', async () => {
    server = await serve({
      fetch: () =>
        new Response(
          new ReadableStream({
            pull() {
              throw new Error('broken source');
            },
          }),
        ),
      onError: () => {},
    });
    const { port } = server.address() as { port: number };
    const r = await raw(port, [
      'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ]);
    expect(statuses(r.text)).toEqual([500, 500]);
  });

  it('a trusted X-Forwarded-Host that is no host is a 400, not a URL with another host or path', async () => {
    server = await serve({ fetch: (req) => new Response(req.url), trustProxy: ['127.0.0.1'] });
    const { port } = server.address() as { port: number };
    const bad = await raw(port, [
      'GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Host: evil.example/x?\r\nConnection: close\r\n\r\n',
    ]);
    expect(statuses(bad.text)).toEqual([400]);
    expect(split(bad.text).body).toBe('Bad Request: missing or invalid Host header\n');
    const good = await raw(port, [
      'GET /p HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Host: b.example:8080\r\nConnection: close\r\n\r\n',
    ]);
    expect(split(good.text).body).toBe('http://b.example:8080/p');
  });

  it('a body the app never reads is never asked for: no 100 Continue', async () => {
    server = await serve({ fetch: () => new Response('no need') });
    const { port } = server.address() as { port: number };
    const r = await raw(
      port,
      ['POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'],
      { timeoutMs: 500 },
    );
    expect(statuses(r.text)).toEqual([200]);
    expect(r.text.endsWith('no need')).toBe(true);
  });

  it("releases the app's stream when the client leaves: mid-stream, and before the Response came", async () => {
    const cancelled: string[] = [];
    let onCancel: () => void = () => {};
    const endless = (name: string) =>
      new ReadableStream<Uint8Array>({
        async pull(ctl) {
          await new Promise((r) => setTimeout(r, 5));
          ctl.enqueue(new TextEncoder().encode('tick\n'));
        },
        cancel() {
          cancelled.push(name);
          onCancel();
        },
      });
    server = await serve({
      async fetch(req) {
        if (new URL(req.url).pathname === '/late') {
          await new Promise((r) => req.signal.addEventListener('abort', r, { once: true }));
          return new Response(endless('late'));
        }
        return new Response(endless('live'));
      },
    });
    const { port } = server.address() as { port: number };
    for (const path of ['/live', '/late']) {
      const gone = new Promise<void>((r) => {
        onCancel = r;
        setTimeout(r, 2000); // not cancelled: the assertion below says which
      });
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => {});
      sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 60));
      sock.destroy();
      await gone;
    }
    expect(cancelled).toEqual(['live', 'late']);
  });
});
