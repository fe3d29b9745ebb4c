import { type Http2Limits, resolveHttp2Limits } from '@strata/http2';
import {
  type Connection,
  type ConnectionHandlers,
  type Listener,
  type ListenOptions,
  listen,
} from '@strata/transport';
import {
  ConnState,
  type EngineConfig,
  type Handler,
  type ResponseInfo,
  type UpgradeHandler,
} from './_connection';
import { ServerError, ServerErrorCode } from './_errors';
import { H2Session } from './_h2';
import {
  resolveLimits,
  resolveTimeouts,
  type ServerLimits,
  type ServerTimeouts,
  sweepInterval,
} from './_options';
import { ParserPool } from './_parser-pool';
import { compileTrust, type TrustProxy } from './_proxy';
import { ConnRegistry, Counters } from './_registry';
import type { ServerRequest } from './_request';
import { upgradeSet } from './_upgrade';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Called once per request, at the end of its head (the body streams after). */
  handler: Handler;
  /**
   * Upgrade and CONNECT requests: the connection is handed over once every earlier pipelined
   * response has been sent; `head` holds the bytes that arrived after the request head. Without it,
   * such requests go to `handler` and the connection closes after the response.
   */
  onUpgrade?: UpgradeHandler;
  /**
   * The `Upgrade` protocols `onUpgrade` takes (names without versions, any case: `['websocket']`).
   * A request offering none of them is served by `handler` as plain HTTP/1.1 (RFC 9110 section
   * 7.8: a server may ignore an Upgrade). Default: every protocol except `h2c` (this server does
   * not speak HTTP/2, so `curl --http2` gets its HTTP/1.1 answer). CONNECT always goes to `onUpgrade`.
   */
  upgradeProtocols?: readonly string[];
  /**
   * What a FIN from the client (it closed its side) means. `false` (default, as node:http's
   * `httpAllowHalfOpen`): the client has gone; every response not yet complete is aborted (its
   * request's `signal` fires, a streamed body closes its source) and the connection closes once
   * what was complete is flushed. `true`: requests already received are still answered.
   */
  allowHalfOpen?: boolean;
  /** Size limits (see `DEFAULT_LIMITS`). */
  limits?: Partial<ServerLimits>;
  /** Timeouts in ms (see `DEFAULT_TIMEOUTS`). */
  timeouts?: Partial<ServerTimeouts>;
  /**
   * `'auto'` (default): `100 Continue` is sent when the handler starts reading the body, never when
   * it answers without reading. `'handler'`: the handler calls `res.writeContinue()` itself.
   */
  expectContinue?: 'auto' | 'handler';
  /** Peers trusted to report the client address, scheme and host (default: none). */
  trustProxy?: TrustProxy;
  /** Handler errors (thrown or rejected), for logging; the client gets a 500 without details. */
  onError?(error: unknown, req: ServerRequest | null): void;
  /** Access log: called once per finished response. */
  onResponse?(info: ResponseInfo): void;
  /**
   * TLS options for every `listen()` (`node:tls` server options; `listen({ tls })` overrides them).
   * Unless they set `ALPNProtocols` or `ALPNCallback`, the server advertises `http/1.1` over ALPN
   * (as `node:https` does): it adds `ALPNProtocols: ['http/1.1']` to a copy, never to your object.
   * Your own `ALPNProtocols` or `ALPNCallback` is used as given: leave `http/1.1` out of it and a
   * client that offers only `http/1.1` fails the handshake (`no_application_protocol`).
   */
  tls?: ListenOptions['tls'];
  /**
   * HTTP/2 (`@strata/http2`) on the same port as HTTP/1.1: over TLS when ALPN selects `h2`, and in
   * cleartext when a connection starts with the HTTP/2 preface (h2c by prior knowledge). The same
   * handler, `ServerRequest` and `ResponseWriter` serve both. `false` turns it off (ALPN then
   * offers `http/1.1` only, and a preface is answered 505 by the HTTP/1.1 parser). Default: on,
   * with {@link Http2Limits} defaults; `{ limits }` changes them.
   */
  http2?: boolean | { limits?: Partial<Http2Limits> };
}

/** The ALPN protocols this server speaks over TLS, preferred first (WebSocket upgrades are HTTP/1.1). */
const ALPN_H2: string[] = ['h2', 'http/1.1'];
const ALPN_HTTP11: string[] = ['http/1.1'];

/**
 * `tls` as handed to the transport: `ALPNProtocols` (`['h2', 'http/1.1']`, or `['http/1.1']` without
 * HTTP/2) added to a copy unless the user set `ALPNProtocols` or `ALPNCallback` (Node refuses the two
 * together). The user's object is not touched.
 */
