import { FRAME_BYTES_KEPT, frameChannel, type Http2FrameMessage } from './_diagnostics';
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  Flag,
  FRAME_HEADER,
  FrameType,
  frameTypeName,
  get31,
  get32,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW,
  MIN_MAX_FRAME_SIZE,
  put32,
  putFrameHeader,
  Setting,
} from './_frames';
import { HpackDecoder, HpackEncoder } from './_hpack';
import { type Http2Limits, resolveHttp2Limits } from './_limits';
import { checkRequest, checkTrailers, type RequestHead } from './_request';
import { ErrorCode, Http2Error, Http2ErrorCode } from './errors';

/**
 * What an {@link Http2ServerConnection} reports to its owner (declared here: the connection owns the
 * seam). Every callback runs synchronously inside `receive`, `flush` or `checkTimers`.
 */
export interface Http2Handlers {
  /**
   * Bytes for the peer, in order. The connection never touches a chunk again once handed over;
   * a chunk may be a view of a body chunk given to `sendData` (queued by reference).
   */
  write(chunk: Uint8Array): void;
  /** A request head arrived, checked against RFC 9113 section 8. `end`: no body follows. */
  onRequest(stream: number, head: RequestHead, end: boolean): void;
  /**
   * Request body bytes. `data` is a view valid only during the call: copy what you keep. Call
   * `consume(stream, n)` once `n` of these bytes were taken, to let the client send more.
   */
  onRequestData(stream: number, data: Uint8Array, end: boolean): void;
  /** Request trailers (flat `[name, value, ...]`); the request is complete. */
  onTrailers(stream: number, fields: string[]): void;
  /**
   * A stream closed. `error` null: both sides ended normally. Otherwise the stream was reset (by
   * the peer: `H2_STREAM_CLOSED` with the peer's code in `errorCode`; or by us) or the connection
   * failed: a response still being produced must stop.
   */
  onStreamClose(stream: number, error: Http2Error | null): void;
  /** A stream's queued response bytes fell under `streamHighWater` after `sendData` said false. */
  onStreamWritable(stream: number): void;
  /** A request this connection refused itself (431, malformed, too many streams), for logs and stats. */
  onRefused?(stream: number, error: Http2Error): void;
  /** The peer sent GOAWAY: it opens no more streams. */
  onGoaway?(lastStreamId: number, errorCode: number): void;
  /**
   * A connection error: GOAWAY was queued and the connection is dead. Flush, then close the
   * transport.
   */
  onError(error: Http2Error): void;
}

/** Options of {@link Http2ServerConnection}. */
export interface Http2ConnectionOptions {
  /** Limits over {@link DEFAULT_HTTP2_LIMITS}. */
  limits?: Partial<Http2Limits>;
  /** Milliseconds now (default `Date.now`): the rate limits and timers read it. */
  clock?: () => number;
  /** An id for diagnostics (`strata:http2:frame` messages carry it). Default 0. */
  id?: number;
}

/** Publishes one frame on `strata:http2:frame` (the caller checked `hasSubscribers`). */
function publishFrame(
  id: number,
  direction: 'in' | 'out',
  b: Uint8Array,
  at: number,
  fields: string[] | null,
  payload: Uint8Array | null = null,
): void {
  const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
  const type = b[at + 3]!;
  let bytes: Uint8Array;
  if (payload === null) {
    // A copy even when `b` is a Buffer (whose own `slice` is a view).
    bytes = Uint8Array.prototype.slice.call(
      b,
      at,
      Math.min(b.length, at + FRAME_HEADER + length, at + FRAME_BYTES_KEPT),
    );
  } else {
    // A DATA frame whose payload was written by reference, after its header.
    bytes = new Uint8Array(Math.min(FRAME_HEADER + payload.length, FRAME_BYTES_KEPT));
    bytes.set(b.subarray(at, at + FRAME_HEADER));
    bytes.set(payload.subarray(0, bytes.length - FRAME_HEADER), FRAME_HEADER);
  }
  const msg: Http2FrameMessage = {
    connectionId: id,
    direction,
    type,
    typeName: frameTypeName(type),
    flags: b[at + 4]!,
    streamId: get31(b, at + 5),
    length,
    fields,
    bytes,
  };
  frameChannel.publish(msg);
}

// Stream states (RFC 9113 section 5.1), as the server sees them. Idle streams have no object.
const S_OPEN = 0;
/** The client sent END_STREAM: only we send. */
const S_REMOTE_CLOSED = 1;
/** We sent END_STREAM (or queued it): only the client sends. */
const S_LOCAL_CLOSED = 2;
const S_CLOSED = 3;

const EMPTY = new Uint8Array(0);
/**
 * A plain `Uint8Array` of `n` bytes, not zero-filled (every byte is written before it is read). Not
 * a `Buffer`: a Buffer's `slice` is a view, and callers here (and HPACK) rely on `slice` copying.
 */
