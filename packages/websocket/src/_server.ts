import { EventEmitter } from 'node:events';
import type { WebSocketConnection } from './_connection';
import {
  CloseCode,
  DEFAULT_CLOSE_DEADLINE,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_PAYLOAD,
  Opcode,
  ReadyState,
  SendStatus,
  WebSocketError,
  WebSocketErrorCode,
} from './_constants';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_THRESHOLD,
  formatDeflateParams,
  PerMessageDeflate,
  type PerMessageDeflateOptions,
  ZlibLimiter,
} from './_deflate';
import { encodeFrame } from './_frame';
import { errorResponse, negotiate, type UpgradeRequest } from './_handshake';
import type { PubSubBackend } from './_pubsub';
import {
  DEFAULT_BACKPRESSURE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  type SlowClientPolicy,
} from './_sender';
import { type SocketOptions, type SocketOwner, WebSocket } from './_websocket';

/** Options of {@link WebSocketServer}. Every limit has a default. */
export interface WebSocketServerOptions {
  /** Largest message accepted, in bytes (after inflation). Default 16 MiB; over it: close 1009. */
  maxPayload?: number;
  /** permessage-deflate: false (default) or settings (`true` = defaults). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Choose a subprotocol from the client's list, or false for none. Default: none. */
  handleProtocols?: (protocols: string[], req: UpgradeRequest) => string | false;
  /** Accept or refuse (403) the `Origin` header value. Default: every origin. */
  verifyOrigin?: (origin: string | undefined, req: UpgradeRequest) => boolean;
  /** ms between heartbeat pings; a peer silent for a whole interval is dropped. 0 disables. Default 30000. */
  heartbeatInterval?: number;
  /** ms to wait for the closing handshake before destroying the connection. Default 5000. */
  closeTimeout?: number;
  /**
   * Unsent bytes per connection above which `send()` returns `BACKPRESSURE` (a `'drain'` follows)
   * and the connection stops reading until the peer catches up. Default 64 KiB.
   */
  highWaterMark?: number;
  /** ms a connection may stay above `highWaterMark` before it is closed 1008. 0 disables. Default 30000. */
  backpressureTimeout?: number;
  /** Unsent bytes per connection before the slow-client policy applies. Default 8 MiB. */
  maxBufferedAmount?: number;
  /** 'close' (default): destroy a connection over `maxBufferedAmount`; 'drop': skip its messages. */
  slowClientPolicy?: SlowClientPolicy;
  /**
   * Carries `publish()` to the subscribers of other processes and delivers theirs here (see
   * {@link PubSubBackend}): `clusterPubSub()` of `@strata/transport/cluster` across the workers of
   * one machine, `redisPubSub()` of `@strata/websocket/redis` across machines. One backend per
   * server; `close()` closes it. Default: none (publish reaches this process's sockets only).
   */
  pubsub?: PubSubBackend;
}

/** Events of a {@link WebSocketServer}. */
export interface WebSocketServerEvents {
  connection: [ws: WebSocket, req: UpgradeRequest];
  /** A handshake was refused (the error response was already written). */
  rejected: [err: WebSocketError, req: UpgradeRequest];
}

/** Options of {@link WebSocketServer.publish}. */
export interface PublishOptions {
  /** Send as a binary message. Default: binary for a `Uint8Array`, text for a string. */
  binary?: boolean;
  /** A socket of this process that must not receive it (typically the sender). */
  except?: WebSocket;
  /** Deliver to this process's subscribers only: do not hand it to the `pubsub` backend. */
  local?: boolean;
}

