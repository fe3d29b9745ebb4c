import { EventEmitter } from 'node:events';
import type { WebSocketConnection } from './_connection';
import {
  CloseCode,
  isValidCloseCode,
  Opcode,
  ReadyState,
  SendStatus,
  WebSocketError,
  WebSocketErrorCode,
} from './_constants';
import type { PerMessageDeflate } from './_deflate';
import { encodeFrame, encodeFrameInto, headerSize, utf8Length, writeHeader } from './_frame';
import { Receiver, type ReceiverEvents } from './_receiver';

/** What to do when a peer reads too slowly and `bufferedAmount` passes `maxBufferedAmount`. */
export type SlowClientPolicy = 'close' | 'drop';

/** Per-socket settings (filled from the server or client options). */
export interface SocketOptions {
  /** Largest accepted message in bytes (after inflation); over it the connection closes 1009. */
  maxPayload: number;
  /** ms to wait for the peer's close frame / TCP close after sending ours before destroying. */
  closeTimeout: number;
  /** Bytes that may sit unsent before the slow-client policy applies. */
  maxBufferedAmount: number;
  /** 'close' (default): destroy the connection; 'drop': discard new messages until it drains. */
  slowClientPolicy: SlowClientPolicy;
}

/**
 * Reply batching. While a connection parses a received chunk, small frames it sends are encoded
 * into this shared scratch buffer instead of being written one by one; when the chunk is done (or
 * anything else must be written first, to keep frame order) they leave in ONE socket write. With
 * several messages per TCP read this turns N write syscalls into one. Only one connection owns the
 * scratch at a time (`batchOwner`); a nested read on another connection writes directly.
 */
const BATCH = Buffer.allocUnsafe(16 * 1024);
/** Frames with payloads up to this size are batched; larger ones are written directly. */
const BATCH_FRAME_MAX = 4096;
let batchOwner: WebSocket | null = null;

/** Events of a {@link WebSocket}. */
export interface WebSocketEvents {
  /** Text arrives as a string, binary as a Buffer the listener owns. */
  message: [data: string | Buffer, isBinary: boolean];
  /** The connection is gone. `code` 1005 = close frame without code, 1006 = no close frame. */
  close: [code: number, reason: string];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** The send buffer emptied below the high-water mark after a send returned BACKPRESSURE. */
  drain: [];
  /** A protocol error failed the connection (only emitted when someone listens). */
  error: [err: Error];
}

interface QueuedFrame {
  /** The whole frame, or only its header when `payload` is set; null while compression runs. */
  frame: Buffer | null;
  /** A large payload written after `frame` (header) without being copied into it. */
  payload: Buffer | null;
  size: number;
  close: boolean;
}

/** Options of {@link WebSocket.send}. */
export interface SendOptions {
  /** Send as binary (default: true for bytes, false for strings). */
  binary?: boolean;
  /** Compress when permessage-deflate is on and the message reaches the threshold (default true). */
  compress?: boolean;
}

/** @internal hooks the server uses; not part of the public API. */
export interface SocketOwner {
  onSocketClose(ws: WebSocket): void;
  subscribe(ws: WebSocket, topic: string): void;
  unsubscribe(ws: WebSocket, topic: string): void;
}

/**
 * One WebSocket connection, server or client side. Create it with `WebSocketServer` or `connect()`.
 *
 * @example
 * ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
 */
export class WebSocket extends EventEmitter<WebSocketEvents> implements ReceiverEvents {
  /** {@link ReadyState}: OPEN until a close starts, CLOSED after the connection is gone. */
  readyState: number = ReadyState.OPEN;
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  /** The negotiated `Sec-WebSocket-Extensions` value ('' when none). */
  readonly extensions: string;
  /** A slot for the application's per-connection state. */
  data: unknown = undefined;
  /** @internal heartbeat flag: set by any received frame, cleared by each heartbeat tick. */
  alive = true;
  /** @internal topics this socket is subscribed to. */
  topics: Set<string> | null = null;
  /** Why the connection failed, when it did (protocol error, backpressure limit, socket error). */
  error: Error | null = null;

  private readonly conn: WebSocketConnection;
  private readonly receiver: Receiver;
  private readonly deflate: PerMessageDeflate | null;
  private readonly isServer: boolean;
  private readonly opts: SocketOptions;
  private readonly owner: SocketOwner | null;
  private threshold = 0;
  private queue: QueuedFrame[] = [];
  private queuedBytes = 0;
  private needDrain = false;
  private readPaused = false;
  private closeSent = false;
  private closeReceived = false;
  private closeCode: number = CloseCode.ABNORMAL;
  private closeReason = '';
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bytes of this socket's frames waiting in `BATCH` (only while it owns the batch). */
  private batchLen = 0;