function uninitialised(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** DATA payloads of at least this many bytes are written by reference, not copied. */
const BY_REFERENCE = 16_384;
/** The output buffer's size; an output of at least `HANDOVER` bytes is handed over whole. */
const OUT_SIZE = 32_768;
const HANDOVER = 16_384;
/** DATA bytes one `flush` hands out at most; the owner flushes again (until its socket is full). */
const FLUSH_BUDGET = 262_144;
// How a remembered stream closed: both sides ended; we reset it (frames in flight are ignored);
// the client reset it (anything it sends after is a stream error).
const CLOSED_ENDED = 1;
const CLOSED_BY_US = 2;
const CLOSED_BY_PEER = 3;
/** Closed stream ids remembered (to tell "closed" from "never opened", and to ignore late frames). */
const CLOSED_RING = 64;

/** One stream's state. @internal */
class H2Stream {
  readonly id: number;
  state: number = S_OPEN;
  /** Bytes we may send (the peer's window; may go negative after a SETTINGS change). */
  sendWindow: number;
  /** Bytes the peer may still send us. */
  recvWindow: number;
  /** Bytes consumed by the owner and not yet given back in a WINDOW_UPDATE. */
  recvConsumed = 0;
  /** The declared content-length, or -1; and the DATA bytes received. */
  contentLength = -1;
  received = 0;
  /** A final response head was sent. */
  responded = false;
  /** Response body chunks waiting for window: `queue[qHead..]`, `queuedBytes` in all, `qOffset` sent of the first. */
  queue: Uint8Array[] = [];
  qHead = 0;
  qOffset = 0;
  queuedBytes = 0;
  /** END_STREAM goes after the queue (with `trailers` when set). */
  endQueued = false;
  trailers: string[] | null = null;
  /** In the send ring. */
  scheduled = false;
  /** sendData said false: call onStreamWritable below the mark. */
  wantWritable = false;
  /** When queued bytes last moved (or were first queued), for the send timeout. */
  lastProgress = 0;

  constructor(id: number, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }
}

/** Token bucket: `take()` false when empty. */
class Bucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly size: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = size;
    this.last = now;
  }
  take(now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.size, this.tokens + (elapsed * this.perSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The server side of one HTTP/2 connection, sans I/O: feed it the bytes the client sent
 * ({@link receive}), answer its requests ({@link respond}, {@link sendData}), and write what it hands
 * to `handlers.write` at each {@link flush}. It checks framing, HPACK, stream states, flow control
 * and RFC 9113 section 8 request rules, and enforces {@link Http2Limits}.
 *
 * @example
 * const conn = new Http2ServerConnection({
 *   write: (bytes) => socket.write(bytes),
 *   onRequest(id, head) { conn.respond(id, 200, ['content-type', 'text/plain'], false); conn.sendData(id, hello, true); },
 *   onRequestData() {}, onTrailers() {}, onStreamClose() {}, onStreamWritable() {},
 *   onError: () => socket.end(),
 * });
 * socket.on('data', (chunk) => { conn.receive(chunk); conn.flush(); });
 */
export class Http2ServerConnection {
  private readonly h: Http2Handlers;
  /** The limits in force. */
  readonly limits: Http2Limits;
  private readonly clock: () => number;
  private readonly decoder: HpackDecoder;
  private readonly encoder: HpackEncoder;
  private readonly streams = new Map<number, H2Stream>();
  // receive side
  private prefaceLeft = 24;
  private gotSettings = false;
  private partial: Uint8Array;
  private partialLen = 0;
  private block: Uint8Array | null = null;
  private blockLen = 0;
  private blockStream = 0;
  private blockEnd = false;
  private blockPriority = false;
  private connRecvWindow: number;
  private connRecvPending = 0;
  private emptyFrames = 0;
  private readonly resets: Bucket;
  private readonly controls: Bucket;
  /** Highest client stream id seen. */
  private lastStream = 0;
  private readonly closedIds = new Int32Array(CLOSED_RING);
  /** Per closed id in the ring: 1 when we reset it (late frames are ignored), 0 otherwise. */
  private readonly closedHowRing = new Uint8Array(CLOSED_RING);
  private closedAt = 0;
  // send side
  private connSendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = MIN_MAX_FRAME_SIZE;
  private out: Uint8Array;
  private outLen = 0;
  private ring: H2Stream[] = [];
  private ringHead = 0;
  private settingsSentAt: number;
  private settingsAcked = false;
  // shutdown
  private goawaySent = false;
  private goawayLast = MAX_WINDOW;
  private shutdownPing = false;
  private shutdownAt = 0;
  private dead = false;
  /** The error that ended the connection, or null. */
  error: Http2Error | null = null;
  /** Streams opened over the connection's life. */
  streamsOpened = 0;
  /** The clock, read once per flush (DATA frames stamp their stream's progress with it). */
  private now = 0;
  private readonly diagId: number;
  /** Header lists of blocks written and not yet published (only while someone subscribes). */
  private outBlocks: string[][] = [];
  /** The payload of the DATA frame whose header ends the output, written by reference after it. */
  private refPayload: Uint8Array | null = null;

  constructor(handlers: Http2Handlers, options?: Http2ConnectionOptions) {
    this.h = handlers;
    this.diagId = options?.id ?? 0;
    const limits = resolveHttp2Limits(options?.limits);
    this.limits = limits;
    const clock = options?.clock ?? Date.now;
    this.clock = clock;
    const now = clock();
    this.decoder = new HpackDecoder({
      maxTableSize: limits.headerTableSize,
      maxHeaderListSize: limits.maxHeaderListSize,
    });
    this.encoder = new HpackEncoder({ maxTableSize: 4_096 });
    this.resets = new Bucket(limits.resetBurst, limits.resetsPerSecond, now);
    this.controls = new Bucket(limits.controlFrameBurst, limits.controlFramesPerSecond, now);
    this.partial = new Uint8Array(FRAME_HEADER + limits.maxFrameSize);
    this.out = uninitialised(OUT_SIZE);
    this.connRecvWindow = limits.connectionWindowSize;
    this.settingsSentAt = now;
    // Our SETTINGS (RFC 9113 section 3.4: the server preface), then the connection window.
    const settings: number[] = [
      Setting.MAX_CONCURRENT_STREAMS,
      limits.maxConcurrentStreams,
      Setting.INITIAL_WINDOW_SIZE,
      limits.initialWindowSize,
      Setting.MAX_HEADER_LIST_SIZE,
      limits.maxHeaderListSize,
    ];
    if (limits.maxFrameSize !== MIN_MAX_FRAME_SIZE)
      settings.push(Setting.MAX_FRAME_SIZE, limits.maxFrameSize);
    if (limits.headerTableSize !== 4_096) settings.push(Setting.HEADER_TABLE_SIZE, limits.headerTableSize);
    const n = settings.length / 2;
    const at = this.reserve(FRAME_HEADER + 6 * n + FRAME_HEADER + 4);
    const o = this.out;
    putFrameHeader(o, at, 6 * n, FrameType.SETTINGS, 0, 0);
    for (let i = 0; i < n; i++) {
      const p = at + FRAME_HEADER + 6 * i;
      o[p] = 0;
      o[p + 1] = settings[2 * i]!;
      put32(o, p + 2, settings[2 * i + 1]!);
    }
    this.outLen = at + FRAME_HEADER + 6 * n;
    if (limits.connectionWindowSize > DEFAULT_WINDOW)
      this.windowUpdate(0, limits.connectionWindowSize - DEFAULT_WINDOW);
    this.connRecvWindow = limits.connectionWindowSize;
  }

  /** Streams open now (a response or a request body still in progress). */
  get activeStreams(): number {
    return this.streams.size;
  }
  /** True once the connection failed or finished its shutdown: nothing more is read. */
  get closed(): boolean {
    return this.dead;
  }
  /** True once a GOAWAY was sent (shutdown or error). */
  get goingAway(): boolean {
    return this.goawaySent;
  }
  /** True when frames are waiting for `flush` (or DATA for window). */
  get hasOutput(): boolean {
    return this.outLen > 0 || this.ring.length - this.ringHead > 0;
  }
  /** Response bytes queued on `stream` and not yet sent. */
  buffered(stream: number): number {
    return this.streams.get(stream)?.queuedBytes ?? 0;
  }

  // ---- receiving ---------------------------------------------------------------------------------

  /**
   * Feed bytes the client sent. Events are called synchronously; a connection error calls
   * `onError` and ignores anything after. Call {@link flush} afterwards.
   */
  receive(chunk: Uint8Array): void {
    if (this.dead) return;
    let pos = 0;
    const len = chunk.length;
    if (this.prefaceLeft > 0) {
      const from = 24 - this.prefaceLeft;
      const n = Math.min(this.prefaceLeft, len);
      for (let i = 0; i < n; i++) {
        if (chunk[i] !== CLIENT_PREFACE[from + i]) {
          this.fail(new Http2Error(Http2ErrorCode.H2_BAD_PREFACE, 'Invalid connection preface'));
          return;
        }
      }
      this.prefaceLeft -= n;
      pos = n;
      if (this.prefaceLeft > 0) return;
    }
    // A frame begun in an earlier chunk: complete it first.
    if (this.partialLen > 0) {
      const buf = this.partial;
      if (this.partialLen < FRAME_HEADER) {
        const take = Math.min(FRAME_HEADER - this.partialLen, len - pos);
        buf.set(chunk.subarray(pos, pos + take), this.partialLen);
        this.partialLen += take;
        pos += take;
        if (this.partialLen < FRAME_HEADER) return;
        if (!this.checkLength(buf, 0)) return;
      }
      const size = FRAME_HEADER + ((buf[0]! << 16) | (buf[1]! << 8) | buf[2]!);
      const take = Math.min(size - this.partialLen, len - pos);
      buf.set(chunk.subarray(pos, pos + take), this.partialLen);
      this.partialLen += take;
      pos += take;
      if (this.partialLen < size) return;
      this.partialLen = 0;
      this.frame(buf, 0);
      if (this.dead) return;
    }
    while (len - pos >= FRAME_HEADER) {
      if (!this.checkLength(chunk, pos)) return;
      const size = FRAME_HEADER + ((chunk[pos]! << 16) | (chunk[pos + 1]! << 8) | chunk[pos + 2]!);
      if (len - pos < size) break;
      this.frame(chunk, pos);
      if (this.dead) return;
      pos += size;
    }
    if (pos < len) {
      this.partial.set(chunk.subarray(pos), 0);
      this.partialLen = len - pos;
      if (this.partialLen >= FRAME_HEADER) this.checkLength(this.partial, 0);
    }
  }

  /** A frame header's length against SETTINGS_MAX_FRAME_SIZE, checked before its payload arrives. */
  private checkLength(b: Uint8Array, at: number): boolean {
    const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    if (length <= this.limits.maxFrameSize) return true;
    this.fail(
      new Http2Error(
        Http2ErrorCode.H2_FRAME_SIZE,
        `Frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.limits.maxFrameSize}`,
      ),
    );
    return false;
  }

  /** One whole frame at `b[at]`. */
  private frame(b: Uint8Array, at: number): void {
    const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    const type = b[at + 3]!;
    const flags = b[at + 4]!;
    const id = get31(b, at + 5);
    const p = at + FRAME_HEADER;
    if (frameChannel.hasSubscribers && type !== FrameType.HEADERS && type !== FrameType.CONTINUATION)
      publishFrame(this.diagId, 'in', b, at, null);
    if (!this.gotSettings) {
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) {
        this.fail(new Http2Error(Http2ErrorCode.H2_SETTINGS_EXPECTED, 'The first frame must be SETTINGS'));
        return;
      }
      this.gotSettings = true;
    }
    if (this.block !== null && type !== FrameType.CONTINUATION) {
      this.fail(new Http2Error(Http2ErrorCode.H2_CONTINUATION_EXPECTED, 'A header block was left open'));
      return;
    }
    switch (type) {
      case FrameType.DATA:
        this.onDataFrame(b, p, length, flags, id);
        break;
      case FrameType.HEADERS:
        this.onHeadersFrame(b, p, length, flags, id);
        break;
      case FrameType.PRIORITY:
        this.onPriority(b, p, length, id);
        break;
      case FrameType.RST_STREAM:
        this.onReset(b, p, length, id);
        break;
      case FrameType.SETTINGS:
        this.onSettings(b, p, length, flags, id);
        break;
      case FrameType.PUSH_PROMISE:
        this.fail(new Http2Error(Http2ErrorCode.H2_PUSH_FROM_CLIENT, 'A client cannot push'));
        break;
      case FrameType.PING:
        this.onPing(b, p, length, flags, id);
        break;
      case FrameType.GOAWAY:
        if (id !== 0) this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'GOAWAY on a stream'));
        else if (length < 8)
          this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'GOAWAY shorter than 8 bytes'));
        else this.h.onGoaway?.(get31(b, p), get32(b, p + 4));
        break;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(b, p, length, id);
        break;
      case FrameType.CONTINUATION:
        this.onContinuation(b, p, length, flags, id);
        break;
      default:
        break; // unknown frame types are ignored (RFC 9113 section 4.1)
    }
  }

  /** Counts frames that carry nothing; past the limit the connection is closed. */
  private empty(): boolean {
    if (++this.emptyFrames <= this.limits.maxEmptyFrames) return false;
    this.fail(
      new Http2Error(
        Http2ErrorCode.H2_EMPTY_FRAME_FLOOD,
        `More than ${this.limits.maxEmptyFrames} empty frames`,
      ),
    );
    return true;
  }

  /** Takes a control-frame token; false (and the connection closed) when the bucket is empty. */
  private control(): boolean {
    if (this.controls.take(this.clock())) return true;
    this.fail(new Http2Error(Http2ErrorCode.H2_CONTROL_FLOOD, 'Too many control frames'));
    return false;
  }

  /** Strips padding: returns the payload end, or -1 after failing the connection. */
  private unpad(b: Uint8Array, p: number, length: number, flags: number): number {
    if ((flags & Flag.PADDED) === 0) return p + length;
    if (length < 1) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'Padded frame without a pad length'));
      return -1;
    }
    const pad = b[p]!;
    if (pad >= length) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_PADDING, 'Padding exceeds the frame payload'));
      return -1;
    }
    return p + length - pad;
  }

  /**
   * RST_STREAM STREAM_CLOSED for a frame on a stream the client reset itself. Each costs a token of
   * the Rapid Reset bucket: a client cannot make us answer such frames without bound.
   */
  private closedStreamError(id: number): void {
    this.rst(id, ErrorCode.STREAM_CLOSED);
    if (!this.resets.take(this.clock()))
      this.fail(new Http2Error(Http2ErrorCode.H2_RAPID_RESET, 'Too many frames on streams the client reset'));
  }

  /** How `id` (at most `lastStream`) was closed, if it is among the last ones: a `CLOSED_*`, else 0. */
  private closedHow(id: number): number {
    const ids = this.closedIds;
    for (let i = 0; i < CLOSED_RING; i++) if (ids[i] === id) return this.closedHowRing[i]!;
    return 0;
  }

  private onDataFrame(b: Uint8Array, p: number, length: number, flags: number, id: number): void {
    if (id === 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'DATA on stream 0'));
      return;
    }
    // Every DATA byte, padding included, counts against the connection window.
    this.connRecvWindow -= length;
    if (this.connRecvWindow < 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FLOW_CONTROL, 'DATA beyond the connection window'));
      return;
    }
    this.connRecvPending += length;
    if (this.connRecvPending >= this.limits.connectionWindowSize >>> 1) {
      this.windowUpdate(0, this.connRecvPending);
      this.connRecvWindow += this.connRecvPending;
      this.connRecvPending = 0;
    }
    const end = this.unpad(b, p, length, flags);
    if (end < 0) return;
    const start = (flags & Flag.PADDED) !== 0 ? p + 1 : p;
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStream) {
        this.fail(idleStream('DATA'));
      } else {
        const how = this.closedHow(id);
        // RFC 9113 section 5.1: after the client's own RST_STREAM, a stream error; after its
        // END_STREAM (or a stream long gone), a connection error; in flight after ours, ignored.
        if (how === CLOSED_BY_PEER) this.closedStreamError(id);
        else if (how !== CLOSED_BY_US)
          this.fail(new Http2Error(Http2ErrorCode.H2_STREAM_CLOSED, `DATA on closed stream ${id}`));
      }
      return;
    }
    if (s.state === S_REMOTE_CLOSED || s.state === S_CLOSED) {
      this.streamError(
        s,
        new Http2Error(Http2ErrorCode.H2_STREAM_CLOSED, `DATA after END_STREAM on stream ${id}`, id),
      );
      return;
    }
    s.recvWindow -= length;
    if (s.recvWindow < 0) {
      this.streamError(
        s,
        new Http2Error(Http2ErrorCode.H2_FLOW_CONTROL, `DATA beyond the window of stream ${id}`, id),
      );
      return;
    }
    // Padding is given back at once; the data when the owner consumes it.
    if (end - start < length) {
      s.recvConsumed += length - (end - start);
      if ((flags & Flag.END_STREAM) === 0 && s.recvConsumed >= this.limits.initialWindowSize >>> 1) {
        this.windowUpdate(id, s.recvConsumed);
        s.recvWindow += s.recvConsumed;
        s.recvConsumed = 0;
      }
    }
    const n = end - start;
    const fin = (flags & Flag.END_STREAM) !== 0;
    if (n === 0 && !fin) {
      if (this.empty()) return;
    } else this.emptyFrames = 0;
    s.received += n;
    if (s.contentLength >= 0 && (s.received > s.contentLength || (fin && s.received !== s.contentLength))) {
      this.streamError(
        s,
        new Http2Error(
          Http2ErrorCode.H2_CONTENT_LENGTH_MISMATCH,
          `content-length ${s.contentLength}, DATA ${s.received}${fin ? '' : ' so far'}`,
          id,
        ),
      );
      return;
    }
    if (fin) this.remoteEnd(s);
    this.h.onRequestData(id, n === 0 ? EMPTY : b.subarray(start, end), fin);
    if (fin) this.maybeClose(s);
  }

  private onHeadersFrame(b: Uint8Array, p: number, length: number, flags: number, id: number): void {
    if (id === 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'HEADERS on stream 0'));
      return;
    }
    let end = this.unpad(b, p, length, flags);
    if (end < 0) return;
    let start = (flags & Flag.PADDED) !== 0 ? p + 1 : p;
    const priority = (flags & Flag.PRIORITY) !== 0;
    if (priority) {
      if (end - start < 5) {
        // The frame holds the pad length and priority fields, but the padding eats into them: a
        // PROTOCOL_ERROR (RFC 9113 section 6.2); a frame too short for them is FRAME_SIZE_ERROR.
        this.fail(
          (flags & Flag.PADDED) !== 0 && length >= 6
            ? new Http2Error(Http2ErrorCode.H2_BAD_PADDING, 'Padding exceeds the frame payload')
            : new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'HEADERS too short for its priority'),
        );
        return;
      }
      start += 5;
    }
    if ((flags & Flag.END_HEADERS) === 0) {
      if (frameChannel.hasSubscribers) publishFrame(this.diagId, 'in', b, p - FRAME_HEADER, null);
      // The block continues in CONTINUATION frames: keep a copy (bounded).
      if (end - start === 0 && this.empty()) return;
      if (end - start > this.limits.maxHeaderBlockBytes) {
        this.fail(new Http2Error(Http2ErrorCode.H2_CONTINUATION_FLOOD, 'Header block too large'));
        return;
      }
      const blk = new Uint8Array(Math.max(4_096, end - start));
      blk.set(b.subarray(start, end));
      this.block = blk;
      this.blockLen = end - start;
      this.blockStream = id;
      this.blockEnd = (flags & Flag.END_STREAM) !== 0;
      this.blockPriority = priority && get31(b, start - 5) === id;
      return;
    }
    this.emptyFrames = 0;
    const selfDep = priority && get31(b, start - 5) === id;
    end = Math.max(end, start);
    this.headerBlock(
      id,
      b.subarray(start, end),
      (flags & Flag.END_STREAM) !== 0,
      selfDep,
      b,
      p - FRAME_HEADER,
    );
  }

  private onContinuation(b: Uint8Array, p: number, length: number, flags: number, id: number): void {
    const blk = this.block;
    if (blk === null || id !== this.blockStream) {
      this.fail(
        new Http2Error(
          blk === null ? Http2ErrorCode.H2_UNEXPECTED_CONTINUATION : Http2ErrorCode.H2_CONTINUATION_EXPECTED,
          'CONTINUATION outside its header block',
        ),
      );
      return;
    }
    const total = this.blockLen + length;
    if (total > this.limits.maxHeaderBlockBytes) {
      this.fail(new Http2Error(Http2ErrorCode.H2_CONTINUATION_FLOOD, 'Header block too large'));
      return;
    }
    if (length === 0 && (flags & Flag.END_HEADERS) === 0 && this.empty()) return;
    let buf = blk;
    if (total > buf.length) {
      buf = new Uint8Array(Math.min(this.limits.maxHeaderBlockBytes, Math.max(total, buf.length * 2)));
      buf.set(blk.subarray(0, this.blockLen));
      this.block = buf;
    }
    buf.set(b.subarray(p, p + length), this.blockLen);
    this.blockLen = total;
    if ((flags & Flag.END_HEADERS) === 0) {
      if (frameChannel.hasSubscribers) publishFrame(this.diagId, 'in', b, p - FRAME_HEADER, null);
      return;
    }
    this.block = null;
    this.emptyFrames = 0;
    this.headerBlock(id, buf.subarray(0, total), this.blockEnd, this.blockPriority, b, p - FRAME_HEADER);
  }

  /** A complete header block for stream `id`: a request head or trailers. */
  private headerBlock(
    id: number,
    block: Uint8Array,
    fin: boolean,
    selfDep: boolean,
    frame: Uint8Array,
    frameAt: number,
  ): void {
    // Decode first, whatever happens to the stream: the HPACK tables must stay in step.
    let list: string[] | null;
    try {
      list = this.decoder.decode(block);
    } catch (err) {
      if (frameChannel.hasSubscribers) publishFrame(this.diagId, 'in', frame, frameAt, null);
      this.fail(
        err instanceof Http2Error
          ? err
          : new Http2Error(Http2ErrorCode.H2_COMPRESSION, `Header block cannot be decoded: ${String(err)}`),
      );
      return;
    }
    if (frameChannel.hasSubscribers) publishFrame(this.diagId, 'in', frame, frameAt, list);
    const s = this.streams.get(id);
    if (s !== undefined) {
      // Trailers (RFC 9113 section 8.1): they must end the stream.
      if (s.state === S_REMOTE_CLOSED || s.state === S_CLOSED) {
        this.streamError(
          s,
          new Http2Error(Http2ErrorCode.H2_STREAM_CLOSED, `HEADERS after END_STREAM on stream ${id}`, id),
        );
        return;
      }
      if (selfDep) {
        this.streamError(
          s,
          new Http2Error(Http2ErrorCode.H2_SELF_DEPENDENCY, 'A stream cannot depend on itself', id),
        );
        return;
      }
      const why = !fin
        ? 'trailers without END_STREAM'
        : list === null
          ? 'trailers too large'
          : checkTrailers(list);
      if (why !== null) {
        this.streamError(
          s,
          new Http2Error(Http2ErrorCode.H2_MALFORMED_REQUEST, `Malformed trailers: ${why}`, id),
        );
        return;
      }
      if (s.contentLength >= 0 && s.received !== s.contentLength) {
        this.streamError(
          s,
          new Http2Error(
            Http2ErrorCode.H2_CONTENT_LENGTH_MISMATCH,
            `content-length ${s.contentLength}, DATA ${s.received}`,
            id,
          ),
        );
        return;
      }
      this.remoteEnd(s);
      this.h.onTrailers(id, list!);
      this.maybeClose(s);
      return;
    }
    if ((id & 1) === 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ORDER, `Even stream id ${id} from a client`));
      return;
    }
    if (id <= this.lastStream) {
      const how = this.closedHow(id);
      // Sent before our RST_STREAM reached the client (trailers after an early response): ignored,
      // as RFC 9113 section 5.1 allows; decoded above, so the HPACK tables stay in step.
      if (how === CLOSED_BY_US) return;
      if (how === CLOSED_BY_PEER) this.closedStreamError(id);
      else if (how !== 0)
        this.fail(new Http2Error(Http2ErrorCode.H2_STREAM_CLOSED, `HEADERS on closed stream ${id}`));
      else
        this.fail(
          new Http2Error(
            Http2ErrorCode.H2_BAD_STREAM_ORDER,
            `Stream id ${id} is not above ${this.lastStream}`,
          ),
        );
      return;
    }
    this.lastStream = id;
    if (this.goawaySent && id > this.goawayLast) return; // after GOAWAY: ignored (RFC 9113 section 6.8)
    const s2 = new H2Stream(id, this.peerInitialWindow, this.limits.initialWindowSize);
    if (selfDep) {
      this.refuse(
        s2,
        new Http2Error(Http2ErrorCode.H2_SELF_DEPENDENCY, 'A stream cannot depend on itself', id),
      );
      return;
    }
    if (this.streams.size >= this.limits.maxConcurrentStreams) {
      this.refuse(
        s2,
        new Http2Error(
          Http2ErrorCode.H2_TOO_MANY_STREAMS,
          `More than ${this.limits.maxConcurrentStreams} concurrent streams`,
          id,
        ),
      );
      return;
    }
    if (list === null) {
      // RFC 9113 section 10.5.1: answer 431 and close the stream.
      this.streams.set(id, s2);
      this.streamsOpened++;
      if (fin) s2.state = S_REMOTE_CLOSED;
      const err = new Http2Error(
        Http2ErrorCode.H2_HEADER_LIST_TOO_LARGE,
        `Header list larger than ${this.limits.maxHeaderListSize}`,
        id,
      );
      this.h.onRefused?.(id, err);
      this.respond(id, 431, ['content-length', '0'], true);
      return;
    }
    const head = checkRequest(list);
    if (typeof head === 'string') {
      this.refuse(s2, new Http2Error(Http2ErrorCode.H2_MALFORMED_REQUEST, `Malformed request: ${head}`, id));
      return;
    }
    s2.contentLength = head.contentLength;
    if (fin) {
      s2.state = S_REMOTE_CLOSED;
      if (head.contentLength > 0) {
        this.refuse(
          s2,
          new Http2Error(
            Http2ErrorCode.H2_CONTENT_LENGTH_MISMATCH,
            `content-length ${head.contentLength}, no DATA`,
            id,
          ),
        );
        return;
      }
    }
    this.streams.set(id, s2);
    this.streamsOpened++;
    s2.lastProgress = this.clock();
    this.h.onRequest(id, head, fin);
  }

  /** A stream refused before its handler saw it: RST_STREAM, counted against Rapid Reset. */
  private refuse(s: H2Stream, err: Http2Error): void {
    this.h.onRefused?.(s.id, err);
    this.rst(s.id, err.errorCode);
    this.remember(s.id, CLOSED_BY_US);
    if (!this.resets.take(this.clock()))
      this.fail(new Http2Error(Http2ErrorCode.H2_RAPID_RESET, 'Too many streams refused or reset'));
  }

  private onPriority(b: Uint8Array, p: number, length: number, id: number): void {
    if (id === 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'PRIORITY on stream 0'));
      return;
    }
    if (!this.control()) return;
    if (length !== 5) {
      const err = new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'PRIORITY must be 5 bytes', id);
      const s = this.streams.get(id);
      if (s !== undefined) this.streamError(s, err);
      else this.rst(id, err.errorCode);
      return;
    }
    if (get31(b, p) === id) {
      const err = new Http2Error(Http2ErrorCode.H2_SELF_DEPENDENCY, 'A stream cannot depend on itself', id);
      const s = this.streams.get(id);
      if (s !== undefined) this.streamError(s, err);
      else this.rst(id, err.errorCode);
    }
    // Otherwise ignored: RFC 9113 deprecates the priority tree.
  }

  private onReset(b: Uint8Array, p: number, length: number, id: number): void {
    if (id === 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'RST_STREAM on stream 0'));
      return;
    }
    if (length !== 4) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'RST_STREAM must be 4 bytes'));
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStream) this.fail(idleStream('RST_STREAM'));
      return; // closed already: ignored
    }
    const code = get32(b, p);
    // Reset by the client: it must send nothing more on it (RFC 9113 section 6.1), so a later DATA
    // is a STREAM_CLOSED error, not a frame in flight to ignore.
    this.drop(s, CLOSED_BY_PEER);
    this.h.onStreamClose(
      id,
      new Http2Error(
        Http2ErrorCode.H2_STREAM_CLOSED,
        `Stream ${id} reset by the client`,
        id,
        code as ErrorCode,
      ),
    );
    if (!this.resets.take(this.clock()))
      this.fail(new Http2Error(Http2ErrorCode.H2_RAPID_RESET, 'Too many streams reset by the client'));
    else this.checkDone();
  }

  private onSettings(b: Uint8Array, p: number, length: number, flags: number, id: number): void {
    if (id !== 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'SETTINGS on a stream'));
      return;
    }
    if ((flags & Flag.ACK) !== 0) {
      if (length !== 0)
        this.fail(new Http2Error(Http2ErrorCode.H2_SETTINGS_ACK_PAYLOAD, 'SETTINGS ACK with a payload'));
      else if (!this.settingsAcked) {
        this.settingsAcked = true;
        // Our HEADER_TABLE_SIZE is in force from now on (the decoder starts at the default 4096).
        if (this.limits.headerTableSize < 4_096) this.decoder.setMaxTableSize(this.limits.headerTableSize);
      }
      return;
    }
    if (length % 6 !== 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'SETTINGS length not a multiple of 6'));
      return;
    }
    if (!this.control()) return;
    for (let i = p; i < p + length; i += 6) {
      const key = (b[i]! << 8) | b[i + 1]!;
      const value = get32(b, i + 2);
      switch (key) {
        case Setting.HEADER_TABLE_SIZE:
          this.encoder.setMaxTableSize(Math.min(value, 4_096));
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1) {
            this.fail(new Http2Error(Http2ErrorCode.H2_BAD_SETTING, 'SETTINGS_ENABLE_PUSH must be 0 or 1'));
            return;
          }
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) {
            this.fail(
              new Http2Error(Http2ErrorCode.H2_WINDOW_OVERFLOW, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1'),
            );
            return;
          }
          // RFC 9113 section 6.9.2: every open stream's window moves by the difference.
          const delta = value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) {
              this.fail(
                new Http2Error(Http2ErrorCode.H2_WINDOW_OVERFLOW, `Stream ${s.id} window above 2^31-1`),
              );
              return;
            }
            if (delta > 0 && s.queuedBytes + (s.endQueued ? 1 : 0) > 0) this.schedule(s);
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            this.fail(new Http2Error(Http2ErrorCode.H2_BAD_SETTING, 'SETTINGS_MAX_FRAME_SIZE out of range'));
            return;
          }
          this.peerMaxFrame = value;
          break;
        default:
          break; // MAX_CONCURRENT_STREAMS concerns pushes; MAX_HEADER_LIST_SIZE is advisory; others ignored
      }
    }
    const at = this.reserve(FRAME_HEADER);
    putFrameHeader(this.out, at, 0, FrameType.SETTINGS, Flag.ACK, 0);
  }

  private onPing(b: Uint8Array, p: number, length: number, flags: number, id: number): void {
    if (id !== 0) {
      this.fail(new Http2Error(Http2ErrorCode.H2_BAD_STREAM_ID, 'PING on a stream'));
      return;
    }
    if (length !== 8) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'PING must be 8 bytes'));
      return;
    }
    if ((flags & Flag.ACK) !== 0) {
      if (this.shutdownPing) this.finalGoaway();
      return;
    }
    if (!this.control()) return;
    const at = this.reserve(FRAME_HEADER + 8);
    putFrameHeader(this.out, at, 8, FrameType.PING, Flag.ACK, 0);
    this.out.set(b.subarray(p, p + 8), at + FRAME_HEADER);
  }

  private onWindowUpdate(b: Uint8Array, p: number, length: number, id: number): void {
    if (length !== 4) {
      this.fail(new Http2Error(Http2ErrorCode.H2_FRAME_SIZE, 'WINDOW_UPDATE must be 4 bytes'));
      return;
    }
    const inc = get31(b, p);
    if (id === 0) {
      if (inc === 0) {
        this.fail(new Http2Error(Http2ErrorCode.H2_ZERO_WINDOW_INCREMENT, 'WINDOW_UPDATE of 0'));
        return;
      }
      this.connSendWindow += inc;
      if (this.connSendWindow > MAX_WINDOW) {
        this.fail(new Http2Error(Http2ErrorCode.H2_WINDOW_OVERFLOW, 'Connection window above 2^31-1'));
        return;
      }
      // Every stream waiting for window may go on.
      for (const s of this.streams.values()) if (s.queuedBytes > 0 && s.sendWindow > 0) this.schedule(s);
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStream) this.fail(idleStream('WINDOW_UPDATE'));
      return;
    }
    if (inc === 0) {
      this.streamError(s, new Http2Error(Http2ErrorCode.H2_ZERO_WINDOW_INCREMENT, 'WINDOW_UPDATE of 0', id));
      return;
    }
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) {
      this.streamError(
        s,
        new Http2Error(Http2ErrorCode.H2_WINDOW_OVERFLOW, `Stream ${id} window above 2^31-1`, id),
      );
      return;
    }
    if (s.queuedBytes > 0 || s.endQueued) this.schedule(s);
  }

  // ---- stream life -----------------------------------------------------------------------------

  private remoteEnd(s: H2Stream): void {
    s.state = s.state === S_LOCAL_CLOSED ? S_CLOSED : S_REMOTE_CLOSED;
  }

  /** Closes `s` when both sides ended. */
  private maybeClose(s: H2Stream): void {
    if (s.state !== S_CLOSED || !this.streams.has(s.id)) return;
    this.drop(s, CLOSED_ENDED);
    this.h.onStreamClose(s.id, null);
    this.checkDone();
  }

  /** Removes `s` (closed), remembering its id and `how`. */
  private drop(s: H2Stream, how: number): void {
    s.state = S_CLOSED;
    this.streams.delete(s.id);
    s.queue.length = 0;
    s.queuedBytes = 0;
    s.endQueued = false;
    this.remember(s.id, how);
  }

  private remember(id: number, how: number): void {
    const i = this.closedAt;
    this.closedIds[i] = id;
    this.closedHowRing[i] = how;
    this.closedAt = (i + 1) % CLOSED_RING;
  }

  /** A stream error: RST_STREAM, the stream closes, its owner hears why. */
  private streamError(s: H2Stream, err: Http2Error): void {
    this.rst(s.id, err.errorCode);
    this.drop(s, CLOSED_BY_US);
    this.h.onStreamClose(s.id, err);
    this.checkDone();
  }

  private rst(id: number, code: number): void {
    const at = this.reserve(FRAME_HEADER + 4);
    putFrameHeader(this.out, at, 4, FrameType.RST_STREAM, 0, id);
    put32(this.out, at + FRAME_HEADER, code);
  }

  private windowUpdate(id: number, inc: number): void {
    const at = this.reserve(FRAME_HEADER + 4);
    putFrameHeader(this.out, at, 4, FrameType.WINDOW_UPDATE, 0, id);
    put32(this.out, at + FRAME_HEADER, inc);
  }

  /**
   * A connection error: GOAWAY with the last stream processed and the reason as debug data;
   * every open stream closes with `err`; `onError` is called. Nothing is read after.
   */
  private fail(err: Http2Error): void {
    if (this.dead) return;
    this.dead = true;
    this.error = err;
    this.block = null;
    this.goaway(this.lastStream, err.errorCode, err.code);
    const open = Array.from(this.streams.values());
    this.streams.clear();
    this.ring.length = 0;
    this.ringHead = 0;
    for (const s of open) {
      s.state = S_CLOSED;
      this.h.onStreamClose(s.id, err);
    }
    this.h.onError(err);
  }

  private goaway(last: number, code: number, debug: string): void {
    const n = debug.length;
    const at = this.reserve(FRAME_HEADER + 8 + n);
    const o = this.out;
    putFrameHeader(o, at, 8 + n, FrameType.GOAWAY, 0, 0);
    put32(o, at + FRAME_HEADER, last);
    put32(o, at + FRAME_HEADER + 4, code);
    for (let i = 0; i < n; i++) o[at + FRAME_HEADER + 8 + i] = debug.charCodeAt(i) & 0xff;
    this.goawaySent = true;
    this.goawayLast = Math.min(this.goawayLast, last);
  }

  // ---- responding ------------------------------------------------------------------------------

  private live(id: number): H2Stream {
    const s = this.streams.get(id);
    if (s === undefined || s.state === S_LOCAL_CLOSED || s.state === S_CLOSED || s.endQueued)
      throw new Http2Error(Http2ErrorCode.H2_INVALID_STATE, `Stream ${id} is not open for a response`, id);
    return s;
  }

  /**
   * Sends a response head: `:status` then `fields` (flat, lower-case names, no pseudo-headers).
   * A 1xx status is interim (`end` must be false). `end`: no body follows (END_STREAM).
   * Throws `H2_INVALID_STATE` when the stream cannot take a head.
   */
  respond(id: number, status: number, fields: readonly string[], end: boolean): void {
    const s = this.live(id);
    if (s.responded)
      throw new Http2Error(Http2ErrorCode.H2_INVALID_STATE, `Stream ${id} already has a response head`, id);
    if (status >= 200) s.responded = true;
    this.headers(s, statusField(status), fields, end);
  }

  /**
   * Queues response body bytes (by reference: do not modify `data` afterwards). They go out at
   * {@link flush} as the windows allow, fairly between streams. Returns false when the stream holds
   * `streamHighWater` bytes or more: wait for `onStreamWritable`.
   */
  sendData(id: number, data: Uint8Array, end: boolean): boolean {
    const s = this.live(id);
    if (!s.responded)
      throw new Http2Error(Http2ErrorCode.H2_INVALID_STATE, `Stream ${id} has no response head`, id);
    if (data.length > 0) {
      if (s.queuedBytes === 0) s.lastProgress = this.clock();
      s.queue.push(data);
      s.queuedBytes += data.length;
    }
    if (end) s.endQueued = true;
    this.schedule(s);
    if (s.queuedBytes < this.limits.streamHighWater) return true;
    s.wantWritable = true;
    return false;
  }

  /** Ends the response with trailer fields (flat, lower-case), after the queued body. */
  sendTrailers(id: number, fields: readonly string[]): void {
    const s = this.live(id);
    if (!s.responded)
      throw new Http2Error(Http2ErrorCode.H2_INVALID_STATE, `Stream ${id} has no response head`, id);
    s.trailers = fields as string[];
    s.endQueued = true;
    this.schedule(s);
  }

  /**
   * Resets a stream (RST_STREAM with `code`, default CANCEL) and closes it. Its queued bytes are
   * dropped; `onStreamClose` is not called (the caller knows). Unknown or closed streams: no-op.
   */
  resetStream(id: number, code: number = ErrorCode.CANCEL): void {
    const s = this.streams.get(id);
    if (s === undefined || this.dead) return;
    this.rst(id, code);
    this.drop(s, CLOSED_BY_US);
    this.checkDone();
  }

  /** The owner took `n` body bytes of `stream`: the client may send that much more. */
  consume(id: number, n: number): void {
    const s = this.streams.get(id);
    if (s === undefined || s.state === S_REMOTE_CLOSED || n <= 0) return;
    s.recvConsumed += n;
    if (s.recvConsumed >= this.limits.initialWindowSize >>> 1) {
      this.windowUpdate(id, s.recvConsumed);
      s.recvWindow += s.recvConsumed;
      s.recvConsumed = 0;
    }
  }

  /**
   * Graceful shutdown (RFC 9113 section 6.8): GOAWAY with the largest id and a PING; once the PING
   * comes back (or after a second), GOAWAY with the last stream really accepted. Streams already
   * open finish; when none is left, `closed` becomes true.
   */
  shutdown(): void {
    if (this.dead || this.goawaySent) return;
    this.goaway(MAX_WINDOW, ErrorCode.NO_ERROR, '');
    const at = this.reserve(FRAME_HEADER + 8);
    putFrameHeader(this.out, at, 8, FrameType.PING, 0, 0);
    this.out.fill(0x53, at + FRAME_HEADER, at + FRAME_HEADER + 8); // 'S' x 8: the shutdown probe
    this.shutdownPing = true;
    this.shutdownAt = this.clock();
  }

  private finalGoaway(): void {
    this.shutdownPing = false;
    this.goawayLast = MAX_WINDOW;
    this.goaway(this.lastStream, ErrorCode.NO_ERROR, '');
    this.checkDone();
  }

  /** After a shutdown's last GOAWAY, the connection is done once no stream is left. */
  private checkDone(): void {
    if (
      this.goawaySent &&
      !this.shutdownPing &&
      !this.dead &&
      this.error === null &&
      this.streams.size === 0 &&
      this.goawayLast !== MAX_WINDOW
    )
      this.dead = true;
  }

  /**
   * Closes the connection at once with GOAWAY `code` (a connection error of our own, such as a
   * timeout): open streams close with `err`.
   */
  abort(err: Http2Error): void {
    this.fail(err);
  }

  /**
   * Timers: the SETTINGS acknowledgement, the shutdown PING, and streams whose queued response
   * bytes have not moved for `sendTimeout` ms (0: off), which are reset with `H2_SEND_TIMEOUT`.
   */
  checkTimers(now: number, sendTimeout: number): void {
    if (this.dead) return;
    if (!this.settingsAcked && now - this.settingsSentAt > this.limits.settingsTimeout) {
      this.fail(new Http2Error(Http2ErrorCode.H2_SETTINGS_TIMEOUT, 'SETTINGS not acknowledged in time'));
      return;
    }
    if (this.shutdownPing && now - this.shutdownAt > 1_000) this.finalGoaway();
    if (sendTimeout <= 0) return;
    let stalled: H2Stream[] | null = null;
    for (const s of this.streams.values())
      if (s.queuedBytes > 0 && now - s.lastProgress > sendTimeout) (stalled ??= []).push(s);
    if (stalled !== null)
      for (const s of stalled)
        this.streamError(
          s,
          new Http2Error(
            Http2ErrorCode.H2_SEND_TIMEOUT,
            `Stream ${s.id} window shut for ${sendTimeout} ms`,
            s.id,
          ),
        );
  }

  // ---- output ----------------------------------------------------------------------------------

  /** Room for `n` more bytes in the output buffer; returns where they go (and counts them written). */
  private reserve(n: number): number {
    const at = this.outLen;
    if (at + n > this.out.length) {
      const bigger = new Uint8Array(Math.max(this.out.length * 2, at + n));
      bigger.set(this.out.subarray(0, at));
      this.out = bigger;
    }
    this.outLen = at + n;
    return at;
  }

  /**
   * Hands the output to `write` and empties the buffer: a small output as a copy (the buffer is
   * reused), a large one as the buffer itself (a new one is taken; no second copy).
   */
  private emit(): void {
    const len = this.outLen;
    if (len === 0) return;
    let chunk: Uint8Array;
    if (len < HANDOVER) chunk = this.out.slice(0, len);
    else {
      chunk = this.out.subarray(0, len);
      this.out = uninitialised(OUT_SIZE);
    }
    this.outLen = 0;
    if (frameChannel.hasSubscribers) this.traceOut(chunk);
    else if (this.outBlocks.length > 0) this.outBlocks.length = 0;
    this.h.write(chunk);
  }

  /** Publishes each frame of `chunk` on `strata:http2:frame`. */
  private traceOut(chunk: Uint8Array): void {
    let at = 0;
    while (at + FRAME_HEADER <= chunk.length) {
      const len = (chunk[at]! << 16) | (chunk[at + 1]! << 8) | chunk[at + 2]!;
      const type = chunk[at + 3]!;
      let fields: string[] | null = null;
      if (
        (type === FrameType.HEADERS || type === FrameType.CONTINUATION) &&
        (chunk[at + 4]! & Flag.END_HEADERS) !== 0
      )
        fields = this.outBlocks.shift() ?? null;
      const payload = at + FRAME_HEADER + len > chunk.length ? this.refPayload : null;
      publishFrame(this.diagId, 'out', chunk, at, fields, payload);
      at += FRAME_HEADER + len;
    }
    this.refPayload = null;
  }

  /** A HEADERS frame (and CONTINUATIONs past the peer's frame size) for `s`. */
  private headers(s: H2Stream, status: string[] | null, fields: readonly string[], end: boolean): void {
    // Room for the worst case, so encodeInto never runs out (its -1 would leave a hole).
    let bound = HpackEncoder.maxEncodedLength(fields);
    if (status !== null) bound += HpackEncoder.maxEncodedLength(status);
    if (frameChannel.hasSubscribers)
      this.outBlocks.push(status === null ? fields.slice() : status.concat(fields));
    const at = this.reserve(FRAME_HEADER + bound);
    const o = this.out;
    let p = at + FRAME_HEADER;
    if (status !== null) p = this.encoder.encodeInto(status, o, p);
    p = this.encoder.encodeInto(fields, o, p);
    if (p < 0) throw new Http2Error(Http2ErrorCode.H2_INVALID_HEADER, 'Header block encoding failed', s.id);
    const blockLen = p - at - FRAME_HEADER;
    const flags = end ? Flag.END_STREAM : 0;
    const max = this.peerMaxFrame;
    if (blockLen <= max) {
      putFrameHeader(o, at, blockLen, FrameType.HEADERS, flags | Flag.END_HEADERS, s.id);
      this.outLen = p;
    } else {
      // Split: HEADERS then CONTINUATION frames, each at most the peer's SETTINGS_MAX_FRAME_SIZE.
      const block = o.slice(at + FRAME_HEADER, p);
      this.outLen = at;
      for (let off = 0; off < blockLen; off += max) {
        const n = Math.min(max, blockLen - off);
        const last = off + n >= blockLen;
        const q = this.reserve(FRAME_HEADER + n);
        const type = off === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
        putFrameHeader(this.out, q, n, type, (off === 0 ? flags : 0) | (last ? Flag.END_HEADERS : 0), s.id);
        this.out.set(block.subarray(off, off + n), q + FRAME_HEADER);
      }
    }
    if (end) this.localEnd(s);
  }

  /** We sent END_STREAM on `s`. */
  private localEnd(s: H2Stream): void {
    s.endQueued = false;
    if (s.state === S_REMOTE_CLOSED) {
      s.state = S_CLOSED;
      this.drop(s, CLOSED_ENDED);
      this.h.onStreamClose(s.id, null);
      this.checkDone();
    } else {
      // The response is complete before the request: stop the upload (RFC 9113 section 8.1).
      s.state = S_LOCAL_CLOSED;
      this.rst(s.id, ErrorCode.NO_ERROR);
      this.drop(s, CLOSED_BY_US);
      this.h.onStreamClose(s.id, null);
      this.checkDone();
    }
  }

  private schedule(s: H2Stream): void {
    if (s.scheduled) return;
    s.scheduled = true;
    this.ring.push(s);
  }

  /**
   * Writes what is ready: queued frames, then DATA as the windows allow, round robin between
   * streams one frame at a time. Returns true when nothing is left to send but for window.
   */
  flush(): boolean {
    let budget = FLUSH_BUDGET;
    const ring = this.ring;
    if (ring.length > this.ringHead) this.now = this.clock();
    while (this.ringHead < ring.length && budget > 0) {
      const s = ring[this.ringHead++]!;
      s.scheduled = false;
      if (s.state === S_CLOSED || !this.streams.has(s.id)) continue;
      budget -= this.sendFrame(s);
      if (
        s.state !== S_CLOSED &&
        this.streams.has(s.id) &&
        (s.endQueued || s.queuedBytes > 0) &&
        s.sendWindow > 0 &&
        (this.connSendWindow > 0 || s.queuedBytes === 0)
      )
        this.schedule(s);
    }
    if (this.ringHead === ring.length) {
      ring.length = 0;
      this.ringHead = 0;
    } else if (this.ringHead > 1024) {
      this.ring = ring.slice(this.ringHead);
      this.ringHead = 0;
    }
    this.emit();
    return this.ringHead === this.ring.length;
  }

  /** One DATA frame (or the trailers) of `s`; returns the DATA bytes sent. */
  private sendFrame(s: H2Stream): number {
    const queued = s.queuedBytes;
    if (queued === 0) {
      if (!s.endQueued) return 0;
      if (s.trailers !== null) {
        const t = s.trailers;
        s.trailers = null;
        this.headers(s, null, t, true);
      } else {
        const at = this.reserve(FRAME_HEADER);
        putFrameHeader(this.out, at, 0, FrameType.DATA, Flag.END_STREAM, s.id);
        this.localEnd(s);
      }
      return 0;
    }
    let n = Math.min(queued, s.sendWindow, this.connSendWindow, this.peerMaxFrame);
    if (n <= 0) return 0;
    const chunk = s.queue[s.qHead]!;
    const left = chunk.length - s.qOffset;
    if (n > left) n = left; // one chunk per frame: views stay views
    const data = s.qOffset === 0 && n === chunk.length ? chunk : chunk.subarray(s.qOffset, s.qOffset + n);
    if (n === left) {
      s.queue[s.qHead++] = EMPTY;
      s.qOffset = 0;
      if (s.qHead === s.queue.length) {
        s.queue.length = 0;
        s.qHead = 0;
      }
    } else s.qOffset += n;
    s.queuedBytes -= n;
    s.sendWindow -= n;
    this.connSendWindow -= n;
    s.lastProgress = this.now;
    const fin = s.queuedBytes === 0 && s.endQueued && s.trailers === null;
    if (n < BY_REFERENCE) {
      // A small payload is copied next to its frame header: many frames leave in one chunk.
      const at = this.reserve(FRAME_HEADER + n);
      putFrameHeader(this.out, at, n, FrameType.DATA, fin ? Flag.END_STREAM : 0, s.id);
      this.out.set(data, at + FRAME_HEADER);
    } else {
      // A full frame's payload is handed over as the caller's bytes, after its header: no copy
      // (the transport queues a chunk this large by reference, in the same writev).
      const at = this.reserve(FRAME_HEADER);
      putFrameHeader(this.out, at, n, FrameType.DATA, fin ? Flag.END_STREAM : 0, s.id);
      if (frameChannel.hasSubscribers) this.refPayload = data;
      this.emit();
      this.h.write(data);
    }
    if (s.wantWritable && s.queuedBytes < this.limits.streamHighWater) {
      s.wantWritable = false;
      this.h.onStreamWritable(s.id);
    }
    if (fin) this.localEnd(s);
    return n;
  }
}

/** A frame other than HEADERS or PRIORITY on a stream not opened yet (RFC 9113 section 5.1). */
function idleStream(what: string): Http2Error {
  return new Http2Error(Http2ErrorCode.H2_STREAM_STATE, `${what} on an idle stream`);
}

/** `[':status', '200']` per status, built once. */
const STATUS_FIELDS: (string[] | undefined)[] = [];
function statusField(status: number): string[] {
  let f = STATUS_FIELDS[status];
  if (f === undefined) {
    f = [':status', String(status)];
    STATUS_FIELDS[status] = f;
  }
  return f;
}
