/**
 * A real @strata/server with @strata/router routes on 127.0.0.1:0, the OpenTelemetry SDK with
 * in-memory exporters, and a raw-socket client (for exact heads: Host, User-Agent, traceparent,
 * HTTP/1.0, odd methods, a client that goes away).
 */
import net from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createServer, type Handler, type Server } from '@strata/server';

/** The global context manager and propagator, as the Node SDK registers them (once per file). */
export function registerGlobals(): AsyncLocalStorageContextManager {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return manager;
}

export interface Telemetry {
  spans: InMemorySpanExporter;
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  /** Every metric collected now (cumulative), by name. */
  metrics(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function telemetry(): Telemetry {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when flushed (the interval is longer than any test).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    spans,
    tracerProvider,
    meterProvider,
    async metrics() {
      await reader.forceFlush();
      const all = exporter.getMetrics();
      const last = all[all.length - 1];
      const out = new Map<string, MetricData>();
      for (const scope of last?.scopeMetrics ?? [])
        for (const m of scope.metrics) out.set(m.descriptor.name, m);
      return out;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** A point of a histogram, by its attributes. */
export type HistogramPoint = DataPoint<Histogram>;

export async function start(handler: Handler): Promise<{ server: Server; port: number; url: string }> {
  const server = createServer({ handler, onError() {} });
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return { server, port: addr.port, url: `http://127.0.0.1:${addr.port}` };
}

/**
 * Sends `text` on a new connection and collects everything until the server closes it or
 * `timeoutMs` passes (then the client destroys the socket: a client that went away).
 */
export function raw(
  port: number,
  text: string,
  timeoutMs = 2000,
): Promise<{ text: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let localPort = 0;
    const done = () => resolve({ text: Buffer.concat(got).toString('latin1'), localPort });
    const timer = setTimeout(() => {
      sock.destroy();
      done();
    }, timeoutMs);
    sock.on('data', (d) => got.push(d));
    sock.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      done();
    });
    sock.on('connect', () => {
      localPort = sock.localPort ?? 0;
      sock.write(text);
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