  /** @internal use `WebSocketServer.handleUpgrade()` or `connect()`. */
  constructor(
    conn: WebSocketConnection,
    isServer: boolean,
    opts: SocketOptions,
    protocol: string,
    extensions: string,
    deflate: PerMessageDeflate | null,
    threshold: number,
    owner: SocketOwner | null,
  ) {
    super();
    this.conn = conn;
    this.isServer = isServer;
    this.opts = opts;
    this.protocol = protocol;
    this.extensions = extensions;
    this.deflate = deflate;
    this.threshold = threshold;
    this.owner = owner;
    this.receiver = new Receiver({ isServer, maxPayload: opts.maxPayload, inflater: deflate }, this);
    conn.setIdleTimeout?.(0);
    conn.setHandlers({
      onData: (_c, chunk) => this.onData(chunk),
      onDrain: () => this.onDrain(),
      onEnd: () => this.onEnd(),
      onClose: (_c, err) => this.onConnClose(err),
    });
  }

  /** Bytes accepted by `send()` but not yet handed to the kernel (zlib queue included). */
  get bufferedAmount(): number {
    return this.conn.writableLength + this.queuedBytes + this.batchLen;
  }

  /** @internal feeds received bytes (also used for the bytes after the handshake head). */
  onData(chunk: Uint8Array): void {
    this.alive = true;
    // replies produced while this chunk is parsed are batched into one write (see `BATCH`); not
    // cork(): a corked socket turns even a single reply into a slower writev
    const owner = batchOwner === null;
    if (owner) batchOwner = this;
    try {
      this.receiver.execute(chunk);
    } finally {
      if (owner) {
        if (this.batchLen > 0) this.flushBatch();
        batchOwner = null;
      }
    }
    if (this.receiver.waiting && !this.readPaused) {
      this.readPaused = true;
      this.conn.pause();
    }
  }

  /**
   * Sends a message. Returns {@link SendStatus}: SENT, BACKPRESSURE (buffered above the high-water
   * mark: wait for 'drain'), or DROPPED (not open, or the 'drop' slow-client policy applied).
   */
  send(data: string | Uint8Array | ArrayBuffer, options?: SendOptions): SendStatus {
    if (this.readyState !== ReadyState.OPEN) return SendStatus.DROPPED;
    if (this.overLimit()) return SendStatus.DROPPED;
    const isString = typeof data === 'string';
    const payload = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const opcode = (options?.binary ?? !isString) ? Opcode.BINARY : Opcode.TEXT;
    const d = this.deflate;
    if (d !== null && d.sendWindowBits !== 0 && options?.compress !== false) {
      const size = isString ? utf8Length(payload as string) : (payload as Uint8Array).length;
      if (size >= this.threshold) return this.sendCompressed(opcode, payload, size);
    }
    if (batchOwner === this && this.queue.length === 0 && this.batchFrame(opcode, payload)) {
      return this.needDrain ? SendStatus.BACKPRESSURE : SendStatus.SENT;
    }
    if (!isString && this.isServer && (payload as Uint8Array).length >= 16384 && this.queue.length === 0) {
      // large server frame: header and payload as two writes, no copy of the payload
      if (this.batchLen > 0) this.flushBatch();
      const p = payload as Uint8Array;
      const hdr = Buffer.allocUnsafe(10);
      const hs = writeHeader(hdr, opcode, true, false, p.length, false);
      this.conn.cork();
      this.conn.write(hdr.subarray(0, hs));
      const status = this.write(p);
      this.conn.uncork();
      return status;
    }
    const frame = encodeFrame(opcode, payload, true, false, !this.isServer);
    if (this.queue.length > 0) {
      this.queue.push({ frame, payload: null, size: frame.length, close: false });
      this.queuedBytes += frame.length;
      return SendStatus.BACKPRESSURE;
    }
    return this.write(frame);
  }

