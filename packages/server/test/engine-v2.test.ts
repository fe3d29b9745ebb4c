/**
 * Engine v2 over the in-memory transport pair, with the engine's injectable clock (`sweep(now)`)
 * instead of sleeps: pipelining bounded inside one read, request bodies with backpressure, aborts on
 * close and FIN, the send timeout, draining unread bodies, declined upgrades, absolute-form targets,
 * and client faults counted instead of logged.
 */
import type { ResponseWriter } from '@strata/response';
import { createConnectionPair } from '@strata/transport/testing';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/_server';
import type { ServerOptions, ServerRequest } from '../src/index';
import { statuses } from './_helpers';

const norm = (t: string) => t.replace(/Date: [^\r]*\r\n/gi, '');
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const turn = () => new Promise<void>((r) => setImmediate(r));

function pair(options: ServerOptions, pairOptions: Parameters<typeof createConnectionPair>[1] = {}) {
  const engine = createEngine(options);
  const { server, client } = createConnectionPair(engine.handlers, pairOptions);
  return { engine, server, client };
}

describe('maxPipelined holds inside one read', () => {
  it('runs at most maxPipelined handlers at once from one write, and answers all in order', async () => {
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const { client } = pair({
      limits: { maxPipelined: 4 },
      async handler(req, res) {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        res.send(req.path);
      },
    });
    let bytes = '';
    for (let i = 0; i < 40; i++) bytes += get(`/${i}`);
    client.write(bytes); // one read: 40 heads
    await client.settle();
    expect(running).toBe(4);
    for (let round = 0; round < 40 && gates.length > 0; round++) {
      for (const g of gates.splice(0)) g();
      await client.settle();
    }
    expect(most).toBe(4);
    const text = norm(client.receivedText());
    expect(statuses(text)).toHaveLength(40);
    const bodies = text.split('\r\n\r\n').slice(1);
    expect(bodies.map((b) => b.split('HTTP/1.1')[0])).toEqual(Array.from({ length: 40 }, (_, i) => `/${i}`));
  });

  it('gives the same bytes at every split point and byte by byte while pausing (bodies included)', async () => {
    const input =
      get('/a') +
      'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
      get('/c') +
      'POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      get('/e') +
      get('/f', 'Connection: close\r\n') +
      get('/ignored');
    const drive = async (pieces: string[], maxChunk?: number) => {
      const { client } = pair(
        {
          limits: { maxPipelined: 2 },
          async handler(req, res) {
            const body = req.method === 'POST' ? await req.text() : '';
            await turn();
            res.send(`${req.path}:${body}`);
          },
        },
        maxChunk ? { maxChunk } : {},
      );
      for (const p of pieces) {
        client.write(p);
        await client.settle();
      }
      for (let i = 0; i < 20; i++) await client.settle();
      return norm(client.receivedText());
    };
    const whole = await drive([input]);
    expect(statuses(whole)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(whole).not.toContain('ignored');
    for (let i = 1; i < input.length; i += 3) {
      const text = await drive([input.slice(0, i), input.slice(i)]);
      if (text !== whole) expect({ split: i, text }).toEqual({ split: i, text: whole });
    }
    expect(await drive([input], 1)).toBe(whole);
  });
});

describe('request bodies with backpressure', () => {
  it('stops reading at maxBodyBuffer while the handler does not read, then streams the rest', async () => {
    let req!: ServerRequest;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const { client } = pair({
      limits: { maxBodyBuffer: 16 * 1024 },
      async handler(r, res) {
        req = r;
        entered();
        await gate;
        let n = 0;
        let sum = 0;
        for await (const chunk of r) {
          n += chunk.length;
          for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]!) % 65521;
        }
        res.send(`${n}:${sum}`);
      },
    });
    const size = 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 7) % 251;
    let expected = 0;
    for (let i = 0; i < size; i++) expected = (expected + body[i]!) % 65521;
    client.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    for (let at = 0; at < size; at += 8192) client.write(body.subarray(at, at + 8192));
    await inHandler;
    await client.settle();
    // The engine took at most the buffer mark plus one delivery; the rest waits in the "kernel".
    expect(req._received).toBeLessThanOrEqual(16 * 1024 + 8192);
    expect(req._buffered).toBeLessThanOrEqual(16 * 1024 + 8192);
    go();
    for (let i = 0; i < 200 && !client.receivedText().includes('\r\n\r\n'); i++) await client.settle();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith(`${size}:${expected}`)).toBe(true);
  });

  it('applies the body limit when the handler reads; setBodyLimit() raises it for one request', async () => {
    const handler = async (req: ServerRequest, res: ResponseWriter) => {
      if (req.path === '/big') req.setBodyLimit(0);
      let n = 0;
      for await (const c of req) n += c.length;
      res.send(String(n));
    };
    const body = 'x'.repeat(3000);
    const over = pair({ limits: { maxBodyBytes: 1000 }, handler });
    over.client.write(`POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n${body}`);
    await over.client.settle();
    expect(statuses(over.client.receivedText())).toEqual([413]);
    await over.server.whenClosed();
    expect(over.engine.counters.rejected).toBe(1);

    const chunked = pair({ limits: { maxBodyBytes: 1000 }, handler });
    chunked.client.write('POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 5; i++) {
      chunked.client.write(`258\r\n${'y'.repeat(600)}\r\n`);
      await chunked.client.settle();
    }
    expect(statuses(chunked.client.receivedText())).toEqual([413]);

    const raised = pair({ limits: { maxBodyBytes: 1000 }, handler });
    raised.client.write(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n${body}`);
    await raised.client.settle();
    await raised.client.settle();
    expect(statuses(raised.client.receivedText())).toEqual([200]);
    expect(raised.client.receivedText().endsWith('3000')).toBe(true);
  });

  it('drains a short unread body and keeps the connection; closes after a long one', async () => {
    const handler = (req: ServerRequest, res: ResponseWriter) => res.send(`no thanks ${req.path}`);
    const short = pair({ handler });
    short.client.write(
      `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n${'z'.repeat(10_000)}${get('/next')}`,
    );
    await short.client.settle();
    expect(statuses(short.client.receivedText())).toEqual([200, 200]);
    expect(short.client.receivedText()).toContain('no thanks /next');
    expect(short.server.closed).toBe(false);

    const long = pair({ handler });
    long.client.write(`POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    long.client.write('z'.repeat(1000));
    await long.client.settle();
    expect(statuses(long.client.receivedText())).toEqual([200]);
    await long.server.whenClosed();
  });

  it('gives up draining at timeouts.drain (injected clock)', async () => {
    const { engine, client, server } = pair({
      timeouts: { drain: 500 },
      handler: (_req, res) => res.send('ok'),
    });
    const t0 = Date.now();
    engine.sweep(t0);
    client.write(`POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    await client.settle();
    expect(statuses(client.receivedText())).toEqual([200]);
    engine.sweep(t0 + 499);
    await client.settle();
    expect(server.closed).toBe(false);
    engine.sweep(t0 + 501);
    await server.whenClosed();
    expect(engine.counters.timedOut).toBe(1);
  });
});

describe('aborts', () => {
  it('a closed connection aborts a streaming response: the source is closed, the signal fires', async () => {
    let closedSource = false;
    let signalFired = false;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const errors: unknown[] = [];
    const { client, engine } = pair(
      {
        onError: (e) => errors.push(e),
        async handler(req, res) {
          req.signal.addEventListener('abort', () => (signalFired = true));
          entered();
          await res.stream(
            (async function* () {
              try {
                for (;;) {
                  yield 'x'.repeat(16 * 1024);
                  await turn();
                }
              } finally {
                closedSource = true;
              }
            })(),
          );
        },
      },
      { highWaterMark: 16 * 1024 },
    );
    client.pause(); // never reads: the server's writes back up
    client.write(get('/stream'));
    await inHandler;
    await client.settle();
    client.destroy();
    for (let i = 0; i < 10 && !closedSource; i++) await turn();
    expect(closedSource).toBe(true);
    expect(signalFired).toBe(true);
    expect(engine.counters.aborted).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a FIN aborts a response in progress (signal within the same turn); allowHalfOpen keeps it', async () => {
    const run = async (allowHalfOpen: boolean) => {
      let aborted = false;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { client, server } = pair({
        allowHalfOpen,
        async handler(req, res) {
          req.signal.addEventListener('abort', () => (aborted = true));
          await gate;
          if (!req.signal.aborted) res.send('late answer');
        },
      });
      client.end(get('/slow'));
      await client.settle();
      const abortedAtFin = aborted;
      release();
      await turn();
      await client.settle();
      await server.whenClosed();
      return { abortedAtFin, text: client.receivedText() };
    };
    const strict = await run(false);
    expect(strict.abortedAtFin).toBe(true);
    expect(strict.text).toBe('');
    const halfOpen = await run(true);
    expect(halfOpen.abortedAtFin).toBe(false);
    expect(halfOpen.text).toContain('late answer');
  });

  it('a FIN after complete pipelined responses still delivers them', async () => {
    const { client, server } = pair({ handler: (req, res) => res.send(req.path) });
    client.end(get('/1') + get('/2'));
    await client.settle();
    await server.whenClosed();
    expect(statuses(client.receivedText())).toEqual([200, 200]);
  });
});

describe('send timeout (injected clock)', () => {
  async function stalled(options: Partial<ServerOptions>, perRequest?: number) {
    let finished = false;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const { engine, client, server } = pair(
      {
        ...options,
        async handler(req, res) {
          if (perRequest !== undefined) req.setSendTimeout(perRequest);
          entered();
          try {
            await res.stream(
              (function* () {
                for (let i = 0; i < 64; i++) yield 'y'.repeat(16 * 1024);
              })(),
            );
          } finally {
            finished = true;
          }
        },
      },
      { highWaterMark: 16 * 1024 },
    );
    const t0 = Date.now();
    engine.sweep(t0);
    client.pause();
    client.write(get('/big'));
    await inHandler;
    await client.settle();
    return { engine, server, t0, finished: () => finished };
  }

  it('cuts a response the client does not read for timeouts.send, and aborts its handler', async () => {
    const s = await stalled({ timeouts: { send: 1000 } });
    s.engine.sweep(s.t0 + 999);
    await turn();
    expect(s.server.closed).toBe(false);
    expect(s.finished()).toBe(false);
    s.engine.sweep(s.t0 + 1001);
    await s.server.whenClosed();
    for (let i = 0; i < 10 && !s.finished(); i++) await turn();
    expect(s.finished()).toBe(true);
    expect(s.engine.counters.timedOut).toBe(1);
  });

  it('is on by default (30 s) and req.setSendTimeout(0) turns it off for one response', async () => {
    const byDefault = await stalled({});
    byDefault.engine.sweep(byDefault.t0 + 29_000);
    await turn();
    expect(byDefault.server.closed).toBe(false);
    byDefault.engine.sweep(byDefault.t0 + 30_001);
    await byDefault.server.whenClosed();

    const off = await stalled({}, 0);
    off.engine.sweep(off.t0 + 3_600_000);
    await turn();
    expect(off.server.closed).toBe(false);
    off.server.destroy();
  });

  it('cuts a closed connection whose peer never reads the last bytes', async () => {
    const { engine, client, server } = pair(
      { timeouts: { send: 1000 }, handler: (_req, res) => res.send('z'.repeat(200_000)) },
      { highWaterMark: 16 * 1024 },
    );
    const t0 = Date.now();
    engine.sweep(t0);
    client.pause();
    client.write(get('/x', 'Connection: close\r\n'));
    await client.settle();
    expect(server.closed).toBe(false);
    engine.sweep(t0 + 1001);
    await server.whenClosed();
  });
});

describe('requests the engine now serves', () => {
  it('absolute-form: path and query are the origin-form parts, host the authority', async () => {
    const seen: string[] = [];
    const { client } = pair({
      handler(req, res) {
        seen.push(`${req.url}|${req.path}|${req.query}|${req.host}`);
        res.send('ok');
      },
    });
    client.write(
      'GET http://example.com/admin?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n' +
        'GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n' +
        'GET https://example.com:8443?q HTTP/1.1\r\nHost: example.com:8443\r\n\r\n' +
        'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await client.settle();
    expect(seen).toEqual([
      'http://example.com/admin?x=1|/admin|x=1|example.com',
      'http://example.com|/||example.com',
      'https://example.com:8443?q|/|q|example.com:8443',
      '*|*||x',
    ]);
  });

  it('an Upgrade the upgrade handler does not take is served as HTTP/1.1 (h2c by default)', async () => {
    const upgraded: string[] = [];
    const options: ServerOptions = {
      handler: (req, res) => res.send(`plain ${req.header('upgrade')}`),
      onUpgrade: (req, conn) => {
        upgraded.push(req.header('upgrade')!);
        conn.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n');
      },
    };
    const h2c = pair(options);
    h2c.client.write(
      get(
        '/hello',
        'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n',
      ) + get('/again'),
    );
    await h2c.client.settle();
    expect(statuses(h2c.client.receivedText())).toEqual([200, 200]);
    expect(h2c.client.receivedText()).toContain('plain h2c');
    expect(upgraded).toEqual([]);

    const only = pair({ ...options, upgradeProtocols: ['WebSocket'] });
    only.client.write(get('/x', 'Connection: Upgrade\r\nUpgrade: foo/2\r\n'));
    await only.client.settle();
    expect(only.client.receivedText()).toContain('plain foo/2');
    only.client.write(get('/ws', 'Connection: Upgrade\r\nUpgrade: websocket\r\n'));
    await only.client.settle();
    expect(upgraded).toEqual(['websocket']);
  });

  it('a bad JSON body answers 400 and keeps the connection; onError is not called', async () => {
    const errors: unknown[] = [];
    const { client, server, engine } = pair({
      onError: (e) => errors.push(e),
      async handler(req, res) {
        const v = await req.json<{ a: number }>();
        res.send(String(v.a));
      },
    });
    const post = (b: string) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
    client.write(post('{nope') + post('{"a":7}'));
    await client.settle();
    await client.settle();
    expect(statuses(client.receivedText())).toEqual([400, 200]);
    expect(client.receivedText().endsWith('7')).toBe(true);
    expect(server.closed).toBe(false);
    expect(errors).toEqual([]);
    expect(engine.counters.rejected).toBe(1);
  });

  it("a handler's own exception is still reported once through onError", async () => {
    const errors: unknown[] = [];
    const { client } = pair({
      onError: (e) => errors.push(e),
      handler() {
        throw new Error('bug');
      },
    });
    client.write(get('/'));
    await client.settle();
    expect(statuses(client.receivedText())).toEqual([500]);
    expect(errors).toHaveLength(1);
  });
});

describe('acceptsUpgrade: the engine rule, exported', () => {
  it('takes CONNECT always, any protocol but h2c by default, and only the listed ones when given', async () => {
    const { acceptsUpgrade } = await import('../src/index');
    const head = (method: string, upgrade?: string) => ({
      method,
      rawHeaders: upgrade === undefined ? ['Host', 'x'] : ['Host', 'x', 'Upgrade', upgrade],
    });
    expect(acceptsUpgrade(head('CONNECT'))).toBe(true);
    expect(acceptsUpgrade(head('GET', 'h2c'))).toBe(false);
    expect(acceptsUpgrade(head('GET', 'websocket'))).toBe(true);
    expect(acceptsUpgrade(head('GET', 'h2c, WebSocket/13'), ['websocket'])).toBe(true);
    expect(acceptsUpgrade(head('GET', 'foo/2'), ['WebSocket'])).toBe(false);
    expect(acceptsUpgrade(head('GET'))).toBe(false);
  });
});
