import { CloseCode, isValidCloseCode, Opcode, WebSocketError, WebSocketErrorCode } from './_constants';
import { maskCopy } from './_frame';
import { utf8Step, utf8Validate } from './_utf8';

/** What the receiver reports. Views passed here are owned by the callee (fresh buffers). */
export interface ReceiverEvents {
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A short unfragmented text message, decoded straight from the receiver's scratch buffer. */
  onText(text: string): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** `code` is 1005 when the frame had no payload. */
  onClose(code: number, reason: string): void;
  /** Protocol violation: the connection must be failed with `err.closeCode`. */
  onError(err: WebSocketError): void;
  /** An inflate finished and queued input was replayed: reading may resume. */
  onResume(): void;
}

/** Inflates one compressed message (all its frame payloads); asynchronous. */
export interface Inflater {
  decompress(
    chunks: Buffer[],
    fin: true,
    maxPayload: number,
    cb: (err: WebSocketError | null, data: Buffer | null) => void,
  ): void;
}

export interface ReceiverOptions {
  /** Server side: every frame must be masked (RFC 6455 §5.1). Client side: none may be. */
  isServer: boolean;
  /** Largest message (after decompression) in bytes; above it close 1009. */
  maxPayload: number;
  /** Set when permessage-deflate was negotiated (RSV1 allowed on first frames). */
  inflater: Inflater | null;
}

const S_HEADER = 0;
const S_PAYLOAD = 1;
const S_WAIT = 2; // waiting for an inflate to finish; input is queued
const S_DEAD = 3; // failed or closed: input is ignored

const EMPTY = Buffer.alloc(0);
/** Frames up to this size get their whole payload buffer when the first piece arrives. */
const FRAME_PREALLOC_LIMIT = 1024 * 1024;
/**
 * Unfragmented, uncompressed data frames up to this size whose payload is all in one chunk skip
 * the fragment list: text is unmasked into a scratch buffer and decoded from there (no Buffer per
 * message), binary is unmasked into its own buffer and delivered at once.
 */
const SMALL_FRAME_MAX = 256;
/**
 * A compressed message may take at most `maxPayload * COMPRESSED_EXPANSION + COMPRESSED_SLACK` bytes
 * on the wire (see {@link maxCompressedLength}). Deflate's worst case on incompressible data is
 * stored blocks, 5 header bytes per 64 KiB (under 0.01%), so twice the payload plus 1 KiB of headers
 * and sync flushes (00 00 FF FF, RFC 7692 §7.2.1) leaves any real encoder ample room.
 */
const COMPRESSED_EXPANSION = 2;
/** See {@link COMPRESSED_EXPANSION}. */
const COMPRESSED_SLACK = 1024;

/**
 * The most compressed bytes a message may carry under `maxPayload`: longer compressed messages are
 * refused with 1009 from the frame header, before any of their payload is buffered or inflated.
 * Shorter ones are inflated, and the inflater stops at the first output past `maxPayload`.
 */
export function maxCompressedLength(maxPayload: number): number {
  return maxPayload * COMPRESSED_EXPANSION + COMPRESSED_SLACK;
}

function fail(code: WebSocketErrorCode, message: string): WebSocketError {
  return new WebSocketError(code, message);
}

/**
 * Incremental, split-safe frame parser (RFC 6455 §5). Feed it bytes with `execute()` in any split;
 * the chunk is only read during the call (partial headers are copied into a 14-byte scratch buffer,
 * payload bytes are unmasked into fresh buffers), so the caller may reuse its buffer afterwards.
 */
export class Receiver {
  private state = S_HEADER;
  private readonly hdr = Buffer.allocUnsafe(14);
  private hdrLen = 0;
  private readonly mask = Buffer.allocUnsafe(4);
  private readonly isServer: boolean;
  private readonly maxPayload: number;
  /** {@link maxCompressedLength} of `maxPayload`. */
  private readonly maxCompressed: number;
  private readonly inflater: Inflater | null;
  /** The inflater's callback, bound once (not one closure per message). */
  private readonly onInflated: (err: WebSocketError | null, data: Buffer | null) => void;
  /** Whether the message being inflated is binary. */
  private inflatingBinary = false;
  private readonly events: ReceiverEvents;