function withAlpnDefault(
  tls: NonNullable<ListenOptions['tls']>,
  h2: boolean,
): NonNullable<ListenOptions['tls']> {
  if (tls.ALPNProtocols != null || tls.ALPNCallback != null) return tls;
  return { ...tls, ALPNProtocols: h2 ? ALPN_H2 : ALPN_HTTP11 };
}

/** Counters of a server. */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since listen. */
  totalConnections: number;
  /** Requests whose head was parsed. */
  requests: number;
  /** Responses completed. */
  responses: number;
  /** Responses per status code, only the codes seen (`{ '200': 10, '404': 1 }`). */
  byStatus: Record<string, number>;
  /** Responses with a 4xx or 5xx status. */
  errors: number;
  /** Requests whose client went away (reset, close or FIN) before their response was complete. */
  aborted: number;
  /** Connections cut by a timeout: headers or request (408), send, drain, or a close never acknowledged. */
  timedOut: number;
  /** Requests refused for a limit or bad syntax: parse errors, 413, 414, 431, bad JSON bodies. */
  rejected: number;
  bytesIn: number;
  bytesOut: number;
}

/** A server returned by {@link createServer}. */
export interface Server {
  /**
   * Bind and start accepting (TCP host/port, Unix `path`, TLS). Resolves with the bound address.
   * `tls` here replaces the server's `tls`; either way `http/1.1` is advertised over ALPN unless the
   * options set `ALPNProtocols` or `ALPNCallback` (see {@link ServerOptions.tls}).
   */
  listen(options?: ListenOptions): Promise<ReturnType<Listener['address']>>;
  /**
   * Graceful close: stop accepting, close idle keep-alive connections, let in-flight requests finish
   * (their responses carry `Connection: close`), destroy what remains after `deadline` ms (default 10 s).
   */
  close(options?: { deadline?: number }): Promise<void>;
  /** The bound address (throws before `listen`). */
  address(): ReturnType<Listener['address']>;
  /** Current counters. */
  stats(): ServerStats;
}

/** What the engine's transport callbacks call on a connection's state (HTTP/1.1 or HTTP/2). */
interface ConnEvents {
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  onEnd(): void;
  shutdown(): void;
  onClose(): void;
  releaseParser(): void;
}

function stateOf(conn: Connection): ConnEvents {
  return conn.data as ConnEvents;
}

/** The connection engine of one server, without a listener (tests drive it over in-memory pairs). @internal */
export interface Engine {
  handlers: ConnectionHandlers;
  registry: ConnRegistry;
  counters: Counters;
  config: EngineConfig;
  /** Advance the engine's clock and check every deadline. */
  sweep(now?: number): void;
  /** Start graceful shutdown on every connection. */
  shutdown(): void;
  closing: boolean;
}

/** `options.http2` as the engine keeps it: null when off. */
function resolveHttp2(h2: ServerOptions['http2']): EngineConfig['http2'] {
  if (h2 === false) return null;
  if (h2 === undefined || h2 === true) return { limits: undefined };
  if (typeof h2 !== 'object' || h2 === null)
    throw new ServerError(ServerErrorCode.INVALID_OPTION, 'http2 must be a boolean or { limits }');
  // Checked now, so a bad limit fails createServer, not the first HTTP/2 connection.
  resolveHttp2Limits(h2.limits);
  return { limits: h2.limits };
}

