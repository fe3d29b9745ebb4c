import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { UpgradeRequest } from './_handshake';

/**
 * Handlers this package installs on a connection after the upgrade (the same shape as
 * `@strata/transport`'s `ConnectionHandlers`). `chunk` is only read during the call.
 */
export interface WebSocketConnectionHandlers {
  onData(conn: unknown, chunk: Uint8Array): void;
  onDrain?(conn: unknown): void;
  onEnd?(conn: unknown): void;
  onTimeout?(conn: unknown): void;
  onClose?(conn: unknown, error?: Error): void;
}

/**
 * The byte stream a WebSocket runs on: a structural subset of `@strata/transport`'s `Connection`
 * (which satisfies it without importing this package). {@link fromNodeSocket} adapts a `node:net`
 * or `node:tls` socket.
 */
export interface WebSocketConnection {
  /** false => queued above the connection's high-water mark; wait for `onDrain`. */
  write(data: Uint8Array | string): boolean;
  cork(): void;
  uncork(): void;
  /** Flush, then half-close. */
  end(data?: Uint8Array | string): void;
  destroy(error?: Error): void;
  pause(): void;
  resume(): void;
  /** Replace the connection's owner (called once by the upgrade). */
  setHandlers(handlers: WebSocketConnectionHandlers): void;
  /** Bytes queued, not yet handed to the kernel. */
  readonly writableLength: number;
  /** Optional: the upgrade disables any idle timeout (the heartbeat takes over). */
  setIdleTimeout?(ms: number): void;
}

/**
 * Adapts a `node:net`/`node:tls` socket to {@link WebSocketConnection} (for the client, and for
 * servers built on `node:http`'s `'upgrade'` event).
 *
 * @example
 * httpServer.on('upgrade', (req, socket, head) =>
 *   wss.handleUpgrade(fromNodeRequest(req), fromNodeSocket(socket), head));
 */
export function fromNodeSocket(socket: Socket): WebSocketConnection {
  let handlers: WebSocketConnectionHandlers | null = null;
  let error: Error | undefined;
  // cork() collects writes and uncork() sends them in ONE socket write (Node's own cork would
  // send them as a writev, slower for the few small frames of one read). The buffers are kept by
  // reference until then: the sender hands over buffers it never reuses.
  let depth = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  /** A corked write returned false: an onDrain is owed even if the flush leaves nothing queued. */
  let owed = false;
  const emitOwed = (): void => {
    if (!owed || socket.destroyed || socket.writableNeedDrain) return;
    owed = false;
    handlers?.onDrain?.(conn);
  };
  const flush = (): void => {
    const n = batch.length;
    if (n === 0) return;
    const out = n === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    socket.write(out);
    // the kernel took it all: Node emits no 'drain', so the owed one is delivered on the next tick
    if (owed && !socket.writableNeedDrain) process.nextTick(emitOwed);
  };
  socket.setNoDelay(true);
  socket.setTimeout(0);
  const conn: WebSocketConnection = {
    write: (data) => {
      if (depth === 0) return socket.write(data);
      const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      batch.push(b);
      batchBytes += b.length;
      if (socket.writableLength + batchBytes < socket.writableHighWaterMark) return true;
      owed = true;
      return false;
    },
    cork: () => {
      depth++;
    },
    uncork: () => {
      if (depth > 0 && --depth === 0) flush();
    },
    end: (data) => {
      depth = 0;
      flush();
      if (data === undefined) socket.end();
      else socket.end(data);
    },
    destroy: (err) => {
      batch = [];
      batchBytes = 0;
      depth = 0;
      socket.destroy(err);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    setHandlers: (h) => {
      handlers = h;
    },
    get writableLength() {
      return socket.writableLength + batchBytes;
    },
  };
  socket.on('data', (chunk: Buffer) => handlers?.onData(conn, chunk));
  socket.on('drain', () => {
    owed = false;
    handlers?.onDrain?.(conn);
  });
  socket.on('end', () => handlers?.onEnd?.(conn));
  socket.on('error', (err) => {
    error = err;
  });
  socket.on('close', () => handlers?.onClose?.(conn, error));
  return conn;
}

/** Adapts a `node:http` `IncomingMessage` to {@link UpgradeRequest}. */
export function fromNodeRequest(req: IncomingMessage): UpgradeRequest {
  return {
    method: req.method ?? '',
    httpVersion: req.httpVersion,
    url: req.url ?? '',
    rawHeaders: req.rawHeaders,
    header(name: string): string | undefined {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
  };
}