  // current frame
  private opcode = 0;
  private fin = false;
  private masked = false;
  private frameLen = 0;
  private frameRead = 0;
  // control frame payload (<= 125 bytes, RFC 6455 §5.5)
  private readonly ctrl = Buffer.allocUnsafe(125);
  // short text payloads (see SMALL_FRAME_MAX); read only by `small()`, before its callback
  private readonly scratch = Buffer.allocUnsafe(SMALL_FRAME_MAX);
  private frameBuf: Buffer | null = null;

  // current message (data frames)
  private msgOpcode = 0; // 0 = no message in progress
  private msgCompressed = false;
  private msgLength = 0;
  private fragments: Buffer[] = [];
  private utf8State = 0;

  // bytes that arrived while an inflate was running
  private backlog: Buffer[] = [];

  constructor(options: ReceiverOptions, events: ReceiverEvents) {
    this.isServer = options.isServer;
    this.maxPayload = options.maxPayload;
    this.maxCompressed = maxCompressedLength(options.maxPayload);
    this.inflater = options.inflater;
    this.onInflated = (err, data) => this.inflated(err, data);
    this.events = events;
  }

  /** True while an inflate is in progress (the caller should pause reading). */
  get waiting(): boolean {
    return this.state === S_WAIT;
  }

  /** Stops parsing for good (after a close or a failure). */
  stop(): void {
    this.state = S_DEAD;
    this.fragments = [];
    this.backlog = [];
  }

