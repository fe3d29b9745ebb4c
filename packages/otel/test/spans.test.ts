/**
 * Server spans over a real @strata/server with @strata/router routes: every attribute checked
 * against the stable HTTP semantic conventions (names from @opentelemetry/semantic-conventions,
 * values exact), the caller's parent from `traceparent`, a user span nested under the server span,
 * 404 / 500 / a throwing handler / a client that goes away, unknown methods, HTTP/1.0.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import http2 from 'node:http2';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { createRouter } from '@strata/router';
import { type Handler, type RequestTraceContext, type Server, ServerChannel } from '@strata/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentStrata, type StrataInstrumentation } from '../src/index';
import { raw, registerGlobals, sleep, start, type Telemetry, telemetry, until } from './_helpers';

type Route = Handler;

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';

let tel: Telemetry;
let otel: StrataInstrumentation;
let server: Server;
let port: number;
let url: string;
const appTracer = () => tel.tracerProvider.getTracer('app');

const router = createRouter<Route>();
router.add('GET', '/users/:id', (req, res) => void res.send(`user ${req.path}`));
router.add('GET', '/nested', async (_req, res) => {
  await sleep(2);
  // A user span started in the handler, after an await: a child of the server span.
  const seen = trace.getActiveSpan()?.spanContext().spanId ?? 'none';
  appTracer().startActiveSpan('work', (span) => {
    span.end();
  });
  res.send(seen);
});
router.add('GET', '/fail', (_req, res) => void res.status(500).send('no'));
router.add('GET', '/throw', () => {
  throw new TypeError('boom');
});
router.add('GET', '/reject', async () => {
  await sleep(1);
  throw new RangeError('later');
});
router.add('GET', '/hang', async (req, res) => {
  res.header('content-length', '100').write('partial');
  await new Promise((r) => req.signal.addEventListener('abort', r));
});
/** GET /gate waits for the test to open it (`entered` once the handler runs). */
const gate = { entered: false, open: () => {} };
router.add('GET', '/gate', async (_req, res) => {
  gate.entered = true;
  await new Promise<void>((r) => {
    gate.open = r;
  });
  res.send('through');
});
router.add('GET', '/twice', (_req, res) => {
  // A second lookup in the same request (a sub-router, a link check) does not rename it.
  const other = router.find('GET', '/users/1');
  res.send(String(other.status));
});
router.add(['GET', 'PROPFIND', 'FOO'], '/any', (_req, res) => void res.send('any'));

/** The application names the route itself, from its own store bound to the request's start. */
const appStore = new AsyncLocalStorage<RequestTraceContext>();

beforeAll(async () => {
  registerGlobals();
  tel = telemetry();
  otel = instrumentStrata({ tracerProvider: tel.tracerProvider, meterProvider: tel.meterProvider });
  tracingChannel<unknown, RequestTraceContext>(ServerChannel.REQUEST).start.bindStore(appStore, (c) => c);
  const s = await start(async (req, res) => {
    if (req.path.startsWith('/custom/')) {
      const ctx = appStore.getStore();
      if (ctx !== undefined) ctx.route = '/custom/{name}';
      return void res.send('custom');
    }
    const named = req.header('x-route');
    if (named !== undefined) {
      // The application names the route before the router runs: its name wins.
      const ctx = appStore.getStore();
      if (ctx !== undefined) ctx.route = named;
    }
    const hit = router.find(req.method, req.path);
    if (hit.status === 200) return hit.value(req, res);
    res.status(hit.status).send('');
  });
  server = s.server;
  port = s.port;
  url = s.url;
});
afterEach(() => tel.spans.reset());
afterAll(async () => {
  otel.disable();
  tracingChannel(ServerChannel.REQUEST).start.unbindStore(appStore);
  await server.close();
  await tel.shutdown();
});

