import type { WebSocketConnection } from './_connection';
import { Opcode, SendStatus, WebSocketError, WebSocketErrorCode } from './_constants';
import type { PerMessageDeflate } from './_deflate';
import { encodeFrame, encodeFrameInto, headerSize, utf8Length, writeHeader } from './_frame';

/**
 * Unsent bytes per socket above which the sender holds back: `send()` returns `BACKPRESSURE` (a
 * `'drain'` is owed), the socket stops reading (so a peer that floods without reading backs up in
 * its own TCP buffer), and the `backpressureTimeout` clock runs. Default of `highWaterMark`.
 */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** ms a socket may stay above its high-water mark before it is closed 1008. Default of `backpressureTimeout`. */
export const DEFAULT_BACKPRESSURE_TIMEOUT = 30_000;
/** Unsent bytes per socket at which the slow-client policy applies. Default of `maxBufferedAmount`. */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 8 * 1024 * 1024;
/**
 * Server frames with payloads of at least this many bytes go out as a header and the caller's own
 * payload (two writes under one cork, no copy); smaller ones are encoded into one buffer.
 */
const ZERO_COPY_MIN = 16 * 1024;
/** Compressed server payloads of at least this many bytes are written without a copy (as above). */
const ZERO_COPY_COMPRESSED_MIN = 1024;
/** Largest frame header: 2 bytes, 8 of extended length (server frames are not masked). */
const MAX_SERVER_HEADER = 10;
/** Size of the read batch's shared scratch buffer (see {@link Sender.beginBatch}). */
const BATCH_SCRATCH_SIZE = 16 * 1024;
/** Frames with payloads up to this size are encoded into the read batch; larger ones are written. */
const BATCH_FRAME_MAX = 4096;
/**
 * The read batch: while a socket parses one received chunk, the small frames it sends are encoded
 * straight into this scratch buffer (no buffer per frame) and leave in one connection write when
 * the chunk is done, or earlier whenever anything else must be written first (frame order is
 * kept). One sender owns it at a time (`batchOwner`); a socket written during another's read
 * (a `publish()` from a message handler) is corked instead (see {@link autoCorked}).
 */
const BATCH = Buffer.allocUnsafe(BATCH_SCRATCH_SIZE);
let batchOwner: Sender | null = null;

/**
 * Senders corked by a write outside a read (a timer, a `publish()` from another socket's message):
 * every frame a socket is sent during the current tick leaves in one write when the tick's work is
 * done, so N publishes to one subscriber in one tick cost one write, not N (uWebSockets.js corks
 * the same way per loop iteration). One `process.nextTick` per tick serves every sender.
 */
let autoCorked: Sender[] = [];

function uncorkAll(): void {
  const list = autoCorked;
  autoCorked = [];
  for (let i = 0; i < list.length; i++) list[i]!.endBatch();
}

/** What to do when a peer reads too slowly and `bufferedAmount` passes `maxBufferedAmount`. */
export type SlowClientPolicy = 'close' | 'drop';

/** The sender's limits (filled from the server or client options). */
export interface SenderLimits {
  /** See {@link DEFAULT_HIGH_WATER_MARK}. */
  highWaterMark: number;
  /** See {@link DEFAULT_BACKPRESSURE_TIMEOUT}; 0 disables the timeout. */
  backpressureTimeout: number;
  /** See {@link DEFAULT_MAX_BUFFERED_AMOUNT}. */
  maxBufferedAmount: number;
  /** 'close' (default): destroy the connection; 'drop': discard new messages until it drains. */
  slowClientPolicy: SlowClientPolicy;
}

/** What the sender reports to its socket. */
export interface SenderEvents {
  /** A `'drain'` owed after `BACKPRESSURE` is due. */
  onSendDrain(): void;
  /** The unsent bytes crossed the high-water mark: `true` going above, `false` back below. */
  onPressure(over: boolean): void;
  /** The close frame left the sender (it is written to the connection). */
  onCloseWritten(): void;
  /** A send found the connection over `maxBufferedAmount` with the `'close'` policy. */
  onSendFail(err: WebSocketError): void;
}