  /** Parses `chunk`; valid only during the call. */
  execute(chunk: Uint8Array): void {
    if (this.state === S_WAIT) {
      this.backlog.push(Buffer.from(chunk));
      return;
    }
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const state = this.state;
      if (state === S_HEADER) {
        // fast path: the whole header is inside this chunk
        if (this.hdrLen === 0 && len - pos >= 2) {
          const b1 = chunk[pos + 1]!;
          const l7 = b1 & 0x7f;
          const hs = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
          if (len - pos >= hs) {
            if (!this.decodeHeader(chunk, pos)) return;
            pos += hs;
            const fl = this.frameLen;
            if (
              fl !== 0 &&
              fl <= SMALL_FRAME_MAX &&
              fl <= len - pos &&
              this.fin &&
              this.opcode !== Opcode.CONTINUATION &&
              this.opcode < 0x8 &&
              !this.msgCompressed
            ) {
              // the common case of many small messages: the whole frame is here
              if (!this.small(chunk, pos, fl)) return;
              pos += fl;
              continue;
            }
            if (fl === 0 && !this.frameDone()) {
              this.keepRest(chunk, pos);
              return;
            }
            continue;
          }
        }
        // slow path: gather the header byte by byte into the scratch buffer
        const hdr = this.hdr;
        while (this.hdrLen < 2 && pos < len) hdr[this.hdrLen++] = chunk[pos++]!;
        if (this.hdrLen < 2) return;
        const b1 = hdr[1]!;
        const l7 = b1 & 0x7f;
        const hs = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        while (this.hdrLen < hs && pos < len) hdr[this.hdrLen++] = chunk[pos++]!;
        if (this.hdrLen < hs) {
          // fail fast on the first two bytes even before the rest of the header arrives
          this.checkFirstBytes(hdr[0]!, b1);
          return;
        }
        this.hdrLen = 0;
        if (!this.decodeHeader(hdr, 0)) return;
        if (this.frameLen === 0 && !this.frameDone()) {
          this.keepRest(chunk, pos);
          return;
        }
      } else if (state === S_PAYLOAD) {
        const want = this.frameLen - this.frameRead;
        const n = Math.min(want, len - pos);
        if (!this.payload(chunk, pos, n)) return;
        pos += n;
        if (this.frameRead === this.frameLen && !this.frameDone()) {
          this.keepRest(chunk, pos);
          return;
        }
      } else {
        if (state === S_WAIT) this.backlog.push(Buffer.from(chunk.subarray(pos)));
        return;
      }
    }
  }

  /** Parsing stopped inside a chunk: while an inflate runs, keep the rest (copied) for later. */
  private keepRest(chunk: Uint8Array, pos: number): void {
    if (this.state === S_WAIT && pos < chunk.length) this.backlog.push(Buffer.from(chunk.subarray(pos)));
  }

  private error(err: WebSocketError): false {
    this.stop();
    this.events.onError(err);
    return false;
  }

  /** RSV bits, opcode, fragmentation and masking rules on the first two header bytes. */
  private checkFirstBytes(b0: number, b1: number): boolean {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    if ((b0 & 0x30) !== 0)
      return this.error(fail(WebSocketErrorCode.RSV_BITS, 'RSV2/RSV3 set without a negotiated extension'));
    if (opcode >= 0x8) {
      if (opcode > 0xa)
        return this.error(fail(WebSocketErrorCode.BAD_OPCODE, `reserved control opcode ${opcode}`));
      if (!fin)
        return this.error(
          fail(WebSocketErrorCode.FRAGMENTED_CONTROL, 'control frames must not be fragmented'),
        );
      if (rsv1) return this.error(fail(WebSocketErrorCode.RSV_BITS, 'RSV1 set on a control frame'));
      if ((b1 & 0x7f) > 125)
        return this.error(fail(WebSocketErrorCode.CONTROL_TOO_LONG, 'control frame payload over 125 bytes'));
    } else if (opcode === Opcode.CONTINUATION) {
      if (this.msgOpcode === 0)
        return this.error(
          fail(WebSocketErrorCode.UNEXPECTED_CONTINUATION, 'continuation frame without a message'),
        );
      if (rsv1) return this.error(fail(WebSocketErrorCode.RSV_BITS, 'RSV1 set on a continuation frame'));
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      if (this.msgOpcode !== 0)
        return this.error(
          fail(WebSocketErrorCode.EXPECTED_CONTINUATION, 'new message inside a fragmented message'),
        );
      if (rsv1 && this.inflater === null)
        return this.error(fail(WebSocketErrorCode.RSV_BITS, 'RSV1 set without permessage-deflate'));
    } else {
      return this.error(fail(WebSocketErrorCode.BAD_OPCODE, `reserved data opcode ${opcode}`));
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.isServer) {
      return this.error(
        fail(
          this.isServer ? WebSocketErrorCode.UNMASKED : WebSocketErrorCode.MASKED,
          this.isServer ? 'client frames must be masked' : 'server frames must not be masked',
        ),
      );
    }
    return true;
  }

  private decodeHeader(buf: Uint8Array, p: number): boolean {
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    if (!this.checkFirstBytes(b0, b1)) return false;
    const opcode = b0 & 0x0f;
    let len = b1 & 0x7f;
    p += 2;
    if (len === 126) {
      len = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    } else if (len === 127) {
      const hi = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      const lo = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
      if (hi >= 0x8000_0000)
        return this.error(
          fail(WebSocketErrorCode.BAD_LENGTH, 'the most significant bit of a 64-bit length must be 0'),
        );
      if (hi > 0x1f_ffff) return this.error(fail(WebSocketErrorCode.TOO_BIG, 'frame length over 2^53'));
      len = hi * 0x1_0000_0000 + lo;
      p += 8;
    }
    if (this.isServer) {
      const m = this.mask;
      m[0] = buf[p]!;
      m[1] = buf[p + 1]!;
      m[2] = buf[p + 2]!;
      m[3] = buf[p + 3]!;
    }
    this.masked = this.isServer;
    this.opcode = opcode;
    this.fin = (b0 & 0x80) !== 0;
    this.frameLen = len;
    this.frameRead = 0;
    if (opcode < 0x8) {
      if (opcode !== Opcode.CONTINUATION) {
        this.msgOpcode = opcode;
        this.msgCompressed = (b0 & 0x40) !== 0;
        this.msgLength = 0;
        this.utf8State = 0;
      }
      this.msgLength += len;
      if (this.msgLength > this.maxPayload && !this.msgCompressed) {
        return this.error(
          fail(WebSocketErrorCode.TOO_BIG, `message over maxPayload (${this.maxPayload} bytes)`),
        );
      }
      if (this.msgCompressed && this.msgLength > this.maxCompressed) {
        // compressed bytes beyond any plausible inflated size under maxPayload are refused early
        return this.error(
          fail(
            WebSocketErrorCode.TOO_BIG,
            `compressed message over ${this.maxCompressed} bytes (maxPayload ${this.maxPayload} bytes)`,
          ),
        );
      }
    }
    this.state = S_PAYLOAD;
    return true;
  }

  /**
   * A whole unfragmented, uncompressed data frame of `n` (1..SMALL_FRAME_MAX) bytes at `pos`.
   * Returns false when parsing must stop (invalid UTF-8, or the callback closed or failed).
   */
  private small(chunk: Uint8Array, pos: number, n: number): boolean {
    this.state = S_HEADER;
    this.msgOpcode = 0;
    if (this.opcode === Opcode.BINARY) {
      const data = Buffer.allocUnsafe(n);
      if (this.masked) maskCopy(chunk, pos, data, 0, n, this.mask, 0);
      else data.set(chunk.subarray(pos, pos + n));
      this.events.onMessage(data, true);
      return this.state === S_HEADER;
    }
    const buf = this.scratch;
    if (this.masked) maskCopy(chunk, pos, buf, 0, n, this.mask, 0);
    else buf.set(chunk.subarray(pos, pos + n));
    if (utf8Step(buf, 0, n, 0) !== 0) {
      return this.error(fail(WebSocketErrorCode.INVALID_UTF8, 'invalid UTF-8 in a text message'));
    }
    this.events.onText(buf.toString('utf8', 0, n));
    return this.state === S_HEADER;
  }

  /** Consumes `n` payload bytes of the current frame from `chunk` at `pos`. */
  private payload(chunk: Uint8Array, pos: number, n: number): boolean {
    if (n === 0) return true;
    const off = this.frameRead;
    this.frameRead += n;
    if (this.opcode >= 0x8) {
      if (this.masked) maskCopy(chunk, pos, this.ctrl, off, n, this.mask, off);
      else this.ctrl.set(chunk.subarray(pos, pos + n), off);
      return true;
    }
    let piece: Buffer;
    if (n === this.frameLen || this.frameLen > FRAME_PREALLOC_LIMIT) {
      // whole frame in this chunk, or too large to reserve up front: one buffer per piece
      piece = Buffer.allocUnsafe(n);
      if (this.masked) maskCopy(chunk, pos, piece, 0, n, this.mask, off);
      else piece.set(chunk.subarray(pos, pos + n));
      this.fragments.push(piece);
    } else {
      // a frame spread over several chunks: unmask each piece straight into one frame buffer
      if (off === 0) {
        this.frameBuf = Buffer.allocUnsafe(this.frameLen);
        this.fragments.push(this.frameBuf);
      }
      const fb = this.frameBuf!;
      if (this.masked) maskCopy(chunk, pos, fb, off, n, this.mask, off);
      else fb.set(chunk.subarray(pos, pos + n), off);
      piece = fb.subarray(off, off + n);
    }
    if (this.msgOpcode === Opcode.TEXT && !this.msgCompressed) {
      // fail fast: validate every piece as it arrives, across frame and chunk boundaries
      const s = utf8Validate(piece, 0, n, this.utf8State);
      if (s < 0) return this.error(fail(WebSocketErrorCode.INVALID_UTF8, 'invalid UTF-8 in a text message'));
      this.utf8State = s;
    }
    return true;
  }

  /** The current frame is complete. Returns false when parsing must stop (error or wait). */
  private frameDone(): boolean {
    this.state = S_HEADER;
    this.frameBuf = null;
    const opcode = this.opcode;
    if (opcode >= 0x8) return this.control(opcode);
    if (!this.fin) return true;
    const fragments = this.fragments;
    this.fragments = [];
    const isBinary = this.msgOpcode === Opcode.BINARY;
    this.msgOpcode = 0;
    if (this.msgCompressed) {
      this.state = S_WAIT;
      this.inflatingBinary = isBinary;
      // answered by `inflated()` from zlib's callbacks (a synchronous answer is handled below too)
      this.inflater!.decompress(fragments, true, this.maxPayload, this.onInflated);
      return this.state !== S_WAIT && this.state !== S_DEAD;
    }
    if (!isBinary && this.utf8State !== 0) {
      return this.error(fail(WebSocketErrorCode.INVALID_UTF8, 'text message ends inside a UTF-8 sequence'));
    }
    const data =
      fragments.length === 1
        ? fragments[0]!
        : fragments.length === 0
          ? EMPTY
          : Buffer.concat(fragments, this.msgLength);
    this.events.onMessage(data, isBinary);
    return this.state === S_HEADER;
  }

  /**
   * The inflater's answer for the message in `S_WAIT`: the whole message, or an error (TOO_BIG as
   * soon as the output passes maxPayload, INFLATE for corrupt data). Ignored once the receiver stopped.
   */
  private inflated(err: WebSocketError | null, data: Buffer | null): void {
    if (this.state === S_DEAD) return;
    if (err !== null || data === null) {
      this.error(err ?? fail(WebSocketErrorCode.INFLATE, 'inflate failed'));
      return;
    }
    const isBinary = this.inflatingBinary;
    if (!isBinary && utf8Validate(data, 0, data.length, 0) !== 0) {
      this.error(fail(WebSocketErrorCode.INVALID_UTF8, 'invalid UTF-8 in a text message'));
      return;
    }
    this.state = S_HEADER;
    this.events.onMessage(data, isBinary);
    // replay what arrived meanwhile
    while (this.backlog.length > 0 && this.state === S_HEADER) {
      const next = this.backlog.length === 1 ? this.backlog[0]! : Buffer.concat(this.backlog);
      this.backlog = [];
      this.execute(next);
    }
    if (this.state === S_HEADER || this.state === S_PAYLOAD) this.events.onResume();
  }

  private control(opcode: number): boolean {
    const len = this.frameLen;
    const data = Buffer.allocUnsafe(len);
    this.ctrl.copy(data, 0, 0, len);
    if (opcode === Opcode.PING) {
      this.events.onPing(data);
    } else if (opcode === Opcode.PONG) {
      this.events.onPong(data);
    } else {
      // close (RFC 6455 §5.5.1): empty, or a 2-byte code + UTF-8 reason
      if (len === 1)
        return this.error(fail(WebSocketErrorCode.BAD_CLOSE, 'close frame with a 1-byte payload'));
      let code: number = CloseCode.NO_STATUS;
      let reason = '';
      if (len >= 2) {
        code = (data[0]! << 8) | data[1]!;
        if (!isValidCloseCode(code))
          return this.error(fail(WebSocketErrorCode.BAD_CLOSE_CODE, `invalid close code ${code}`));
        if (utf8Validate(data, 2, len, 0) !== 0) {
          return this.error(fail(WebSocketErrorCode.INVALID_UTF8, 'invalid UTF-8 in the close reason'));
        }
        reason = data.toString('utf8', 2, len);
      }
      this.stop();
      this.events.onClose(code, reason);
      return false;
    }
    return this.state === S_HEADER;
  }
}
