import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import {
  type Attributes,
  type Context,
  context,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableResult,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { RequestTraceContext, ResponseFinishMessage, ServerRequest } from '@strata/server';
import { version } from '../package.json';
import { Attr, Channels, DURATION_BUCKETS, KNOWN_METHODS, Metric } from './_semconv';

/** The instrumentation scope of every tracer and meter this package makes. */
export const INSTRUMENTATION_NAME = '@strata/otel';
export const INSTRUMENTATION_VERSION: string = version;

/** The `error.type` of a response cut short (the client went away, a timeout) with no exception. */
export const ABORTED_ERROR_TYPE = 'ERR_ABORTED';

/** Options of {@link instrumentStrata}; every field is optional. */
export interface StrataInstrumentationOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`), read once
   * here: register the SDK's meter provider before calling {@link instrumentStrata}.
   */
  meterProvider?: MeterProvider;
  /** Reads the caller's trace context from request headers. Default: the global propagator (W3C in the SDK). */
  propagator?: TextMapPropagator;
  /**
   * The `AsyncLocalStorage` of the OpenTelemetry context manager, bound to the request's start so
   * that the server span is the active span inside the handler. Default: the one of the global
   * context manager when it is an `AsyncLocalStorageContextManager` (the SDK's default on Node),
   * else none. `null`: do not make the span active (spans and metrics are still recorded).
   */
  contextStorage?: AsyncLocalStorage<Context> | null;
  /**
   * Methods reported as themselves in `http.request.method` (case-sensitive, a full override of the
   * default list). Default: RFC 9110's methods and PATCH.
   */
  knownMethods?: readonly string[];
  /**
   * Also record the opt-in attributes `http.request.body.size`, `http.response.body.size` and
   * `http.response.size` on server spans. Default false.
   */
  bodySizes?: boolean;
}

/** What {@link instrumentStrata} returns. */
export interface StrataInstrumentation {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /**
   * The context storage bound to the request's start (the server span is active in handlers), or
   * null when none is (no `AsyncLocalStorage`-based context manager was found, or `null` was given).
   */
  readonly contextStorage: AsyncLocalStorage<Context> | null;
  /**
   * Stops listening. Requests already started still end their spans and count down
   * `http.server.active_requests` when they finish; later ones are not traced. Idempotent.
   */
  disable(): void;
}

/** Per-request state, kept on the trace context under the instrumentation's own symbol. */
interface RequestState {
  ctx: RequestTraceContext;
  span: Span;
  otelContext: Context;
  /** `http.request.method` (normalised) and the span name's method (`HTTP` for `_OTHER`). */
  method: string;
  nameMethod: string;
  scheme: string;
  version: string;
  /** The route the span is named after (null until known). */
  route: string | null;
  /** What the handler threw or rejected with (`hasError`: it did). */
  error: unknown;
  hasError: boolean;
  /** This request's `http.server.active_requests` series (method and scheme), counted down at the end. */
  active: ActiveSeries;
}

/** The part of the router's `strata:router:match` message read here. */
interface RouteMatchLike {
  result: { status: number; pattern?: string };
}

/** The part of the transport's `connection.open` / `connection.close` messages read here. */
interface ConnectionEventLike {
  connection: object;
}

/** One series of `http.server.active_requests`: its attributes and how many requests it counts now. */
interface ActiveSeries {
  attributes: Attributes;
  count: number;
}

/** The trace context with this package's per-request state on it (one symbol per instrumentation). */
type TracedContext = RequestTraceContext & { [state: symbol]: RequestState | null | undefined };

/** Reads request headers for the propagator (names case-insensitively, as HTTP has them). */
const headerGetter: TextMapGetter<ServerRequest> = {
  keys(req) {
    const raw = req.rawHeaders;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) out.push(raw[i]!.toLowerCase());
    return out;
  },
  get(req, key) {
    const all = req.headerAll(key);
    return all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
  },
};

/**
 * The `AsyncLocalStorage` of the global context manager, when it has one. OpenTelemetry's API has no
 * public accessor for it (open-telemetry/opentelemetry-js#6088): this reads the field that
 * `@opentelemetry/context-async-hooks`' `AsyncLocalStorageContextManager` keeps it in, and checks
 * that it is one.
 */
export function detectContextStorage(): AsyncLocalStorage<Context> | null {
  const api = context as unknown as { _getContextManager?: () => unknown };
  const manager = typeof api._getContextManager === 'function' ? api._getContextManager() : undefined;
  const storage =
    manager !== null && typeof manager === 'object'
      ? (manager as { _asyncLocalStorage?: unknown })._asyncLocalStorage
      : undefined;
  return storage instanceof AsyncLocalStorage ? (storage as AsyncLocalStorage<Context>) : null;
}

/** Query keys whose values semconv says to redact (`url.query`). */
const REDACTED_KEYS = ['AWSAccessKeyId', 'Signature', 'sig', 'X-Goog-Signature'];

/** `q=1&sig=abc` becomes `q=1&sig=REDACTED` for the keys above; the query unchanged when none is present. */
export function redactQuery(query: string): string {
  let hit = false;
  for (const k of REDACTED_KEYS) if (query.includes(`${k}=`)) hit = true;
  if (!hit) return query;
  const parts = query.split('&');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq !== -1 && REDACTED_KEYS.includes(p.slice(0, eq))) parts[i] = `${p.slice(0, eq + 1)}REDACTED`;
  }
  return parts.join('&');
}

/** Splits a `Host`-style authority into name and port (`[::1]:8080` gives `::1` and 8080); port -1 when none. */
export function splitHost(host: string): { address: string; port: number } {
  let address = host;
  let portText = '';
  if (host.charCodeAt(0) === 91 /* '[' */) {
    const close = host.indexOf(']');
    if (close !== -1) {
      address = host.slice(1, close);
      if (host.charCodeAt(close + 1) === 58 /* ':' */) portText = host.slice(close + 2);
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      address = host.slice(0, colon);
      portText = host.slice(colon + 1);
    }
  }
  let port = portText.length > 0 && portText.length <= 5 ? 0 : -1;
  for (let i = 0; port !== -1 && i < portText.length; i++) {
    const c = portText.charCodeAt(i) - 48; /* '0' */
    port = c >= 0 && c <= 9 ? port * 10 + c : -1;
  }
  return { address, port: port <= 65535 ? port : -1 };
}

function errorTypeOf(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor?.name || '_OTHER';
  return '_OTHER';
}

/** An instrumentation, as the shared context binding sees it. */
interface Participant {
  begin(ctx: TracedContext): RequestState | undefined;
  stateKey: symbol;
}

/**
 * The instrumentations bound to each context storage. A channel holds one transform per store, so
 * the store is bound once and its transform runs every instrumentation's `begin`: the first one's
 * span is the active span, and every instrumentation finds its own state in the context.
 */
const bindings = new Map<AsyncLocalStorage<Context>, { list: Participant[] }>();

function bindContext(storage: AsyncLocalStorage<Context>, participant: Participant): void {
  const existing = bindings.get(storage);
  if (existing !== undefined) {
    existing.list = [...existing.list, participant];
    return;
  }
  const binding = { list: [participant] };
  bindings.set(storage, binding);
  tracingChannel(Channels.REQUEST).start.bindStore(storage, (ctx) => {
    const list = binding.list;
    let out: Context | undefined;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      const state = p.begin(ctx as TracedContext);
      if (state !== undefined) out = out === undefined ? state.otelContext : out.setValue(p.stateKey, state);
    }
    return out ?? context.active();
  });
}

function unbindContext(storage: AsyncLocalStorage<Context>, participant: Participant): void {
  const binding = bindings.get(storage);
  if (binding === undefined) return;
  binding.list = binding.list.filter((p) => p !== participant);
  if (binding.list.length > 0) return;
  bindings.delete(storage);
  tracingChannel(Channels.REQUEST).start.unbindStore(storage);
}

/**
 * Turns Strata's diagnostics channels into OpenTelemetry server spans and HTTP metrics, following
 * the stable HTTP semantic conventions. Call it once, after the OpenTelemetry SDK is registered.
 *
 * @example
 * ```ts
 * import { instrumentStrata } from '@strata/otel';
 * const otel = instrumentStrata(); // the global tracer and meter providers
 * // ... createServer(...).listen(...)
 * otel.disable();
 * ```
 */
export function instrumentStrata(options: StrataInstrumentationOptions = {}): StrataInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const propagator = options.propagator ?? null;
  const known = new Set(options.knownMethods ?? KNOWN_METHODS);
  const bodySizes = options.bodySizes === true;
  const contextStorage =
    options.contextStorage === undefined ? detectContextStorage() : options.contextStorage;

  const duration: Histogram = meter.createHistogram(Metric.REQUEST_DURATION, {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  // The two up-down counters are asynchronous: counted here in plain integers and reported when the
  // SDK collects, so a request costs no attribute hashing for them (the synchronous `add()` hashes
  // its attributes on every call).
  const activeRequests = meter.createObservableUpDownCounter(Metric.ACTIVE_REQUESTS, {
    unit: '{request}',
    description: 'Number of active HTTP server requests.',
  });
  const activeConnections = meter.createObservableUpDownCounter(Metric.ACTIVE_CONNECTIONS, {
    unit: '{connection}',
    description: 'Number of open connections of Strata transports (TCP, TLS, Unix) in this process.',
  });
  /** `http.server.active_requests` by `method scheme` (a bounded set: known methods, `_OTHER`, two schemes). */
  const activeSeries = new Map<string, ActiveSeries>();
  let openConnections = 0;
  const observeRequests = (result: ObservableResult): void => {
    for (const series of activeSeries.values()) result.observe(series.count, series.attributes);
  };
  const observeConnections = (result: ObservableResult): void => {
    result.observe(openConnections);
  };
  activeRequests.addCallback(observeRequests);
  activeConnections.addCallback(observeConnections);

  function seriesFor(method: string, scheme: string): ActiveSeries {
    const key = `${method} ${scheme}`;
    let series = activeSeries.get(key);
    if (series === undefined) {
      series = { attributes: { [Attr.HTTP_REQUEST_METHOD]: method, [Attr.URL_SCHEME]: scheme }, count: 0 };
      activeSeries.set(key, series);
    }
    return series;
  }
  /** The last `Host` split (a connection sends the same one on every request). */
  let lastHost = '';
  let lastSplit = { address: '', port: -1 };

  const request = tracingChannel(Channels.REQUEST);
  /**
   * Finds the request being handled when the router publishes a match: the context storage holds
   * the request's state (under STATE_KEY) when one is bound; else a storage of our own does.
   */
  const requestStore = contextStorage === null ? new AsyncLocalStorage<RequestState | undefined>() : null;
  let inFlight = 0;
  let enabled = true;
  let finishSubscribed = true;

  // Per instrumentation, so that two of them (two tracer providers) each trace every request.
  const STATE = Symbol('@strata/otel request');
  /** Where the request's state sits in the OpenTelemetry context the handler runs in. */
  const STATE_KEY = Symbol('@strata/otel request');

  function begin(ctx: TracedContext): RequestState | undefined {
    const existing = ctx[STATE];
    if (existing !== undefined) return existing ?? undefined;
    if (!enabled) {
      ctx[STATE] = null;
      return undefined;
    }
    try {
      const req = ctx.request;
      const original = req.method;
      const method = known.has(original) ? original : '_OTHER';
      const nameMethod = method === '_OTHER' ? 'HTTP' : method;
      const scheme = req.protocol;
      // Semantic conventions name HTTP/2 '2', not '2.0'.
      const version = req.httpVersion === '2.0' ? '2' : req.httpVersion;
      const attributes: Attributes = {
        [Attr.HTTP_REQUEST_METHOD]: method,
        [Attr.URL_PATH]: req.path,
        [Attr.URL_SCHEME]: scheme,
        [Attr.NETWORK_PROTOCOL_VERSION]: version,
      };
      if (method !== original) attributes[Attr.HTTP_REQUEST_METHOD_ORIGINAL] = original;
      const query = req.query;
      if (query !== '') attributes[Attr.URL_QUERY] = redactQuery(query);
      const host = req.hostname;
      if (host !== null && host !== '') {
        if (host !== lastHost) {
          lastSplit = splitHost(host);
          lastHost = host;
        }
        attributes[Attr.SERVER_ADDRESS] = lastSplit.address;
        if (lastSplit.port !== -1) attributes[Attr.SERVER_PORT] = lastSplit.port;
      }
      const peer = req.remoteAddress;
      if (peer !== '') {
        attributes[Attr.NETWORK_PEER_ADDRESS] = peer;
        attributes[Attr.NETWORK_PEER_PORT] = req.remotePort;
      }
      const client = req.ip;
      if (client !== '') attributes[Attr.CLIENT_ADDRESS] = client;
      const ua = req.header('user-agent');
      if (ua !== undefined) attributes[Attr.USER_AGENT_ORIGINAL] = ua;

      const parent =
        propagator !== null
          ? propagator.extract(ROOT_CONTEXT, req, headerGetter)
          : propagation.extract(ROOT_CONTEXT, req, headerGetter);
      // From the end of the request head (a pipelined or body-carrying request's handler may start later).
      const span = tracer.startSpan(
        nameMethod,
        { kind: SpanKind.SERVER, attributes, startTime: ctx.startTime },
        parent,
      );
      const active = seriesFor(method, scheme);
      active.count++;
      inFlight++;
      const state: RequestState = {
        ctx,
        span,
        otelContext: ROOT_CONTEXT,
        method,
        nameMethod,
        scheme,
        version,
        route: null,
        error: undefined,
        hasError: false,
        active,
      };
      if (contextStorage !== null) state.otelContext = trace.setSpan(parent, span).setValue(STATE_KEY, state);
      ctx[STATE] = state;
      return state;
    } catch {
      // Never throw inside the engine: this request goes untraced.
      ctx[STATE] = null;
      return undefined;
    }
  }

  function nameRoute(state: RequestState, route: string): void {
    state.route = route;
    state.span.setAttribute(Attr.HTTP_ROUTE, route);
    state.span.updateName(`${state.nameMethod} ${route}`);
  }

  const onStart = (message: unknown): void => {
    begin(message as TracedContext);
  };

  const onError = (message: unknown): void => {
    const state = (message as TracedContext)[STATE];
    if (state === undefined || state === null) return;
    const error = (message as TracedContext).error;
    state.error = error;
    state.hasError = true;
    state.span.recordException(
      error instanceof Error ? error : typeof error === 'string' ? error : { message: String(error) },
    );
  };

  const onMatch = (message: unknown): void => {
    const result = (message as RouteMatchLike).result;
    if (result.status !== 200 || typeof result.pattern !== 'string') return;
    const state =
      requestStore !== null
        ? requestStore.getStore()
        : (contextStorage?.getStore()?.getValue(STATE_KEY) as RequestState | undefined);
    // The first match names the request; a route the application set on the context wins.
    if (state === undefined || state.ctx.route !== null) return;
    state.ctx.route = result.pattern;
    nameRoute(state, result.pattern);
  };

  const onFinish = (message: unknown): void => {
    const msg = message as ResponseFinishMessage;
    const ctx = msg.context as TracedContext | null;
    if (ctx === null) return;
    const state = ctx[STATE];
    if (state === undefined || state === null) return;
    ctx[STATE] = null; // finished: a second finish for the same request is ignored
    inFlight--;
    const span = state.span;
    const status = msg.status;
    const route = msg.route ?? ctx.route;
    if (route !== null && route !== state.route) nameRoute(state, route);

    let errorType: string | undefined;
    if (state.hasError && (status < 400 || status >= 500)) errorType = errorTypeOf(state.error);
    else if (status >= 500) errorType = String(status);
    else if (msg.aborted) errorType = ABORTED_ERROR_TYPE;

    if (span.isRecording()) {
      if (status !== 0) span.setAttribute(Attr.HTTP_RESPONSE_STATUS_CODE, status);
      if (errorType !== undefined) {
        span.setAttribute(Attr.ERROR_TYPE, errorType);
        const described = state.hasError && errorType !== String(status);
        span.setStatus(
          described
            ? {
                code: SpanStatusCode.ERROR,
                message: state.error instanceof Error ? state.error.message : String(state.error),
              }
            : { code: SpanStatusCode.ERROR },
        );
      }
      if (bodySizes) {
        const req = msg.request;
        if (req !== null && (msg.bytesIn > 0 || req.contentLength >= 0))
          span.setAttribute(Attr.HTTP_REQUEST_BODY_SIZE, msg.bytesIn);
        const res = msg.response;
        if (res !== null && status !== 0) span.setAttribute(Attr.HTTP_RESPONSE_BODY_SIZE, res.bytesWritten);
        if (msg.bytesOut >= 0) span.setAttribute(Attr.HTTP_RESPONSE_SIZE, msg.bytesOut);
      }
    }
    span.end();

    const attrs: Attributes = {
      [Attr.HTTP_REQUEST_METHOD]: state.method,
      [Attr.URL_SCHEME]: state.scheme,
      [Attr.NETWORK_PROTOCOL_VERSION]: state.version,
    };
    if (status !== 0) attrs[Attr.HTTP_RESPONSE_STATUS_CODE] = status;
    if (state.route !== null) attrs[Attr.HTTP_ROUTE] = state.route;
    if (errorType !== undefined) attrs[Attr.ERROR_TYPE] = errorType;
    // From the end of the request head, as the span (`ctx.startTime`, what durationMs counts from).
    const ms = msg.durationMs >= 0 ? msg.durationMs : performance.now() - ctx.startTime;
    duration.record(ms / 1000, attrs);
    state.active.count--;

    if (!enabled && inFlight === 0) release();
  };

  /** After `disable()`, once no traced request is left: stop listening for their ends. */
  function release(): void {
    if (!finishSubscribed) return;
    finishSubscribed = false;
    unsubscribe(request.error.name, onError);
    unsubscribe(Channels.RESPONSE_FINISH, onFinish);
    activeRequests.removeCallback(observeRequests);
  }

  /** Connections counted up (so a close counts down only what was counted). */
  const opened = new WeakSet<object>();
  const onOpen = (message: unknown): void => {
    opened.add((message as ConnectionEventLike).connection);
    openConnections++;
  };
  const onClose = (message: unknown): void => {
    if (opened.delete((message as ConnectionEventLike).connection)) openConnections--;
  };

  // The store's transform runs inside `start.runStores(ctx)` just before `start` is published: it
  // creates the span; `onStart` covers a start without it (a store bound after runStores began).
  if (requestStore !== null) request.start.bindStore(requestStore, (ctx) => begin(ctx as TracedContext));
  const participant: Participant = { begin, stateKey: STATE_KEY };
  if (contextStorage !== null) bindContext(contextStorage, participant);
  subscribe(request.start.name, onStart);
  subscribe(request.error.name, onError);
  subscribe(Channels.RESPONSE_FINISH, onFinish);
  subscribe(Channels.ROUTER_MATCH, onMatch);
  subscribe(Channels.CONNECTION_OPEN, onOpen);
  subscribe(Channels.CONNECTION_CLOSE, onClose);

  return {
    tracer,
    meter,
    contextStorage,
    disable() {
      if (!enabled) return;
      enabled = false;
      if (requestStore !== null) request.start.unbindStore(requestStore);
      if (contextStorage !== null) unbindContext(contextStorage, participant);
      unsubscribe(request.start.name, onStart);
      unsubscribe(Channels.ROUTER_MATCH, onMatch);
      unsubscribe(Channels.CONNECTION_OPEN, onOpen);
      unsubscribe(Channels.CONNECTION_CLOSE, onClose);
      activeConnections.removeCallback(observeConnections);
      if (inFlight === 0) release();
    },
  };
}
