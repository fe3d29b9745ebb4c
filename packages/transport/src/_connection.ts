import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  closeChannel,
  dataChannel,
  openChannel,
  tlsDetails,
} from './_diagnostics';
import { TransportError, TransportErrorCode } from './_errors';
import { POOL_COPY_LIMIT, POOL_SLAB_SIZE, pool, poolReserve } from './_pool';
import type { ProxyHeader } from './_proxy';
import type { Connection, ConnectionHandlers } from './_types';

/** What a connection reports back to the listener that owns it. */
export interface ConnectionOwner {
  readonly closing: boolean;
  connectionClosed(conn: SocketConnection): void;
}

/** Property on the socket that points back at its connection (no per-connection closures). */
const kConn = Symbol('strata.connection');
type OwnedSocket = Socket & { [kConn]?: SocketConnection };

/**
 * Cork batches are written as one contiguous piece: one `write` syscall per batch, cheaper than
 * `writev` of many small pieces. Strings are kept as written (a V8 rope) until the batch ends or bytes
 * follow them: a batch of strings only (HTTP heads and text bodies) leaves as ONE string that Node
 * encodes once, with no copy of ours. Small byte writes are copied into the shared byte pool
 * (`_pool.ts`) at once, with any strings before them; writes of at least the pool's copy limit are
 * queued as they are (one `writev` at uncork).
 */

let nextId = 1;

/** The local end every socket of a listener shares, when it is bound to one TCP address. */
export interface LocalAddress {
  readonly address: string;
  readonly port: number;
}

/** Connection over a `node:net` or `node:tls` socket. */
export class SocketConnection implements Connection {
  readonly id: number;
  data: unknown = undefined;
  readonly encrypted: boolean;
  readonly proxy: ProxyHeader | null;
  closed = false;
  /** Node hands every read of a TCP or TLS socket its own fresh buffer: views of it may be kept. */
  readonly stableChunks = true;
  /** @internal */
  readonly socket: Socket;
  /** @internal */
  handlers: ConnectionHandlers;
  /** @internal */
  readonly owner: ConnectionOwner | null;
  /** @internal */
  error: Error | undefined = undefined;
  /** @internal */
  ended = false;
  /** @internal */
  paused = false;
  /** @internal true once a write returned false and `onDrain` is owed. */
  needDrain = false;
  private isIdle = false;
  private timeoutListener = false;
  private readonly hwm: number;
  private corkDepth = 0;
  /** Strings written inside the current cork batch, not yet encoded (they precede any later bytes). */
  private text = '';
  private segSlab: Buffer | null = null;
  private segStart = 0;
  private segEnd = 0;
  private nodeCorked = false;
  /** Peer address, read on first use (null until then): most connections never ask for it. */
  private remoteAddr: string | null = null;
  private remotePortNum = 0;
  /** The 'drain' listener is attached the first time a write returns false. */
  private drainListener = false;
  private readonly localAddr: string;
  private readonly localPortNum: number;
  /** @internal `performance.now()` at accept (for the close message's duration). */
  readonly openedAt: number;
  /** @internal Neighbours in the owning listener's list of open connections (no Set: see below). */
  prevOpen: SocketConnection | null = null;
  /** @internal */
  nextOpen: SocketConnection | null = null;

  constructor(
    socket: Socket,
    handlers: ConnectionHandlers,
    owner: ConnectionOwner | null,
    encrypted: boolean,
    proxy: ProxyHeader | null,
    idleTimeout: number,
    local: LocalAddress | null = null,
    lazyRemote = false,
  ) {
    this.id = nextId++;
    this.openedAt = performance.now();
    this.socket = socket;
    this.handlers = handlers;
    this.owner = owner;
    this.encrypted = encrypted;
    this.proxy = proxy;
    if (proxy !== null && proxy.command === 'proxy' && proxy.family !== 'unknown') {
      this.remoteAddr = proxy.sourceAddress;
      this.remotePortNum = proxy.sourcePort;
    } else if (!lazyRemote) {
      // Read now (one getpeername, cached by Node): the handle is gone once the socket closes.
      this.readPeer();
    }
    // Lazy: read on first use (a getpeername syscall plus an address object, a visible share of
    // the cost of a short connection), or at the latest when we destroy the socket ourselves.
    this.hwm = socket.writableHighWaterMark;
    if (local !== null) {
      // The listener is bound to one address: every accepted socket has it (no getsockname call).
      this.localAddr = local.address;
      this.localPortNum = local.port;
    } else {
      this.localAddr = socket.localAddress ?? '';
      this.localPortNum = socket.localPort ?? 0;
    }
    (socket as OwnedSocket)[kConn] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    if (idleTimeout > 0) this.setIdleTimeout(idleTimeout);
  }

  get idle(): boolean {
    return this.isIdle;
  }

