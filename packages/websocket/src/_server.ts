import { EventEmitter } from 'node:events';
import type { WebSocketConnection } from './_connection';
import { CloseCode, Opcode, ReadyState, SendStatus, WebSocketError, WebSocketErrorCode } from './_constants';
import {
  formatDeflateParams,
  PerMessageDeflate,
  type PerMessageDeflateOptions,
  ZlibLimiter,
} from './_deflate';
import { encodeFrame } from './_frame';
import { errorResponse, negotiate, type UpgradeRequest } from './_handshake';
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
}

/** Events of a {@link WebSocketServer}. */
export interface WebSocketServerEvents {
  connection: [ws: WebSocket, req: UpgradeRequest];
  /** A handshake was refused (the error response was already written). */
  rejected: [err: WebSocketError, req: UpgradeRequest];
}

/** Options of {@link WebSocketServer.publish}. */
export interface PublishOptions {
  binary?: boolean;
  /** A socket that must not receive it (typically the sender). */
  except?: WebSocket;
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
  private closing = false;
  private closeWaiters: Array<() => void> = [];

  constructor(options: WebSocketServerOptions = {}) {
    super();
    this.options = options;
    this.socketOptions = {
      maxPayload: options.maxPayload ?? 16 * 1024 * 1024,
      closeTimeout: options.closeTimeout ?? 5000,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      backpressureTimeout: options.backpressureTimeout ?? DEFAULT_BACKPRESSURE_TIMEOUT,
      maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
      slowClientPolicy: options.slowClientPolicy ?? 'close',
    };
    const pmd = options.perMessageDeflate;
    this.deflateOptions = pmd === true ? {} : pmd === false || pmd === undefined ? null : pmd;
    this.limiter = new ZlibLimiter(this.deflateOptions?.concurrency ?? 10);
    const interval = options.heartbeatInterval ?? 30_000;
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
      this.deflateOptions?.threshold ?? 1024,
      this,
    );
    this.clients.add(ws);
    this.emit('connection', ws, req);
    if (head !== undefined && head.length > 0 && ws.readyState === ReadyState.OPEN) ws.onData(head);
    return ws;
  }

  /** Subscribes `ws` to `topic`. */
  subscribe(ws: WebSocket, topic: string): void {
    if (ws.readyState !== ReadyState.OPEN) return;
    let set = this.topics.get(topic);
    if (set === undefined) this.topics.set(topic, (set = new Set()));
    set.add(ws);
    (ws.topics ??= new Set()).add(topic);
  }

  /** Unsubscribes `ws` from `topic`. */
  unsubscribe(ws: WebSocket, topic: string): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    set.delete(ws);
    ws.topics?.delete(topic);
    if (set.size === 0) this.topics.delete(topic);
  }

  /** Number of subscribers of `topic`. */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /**
   * Sends one message to every subscriber of `topic`. The frame is encoded once and the same buffer
   * is written to every socket (uncompressed: RFC 7692 allows any message to skip compression).
   * Slow subscribers get the slow-client policy. Returns how many sockets it was written to.
   */
  publish(topic: string, data: string | Uint8Array, options?: PublishOptions): number {
    const set = this.topics.get(topic);
    if (set === undefined) return 0;
    const opcode = (options?.binary ?? typeof data !== 'string') ? Opcode.BINARY : Opcode.TEXT;
    const frame = encodeFrame(opcode, data, true, false, false);
    const except = options?.except;
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
        if (set.size === 0) this.topics.delete(t);
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
   * have not finished the closing handshake by `deadline` ms (default 5000) are destroyed.
   */
  close(options?: { deadline?: number }): Promise<void> {
    this.closing = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    for (const ws of this.clients) ws.close(CloseCode.GOING_AWAY, 'server shutting down');
    if (this.clients.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.clients) ws.terminate();
      }, options?.deadline ?? 5000);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