/**
 * Accepts upgraded connections, tracks clients, runs the heartbeat and publish/subscribe.
 *
 * @example
 * const wss = new WebSocketServer({ perMessageDeflate: true });
 * wss.on('connection', (ws) => ws.on('message', (m, bin) => ws.send(m, { binary: bin })));
 * createServer({ handler, onUpgrade: (req, conn, head) => wss.handleUpgrade(req, conn, head) });
 */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> implements SocketOwner {
  /** Open (and closing) connections. */
  readonly clients = new Set<WebSocket>();
  private readonly socketOptions: SocketOptions;
  private readonly deflateOptions: PerMessageDeflateOptions | null;
  private readonly limiter: ZlibLimiter;
  private readonly topics = new Map<string, Set<WebSocket>>();
  private readonly heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly options: WebSocketServerOptions;
  private readonly pubsub: PubSubBackend | null;
  private pubsubClosed: Promise<void> | null = null;
  private closing = false;
  private closeWaiters: Array<() => void> = [];

  constructor(options: WebSocketServerOptions = {}) {
    super();
    this.options = options;
    this.pubsub = options.pubsub ?? null;
    // Messages from other processes: to this process's subscribers, never back to the backend.
    this.pubsub?.onMessage((topic, data, binary) => {
      this.deliver(topic, data, binary, undefined);
    });
    this.socketOptions = {
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      backpressureTimeout: options.backpressureTimeout ?? DEFAULT_BACKPRESSURE_TIMEOUT,
      maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
      slowClientPolicy: options.slowClientPolicy ?? 'close',
    };
    const pmd = options.perMessageDeflate;
    this.deflateOptions = pmd === true ? {} : pmd === false || pmd === undefined ? null : pmd;
    this.limiter = new ZlibLimiter(this.deflateOptions?.concurrency ?? DEFAULT_CONCURRENCY);
    const interval = options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
    if (interval > 0) {
      this.heartbeat = setInterval(() => this.tick(), interval);
      this.heartbeat.unref?.();
    }
  }

  /**
   * Completes (101) or refuses (4xx, written here, then the connection is ended) the upgrade of
   * `conn`. `head` holds bytes that arrived after the request head. Returns the socket, or null.
   */
  handleUpgrade(req: UpgradeRequest, conn: WebSocketConnection, head?: Uint8Array): WebSocket | null {
    if (this.closing) {
      const err = new WebSocketError(WebSocketErrorCode.SHUTTING_DOWN, 'server is shutting down');
      conn.end(errorResponse(err));
      this.emit('rejected', err, req);
      return null;
    }
    let result: ReturnType<typeof negotiate>;
    try {
      result = negotiate(req, {
        perMessageDeflate: this.deflateOptions,
        handleProtocols: this.options.handleProtocols,
        verifyOrigin: this.options.verifyOrigin,
      });
    } catch (e) {
      const err =
        e instanceof WebSocketError ? e : new WebSocketError(WebSocketErrorCode.INTERNAL, String(e));
      conn.end(errorResponse(err));
      if (this.listenerCount('rejected') > 0) this.emit('rejected', err, req);
      return null;
    }
    const deflate =
      result.deflate !== null
        ? new PerMessageDeflate(result.deflate, true, this.deflateOptions!, this.limiter)
        : null;
    conn.write(result.response);
    const ws = new WebSocket(
      conn,
      true,
      this.socketOptions,
      result.protocol,
      result.deflate !== null ? formatDeflateParams(result.deflate) : '',
      deflate,
      this.deflateOptions?.threshold ?? DEFAULT_THRESHOLD,
      this,
    );
    this.clients.add(ws);
    this.emit('connection', ws, req);
    if (head !== undefined && head.length > 0 && ws.readyState === ReadyState.OPEN) ws.onData(head);
    return ws;
  }

  /** Subscribes `ws` to `topic` (the first subscriber of a topic tells the `pubsub` backend). */
  subscribe(ws: WebSocket, topic: string): void {
    if (ws.readyState !== ReadyState.OPEN) return;
    let set = this.topics.get(topic);
    if (set === undefined) {
      this.topics.set(topic, (set = new Set()));
      this.pubsub?.subscribe(topic);
    }
    set.add(ws);
    (ws.topics ??= new Set()).add(topic);
  }

  /** Unsubscribes `ws` from `topic` (the last one leaving tells the `pubsub` backend). */
  unsubscribe(ws: WebSocket, topic: string): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    set.delete(ws);
    ws.topics?.delete(topic);
    if (set.size === 0) this.dropTopic(topic);
  }

  private dropTopic(topic: string): void {
    this.topics.delete(topic);
    this.pubsub?.unsubscribe(topic);
  }

  /** Number of subscribers of `topic`. */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /**
   * Sends one message to every subscriber of `topic`. The frame is encoded once and the same buffer
   * is written to every socket (uncompressed: RFC 7692 allows any message to skip compression).
   * Slow subscribers get the slow-client policy. With a `pubsub` backend the message is also
   * handed to it, after the local writes, for the subscribers of other processes (unless `local`);
   * `except` applies to this process only. Returns how many local sockets it was written to: the
   * other processes' deliveries happen later and are not counted.
   */
  publish(topic: string, data: string | Uint8Array, options?: PublishOptions): number {
    const binary = options?.binary ?? typeof data !== 'string';
    const n = this.deliver(topic, data, binary, options?.except);
    if (this.pubsub !== null && this.pubsubClosed === null && options?.local !== true) {
      this.pubsub.publish(topic, data, binary);
    }
    return n;
  }

  /** Writes one message to this process's subscribers of `topic`; returns how many took it. */
  private deliver(
    topic: string,
    data: string | Uint8Array,
    binary: boolean,
    except: WebSocket | undefined,
  ): number {
    const set = this.topics.get(topic);
    if (set === undefined) return 0;
    const frame = encodeFrame(binary ? Opcode.BINARY : Opcode.TEXT, data, true, false, false);
    let n = 0;
    for (const ws of set) {
      if (ws !== except && ws.writeFrame(frame) !== SendStatus.DROPPED) n++;
    }
    return n;
  }

  /** @internal */
  onSocketClose(ws: WebSocket): void {
    this.clients.delete(ws);
    if (ws.topics !== null) {
      for (const t of ws.topics) {
        const set = this.topics.get(t);
        if (set === undefined) continue;
        set.delete(ws);
        if (set.size === 0) this.dropTopic(t);
      }
      ws.topics = null;
    }
    if (this.closing && this.clients.size === 0) {
      const w = this.closeWaiters;
      this.closeWaiters = [];
      for (const f of w) f();
    }
  }

  private tick(): void {
    for (const ws of this.clients) {
      if (!ws.alive) {
        ws.error ??= new WebSocketError(
          WebSocketErrorCode.HEARTBEAT,
          'no pong within the heartbeat interval',
        );
        ws.terminate();
        continue;
      }
      ws.alive = false;
      ws.ping();
    }
  }

  /**
   * Stops accepting upgrades and closes every connection with 1001 (going away). Connections that
   * have not finished the closing handshake by `deadline` ms (default 5000) are destroyed. Then
   * the `pubsub` backend is closed (what the sockets published while closing still went out).
   */
  close(options?: { deadline?: number }): Promise<void> {
    this.closing = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    for (const ws of this.clients) ws.close(CloseCode.GOING_AWAY, 'server shutting down');
    if (this.clients.size === 0) return this.closePubSub();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.clients) ws.terminate();
      }, options?.deadline ?? DEFAULT_CLOSE_DEADLINE);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => this.closePubSub());
  }

  /** Closes the backend once; later publishes stay local. */
  private closePubSub(): Promise<void> {
    if (this.pubsubClosed === null) {
      const backend = this.pubsub;
      this.pubsubClosed =
        backend === null || backend.close === undefined
          ? Promise.resolve()
          : Promise.resolve()
              .then(() => backend.close?.())
              .then(() => undefined);
    }
    return this.pubsubClosed;
  }
}
