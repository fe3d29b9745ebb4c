import { EventEmitter } from 'node:events';
import type { WebSocketConnection } from './_connection';
import {
  CloseCode,
  isValidCloseCode,
  MAX_CLOSE_REASON,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ReadyState,
  SendStatus,
  WebSocketError,
  WebSocketErrorCode,
} from './_constants';
import type { PerMessageDeflate } from './_deflate';
import {
  closeChannel,
  errorChannel,
  openChannel,
  type WebSocketCloseMessage,
  type WebSocketErrorMessage,
  type WebSocketOpenMessage,
} from './_diagnostics';
import { Receiver, type ReceiverEvents } from './_receiver';
import { Sender, type SenderEvents, type SenderLimits } from './_sender';

export type { SlowClientPolicy } from './_sender';

/** Per-socket settings (filled from the server or client options). */
export interface SocketOptions extends SenderLimits {
  /** Largest accepted message in bytes (after inflation); over it the connection closes 1009. */
  maxPayload: number;
  /** ms to wait for the peer's close frame / TCP close after sending ours before destroying. */
  closeTimeout: number;
}

/** See {@link WebSocket.checkPressure}; a plain function so no closure is made per check. */
function pauseIfStillOver(ws: WebSocket): void {
  ws.checkPressure();
}