/** One frame waiting behind a compression job (frames leave in the order they were sent). */
interface QueuedFrame {
  /** The whole frame, or only its header when `payload` is set; null while compression runs. */
  frame: Buffer | null;
  /** A large payload written after `frame` (header) without being copied into it. */
  payload: Buffer | null;
  /** Bytes counted in `queuedBytes` for this item. */
  size: number;
  close: boolean;
}

/**
 * The one place a socket's frames are written: data messages, pre-encoded frames (publish),
 * control frames and the close frame, in the order they were sent, with compression keeping its
 * place in the order. Batching is the sender's: small frames sent during a read are encoded into a
 * shared scratch and leave in one write when the read is done; a write outside a read corks the
 * connection until the end of the tick.
 *
 * One rule for backpressure: `send()` returns `BACKPRESSURE` only when an event is already owed
 * that will re-check (the connection refused more and owes `onDrain`, or frames wait for
 * compression), so every `BACKPRESSURE` is followed by a `'drain'` unless the connection closes.
 */
export class Sender {
  private readonly conn: WebSocketConnection;
  private readonly isServer: boolean;
  private readonly deflate: PerMessageDeflate | null;
  private readonly threshold: number;
  private readonly limits: SenderLimits;
  private readonly events: SenderEvents;
  /** Frames behind a running compression; empty in the common case (then frames go straight out). */
  private queue: QueuedFrame[] = [];
  private queuedBytes = 0;
  /** The connection refused more (a write returned false) and owes `onDrain`. */
  private connOwes = false;
  /** `send()` returned BACKPRESSURE (or DROPPED by the policy): a `'drain'` is owed. */
  private drainOwed = false;
  /** Above the high-water mark at the last check. */
  private over = false;
  /** Nesting depth of {@link beginBatch} and of the tick's auto-cork. */
  private batching = 0;
  /** Bytes of this sender's frames in `BATCH` (only while it owns it). */
  private batchLen = 0;
  /** The connection is corked until the end of the tick (a write outside a read). */
  private corked = false;
  private closed = false;

  constructor(
    conn: WebSocketConnection,
    isServer: boolean,
    deflate: PerMessageDeflate | null,
    threshold: number,
    limits: SenderLimits,
    events: SenderEvents,
  ) {
    this.conn = conn;
    this.isServer = isServer;
    this.deflate = deflate;
    this.threshold = threshold;
    this.limits = limits;
    this.events = events;
  }

  /** Bytes accepted but not yet handed to the kernel (frames waiting for compression included). */
  get bufferedAmount(): number {
    return this.conn.writableLength + this.queuedBytes + this.batchLen;
  }

  /** Above the high-water mark at the last check. */
  get overHighWater(): boolean {
    return this.over;
  }

  /**
   * Starts a read batch: small frames sent until {@link endBatch} are encoded into the shared
   * scratch (when no other sender owns it) and leave in one connection write.
   */
  beginBatch(): void {
    if (this.batching++ === 0 && batchOwner === null) batchOwner = this;
  }

  /** Ends a batch (writes it) and re-checks the high-water mark. */
  endBatch(): void {
    if (--this.batching > 0) return;
    if (batchOwner === this) {
      if (this.batchLen > 0) this.flushBatch();
      batchOwner = null;
    }
    if (this.corked) {
      this.corked = false;
      this.conn.uncork();
    }
    this.check();
  }

  /** Outside a batch: corks the connection until the end of this tick. */
  private autoCork(): void {
    if (this.batching !== 0) return;
    this.batching = 1;
    this.corked = true;
    this.conn.cork();
    if (autoCorked.push(this) === 1) process.nextTick(uncorkAll);
  }

