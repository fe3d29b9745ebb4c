import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type Server, serve } from '../src/index';
import { run } from './_helpers';

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