/** Why reading is paused (a bit each; reading resumes when none is left). */
const PAUSE_INFLATE = 1;
const PAUSE_PRESSURE = 2;

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
export class WebSocket extends EventEmitter<WebSocketEvents> implements ReceiverEvents, SenderEvents {
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
  private readonly sender: Sender;
  private readonly deflate: PerMessageDeflate | null;
  private readonly isServer: boolean;
  private readonly opts: SocketOptions;
  private readonly owner: SocketOwner | null;
  /** {@link PAUSE_INFLATE} | {@link PAUSE_PRESSURE}: why reading is paused (0: reading). */
  private pausedFor = 0;
  private closeSent = false;
  private closeReceived = false;
  private closeCode: number = CloseCode.ABNORMAL;
  private closeReason = '';
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  /** A {@link pauseIfStillOver} is scheduled. */
  private pressureCheck = false;
  /** Runs while above the high-water mark; created on the first crossing, refreshed after. */
  private pressureTimer: ReturnType<typeof setTimeout> | null = null;

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
    this.owner = owner;
    this.receiver = new Receiver({ isServer, maxPayload: opts.maxPayload, inflater: deflate }, this);
    this.sender = new Sender(conn, isServer, deflate, threshold, opts, this);
    conn.setIdleTimeout?.(0);
    conn.setHandlers({
      onData: (_c, chunk) => this.onData(chunk),
      onDrain: () => this.sender.onConnDrain(),
      onEnd: () => this.onEnd(),
      onClose: (_c, err) => this.onConnClose(err),
    });
    if (openChannel.hasSubscribers) {
      const msg: WebSocketOpenMessage = { websocket: this, server: isServer, protocol, extensions };
      openChannel.publish(msg);
    }
  }

  /** Bytes accepted by `send()` but not yet handed to the kernel (frames waiting for zlib included). */
  get bufferedAmount(): number {
    return this.sender.bufferedAmount;
  }

  /** @internal feeds received bytes (also used for the bytes after the handshake head). */
  onData(chunk: Uint8Array): void {
    this.alive = true;
    // every small reply produced while this chunk is parsed leaves in one write (the sender's batch)
    const sender = this.sender;
    // above the high-water mark before this read and still after it: the peer may send without
    // reading (see pauseIfStillOver)
    const wasOver = sender.overHighWater;
    sender.beginBatch();
    try {
      this.receiver.execute(chunk);
    } finally {
      sender.endBatch();
    }
    if (wasOver && sender.overHighWater) {
      // past twice the mark no single reply explains it: stop at once; else check after the turn
      if (sender.bufferedAmount > 2 * this.opts.highWaterMark) this.pause(PAUSE_PRESSURE);
      else if (!this.pressureCheck) {
        this.pressureCheck = true;
        setImmediate(pauseIfStillOver, this);
      }
    }
    if (this.receiver.waiting) this.pause(PAUSE_INFLATE);
  }

  /**
   * Sends a message. Returns {@link SendStatus}: SENT, BACKPRESSURE (above the high-water mark: a
   * `'drain'` will follow unless the connection closes first), or DROPPED (not open, or the `'drop'`
   * slow-client policy applied). A binary payload of 16 KiB or more is written without a copy:
   * do not change it until `bufferedAmount` falls back.
   */
  send(data: string | Uint8Array | ArrayBuffer, options?: SendOptions): SendStatus {
    if (this.readyState !== ReadyState.OPEN) return SendStatus.DROPPED;
    const payload = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    const opcode = (options?.binary ?? typeof data !== 'string') ? Opcode.BINARY : Opcode.TEXT;
    return this.sender.message(payload, opcode, options?.compress !== false);
  }

  /** @internal writes one pre-encoded frame (used by publish). */
  writeFrame(frame: Buffer): SendStatus {
    if (this.readyState !== ReadyState.OPEN) return SendStatus.DROPPED;
    return this.sender.frame(frame);
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
    if (len > MAX_CONTROL_PAYLOAD)
      throw new WebSocketError(
        WebSocketErrorCode.CONTROL_TOO_LONG,
        `control frame payload over ${MAX_CONTROL_PAYLOAD} bytes`,
      );
    if (this.readyState !== ReadyState.OPEN) return;
    this.sender.control(opcode, data);
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
    if (Buffer.byteLength(reason) > MAX_CLOSE_REASON)
      throw new WebSocketError(
        WebSocketErrorCode.CLOSE_REASON_TOO_LONG,
        `close reason over ${MAX_CLOSE_REASON} bytes`,
      );
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
    this.sender.shutdown();
    this.conn.destroy();
  }

  private sendClose(code: number | undefined, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.sender.close(code, reason);
    this.closeTimer = setTimeout(() => this.conn.destroy(), this.opts.closeTimeout);
    this.closeTimer.unref?.();
  }

  /** @internal the close frame left the sender. */
  onCloseWritten(): void {
    // the server closes TCP first once both close frames were exchanged (RFC 6455 §7.1.1)
    if (this.closeReceived && this.isServer) this.conn.end();
  }

  /** Fails the connection: close frame with the error's code, then close TCP (RFC 6455 §7.1.7). */
  private fail(err: WebSocketError, destroy: boolean): void {
    if (this.error === null) {
      this.error = err;
      if (errorChannel.hasSubscribers) {
        const msg: WebSocketErrorMessage = {
          websocket: this,
          server: this.isServer,
          error: err,
          code: err.code,
          closeCode: err.closeCode,
        };
        errorChannel.publish(msg);
      }
    }
    this.receiver.stop();
    this.closeCode = err.closeCode;
    this.readyState = ReadyState.CLOSING;
    if (destroy) {
      this.sender.shutdown();
      this.conn.destroy();
      return;
    }
    if (!this.closeSent) {
      this.sender.discard();
      this.sendClose(err.closeCode, '');
    }
    this.conn.end();
    // a failed inflate leaves reading paused: read on (the receiver discards) to see the peer's close
    this.resume(PAUSE_INFLATE);
  }

  private pause(why: number): void {
    if (this.pausedFor === 0) this.conn.pause();
    this.pausedFor |= why;
  }

  private resume(why: number): void {
    if (this.pausedFor === 0) return;
    this.pausedFor &= ~why;
    if (this.pausedFor === 0 && this.readyState !== ReadyState.CLOSED) this.conn.resume();
  }

  // ---- SenderEvents ----

  /** @internal a drain owed after BACKPRESSURE. */
  onSendDrain(): void {
    if (this.readyState === ReadyState.OPEN) this.emit('drain');
  }

  /** @internal the unsent bytes crossed the high-water mark. */
  onPressure(over: boolean): void {
    if (!over) {
      this.resume(PAUSE_PRESSURE);
      return;
    }
    // the peer is not reading (yet): give it `backpressureTimeout` to catch up; a read that finds
    // it still above the mark pauses reading (see onData)
    const ms = this.opts.backpressureTimeout;
    if (ms <= 0) return;
    if (this.pressureTimer === null) {
      this.pressureTimer = setTimeout(() => this.pressureTimeout(), ms);
      this.pressureTimer.unref?.();
    } else {
      this.pressureTimer.refresh();
    }
  }

  /**
   * @internal after the I/O phase of the loop turn in which a read found the socket still above the
   * high-water mark: the write completions of that turn are counted now, so a socket still above is
   * one whose peer sends without reading. Stop reading: its flood backs up in its own TCP buffer.
   * (Pausing at once would also stop a peer that did read, whose completion was not counted yet: a
   * large reply often sits above the mark for a moment while the kernel takes it.)
   */
  checkPressure(): void {
    this.pressureCheck = false;
    if (this.readyState === ReadyState.CLOSED) return;
    this.sender.check();
    if (this.sender.overHighWater) this.pause(PAUSE_PRESSURE);
  }

  private pressureTimeout(): void {
    this.sender.check();
    if (!this.sender.overHighWater || this.readyState === ReadyState.CLOSED) return;
    // the peer reads nothing: a close frame could not reach it either
    this.fail(
      new WebSocketError(
        WebSocketErrorCode.BACKPRESSURE_TIMEOUT,
        `peer too slow: over the high-water mark for ${this.opts.backpressureTimeout} ms`,
      ),
      true,
    );
  }

  /** @internal the slow-client policy 'close' applied on a send. */
  onSendFail(err: WebSocketError): void {
    this.fail(err, true);
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
    if (this.readyState === ReadyState.OPEN) this.sender.control(Opcode.PONG, data);
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
    } else if (!this.sender.pending && this.isServer) {
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
    this.resume(PAUSE_INFLATE);
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
    this.sender.shutdown();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (this.pressureTimer !== null) clearTimeout(this.pressureTimer);
    this.deflate?.close();
    this.owner?.onSocketClose(this);
    const code =
      this.closeReceived || this.error instanceof WebSocketError ? this.closeCode : CloseCode.ABNORMAL;
    if (closeChannel.hasSubscribers) {
      const msg: WebSocketCloseMessage = {
        websocket: this,
        server: this.isServer,
        code,
        reason: this.closeReason,
        error: this.error,
      };
      closeChannel.publish(msg);
    }
    this.emit('close', code, this.closeReason);
  }
}
