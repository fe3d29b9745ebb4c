/**
 * HTTP/2 request deadlines over a real socket: a stream whose body trickles in (or never ends) is
 * answered 408 at `timeouts.request` (or at its own `req.setRequestTimeout`), its handler's body read
 * fails, and the connection goes on serving other streams.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerOptions } from '../src/index';
import { sleep } from './_child';
import { F, frame, getStatus, H2Client, headers, requestBlock, T } from './_h2-client';

const WAIT = 3000;

let server: Server | null = null;
let client: H2Client | null = null;
afterEach(async () => {
  client?.destroy();
  client = null;
  await server?.close({ deadline: 200 });
  server = null;
});

async function start(options: ServerOptions): Promise<number> {
  server = createServer(options);
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return addr.port;
}

describe('HTTP/2 request deadlines', () => {
  it('a body that never ends is answered 408 at timeouts.request; the connection serves the next stream', async () => {
    const failures: string[] = [];
    const port = await start({
      timeouts: { request: 300 },
      async handler(req, res) {
        if (req.method === 'POST') {
          try {
            await req.body();
          } catch (e) {
            failures.push((e as { code?: string }).code ?? String(e));
            throw e;
          }
        }
        res.send('ok');
      },
    });
    client = await H2Client.connect(port);
    const c = client;
    const started = Date.now();
    await c.write(headers(1, requestBlock('/slow', 'POST'), false));
    // One byte now and then, never END_STREAM: the slowloris of request bodies.
    for (let i = 0; i < 5; i++) {
      await c.write(frame(T.DATA, 0, 1, Buffer.from('x')));
      await sleep(50);
    }
    expect(await c.until(() => c.status(1) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(1)).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(failures).toEqual(['ERR_REQUEST_TIMEOUT']);
    expect(server!.stats().timedOut).toBe(1);
    await c.write(headers(3, requestBlock('/')));
    expect(await c.until(() => c.status(3) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(3)).toBe(200);
    expect(c.goaway()).toBeNull();
    expect(await getStatus(port)).toBe(200);
  });

  it('req.setRequestTimeout gives one route its own deadline; a complete body in time is served', async () => {
    const port = await start({
      timeouts: { request: 60_000, send: 400 }, // a sweep every 100 ms
      async handler(req, res) {
        if (req.path === '/short') req.setRequestTimeout(200);
        const body = req.method === 'POST' ? await req.text() : '';
        res.send(`got ${body.length}`);
      },
    });
    client = await H2Client.connect(port);
    const c = client;
    await c.write(headers(1, requestBlock('/short', 'POST'), false));
    await c.write(frame(T.DATA, 0, 1, Buffer.from('abc')));
    expect(await c.until(() => c.status(1) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(1)).toBe(408);
    await c.write(headers(3, requestBlock('/long', 'POST'), false));
    await c.write(frame(T.DATA, 0, 3, Buffer.from('abc')));
    await sleep(400);
    await c.write(frame(T.DATA, F.END_STREAM, 3, Buffer.from('de')));
    expect(await c.until(() => c.status(3) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(3)).toBe(200);
  });
});