  /** Sends one data message. */
  message(data: string | Uint8Array, opcode: number, compress: boolean): SendStatus {
    if (this.overLimit()) return SendStatus.DROPPED;
    this.autoCork();
    const d = this.deflate;
    if (compress && d !== null && d.sendWindowBits !== 0) {
      const size = typeof data === 'string' ? utf8Length(data) : data.length;
      if (size >= this.threshold) return this.compressed(opcode, data, size);
    }
    if (this.queue.length > 0) {
      const frame = encodeFrame(opcode, data, true, false, !this.isServer);
      return this.enqueue(frame, false);
    }
    if (batchOwner === this && this.batchFrame(opcode, data)) return this.status();
    if (this.isServer && typeof data !== 'string' && data.length >= ZERO_COPY_MIN) {
      // header and the caller's payload, no copy (the caller must not change it: documented)
      const hdr = Buffer.allocUnsafe(MAX_SERVER_HEADER);
      const hs = writeHeader(hdr, opcode, true, false, data.length, false);
      this.conn.cork();
      this.write(hdr.subarray(0, hs));
      this.write(data);
      this.conn.uncork();
    } else {
      this.write(encodeFrame(opcode, data, true, false, !this.isServer));
    }
    return this.status();
  }

  /** Sends a pre-encoded frame (`WebSocketServer.publish` encodes once for every subscriber). */
  frame(frame: Buffer): SendStatus {
    if (this.overLimit()) return SendStatus.DROPPED;
    this.autoCork();
    if (this.queue.length > 0) return this.enqueue(frame, false);
    if (batchOwner === this && frame.length <= BATCH_FRAME_MAX) {
      if (this.batchLen + frame.length > BATCH_SCRATCH_SIZE) this.flushBatch();
      BATCH.set(frame, this.batchLen);
      this.batchLen += frame.length;
    } else {
      this.write(frame);
    }
    return this.status();
  }

  /** Sends a ping or pong; counts toward the same bounds as messages. */
  control(opcode: number, data: string | Uint8Array): void {
    if (this.overLimit()) return;
    this.autoCork();
    if (this.queue.length > 0) this.enqueue(encodeFrame(opcode, data, true, false, !this.isServer), false);
    else {
      if (!(batchOwner === this && this.batchFrame(opcode, data)))
        this.write(encodeFrame(opcode, data, true, false, !this.isServer));
      this.status();
    }
  }

