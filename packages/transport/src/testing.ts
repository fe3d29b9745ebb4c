/**
 * `@strata/transport/testing`: an in-memory connection pair with the same `Connection` interface as
 * a socket, so engines built on the transport are testable without sockets.
 *
 * Bytes written on one side reach the other side's `onData` on a later macrotask (like a socket),
 * copied at write time (like the kernel does). Backpressure, cork batches, pause/resume, half-close,
 * destroy and idle timeouts behave as on a socket. Two test aids make bugs visible:
 * - `poisonChunks` (default true) overwrites each chunk after `onData` returns, so code that keeps a
 *   view past the call reads garbage instead of passing by luck;
 * - `maxChunk` splits deliveries into pieces of at most that many bytes (1 = byte by byte).
 *
 * @example
 * ```ts
 * import { createConnectionPair } from '@strata/transport/testing';
 *
 * const { client } = createConnectionPair(engineHandlers, { maxChunk: 1 });
 * client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
 * await client.settle();
 * expect(client.receivedText()).toMatch(/^HTTP\/1.1 200/);
 * ```
 *
 * @packageDocumentation
 */
import { TransportError, TransportErrorCode } from './_errors';
import type { ProxyHeader } from './_proxy';
import type { Connection, ConnectionHandlers } from './_types';

/** Addresses one side of a pair reports. */
export interface MemoryEndpoint {
  address?: string;
  port?: number;
}

/** Options of {@link createConnectionPair}. */
export interface ConnectionPairOptions {
  /** Bytes a side may have in flight before `write()` returns false. Default 16 384. */
  highWaterMark?: number;
  /** Overwrite every delivered chunk with 0xEE after `onData` returns. Default true. */
  poisonChunks?: boolean;
  /** Split deliveries into pieces of at most this many bytes (1 = byte by byte). Default: no split. */
  maxChunk?: number;
  /** Report the server side as encrypted (TLS). Default false. */
  encrypted?: boolean;
  /** Idle timeout of the server side in ms (0 = none). Default 0. */
  idleTimeout?: number;
  /** The client's address as seen by the server side. Default 127.0.0.1:50000. */
  client?: MemoryEndpoint;
  /** The server's address as seen by the client side. Default 127.0.0.1:8080. */
  server?: MemoryEndpoint;
}

/** The two ends of an in-memory connection. */
export interface ConnectionPair {
  /** The side handed to the engine under test (its handlers are the ones passed in). */
  server: MemoryConnection;
  /** The peer a test drives; it records what it receives (see `receivedText()`). */
  client: MemoryConnection;
}

let nextId = 1_000_000_000;
const noopHandlers: ConnectionHandlers = { onData() {} };

/** One side of an in-memory pair. Implements `Connection` plus test helpers. */
export class MemoryConnection implements Connection {
  readonly id: number;
  data: unknown = undefined;
  idle = false;
  readonly proxy: ProxyHeader | null = null;
  readonly encrypted: boolean;
  /** False: chunks are poisoned after `onData` returns (see `poisonChunks`), so owners copy them. */
  readonly stableChunks = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Number of `write()` calls that were accepted. */
  writes = 0;
  /** Number of separate chunks sent to the peer (one per unbatched write or per cork batch). */
  flushes = 0;
  /** True once the peer half-closed (after its FIN was delivered). */
  peerEnded = false;
  /** The error this side closed with, if any. */
  closeError: Error | undefined = undefined;
  private peer!: MemoryConnection;
  private handlers: ConnectionHandlers;
  private readonly hwm: number;
  private readonly poison: boolean;
  private readonly maxChunk: number;
  private readonly inbound: Uint8Array[] = [];
  private inboundBytes = 0;
  private finPending = false;
  private pumpScheduled = false;
  private corkDepth = 0;
  private corked: Uint8Array[] = [];
  private corkedBytes = 0;
  private needDrain = false;
  private ended = false;
  private isClosed = false;
  private paused = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly received: Uint8Array[] = [];
  private readonly closeWaiters: Array<(err: Error | undefined) => void> = [];