async function spansAfter(n: number): Promise<ReadableSpan[]> {
  await until(() => tel.spans.getFinishedSpans().length >= n);
  return tel.spans.getFinishedSpans();
}
function serverSpan(spans: ReadableSpan[]): ReadableSpan {
  const found = spans.filter((s) => s.kind === SpanKind.SERVER);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('server spans', () => {
  it('one SERVER span per request with every stable attribute, named after the route, parented by traceparent', async () => {
    const r = await raw(
      port,
      'GET /users/42?x=1&sig=secret HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: test-agent/1.0\r\n' +
        `traceparent: 00-${PARENT_TRACE}-${PARENT_SPAN}-01\r\nConnection: close\r\n\r\n`,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /users/:id');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(PARENT_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.instrumentationScope.name).toBe('@strata/otel');
    expect(span.attributes).toEqual({
      [ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [ATTR_URL_PATH]: '/users/42',
      [ATTR_URL_QUERY]: 'x=1&sig=REDACTED',
      [ATTR_URL_SCHEME]: 'http',
      [ATTR_HTTP_ROUTE]: '/users/:id',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      [ATTR_SERVER_ADDRESS]: 'example.com',
      [ATTR_SERVER_PORT]: 8080,
      [ATTR_CLIENT_ADDRESS]: '127.0.0.1',
      [ATTR_NETWORK_PEER_ADDRESS]: '127.0.0.1',
      [ATTR_NETWORK_PEER_PORT]: r.localPort,
      [ATTR_NETWORK_PROTOCOL_VERSION]: '1.1',
      [ATTR_USER_AGENT_ORIGINAL]: 'test-agent/1.0',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(span.events).toEqual([]);
    expect(span.ended).toBe(true);
  });

  it('an HTTP/2 request (h2c) gets network.protocol.version 2, its route and status', async () => {
    const session = http2.connect(url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({
          ':path': '/users/9',
          traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01`,
        });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (text += d));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(body).toBe('user /users/9');
    } finally {
      session.close();
    }
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /users/:id');
    expect(span.spanContext().traceId).toBe(PARENT_TRACE);
    expect(span.attributes[ATTR_NETWORK_PROTOCOL_VERSION]).toBe('2');
    expect(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(200);
    expect(span.attributes[ATTR_SERVER_PORT]).toBe(port);
  });

  it('without traceparent the span is a root (fetch: server.address and server.port from its Host)', async () => {
    const res = await fetch(`${url}/users/7`);
    expect(await res.text()).toBe('user /users/7');
    const span = serverSpan(await spansAfter(1));
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes[ATTR_SERVER_ADDRESS]).toBe('127.0.0.1');
    expect(span.attributes[ATTR_SERVER_PORT]).toBe(port);
    expect(span.attributes).not.toHaveProperty(ATTR_URL_QUERY);
    expect(span.attributes[ATTR_USER_AGENT_ORIGINAL]).toBe('node');
  });

  it('a Host without a port gives no server.port; an IPv6 Host loses its brackets; no User-Agent, none', async () => {
    await raw(
      port,
      'GET /users/1 HTTP/1.1\r\nHost: api.example\r\n\r\n' +
        'GET /users/2 HTTP/1.1\r\nHost: [::1]:9090\r\nConnection: close\r\n\r\n',
    );
    const [a, b] = await spansAfter(2);
    expect(a!.attributes[ATTR_SERVER_ADDRESS]).toBe('api.example');
    expect(a!.attributes).not.toHaveProperty(ATTR_SERVER_PORT);
    expect(a!.attributes).not.toHaveProperty(ATTR_USER_AGENT_ORIGINAL);
    expect(b!.attributes[ATTR_SERVER_ADDRESS]).toBe('::1');
    expect(b!.attributes[ATTR_SERVER_PORT]).toBe(9090);
  });

  it('the server span is the active span in the handler: a user span nests under it', async () => {
    const res = await fetch(`${url}/nested`, {
      headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` },
    });
    const seen = await res.text();
    const spans = await spansAfter(2);
    const server = serverSpan(spans);
    const work = spans.find((s) => s.name === 'work')!;
    expect(seen).toBe(server.spanContext().spanId);
    expect(work.kind).toBe(SpanKind.INTERNAL);
    expect(work.spanContext().traceId).toBe(PARENT_TRACE);
    expect(work.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(otel.contextStorage).not.toBeNull();
  });

  it('404 from the router: named by the method only, no http.route, status left unset', async () => {
    const res = await fetch(`${url}/nowhere`);
    expect(res.status).toBe(404);
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET');
    expect(span.attributes).not.toHaveProperty(ATTR_HTTP_ROUTE);
    expect(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(404);
    expect(span.attributes).not.toHaveProperty(ATTR_ERROR_TYPE);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a 500 answered by the handler: status Error without description, error.type "500"', async () => {
    expect((await fetch(`${url}/fail`)).status).toBe(500);
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /fail');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('500');
    expect(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(500);
  });

  it('a handler that throws: the exception recorded, error.type its type, the 500 the server sent', async () => {
    expect((await fetch(`${url}/throw`)).status).toBe(500);
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /throw');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('TypeError');
    expect(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(500);
    expect(span.events).toHaveLength(1);
    expect(span.events[0]!.name).toBe('exception');
    expect(span.events[0]!.attributes).toMatchObject({
      [ATTR_EXCEPTION_TYPE]: 'TypeError',
      [ATTR_EXCEPTION_MESSAGE]: 'boom',
    });
  });

  it('an async handler that rejects: the same, for the rejection', async () => {
    expect((await fetch(`${url}/reject`)).status).toBe(500);
    const span = serverSpan(await spansAfter(1));
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'later' });
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('RangeError');
    expect(span.events.map((e) => e.attributes?.[ATTR_EXCEPTION_TYPE])).toEqual(['RangeError']);
  });

  it('a client that goes away mid-response: the span ends with error.type ERR_ABORTED and the status sent', async () => {
    const r = await raw(port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n', 200);
    expect(r.text).toContain('partial');
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /hang');
    expect(span.attributes[ATTR_ERROR_TYPE]).toBe('ERR_ABORTED');
    expect(span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(200);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
  });

  it('an unknown method is _OTHER with http.request.method_original, and the span is named HTTP', async () => {
    const r = await raw(port, 'FOO /any HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('HTTP /any');
    expect(span.attributes[ATTR_HTTP_REQUEST_METHOD]).toBe('_OTHER');
    expect(span.attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL]).toBe('FOO');
  });

  it('HTTP/1.0: network.protocol.version "1.0"; no Host: no server.address', async () => {
    const r = await raw(port, 'GET /users/1 HTTP/1.0\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    const span = serverSpan(await spansAfter(1));
    expect(span.attributes[ATTR_NETWORK_PROTOCOL_VERSION]).toBe('1.0');
    expect(span.attributes).not.toHaveProperty(ATTR_SERVER_ADDRESS);
    expect(span.attributes).not.toHaveProperty(ATTR_SERVER_PORT);
  });

  it('a route the application sets on the trace context names the span', async () => {
    expect(await (await fetch(`${url}/custom/ada`)).text()).toBe('custom');
    const span = serverSpan(await spansAfter(1));
    expect(span.name).toBe('GET /custom/{name}');
    expect(span.attributes[ATTR_HTTP_ROUTE]).toBe('/custom/{name}');
  });

  it('a route the application set before the router matched wins; a second find() does not rename', async () => {
    await (await fetch(`${url}/users/9`, { headers: { 'x-route': '/api/users/{id}' } })).text();
    expect(await (await fetch(`${url}/twice`)).text()).toBe('200');
    const spans = await spansAfter(2);
    expect(spans.map((s) => [s.name, s.attributes[ATTR_HTTP_ROUTE]])).toEqual([
      ['GET /api/users/{id}', '/api/users/{id}'],
      ['GET /twice', '/twice'],
    ]);
  });

  it('pipelined requests on one connection: one span each, in order, each with its own route', async () => {
    const r = await raw(
      port,
      'GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(r.text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 404', 'HTTP/1.1 500']);
    const spans = await spansAfter(3);
    expect(spans.map((s) => [s.name, s.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]])).toEqual([
      ['GET /users/:id', 200],
      ['GET', 404],
      ['GET /fail', 500],
    ]);
  });
});

describe('options', () => {
  it('knownMethods overrides the list; contextStorage null leaves the handler outside the span', async () => {
    otel.disable();
    const other = instrumentStrata({
      tracerProvider: tel.tracerProvider,
      meterProvider: tel.meterProvider,
      knownMethods: ['GET', 'PROPFIND'],
      contextStorage: null,
    });
    try {
      expect(other.contextStorage).toBeNull();
      await raw(port, 'PROPFIND /any HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const span = serverSpan(await spansAfter(1));
      expect(span.name).toBe('PROPFIND /any');
      expect(span.attributes[ATTR_HTTP_REQUEST_METHOD]).toBe('PROPFIND');
      expect(span.attributes).not.toHaveProperty(ATTR_HTTP_REQUEST_METHOD_ORIGINAL);
      tel.spans.reset();
      expect(await (await fetch(`${url}/nested`)).text()).toBe('none');
      const spans = await spansAfter(2);
      const work = spans.find((s) => s.name === 'work')!;
      expect(work.parentSpanContext).toBeUndefined();
    } finally {
      other.disable();
      otel = instrumentStrata({ tracerProvider: tel.tracerProvider, meterProvider: tel.meterProvider });
    }
  });

  it('two instrumentations at once (two tracer providers) each trace every request, nested spans included', async () => {
    const second = telemetry();
    const other = instrumentStrata({
      tracerProvider: second.tracerProvider,
      meterProvider: second.meterProvider,
    });
    try {
      await (await fetch(`${url}/users/5`)).text();
      await (await fetch(`${url}/nested`)).text();
      await until(
        () => tel.spans.getFinishedSpans().length >= 3 && second.spans.getFinishedSpans().length >= 2,
      );
      const names = (t: Telemetry) => t.spans.getFinishedSpans().map((s) => s.name);
      expect(names(tel)).toEqual(['GET /users/:id', 'work', 'GET /nested']);
      // The application's tracer is the first provider's: the second sees its own server spans.
      expect(names(second)).toEqual(['GET /users/:id', 'GET /nested']);
    } finally {
      other.disable();
      await second.shutdown();
    }
  });

  it('disable(): a request in flight still ends its span, later requests are not traced', async () => {
    const pending = fetch(`${url}/gate`).then((r) => r.text());
    await until(() => gate.entered);
    otel.disable();
    otel.disable(); // idempotent
    expect(await (await fetch(`${url}/users/3`)).text()).toBe('user /users/3');
    gate.open();
    expect(await pending).toBe('through');
    await until(() => tel.spans.getFinishedSpans().length >= 1);
    await sleep(20);
    const names = tel.spans.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(['GET /gate']);
    otel = instrumentStrata({ tracerProvider: tel.tracerProvider, meterProvider: tel.meterProvider });
    await (await fetch(`${url}/users/3`)).text();
    await until(() => tel.spans.getFinishedSpans().some((s) => s.name === 'GET /users/:id'));
  });
});