  /** Sends the close frame after everything already sent; `onCloseWritten` fires when it leaves. */
  close(code: number | undefined, reason: string): void {
    let payload: Buffer;
    if (code === undefined) {
      payload = Buffer.alloc(0);
    } else {
      payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2, 'utf8');
    }
    const frame = encodeFrame(Opcode.CLOSE, payload, true, false, !this.isServer);
    this.autoCork();
    if (this.queue.length > 0) {
      this.enqueue(frame, true);
    } else {
      this.write(frame);
      this.events.onCloseWritten();
    }
  }

  /** True while frames wait behind a compression job. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Drops the frames waiting for compression (the connection is failing); batched ones still leave. */
  discard(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** The connection is gone: nothing more is sent, and no event is owed. */
  shutdown(): void {
    this.closed = true;
    this.discard();
    this.batchLen = 0;
    this.drainOwed = false;
    this.over = false;
  }

  /** The connection's `onDrain`: what it refused has been written. */
  onConnDrain(): void {
    this.connOwes = false;
    this.check();
  }

  /**
   * Re-checks the high-water mark (reports a crossing) and delivers an owed `'drain'` when nothing
   * holds it back. Called at the end of every read batch, on the connection's drain, when a
   * compression job ends, and by the socket's backpressure timer.
   */
  check(): void {
    if (this.closed || this.batching > 0) return;
    // over only while an event is owed that will check again (the connection's drain, or a
    // compression job): a connection whose own mark is higher than ours never reports back
    const over = this.bufferedAmount > this.limits.highWaterMark && (this.connOwes || this.queuedBytes > 0);
    if (over !== this.over) {
      this.over = over;
      this.events.onPressure(over);
    }
    if (this.drainOwed && !this.connOwes && this.queuedBytes <= this.limits.highWaterMark) {
      this.drainOwed = false;
      this.events.onSendDrain();
    }
  }

  /**
   * SENT, or BACKPRESSURE with a drain owed. Every send runs inside a batch (a read's, or the tick's
   * auto-cork), whose end checks the high-water mark.
   */
  private status(): SendStatus {
    if (this.connOwes || this.queuedBytes > this.limits.highWaterMark) {
      this.drainOwed = true;
      return SendStatus.BACKPRESSURE;
    }
    return SendStatus.SENT;
  }

  private enqueue(frame: Buffer, close: boolean): SendStatus {
    this.queue.push({ frame, payload: null, size: frame.length, close });
    this.queuedBytes += frame.length;
    return this.status();
  }

  private compressed(opcode: number, data: string | Uint8Array, size: number): SendStatus {
    // a copy: the caller may reuse its buffer before zlib runs
    const input = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const item: QueuedFrame = { frame: null, payload: null, size, close: false };
    this.queue.push(item);
    this.queuedBytes += size;
    this.deflate!.compress(input, (err, out) => {
      // closing or failed meanwhile (the queue was dropped): nothing to send
      if (err !== null || out === null || this.closed || !this.queue.includes(item)) return;
      let bytes: number;
      if (out.length >= ZERO_COPY_COMPRESSED_MIN && this.isServer) {
        const hdr = Buffer.allocUnsafe(MAX_SERVER_HEADER);
        item.frame = hdr.subarray(0, writeHeader(hdr, opcode, true, true, out.length, false));
        item.payload = out;
        bytes = item.frame.length + out.length;
      } else {
        item.frame = encodeFrame(opcode, out, true, true, !this.isServer);
        bytes = item.frame.length;
      }
      this.queuedBytes += bytes - item.size;
      item.size = bytes;
      this.flushQueue();
    });
    // a BACKPRESSURE here is owed by this job's callback (flushQueue, then check)
    return this.status();
  }

  /** Writes the ready frames at the head of the queue (compression finished), in order. */
  private flushQueue(): void {
    const q = this.queue;
    let i = 0;
    let closeWritten = false;
    this.conn.cork();
    while (i < q.length && q[i]!.frame !== null) {
      const item = q[i]!;
      this.queuedBytes -= item.size;
      this.write(item.frame!);
      if (item.payload !== null) this.write(item.payload);
      if (item.close) closeWritten = true;
      i++;
    }
    this.conn.uncork();
    if (i > 0) this.queue = i === q.length ? [] : q.slice(i);
    if (closeWritten) this.events.onCloseWritten();
    this.check();
  }

  /** True when the slow-client policy says this send must not happen. */
  private overLimit(): boolean {
    if (this.closed) return true;
    if (this.bufferedAmount <= this.limits.maxBufferedAmount) return false;
    if (this.limits.slowClientPolicy === 'drop') {
      this.drainOwed = true;
      return true;
    }
    this.events.onSendFail(
      new WebSocketError(WebSocketErrorCode.BACKPRESSURE_LIMIT, 'peer too slow: maxBufferedAmount exceeded'),
    );
    return true;
  }

  /** Appends a small frame to the read batch (only while this sender owns it); false when too large. */
  private batchFrame(opcode: number, payload: string | Uint8Array): boolean {
    const len = typeof payload === 'string' ? utf8Length(payload) : payload.length;
    if (len > BATCH_FRAME_MAX) return false;
    const size = headerSize(len, !this.isServer) + len;
    if (this.batchLen + size > BATCH_SCRATCH_SIZE) this.flushBatch();
    this.batchLen = encodeFrameInto(BATCH, this.batchLen, opcode, payload, len, true, false, !this.isServer);
    return true;
  }

  /** Writes the batched frames (copied out of the shared scratch) in one connection write. */
  private flushBatch(): void {
    const len = this.batchLen;
    this.batchLen = 0;
    const out = Buffer.allocUnsafe(len);
    BATCH.copy(out, 0, 0, len);
    if (!this.conn.write(out)) this.connOwes = true;
  }

  /** Writes to the connection, after anything batched (frame order is kept). */
  private write(data: Uint8Array): void {
    if (this.batchLen > 0) this.flushBatch();
    if (!this.conn.write(data)) this.connOwes = true;
  }
}
