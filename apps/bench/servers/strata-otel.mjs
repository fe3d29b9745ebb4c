// Strata with @strata/otel on: the same routes as servers/strata.mjs, with the OpenTelemetry SDK
// registered as an application would (AsyncLocalStorage context manager, W3C propagator, every
// request sampled), spans batched to an exporter that drops them (no network: this measures the
// instrumentation and the SDK, not a collector) and metrics collected every 10 s into another.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { instrumentStrata } from '@strata/otel';

let exported = 0;
const spanExporter = {
  export(spans, done) {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const metricExporter = {
  export(_metrics, done) {
    done({ code: 0 });
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
// BENCH_OTEL_PROVIDERS=0 (the `strata-otel-noop` server): no tracer or meter provider, so the
// API's no-op ones: what @strata/otel costs by itself (headers read, attributes built, the context
// bound, routes named), with no SDK span or metric behind it.
const providers = process.env.BENCH_OTEL_PROVIDERS !== '0';
if (providers)
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      // A queue deep enough that no span is dropped at 100k req/s (a dropped span costs less).
      spanProcessors: [
        new BatchSpanProcessor(spanExporter, {
          maxQueueSize: 131_072,
          maxExportBatchSize: 4096,
          scheduledDelayMillis: 100,
        }),
      ],
    }),
  );
if (providers)
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 10_000 }),
      ],
    }),
  );
// BENCH_OTEL_INSTRUMENT=0 (the `strata-otel-sdk` server): the SDK registered as above, Strata not
// instrumented. What that costs alone is the context manager's AsyncLocalStorage (async hooks on
// Node 20), which every OpenTelemetry-instrumented Node application pays.
if (process.env.BENCH_OTEL_INSTRUMENT !== '0') instrumentStrata();
// BENCH_OTEL_VERBOSE=1: print the spans exported so far every second (a check that spans are made).
if (process.env.BENCH_OTEL_VERBOSE) {
  setInterval(() => process.stderr.write(`spans exported: ${exported}\n`), 1000).unref();
}

await import('./strata.mjs');