  set idle(value: boolean) {
    this.isIdle = value;
    if (value && !this.ended && this.owner?.closing) this.end();
  }

  get writableLength(): number {
    return this.socket.writableLength + (this.segEnd - this.segStart) + this.text.length;
  }

  get remoteAddress(): string {
    return this.remoteAddr ?? this.readPeer();
  }

  get remotePort(): number {
    if (this.remoteAddr === null) this.readPeer();
    return this.remotePortNum;
  }

  /**
   * Read the peer's address and port once (Node caches them on the socket too). After the socket
   * closed without them ever being read, the handle is gone: '' and 0, like `node:net`.
   */
  private readPeer(): string {
    const s = this.socket;
    const a = s.remoteAddress ?? '';
    this.remotePortNum = s.remotePort ?? 0;
    this.remoteAddr = a;
    return a;
  }

  /** @internal a write returned false: 'drain' is owed (its listener is attached on first need). */
  oweDrain(): void {
    this.needDrain = true;
    if (!this.drainListener) {
      this.drainListener = true;
      this.socket.on('drain', onSocketDrain);
    }
  }

  get localAddress(): string {
    return this.localAddr;
  }

  get localPort(): number {
    return this.localPortNum;
  }

  /** The ALPN protocol negotiated on a TLS connection (false when none or not TLS). */
  get alpnProtocol(): string | false {
    const p = (this.socket as Socket & { alpnProtocol?: string | false | null }).alpnProtocol;
    return typeof p === 'string' ? p : false;
  }

  /** The SNI server name a TLS client asked for (false when none or not TLS). */
  get servername(): string | false {
    const s = (this.socket as Socket & { servername?: string | false | null }).servername;
    return typeof s === 'string' ? s : false;
  }

  write(data: Uint8Array | string): boolean {
    if (this.ended || this.closed) return false;
    if (this.corkDepth > 0) return this.writeCorked(data);
    const ok = this.socket.write(data);
    if (!ok) this.oweDrain();
    return ok;
  }

  cork(): void {
    this.corkDepth++;
  }

  uncork(): void {
    if (this.corkDepth === 0) return;
    if (--this.corkDepth > 0) return;
    this.flushBatch();
  }

  end(data?: Uint8Array | string): void {
    if (this.ended || this.closed) return;
    if (data !== undefined) this.write(data);
    if (this.corkDepth > 0) {
      this.corkDepth = 0;
      this.flushBatch();
    }
    this.ended = true;
    this.socket.end();
  }

  destroy(error?: Error): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.remoteAddr === null) this.readPeer(); // last chance: the handle goes with the socket
    this.segSlab = null;
    this.segStart = this.segEnd = 0;
    this.text = '';
    this.corkDepth = 0;
    this.ended = true;
    this.socket.destroy(error);
  }

  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket.resume();
  }

  setIdleTimeout(ms: number): void {
    if (this.closed) return;
    if (ms > 0 && !this.timeoutListener) {
      // Attached on first use: most connections never set a timeout (one listener less to add).
      this.timeoutListener = true;
      this.socket.on('timeout', onSocketTimeout);
    }
    this.socket.setTimeout(Math.max(ms, 0));
  }

  setHandlers(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
  }

  private writeCorked(data: Uint8Array | string): boolean {
    if (typeof data === 'string') {
      // Immutable: kept by reference (a rope) until the batch ends or bytes follow.
      this.text = this.text === '' ? data : this.text + data;
    } else {
      if (this.text !== '') this.settleText();
      if (data.length >= POOL_COPY_LIMIT) {
        this.writeDirect(data);
      } else {
        const n = data.length;
        this.reserve(n);
        pool.slab.set(data, pool.at);
        pool.at += n;
        this.segEnd = pool.at;
      }
    }
    // UTF-16 units for the pending text: close enough for a high-water mark.
    const ok = this.socket.writableLength + (this.segEnd - this.segStart) + this.text.length < this.hwm;
    if (!ok) this.oweDrain();
    return ok;
  }

  /** Encode the batch's pending strings into it, in order: into the pool, or a buffer of their own. */
  private settleText(): void {
    const t = this.text;
    this.text = '';
    const max = t.length * 3; // worst case UTF-8 expansion of UTF-16 code units
    if (max > POOL_COPY_LIMIT) {
      this.writeDirect(Buffer.from(t, 'utf8'));
    } else {
      this.reserve(max);
      pool.at += pool.slab.write(t, pool.at, 'utf8');
      this.segEnd = pool.at;
    }
  }

  /** Make room for `n` bytes at the end of this batch's slab segment. */
  private reserve(n: number): void {
    if (
      this.segSlab !== null &&
      (this.segSlab !== pool.slab || this.segEnd !== pool.at || POOL_SLAB_SIZE - pool.at < n)
    ) {
      // Another connection (or a pool copy) took the slab's next bytes, or it is full: queue what we have.
      this.queueSegment();
    }
    poolReserve(n);
    if (this.segSlab === null) {
      this.segSlab = pool.slab;
      this.segStart = this.segEnd = pool.at;
    }
  }

  /** Queue the current segment inside a Node cork so several pieces still leave in one writev. */
  private queueSegment(): void {
    const seg = this.segSlab;
    if (seg === null) return;
    this.segSlab = null;
    if (this.segEnd > this.segStart) {
      if (!this.nodeCorked) {
        this.nodeCorked = true;
        this.socket.cork();
      }
      this.socket.write(seg.subarray(this.segStart, this.segEnd));
    }
    this.segStart = this.segEnd = 0;
  }

  private writeDirect(data: Uint8Array): void {
    this.queueSegment();
    if (!this.nodeCorked) {
      this.nodeCorked = true;
      this.socket.cork();
    }
    this.socket.write(data);
  }

  private flushBatch(): void {
    if (this.text !== '') {
      if (this.segSlab === null && !this.nodeCorked) {
        // Strings only: one string write, encoded once by Node.
        const t = this.text;
        this.text = '';
        this.socket.write(t);
      } else this.settleText();
    }
    const seg = this.segSlab;
    if (seg !== null) {
      this.segSlab = null;
      if (this.segEnd > this.segStart) this.socket.write(seg.subarray(this.segStart, this.segEnd));
      this.segStart = this.segEnd = 0;
    }
    if (this.nodeCorked) {
      this.nodeCorked = false;
      this.socket.uncork();
    }
    // A write returned false while corked, but the flush went straight to the kernel: Node will
    // not emit 'drain' then, so the owed onDrain is delivered on the next tick.
    if (this.needDrain && !this.socket.writableNeedDrain) process.nextTick(emitOwedDrain, this);
  }
}