  /** @internal use {@link createConnectionPair}. */
  constructor(
    handlers: ConnectionHandlers,
    local: Required<MemoryEndpoint>,
    remote: Required<MemoryEndpoint>,
    encrypted: boolean,
    opts: { hwm: number; poison: boolean; maxChunk: number },
  ) {
    this.id = nextId++;
    this.handlers = handlers;
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.encrypted = encrypted;
    this.hwm = opts.hwm;
    this.poison = opts.poison;
    this.maxChunk = opts.maxChunk;
  }

  /** @internal */
  link(peer: MemoryConnection): void {
    this.peer = peer;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get writableLength(): number {
    return this.peer.inboundBytes + this.corkedBytes;
  }

  write(data: Uint8Array | string): boolean {
    if (this.ended || this.isClosed) return false;
    const bytes =
      typeof data === 'string' ? Buffer.from(data, 'utf8') : Uint8Array.prototype.slice.call(data);
    this.writes++;
    this.touch();
    if (this.corkDepth > 0) {
      this.corked.push(bytes);
      this.corkedBytes += bytes.length;
    } else {
      this.send(bytes);
    }
    const ok = this.writableLength < this.hwm;
    if (!ok) this.needDrain = true;
    return ok;
  }

  cork(): void {
    this.corkDepth++;
  }

  uncork(): void {
    if (this.corkDepth === 0 || --this.corkDepth > 0) return;
    this.flushCork();
  }

  end(data?: Uint8Array | string): void {
    if (this.ended || this.isClosed) return;
    if (data !== undefined) this.write(data);
    this.corkDepth = 0;
    this.flushCork();
    this.ended = true;
    this.peer.finPending = true;
    this.peer.schedule();
  }

  destroy(error?: Error): void {
    if (this.isClosed) return;
    this.finish(error);
    this.peer.finish(new TransportError(TransportErrorCode.PEER_RESET, 'peer destroyed the connection'));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.schedule();
  }

  setIdleTimeout(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (ms > 0 && !this.isClosed) {
      this.timer = setTimeout(onIdleTimer, ms, this);
      this.timer.unref();
    }
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
  }

  /** Everything this side has received so far (copies, unaffected by poisoning). */
  receivedBytes(): Uint8Array {
    return Buffer.concat(this.received);
  }

  /** {@link receivedBytes} decoded as UTF-8. */
  receivedText(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  /** Resolves once nothing is in flight in either direction (bounded: rejects after 10 000 turns). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      await new Promise<void>((r) => setImmediate(r));
      if (!this.busy() && !this.peer.busy()) return;
    }
    throw new Error('memory pair did not settle');
  }

  /** Resolves with the close error (or undefined) once this side is closed. */
  whenClosed(): Promise<Error | undefined> {
    if (this.isClosed) return Promise.resolve(this.closeError);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** @internal */
  onIdle(): void {
    if (this.isClosed) return;
    const h = this.handlers;
    if (h.onTimeout !== undefined) h.onTimeout(this);
    else this.destroy(new TransportError(TransportErrorCode.IDLE_TIMEOUT, 'connection idle timeout'));
  }

  private busy(): boolean {
    if (this.isClosed) return false;
    return this.pumpScheduled || (!this.paused && (this.inbound.length > 0 || this.finPending));
  }

  private touch(): void {
    if (this.timer !== null) this.timer.refresh();
  }

  private flushCork(): void {
    if (this.corked.length === 0) return;
    const batch = this.corked.length === 1 ? this.corked[0]! : Buffer.concat(this.corked);
    this.corked = [];
    this.corkedBytes = 0;
    this.send(batch);
  }

  private send(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.flushes++;
    const p = this.peer;
    p.inbound.push(bytes);
    p.inboundBytes += bytes.length;
    p.schedule();
  }

  /** @internal */
  schedule(): void {
    if (this.pumpScheduled || this.isClosed) return;
    this.pumpScheduled = true;
    setImmediate(pumpMemory, this);
  }

  /** @internal deliver queued bytes, then a pending FIN. */
  pump(): void {
    this.pumpScheduled = false;
    while (!this.paused && !this.isClosed && this.inbound.length > 0) {
      let chunk = this.inbound[0]!;
      if (chunk.length > this.maxChunk) {
        this.inbound[0] = chunk.subarray(this.maxChunk);
        chunk = chunk.subarray(0, this.maxChunk);
      } else {
        this.inbound.shift();
      }
      this.inboundBytes -= chunk.length;
      this.received.push(Buffer.from(chunk));
      this.touch();
      this.handlers.onData(this, chunk);
      if (this.poison) chunk.fill(0xee);
      this.peer.maybeDrain();
    }
    if (!this.paused && !this.isClosed && this.inbound.length === 0 && this.finPending) {
      this.finPending = false;
      this.peerEnded = true;
      const h = this.handlers;
      if (h.onEnd !== undefined) h.onEnd(this);
      else this.end();
    }
    if (this.peerEnded && this.ended && !this.isClosed && this.peer.ended && this.peer.inbound.length === 0) {
      // Both directions finished: the connection closes cleanly on both sides.
      const peer = this.peer;
      this.finish(undefined);
      if (!peer.finPending) peer.finish(undefined);
    }
  }

  /** @internal */
  maybeDrain(): void {
    if (!this.needDrain || this.isClosed || this.writableLength >= this.hwm) return;
    this.needDrain = false;
    this.handlers.onDrain?.(this);
  }

  /** @internal */
  finish(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ended = true;
    this.closeError = error;
    this.inbound.length = 0;
    this.inboundBytes = 0;
    this.corked = [];
    this.corkedBytes = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    process.nextTick(emitMemoryClose, this);
  }

  /** @internal */
  emitClose(): void {
    this.handlers.onClose?.(this, this.closeError);
    for (const w of this.closeWaiters.splice(0)) w(this.closeError);
  }
}

function pumpMemory(conn: MemoryConnection): void {
  conn.pump();
}

function onIdleTimer(conn: MemoryConnection): void {
  conn.onIdle();
}

function emitMemoryClose(conn: MemoryConnection): void {
  conn.emitClose();
}

/**
 * Create a connected in-memory pair. `handlers` (the engine under test) own the `server` side and
 * get `onOpen(server)` synchronously; the `client` side records what it receives and, unless
 * `clientHandlers` are given, ignores it.
 */
export function createConnectionPair(
  handlers: ConnectionHandlers,
  options: ConnectionPairOptions = {},
  clientHandlers: ConnectionHandlers = noopHandlers,
): ConnectionPair {
  const opts = {
    hwm: options.highWaterMark ?? 16_384,
    poison: options.poisonChunks ?? true,
    maxChunk:
      options.maxChunk !== undefined && options.maxChunk > 0 ? options.maxChunk : Number.POSITIVE_INFINITY,
  };
  const clientEnd = { address: options.client?.address ?? '127.0.0.1', port: options.client?.port ?? 50_000 };
  const serverEnd = { address: options.server?.address ?? '127.0.0.1', port: options.server?.port ?? 8080 };
  const server = new MemoryConnection(handlers, serverEnd, clientEnd, options.encrypted ?? false, opts);
  const client = new MemoryConnection(clientHandlers, clientEnd, serverEnd, options.encrypted ?? false, opts);
  server.link(client);
  client.link(server);
  if (options.idleTimeout !== undefined && options.idleTimeout > 0)
    server.setIdleTimeout(options.idleTimeout);
  handlers.onOpen?.(server);
  clientHandlers.onOpen?.(client);
  return { server, client };
}
