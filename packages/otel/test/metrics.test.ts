/**
 * Metrics over a real server: `http.server.request.duration` (unit, recommended buckets, one point
 * per attribute set with exact attributes and counts), `http.server.active_requests` while a request
 * is in flight and after, `strata.server.active_connections` from the transport's open/close.
 * Also: the global providers by default, opt-in body sizes, a trusted proxy's client and scheme.
 */
import { metrics, trace } from '@opentelemetry/api';
import { DataPointType, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_URL_SCHEME,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
import { METRIC_HTTP_SERVER_ACTIVE_REQUESTS } from '@opentelemetry/semantic-conventions/incubating';
import { createRouter } from '@strata/router';
import { createServer, type Handler, type Server } from '@strata/server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, instrumentStrata, Metric, type StrataInstrumentation } from '../src/index';
import { raw, registerGlobals, sleep, start, type Telemetry, telemetry, until } from './_helpers';

type Route = Handler;

let tel: Telemetry;
let otel: StrataInstrumentation | null = null;
let server: Server | null = null;
afterEach(async () => {
  otel?.disable();
  otel = null;
  await server?.close();
  server = null;
  await tel?.shutdown();
});
beforeAll(() => {
  registerGlobals();
});

const gate = { entered: false, open: () => {} };
const router = createRouter<Route>();
router.add('GET', '/users/:id', (_req, res) => void res.send('u'));
router.add('POST', '/echo', async (req, res) => void res.send(await req.bytes()));
router.add('GET', '/slow', async (_req, res) => {
  await sleep(30);
  res.send('slow');
});
router.add('GET', '/throw', () => {
  throw new Error('x');
});
router.add('GET', '/gate', async (_req, res) => {
  gate.entered = true;
  await new Promise<void>((r) => {
    gate.open = r;
  });
  res.send('through');
});
const dispatch: Handler = async (req, res) => {
  const hit = router.find(req.method, req.path);
  if (hit.status === 200) return hit.value(req, res);
  res.status(hit.status).send('');
};

async function setup(): Promise<string> {
  tel = telemetry();
  otel = instrumentStrata({ tracerProvider: tel.tracerProvider, meterProvider: tel.meterProvider });
  const s = await start(dispatch);
  server = s.server;
  return s.url;
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function points(m: MetricData | undefined) {
  expect(m).toBeDefined();
  return m!.dataPoints;
}
/** The sum of an up-down counter's points (every attribute set). */
function total(m: MetricData | undefined): number {
  return points(m).reduce((a, p) => a + (p.value as number), 0);
}

describe('metrics', () => {
  it('http.server.request.duration: seconds, the recommended buckets, one point per attribute set', async () => {
    const url = await setup();
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/users/${i}`)).text();
    await (await fetch(`${url}/nowhere`)).text();
    await (await fetch(`${url}/slow`)).text();
    await (await fetch(`${url}/throw`)).text();
    await until(() => tel.spans.getFinishedSpans().length === 6);
    const m = (await tel.metrics()).get(METRIC_HTTP_SERVER_REQUEST_DURATION);
    expect(m?.descriptor).toMatchObject({ name: 'http.server.request.duration', unit: 's' });
    expect(m?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const base = {
      [ATTR_HTTP_REQUEST_METHOD]: 'GET',
      [ATTR_URL_SCHEME]: 'http',
      [ATTR_NETWORK_PROTOCOL_VERSION]: '1.1',
    };
    const got = points(m).map((p) => ({ attributes: p.attributes, count: (p.value as Histogram).count }));
    expect(got).toHaveLength(4);
    expect(got).toEqual(
      expect.arrayContaining([
        {
          attributes: { ...base, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200, [ATTR_HTTP_ROUTE]: '/users/:id' },
          count: 3,
        },
        { attributes: { ...base, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404 }, count: 1 },
        {
          attributes: { ...base, [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200, [ATTR_HTTP_ROUTE]: '/slow' },
          count: 1,
        },
        {
          attributes: {
            ...base,
            [ATTR_HTTP_RESPONSE_STATUS_CODE]: 500,
            [ATTR_HTTP_ROUTE]: '/throw',
            [ATTR_ERROR_TYPE]: 'Error',
          },
          count: 1,
        },
      ]),
    );
    for (const p of points(m)) {
      const h = p.value as Histogram;
      expect(h.buckets.boundaries).toEqual([...DURATION_BUCKETS]);
      expect(h.min).toBeGreaterThanOrEqual(0);
    }
    // The 30 ms route is measured in seconds: between 0.03 and a generous 2 s, in the 0.025-0.05 bucket or above.
    const slow = points(m).find((p) => p.attributes[ATTR_HTTP_ROUTE] === '/slow')!.value as Histogram;
    expect(slow.sum).toBeGreaterThanOrEqual(0.029);
    expect(slow.sum).toBeLessThan(2);
    expect(slow.buckets.counts.slice(0, 2)).toEqual([0, 0]); // (0, 0.005] and (0.005, 0.01]
  });

  it('http.server.active_requests counts a request in flight, then goes back to 0; active connections follow open/close', async () => {
    const url = await setup();
    gate.entered = false;
    const pending = fetch(`${url}/gate`).then((r) => r.text());
    await until(() => gate.entered);
    let all = await tel.metrics();
    const active = all.get(METRIC_HTTP_SERVER_ACTIVE_REQUESTS);
    expect(active?.descriptor).toMatchObject({ name: 'http.server.active_requests', unit: '{request}' });
    expect(active?.dataPointType).toBe(DataPointType.SUM);
    expect(points(active).map((p) => [p.attributes, p.value])).toEqual([
      [{ [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_SCHEME]: 'http' }, 1],
    ]);
    const conns = all.get(Metric.ACTIVE_CONNECTIONS);
    expect(conns?.descriptor).toMatchObject({
      name: 'strata.server.active_connections',
      unit: '{connection}',
    });
    expect(total(conns)).toBe(1);
    gate.open();
    expect(await pending).toBe('through');
    await until(() => tel.spans.getFinishedSpans().length === 1);
    all = await tel.metrics();
    expect(total(all.get(METRIC_HTTP_SERVER_ACTIVE_REQUESTS))).toBe(0);

    // Two more connections (raw, closed by the server after one request each): back to what fetch keeps open.
    const before = total(all.get(Metric.ACTIVE_CONNECTIONS));
    await Promise.all([
      raw(
        (server!.address() as { port: number }).port,
        'GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ),
      raw(
        (server!.address() as { port: number }).port,
        'GET /users/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ),
    ]);
    // The server sees each close a moment after the client does: poll.
    const connections = async () => total((await tel.metrics()).get(Metric.ACTIVE_CONNECTIONS));
    await eventually(async () => (await connections()) === before);
    await server!.close();
    server = null;
    await eventually(async () => (await connections()) === 0);
  });

  it('defaults to the global tracer and meter providers', async () => {
    tel = telemetry();
    trace.setGlobalTracerProvider(tel.tracerProvider);
    metrics.setGlobalMeterProvider(tel.meterProvider);
    try {
      otel = instrumentStrata();
      const s = await start(dispatch);
      server = s.server;
      await (await fetch(`${s.url}/users/1`)).text();
      await until(() => tel.spans.getFinishedSpans().length === 1);
      expect(tel.spans.getFinishedSpans()[0]!.name).toBe('GET /users/:id');
      const m = (await tel.metrics()).get(METRIC_HTTP_SERVER_REQUEST_DURATION);
      expect(points(m)).toHaveLength(1);
    } finally {
      trace.disable();
      metrics.disable();
    }
  });
});

describe('span extras', () => {
  it('bodySizes: http.request.body.size, http.response.body.size and http.response.size (the bytes on the wire)', async () => {
    tel = telemetry();
    otel = instrumentStrata({
      tracerProvider: tel.tracerProvider,
      meterProvider: tel.meterProvider,
      bodySizes: true,
    });
    const s = await start(dispatch);
    server = s.server;
    const r = await raw(
      s.port,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    expect(r.text.endsWith('\r\n\r\nhello')).toBe(true);
    await (await fetch(`${s.url}/users/1`)).text();
    const spans: ReadableSpan[] = await (async () => {
      await until(() => tel.spans.getFinishedSpans().length === 2);
      return tel.spans.getFinishedSpans();
    })();
    expect(spans[0]!.attributes).toMatchObject({
      'http.request.body.size': 5,
      'http.response.body.size': 5,
      'http.response.size': Buffer.byteLength(r.text, 'latin1'),
    });
    // A GET without a body has no request body size.
    expect(spans[1]!.attributes).not.toHaveProperty('http.request.body.size');
    expect(spans[1]!.attributes['http.response.body.size']).toBe(1);
  });

  it('without bodySizes, none of the opt-in size attributes', async () => {
    const url = await setup();
    await (await fetch(`${url}/echo`, { method: 'POST', body: 'abc' })).text();
    await until(() => tel.spans.getFinishedSpans().length === 1);
    const attrs = tel.spans.getFinishedSpans()[0]!.attributes;
    expect(Object.keys(attrs).filter((k) => k.includes('size'))).toEqual([]);
  });

  it('behind a trusted proxy: client.address and url.scheme from X-Forwarded-*, network.peer.address the proxy', async () => {
    tel = telemetry();
    otel = instrumentStrata({ tracerProvider: tel.tracerProvider, meterProvider: tel.meterProvider });
    server = createServer({ handler: dispatch, trustProxy: ['127.0.0.1'] });
    const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    await raw(
      addr.port,
      'GET /users/1 HTTP/1.1\r\nHost: internal:3000\r\nX-Forwarded-For: 203.0.113.7\r\n' +
        'X-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nConnection: close\r\n\r\n',
    );
    await until(() => tel.spans.getFinishedSpans().length === 1);
    const attrs = tel.spans.getFinishedSpans()[0]!.attributes;
    expect(attrs[ATTR_CLIENT_ADDRESS]).toBe('203.0.113.7');
    expect(attrs[ATTR_NETWORK_PEER_ADDRESS]).toBe('127.0.0.1');
    expect(attrs[ATTR_URL_SCHEME]).toBe('https');
    expect(attrs['server.address']).toBe('shop.example');
    expect(attrs).not.toHaveProperty('server.port');
  });
});