function emitOwedDrain(conn: SocketConnection): void {
  if (!conn.needDrain || conn.closed || conn.socket.writableNeedDrain) return;
  conn.needDrain = false;
  conn.handlers.onDrain?.(conn);
}

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  const conn = this[kConn]!;
  if (dataChannel.hasSubscribers) dataChannel.publish({ connection: conn, id: conn.id, chunk });
  conn.handlers.onData(conn, chunk);
}

function onSocketDrain(this: OwnedSocket): void {
  const conn = this[kConn]!;
  if (!conn.needDrain) return;
  conn.needDrain = false;
  conn.handlers.onDrain?.(conn);
}

function onSocketEnd(this: OwnedSocket): void {
  const conn = this[kConn]!;
  const h = conn.handlers;
  if (h.onEnd !== undefined) h.onEnd(conn);
  else conn.end();
}

function onSocketTimeout(this: OwnedSocket): void {
  const conn = this[kConn]!;
  const h = conn.handlers;
  if (h.onTimeout !== undefined) h.onTimeout(conn);
  else conn.destroy(new TransportError(TransportErrorCode.IDLE_TIMEOUT, 'connection idle timeout'));
}

function onSocketError(this: OwnedSocket, err: Error): void {
  const conn = this[kConn]!;
  if (conn.error === undefined) conn.error = err;
}

function onSocketClose(this: OwnedSocket): void {
  const conn = this[kConn]!;
  // 'close' is the socket's last event. Node keeps a closed socket alive until the next full GC (its
  // handle object is a weak wrapper the scavenger treats as a root), so everything the socket points
  // to is promoted to old space with it: cut the link to this connection and what hangs off it
  // (the user's `data`, the HTTP engine's state). The connection still points to the socket.
  this[kConn] = undefined;
  conn.closed = true;
  conn.ended = true;
  if (closeChannel.hasSubscribers) publishClose(conn);
  if (conn.owner !== null) conn.owner.connectionClosed(conn);
  conn.handlers.onClose?.(conn, conn.error);
}

function publishClose(conn: SocketConnection): void {
  const socket = conn.socket;
  const msg: ConnectionCloseMessage = {
    connection: conn,
    id: conn.id,
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
    bytesRead: socket.bytesRead,
    bytesWritten: socket.bytesWritten,
    durationMs: performance.now() - conn.openedAt,
    error: conn.error,
  };
  closeChannel.publish(msg);
}

/** @internal Publishes `strata:transport:connection.open` (the caller checked `hasSubscribers`). */
export function publishOpen(conn: SocketConnection): void {
  const msg: ConnectionOpenMessage = {
    connection: conn,
    id: conn.id,
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
    localAddress: conn.localAddress,
    localPort: conn.localPort,
    encrypted: conn.encrypted,
    tls: conn.encrypted ? tlsDetails(conn.socket as TLSSocket) : null,
  };
  openChannel.publish(msg);
}