/** Build the engine for `options` (validated). @internal */
export function createEngine(options: ServerOptions): Engine {
  if (typeof options?.handler !== 'function') {
    throw new ServerError(ServerErrorCode.INVALID_OPTION, 'createServer: options.handler must be a function');
  }
  const expect = options.expectContinue ?? 'auto';
  if (expect !== 'auto' && expect !== 'handler') {
    throw new ServerError(ServerErrorCode.INVALID_OPTION, "expectContinue must be 'auto' or 'handler'");
  }
  const limits = resolveLimits(options.limits);
  const protocols = options.upgradeProtocols;
  if (protocols !== undefined && !Array.isArray(protocols)) {
    throw new ServerError(
      ServerErrorCode.INVALID_OPTION,
      'upgradeProtocols must be an array of protocol names',
    );
  }
  const config: EngineConfig = {
    handler: options.handler,
    onUpgrade: options.onUpgrade ?? null,
    upgradeProtocols: upgradeSet(protocols),
    allowHalfOpen: options.allowHalfOpen === true,
    onError: options.onError ?? null,
    onResponse: options.onResponse ?? null,
    limits,
    bodyLimit: limits.maxBodyBytes === 0 ? Number.POSITIVE_INFINITY : limits.maxBodyBytes,
    timeouts: resolveTimeouts(options.timeouts),
    autoContinue: expect === 'auto',
    trust: compileTrust(options.trustProxy),
    parsers: new ParserPool(limits),
    http2: resolveHttp2(options.http2),
  };
  const registry = new ConnRegistry();
  const clock = { now: Date.now() };
  const counters = new Counters();
  const engine: Engine = {
    handlers: {
      onOpen(conn) {
        if (config.http2 !== null && conn.alpnProtocol === 'h2') {
          const session = new H2Session(conn, config, registry, clock, counters, config.http2.limits);
          conn.data = session;
          registry.add(session);
          if (engine.closing) session.shutdown();
          return;
        }
        const state = new ConnState(conn, config, registry, clock, counters);
        conn.data = state;
        registry.add(state);
        if (engine.closing) state.shutdown();
      },
      onData(conn, chunk) {
        stateOf(conn).onData(chunk);
      },
      onDrain(conn) {
        stateOf(conn).onDrain();
      },
      onEnd(conn) {
        stateOf(conn).onEnd();
      },
      onClosing(conn) {
        stateOf(conn).shutdown();
      },
      onClose(conn) {
        const s = conn.data as ConnEvents | null | undefined;
        if (s != null) {
          s.onClose();
          s.releaseParser();
        }
      },
    },
    registry,
    counters,
    config,
    closing: false,
    sweep(now = Date.now()) {
      clock.now = now;
      for (const state of registry.toArray()) state.sweep(now);
    },
    shutdown() {
      engine.closing = true;
      for (const state of registry.toArray()) state.shutdown();
    },
  };
  return engine;
}

/**
 * Create an HTTP/1.1 server over `@strata/transport`.
 *
 * @example
 * ```ts
 * import { createServer } from '@strata/server';
 * const server = createServer({ handler(req, res) { res.header('content-type', 'text/plain').send('Hello'); } });
 * const addr = await server.listen({ host: '127.0.0.1', port: 3000 });
 * process.on('SIGTERM', () => server.close({ deadline: 10_000 }));
 * ```
 */
export function createServer(options: ServerOptions): Server {
  const engine = createEngine(options);
  const { handlers, counters, config } = engine;
  let listener: Listener | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;

  const sweep = () => engine.sweep();

  return {
    async listen(listenOptions = {}) {
      if (listener !== null)
        throw new ServerError(ServerErrorCode.INVALID_STATE, 'server is already listening');
      const opts: ListenOptions = { ...listenOptions };
      if (opts.tls === undefined && options.tls !== undefined) opts.tls = options.tls;
      // Over TLS the server names its protocols in ALPN (h2 first, then http/1.1), as node:https does (curl, openssl and
      // strict clients otherwise see no protocol agreed).
      if (opts.tls) opts.tls = withAlpnDefault(opts.tls, config.http2 !== null);
      // The client address is read when a handler (or the access log) first asks for it.
      if (opts.lazyRemoteAddress === undefined) opts.lazyRemoteAddress = true;
      listener = await listen(opts, handlers);
      engine.sweep();
      timer = setInterval(sweep, sweepInterval(config.timeouts));
      timer.unref();
      return listener.address();
    },
    async close(closeOptions = {}) {
      if (listener === null) throw new ServerError(ServerErrorCode.INVALID_STATE, 'server is not listening');
      const done = listener.close(
        closeOptions.deadline === undefined ? {} : { deadline: closeOptions.deadline },
      );
      engine.shutdown();
      try {
        await done;
      } finally {
        if (timer !== null) clearInterval(timer);
        timer = null;
      }
    },
    address() {
      if (listener === null) throw new ServerError(ServerErrorCode.INVALID_STATE, 'server is not listening');
      return listener.address();
    },
    stats() {
      const t = listener?.stats();
      const byStatus: Record<string, number> = {};
      let errors = 0;
      const b = counters.byStatus;
      for (let i = 100; i < 600; i++) {
        const n = b[i]!;
        if (n === 0) continue;
        byStatus[String(i)] = n;
        if (i >= 400) errors += n;
      }
      return {
        connections: t?.open ?? 0,
        totalConnections: t?.total ?? 0,
        requests: counters.requests,
        responses: counters.responses,
        byStatus,
        errors,
        aborted: counters.aborted,
        timedOut: counters.timedOut,
        rejected: counters.rejected,
        bytesIn: t?.bytesIn ?? 0,
        bytesOut: t?.bytesOut ?? 0,
      };
    },
  };
}