  private sendCompressed(opcode: number, payload: string | Uint8Array, size: number): SendStatus {
    // copy: the caller may reuse its buffer before zlib runs
    const input = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
    const item: QueuedFrame = { frame: null, payload: null, size, close: false };
    this.queue.push(item);
    this.queuedBytes += size;
    this.deflate!.compress(input, (err, out) => {
      // closing or failed meanwhile (the queue was dropped): nothing to send
      if (err !== null || out === null || !this.queue.includes(item)) return;
      let size: number;
      if (out.length >= 1024 && this.isServer) {
        // header and compressed payload written separately (under cork): no copy of the payload
        const hdr = Buffer.allocUnsafe(10);
        item.frame = hdr.subarray(0, writeHeader(hdr, opcode, true, true, out.length, false));
        item.payload = out;
        size = item.frame.length + out.length;
      } else {
        item.frame = encodeFrame(opcode, out, true, true, !this.isServer);
        size = item.frame.length;
      }
      this.queuedBytes += size - item.size;
      item.size = size;
      this.flushQueue();
    });
    return this.queuedBytes + this.conn.writableLength > 16384 ? SendStatus.BACKPRESSURE : SendStatus.SENT;
  }

  private flushQueue(): void {
    const q = this.queue;
    let i = 0;
    this.conn.cork();
    while (i < q.length && q[i]!.frame !== null) {
      const item = q[i]!;
      this.queuedBytes -= item.size;
      this.write(item.frame!);
      if (item.payload !== null) this.write(item.payload);
      if (item.close) this.afterCloseSent();
      i++;
    }
    this.conn.uncork();
    if (i > 0) this.queue = q.slice(i);
  }

  /** True when the slow-client policy says this send must not happen. */
  private overLimit(): boolean {
    if (this.bufferedAmount <= this.opts.maxBufferedAmount) return false;
    if (this.opts.slowClientPolicy === 'drop') return true;
    this.fail(
      new WebSocketError(WebSocketErrorCode.BACKPRESSURE_LIMIT, 'peer too slow: maxBufferedAmount exceeded'),
      true,
    );
    return true;
  }

  /** @internal writes one pre-encoded frame (used by publish). */
  writeFrame(frame: Buffer): SendStatus {
    if (this.readyState !== ReadyState.OPEN) return SendStatus.DROPPED;
    if (this.overLimit()) return SendStatus.DROPPED;
    if (this.queue.length > 0) {
      this.queue.push({ frame, payload: null, size: frame.length, close: false });
      this.queuedBytes += frame.length;
      return SendStatus.BACKPRESSURE;
    }
    return this.write(frame);
  }

  /** Appends a small frame to the batch (only while this socket owns it); false when too large. */
  private batchFrame(opcode: number, payload: string | Uint8Array): boolean {
    const len = typeof payload === 'string' ? utf8Length(payload) : payload.length;
    if (len > BATCH_FRAME_MAX) return false;
    const size = headerSize(len, !this.isServer) + len;
    if (this.batchLen + size > BATCH.length) this.flushBatch();
    this.batchLen = encodeFrameInto(BATCH, this.batchLen, opcode, payload, len, true, false, !this.isServer);
    return true;
  }

  /** Writes the batched frames (copied out of the shared scratch) in one socket write. */
  private flushBatch(): void {
    const len = this.batchLen;
    this.batchLen = 0;
    const out = Buffer.allocUnsafe(len);
    BATCH.copy(out, 0, 0, len);
    if (!this.conn.write(out)) this.needDrain = true;
  }

  /** Writes one encoded frame, after anything batched (frame order is kept). */
  private write(frame: Uint8Array): SendStatus {
    if (this.batchLen > 0) this.flushBatch();
    if (this.conn.write(frame)) return SendStatus.SENT;
    this.needDrain = true;
    return SendStatus.BACKPRESSURE;
  }

  /** Subscribes to a server topic (see `WebSocketServer.publish`); no-op on client sockets. */
  subscribe(topic: string): void {
    this.owner?.subscribe(this, topic);
  }

  /** Leaves a server topic. */
  unsubscribe(topic: string): void {
    this.owner?.unsubscribe(this, topic);
  }

  /** Sends a ping (payload at most 125 bytes). */
  ping(data: string | Uint8Array = ''): void {
    this.control(Opcode.PING, data);
  }

  /** Sends an unsolicited pong (payload at most 125 bytes). */
  pong(data: string | Uint8Array = ''): void {
    this.control(Opcode.PONG, data);
  }

