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
  socket.setNoDelay(true);
  socket.setTimeout(0);
  const conn: WebSocketConnection = {
    write: (data) => socket.write(data),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    end: (data) => {
      if (data === undefined) socket.end();
      else socket.end(data);
    },
    destroy: (err) => socket.destroy(err),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    setHandlers: (h) => {
      handlers = h;
    },
    get writableLength() {
      return socket.writableLength;
    },
  };
  socket.on('data', (chunk: Buffer) => handlers?.onData(conn, chunk));
  socket.on('drain', () => handlers?.onDrain?.(conn));
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
