/**
 * The server's diagnostics channels (and the parser's error channel under it) over real sockets:
 * the request TracingChannel's events in order for sync, async and failing handlers, an
 * AsyncLocalStorage bound to its start, response.finish with status and byte counts, and a
 * refused request (a parse error: code, offset, status, the bytes around it).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import http2 from 'node:http2';
import { type ParseErrorMessage, ParserChannel } from '@strata/http-parser';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RequestRefusedMessage,
  type RequestTraceContext,
  type ResponseFinishMessage,
  type Server,
  ServerChannel,
} from '../src/index';
import { raw, sleep, start, statuses } from './_helpers';

let server: Server | null = null;
const cleanups: (() => void)[] = [];
function on<T>(name: string, into: T[]): void {
  const fn = (m: unknown) => into.push(m as T);
  subscribe(name, fn);
  cleanups.push(() => unsubscribe(name, fn));
}
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await server?.close();
  server = null;
});

describe('strata:server:* channels', () => {
  it('request is a TracingChannel: start/end for a sync handler, asyncStart/asyncEnd for an async one, error for a throw', async () => {
    const events: string[] = [];
    const trace = tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST);
    const handlers = {
      start: (c: RequestTraceContext) => events.push(`start ${c.request.path}`),
      end: (c: RequestTraceContext) => events.push(`end ${c.request.path}`),
      asyncStart: (c: RequestTraceContext) => events.push(`asyncStart ${c.request.path}`),
      asyncEnd: (c: RequestTraceContext) => events.push(`asyncEnd ${c.request.path}`),
      error: (c: RequestTraceContext) => events.push(`error ${c.request.path} ${(c.error as Error).message}`),
    };
    trace.subscribe(handlers);
    cleanups.push(() => trace.unsubscribe(handlers));
    const s = await start({
      async handler(req, res) {
        if (req.path === '/sync') return void res.send('s');
        if (req.path === '/throw') throw new Error('boom');
        await sleep(5);
        res.send('a');
      },
      onError() {},
    });
    server = s.server;
    for (const path of ['/sync', '/async', '/throw']) await (await fetch(s.url + path)).text();
    // The handler is an async function: even /sync settles through its promise.
    expect(events).toEqual([
      'start /sync',
      'end /sync',
      'asyncStart /sync',
      'asyncEnd /sync',
      'start /async',
      'end /async',
      'asyncStart /async',
      'asyncEnd /async',
      'start /throw',
      'end /throw',
      'error /throw boom',
      'asyncStart /throw',
      'asyncEnd /throw',
    ]);
  });

  it('a store bound to start holds the request context inside the handler; finish reports its route', async () => {
    const als = new AsyncLocalStorage<RequestTraceContext>();
    const trace = tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST);
    trace.start.bindStore(als, (ctx) => ctx);
    cleanups.push(() => trace.start.unbindStore(als));
    const finishes: ResponseFinishMessage[] = [];
    on(ServerChannel.RESPONSE_FINISH, finishes);
    const s = await start({
      async handler(req, res) {
        await sleep(1);
        const ctx = als.getStore();
        // What a router subscriber does: name the route on the context of the current request.
        if (ctx !== undefined) ctx.route = '/users/:id';
        // The head was parsed before the handler ran, after the request was sent.
        if (ctx !== undefined && (ctx.startTime > performance.now() || ctx.startTime < sentAt)) {
          throw new Error(`startTime ${ctx.startTime} outside [${sentAt}, now]`);
        }
        res.send(`ctx ${ctx?.request === req}`);
      },
    });
    server = s.server;
    const sentAt = performance.now();
    expect(await (await fetch(`${s.url}/users/42`)).text()).toBe('ctx true');
    await until(() => finishes.length === 1);
    expect(finishes[0]).toMatchObject({ route: '/users/:id', status: 200, aborted: false });
  });

  it('response.finish: status, body bytes in, response bytes out, duration, without tracing', async () => {
    const finishes: ResponseFinishMessage[] = [];
    on(ServerChannel.RESPONSE_FINISH, finishes);
    const s = await start({
      async handler(req, res) {
        const body = await req.bytes();
        res.status(201).send(`got ${body.length}`);
      },
    });
    server = s.server;
    const r = await raw(s.port, [
      'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
      'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ]);
    expect(statuses(r.text)).toEqual([201, 201]);
    await until(() => finishes.length === 2);
    const [a, b] = finishes;
    expect(a).toMatchObject({ status: 201, bytesIn: 5, aborted: false, route: null, context: null });
    expect(a!.request!.path).toBe('/a');
    // The first response's bytes exactly as they went out.
    const first = r.text.slice(0, r.text.indexOf('got 5') + 5);
    expect(a!.bytesOut).toBe(Buffer.byteLength(first, 'latin1'));
    expect(a!.durationMs).toBeGreaterThanOrEqual(0);
    expect(a!.connectionId).toBe(b!.connectionId);
    expect(b).toMatchObject({ status: 201, bytesIn: 0 });
  });

  it('a client that goes away mid-response: finish with aborted true', async () => {
    const finishes: ResponseFinishMessage[] = [];
    on(ServerChannel.RESPONSE_FINISH, finishes);
    const s = await start({
      async handler(req, res) {
        res.header('Content-Length', '100').write('partial');
        await new Promise((r) => req.signal.addEventListener('abort', r));
      },
    });
    server = s.server;
    await raw(s.port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 200 });
    await until(() => finishes.length === 1);
    expect(finishes[0]).toMatchObject({ aborted: true, status: 200 });
  });

  it('a parse error: request.refused (code, offset, status) and strata:http-parser:error with the bytes around it', async () => {
    const refused: RequestRefusedMessage[] = [];
    const parseErrors: ParseErrorMessage[] = [];
    on(ServerChannel.REQUEST_REFUSED, refused);
    on(ParserChannel.ERROR, parseErrors);
    const s = await start({ handler: (_req, res) => void res.send('ok') });
    server = s.server;
    const good = 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n';
    const bad = 'GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n';
    const r = await raw(s.port, [good + bad]);
    expect(statuses(r.text)).toEqual([200, 400]);
    expect(refused).toHaveLength(1);
    const offset = good.length + bad.indexOf(' Header');
    expect(refused[0]).toMatchObject({
      status: 400,
      code: 'HPE_INVALID_HEADER_TOKEN',
      offset,
      remoteAddress: '127.0.0.1',
    });
    expect(refused[0]!.remotePort).toBeGreaterThan(0);
    expect(parseErrors).toHaveLength(1);
    const pe = parseErrors[0]!;
    expect(pe).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', status: 400, offset });
    const shown = Buffer.from(pe.bytes).toString('latin1');
    const whole = good + bad;
    expect(shown).toBe(whole.slice(pe.bytesOffset, pe.bytesOffset + shown.length));
    expect(pe.bytesOffset).toBeLessThanOrEqual(offset);
    expect(pe.bytesOffset + shown.length).toBeGreaterThan(offset);
  });

  it('a 408 from the head timeout is refused too (code ERR_HEADERS_TIMEOUT, offset -1)', async () => {
    const refused: RequestRefusedMessage[] = [];
    on(ServerChannel.REQUEST_REFUSED, refused);
    const s = await start({ handler: (_req, res) => void res.send('ok'), timeouts: { headers: 100 } });
    server = s.server;
    const r = await raw(s.port, ['GET / HTTP/1.1\r\n'], { timeoutMs: 1500 });
    expect(statuses(r.text)).toEqual([408]);
    expect(refused[0]).toMatchObject({ status: 408, code: 'ERR_HEADERS_TIMEOUT', offset: -1, streamId: 0 });
  });
});

describe('the same channels over HTTP/2', () => {
  it('request, response.finish and request.refused carry the stream (req.streamId, streamId)', async () => {
    const started: string[] = [];
    const finishes: ResponseFinishMessage[] = [];
    const refused: RequestRefusedMessage[] = [];
    const trace = tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST);
    const none = () => {};
    const handlers = {
      start: (c: RequestTraceContext) => void started.push(`${c.request.streamId} ${c.request.path}`),
      end: none,
      asyncStart: none,
      asyncEnd: none,
      error: none,
    };
    trace.subscribe(handlers);
    cleanups.push(() => trace.unsubscribe(handlers));
    on(ServerChannel.RESPONSE_FINISH, finishes);
    on(ServerChannel.REQUEST_REFUSED, refused);
    const s = await start({
      handler: (req, res) => void res.send(`${req.httpVersion} ${req.streamId}`),
      http2: { limits: { maxHeaderListSize: 512 } },
    });
    server = s.server;
    const session = http2.connect(s.url);
    const get = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const st = session.request(headers);
        let body = '';
        let status = 0;
        st.setEncoding('utf8');
        st.on('response', (h) => (status = Number(h[':status'])));
        st.on('data', (d: string) => (body += d));
        st.on('end', () => resolve({ status, body }));
        st.on('error', reject);
      });
    try {
      expect(await get({ ':path': '/a' })).toEqual({ status: 200, body: '2.0 1' });
      expect(await get({ ':path': '/b' })).toEqual({ status: 200, body: '2.0 3' });
      expect((await get({ ':path': '/big', 'x-big': 'y'.repeat(600) })).status).toBe(431);
    } finally {
      session.close();
    }
    await until(() => finishes.length === 2);
    expect(started).toEqual(['1 /a', '3 /b']);
    expect(finishes.map((f) => [f.request?.streamId, f.status, f.aborted])).toEqual([
      [1, 200, false],
      [3, 200, false],
    ]);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      status: 431,
      code: 'H2_HEADER_LIST_TOO_LARGE',
      streamId: 5,
      offset: -1,
    });
  });
});

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