  private control(opcode: number, data: string | Uint8Array): void {
    const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (len > 125)
      throw new WebSocketError(WebSocketErrorCode.CONTROL_TOO_LONG, 'control frame payload over 125 bytes');
    if (this.readyState !== ReadyState.OPEN) return;
    if (batchOwner === this && this.batchFrame(opcode, data)) return;
    this.write(encodeFrame(opcode, data, true, false, !this.isServer));
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). `code` must be 1000, 1001-1003, 1007-1014 or
   * 3000-4999; `reason` at most 123 UTF-8 bytes. The connection is destroyed if the peer does not
   * complete the handshake within `closeTimeout`.
   */
  close(code?: number, reason = ''): void {
    if (code !== undefined && !isValidCloseCode(code)) {
      throw new WebSocketError(WebSocketErrorCode.INVALID_CLOSE_CODE, `invalid close code ${code}`);
    }
    if (Buffer.byteLength(reason) > 123)
      throw new WebSocketError(WebSocketErrorCode.CLOSE_REASON_TOO_LONG, 'close reason over 123 bytes');
    if (code === undefined && reason !== '') code = CloseCode.NORMAL;
    if (this.readyState !== ReadyState.OPEN) return;
    this.readyState = ReadyState.CLOSING;
    this.sendClose(code, reason);
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSING;
    this.receiver.stop();
    this.batchLen = 0;
    this.conn.destroy();
  }

  private sendClose(code: number | undefined, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    let payload: Buffer;
    if (code === undefined) {
      payload = Buffer.alloc(0);
    } else {
      payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2, 'utf8');
    }
    const frame = encodeFrame(Opcode.CLOSE, payload, true, false, !this.isServer);
    if (this.queue.length > 0) {
      this.queue.push({ frame, payload: null, size: frame.length, close: true });
      this.queuedBytes += frame.length;
    } else {
      this.write(frame);
      this.afterCloseSent();
    }
    this.closeTimer = setTimeout(() => this.conn.destroy(), this.opts.closeTimeout);
    this.closeTimer.unref?.();
  }

  private afterCloseSent(): void {
    // the server closes TCP first once both close frames were exchanged (RFC 6455 §7.1.1)
    if (this.closeReceived && this.isServer) this.conn.end();
  }

  /** Fails the connection: close frame with the error's code, then close TCP (RFC 6455 §7.1.7). */
  private fail(err: WebSocketError, destroy: boolean): void {
    if (this.error === null) this.error = err;
    this.receiver.stop();
    this.closeCode = err.closeCode;
    this.readyState = ReadyState.CLOSING;
    if (destroy) {
      this.batchLen = 0;
      this.conn.destroy();
      return;
    }
    if (!this.closeSent) {
      this.queue = [];
      this.queuedBytes = 0;
      this.sendClose(err.closeCode, '');
    }
    this.conn.end();
  }

  // ---- ReceiverEvents ----

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.readyState !== ReadyState.OPEN) return; // after our close: discard (RFC 6455 §5.5.1)
    this.emit('message', isBinary ? data : data.toString('utf8'), isBinary);
  }

  /** @internal */
  onText(text: string): void {
    if (this.readyState !== ReadyState.OPEN) return; // after our close: discard (RFC 6455 §5.5.1)
    this.emit('message', text, false);
  }

  /** @internal */
  onPing(data: Buffer): void {
    if (this.readyState === ReadyState.OPEN && !(batchOwner === this && this.batchFrame(Opcode.PONG, data)))
      this.write(encodeFrame(Opcode.PONG, data, true, false, !this.isServer));
    if (this.listenerCount('ping') > 0) this.emit('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    if (this.listenerCount('pong') > 0) this.emit('pong', data);
  }

  /** @internal */
  onClose(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING;
    if (!this.closeSent) {
      // echo the code (RFC 6455 §5.5.1)
      this.sendClose(code === CloseCode.NO_STATUS ? undefined : code, '');
    } else if (this.queue.length === 0 && this.isServer) {
      this.conn.end();
    }
  }

  /** @internal */
  onError(err: WebSocketError): void {
    this.fail(err, false);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** @internal */
  onResume(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.conn.resume();
    }
  }

  private onDrain(): void {
    if (this.needDrain && this.conn.writableLength === 0) {
      this.needDrain = false;
      if (this.readyState === ReadyState.OPEN) this.emit('drain');
    }
  }

  private onEnd(): void {
    // the peer half-closed: nothing more will arrive; finish our side
    this.receiver.stop();
    this.conn.end();
  }

  private onConnClose(err?: Error): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    if (err !== undefined && this.error === null) this.error = err;
    this.receiver.stop();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.deflate?.close();
    this.queue = [];
    this.queuedBytes = 0;
    this.batchLen = 0;
    this.owner?.onSocketClose(this);
    this.emit(
      'close',
      this.closeReceived || this.error instanceof WebSocketError ? this.closeCode : CloseCode.ABNORMAL,
      this.closeReason,
    );
  }
}
