import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { WebSocketError, WebSocketErrorCode } from './_constants';
import type { Inflater } from './_receiver';

/** Smallest LZ77 window a peer may ask for (RFC 7692 §7.1.2.1): 2^8 = 256 bytes. */
const MIN_WINDOW_BITS = 8;
/** Largest LZ77 window (RFC 7692 §7.1.2.1), 2^15 = 32 KiB; the window when none is negotiated. */
const MAX_WINDOW_BITS = 15;
/**
 * Default {@link PerMessageDeflateOptions.threshold}: messages under 1 KiB are sent uncompressed (a
 * zlib job costs more than the few bytes it saves). Applied where the options are read (the server
 * and the client).
 */
export const DEFAULT_THRESHOLD = 1024;
/**
 * Default {@link PerMessageDeflateOptions.concurrency}: zlib jobs running at once per limiter, a few
 * more than libuv's 4 pool threads so the pool stays busy while JS handles results. Applied where the
 * limiter is created (the server, the client).
 */
export const DEFAULT_CONCURRENCY = 10;
/** Default {@link PerMessageDeflateOptions.level}: 1, zlib's fastest. */
const DEFAULT_LEVEL = 1;
/** Default {@link PerMessageDeflateOptions.memLevel}: 8, zlib's own (128 KiB of hash tables per compressor). */
const DEFAULT_MEM_LEVEL = 8;
/**
 * Largest output buffer an inflater fills per step. Each step is one libuv thread-pool job and one JS
 * round trip (about 40-70 µs besides the inflating), and the inflate stream keeps one buffer of this
 * size for its connection. The size used is `maxPayload + 1` up to this cap (see
 * {@link inflateChunkSize}): at the default 16 MiB limit a bomb takes 129 steps (about 5 ms) to reach
 * the limit, where 64 KiB steps took 257 (about 20 ms) and 256 KiB steps would take 65 (about 3 ms)
 * for twice the memory per connection. A bomb is stopped at its first step past the limit, so at most
 * this many bytes are inflated beyond maxPayload.
 */
const INFLATE_CHUNK_MAX = 128 * 1024;

/**
 * The inflater's output buffer size for a receiver limited to `maxPayload`: `maxPayload + 1`, so a
 * message of maxPayload bytes fits one step and a bomb's first step already passes the limit; capped
 * at {@link INFLATE_CHUNK_MAX}, and at least zlib's minimum (64 bytes).
 */
function inflateChunkSize(maxPayload: number): number {
  return Math.max(constants.Z_MIN_CHUNK, Math.min(maxPayload + 1, INFLATE_CHUNK_MAX));
}

/** permessage-deflate settings (RFC 7692). */
export interface PerMessageDeflateOptions {
  /** Server resets its compressor after every message (less memory, worse ratio). Default false. */
  serverNoContextTakeover?: boolean;
  /** Ask the client to reset its compressor after every message. Default false. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window the server compresses with, 9..15 (8 is accepted but then the server sends
   *  uncompressed, because zlib cannot produce a raw 256-byte-window stream). Default 15. */
  serverMaxWindowBits?: number;
  /** Window the client is asked to use when it offers `client_max_window_bits`, 8..15. Default: not asked. */
  clientMaxWindowBits?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024 ({@link DEFAULT_THRESHOLD}). */
  threshold?: number;
  /** zlib compression level 0..9. Default 1 (fast). */
  level?: number;
  /** zlib memLevel 1..9 for compressors. Default 8. */
  memLevel?: number;
  /**
   * Most zlib operations running at once across all connections sharing this config. Default 10
   * ({@link DEFAULT_CONCURRENCY}).
   */
  concurrency?: number;
}

/** The parameters agreed in the handshake (as seen by this side). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 0 = not present */
  serverMaxWindowBits: number;
  /** 0 = not present, -1 = present without a value (offer only) */
  clientMaxWindowBits: number;
}

/** Parses one extension header value into `[name, params][]` (RFC 7230 §3.2.6 tokens, quoted strings). */
export function parseExtensions(header: string): Array<[string, Array<[string, string | true]>]> | null {
  const out: Array<[string, Array<[string, string | true]>]> = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i++; // ' ' '\t'
  };
  const token = (): string => {
    const start = i;
    while (i < n && isTokenChar(header.charCodeAt(i))) i++;
    return header.slice(start, i);
  };
  for (;;) {
    skipWs();
    if (i >= n) break;
    if (header.charCodeAt(i) === 0x2c) {
      // ',' empty list element
      i++;
      continue;
    }
    const name = token();
    if (name === '') return null;
    const params: Array<[string, string | true]> = [];
    skipWs();
    while (i < n && header.charCodeAt(i) === 0x3b) {
      // ';'
      i++;
      skipWs();
      const key = token();
      if (key === '') return null;
      skipWs();
      let value: string | true = true;
      if (i < n && header.charCodeAt(i) === 0x3d) {
        // '='
        i++;
        skipWs();
        if (header.charCodeAt(i) === 0x22) {
          // '"' quoted-string; the unquoted value must still be a token (RFC 6455 §9.1)
          i++;
          let v = '';
          while (i < n && header.charCodeAt(i) !== 0x22) {
            if (header.charCodeAt(i) === 0x5c) i++; // '\\'
            v += header[i] ?? '';
            i++;
          }
          if (i >= n) return null;
          i++;
          value = v;
          for (let k = 0; k < v.length; k++) if (!isTokenChar(v.charCodeAt(k))) return null;
          if (v === '') return null;
        } else {
          value = token();
          if (value === '') return null;
        }
        skipWs();
      }
      params.push([key.toLowerCase(), value]);
    }
    out.push([name.toLowerCase(), params]);
    skipWs();
    if (i < n) {
      if (header.charCodeAt(i) !== 0x2c) return null; // ','
      i++;
    }
  }
  return out;
}

function isTokenChar(c: number): boolean {
  // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
  if (c >= 0x30 && c <= 0x39) return true;
  if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) return true;
  return (
    c === 0x21 ||
    c === 0x23 ||
    c === 0x24 ||
    c === 0x25 ||
    c === 0x26 ||
    c === 0x27 ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5e ||
    c === 0x5f ||
    c === 0x60 ||
    c === 0x7c ||
    c === 0x7e
  );
}

function windowBits(v: string | true): number {
  if (v === true) return -1;
  if (v.length < 1 || v.length > 2) return 0;
  const n = Number(v);
  return n >= MIN_WINDOW_BITS && n <= MAX_WINDOW_BITS && String(n) === v ? n : 0;
}

/** Validates one offer's (or response's) params; null when invalid (unknown/duplicate/bad values). */
export function readDeflateParams(params: Array<[string, string | true]>): DeflateParams | null {
  const p: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 0,
    clientMaxWindowBits: 0,
  };
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (seen.has(key)) return null;
    seen.add(key);
    if (key === 'server_no_context_takeover') {
      if (value !== true) return null;
      p.serverNoContextTakeover = true;
    } else if (key === 'client_no_context_takeover') {
      if (value !== true) return null;
      p.clientNoContextTakeover = true;
    } else if (key === 'server_max_window_bits') {
      const b = windowBits(value);
      if (b <= 0) return null;
      p.serverMaxWindowBits = b;
    } else if (key === 'client_max_window_bits') {
      const b = windowBits(value);
      if (b === 0) return null;
      p.clientMaxWindowBits = b;
    } else {
      return null;
    }
  }
  return p;
}

/** Server side: pick the response to the first acceptable offer (RFC 7692 §7.1). */
export function acceptDeflateOffer(
  offer: DeflateParams,
  opts: PerMessageDeflateOptions,
): DeflateParams | null {
  const cfgServerBits = opts.serverMaxWindowBits ?? MAX_WINDOW_BITS;
  const serverBits =
    offer.serverMaxWindowBits > 0
      ? Math.min(offer.serverMaxWindowBits, cfgServerBits)
      : cfgServerBits < MAX_WINDOW_BITS
        ? cfgServerBits
        : 0;
  let clientBits = 0;
  if (offer.clientMaxWindowBits !== 0 && opts.clientMaxWindowBits !== undefined) {
    clientBits =
      offer.clientMaxWindowBits > 0
        ? Math.min(offer.clientMaxWindowBits, opts.clientMaxWindowBits)
        : opts.clientMaxWindowBits;
  } else if (offer.clientMaxWindowBits > 0) {
    clientBits = offer.clientMaxWindowBits;
  }
  return {
    serverNoContextTakeover: offer.serverNoContextTakeover || opts.serverNoContextTakeover === true,
    clientNoContextTakeover: offer.clientNoContextTakeover || opts.clientNoContextTakeover === true,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}

/** Serialises agreed params as a `Sec-WebSocket-Extensions` value. */
export function formatDeflateParams(p: DeflateParams): string {
  let s = 'permessage-deflate';
  if (p.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (p.clientNoContextTakeover) s += '; client_no_context_takeover';
  if (p.serverMaxWindowBits > 0) s += `; server_max_window_bits=${p.serverMaxWindowBits}`;
  if (p.clientMaxWindowBits > 0) s += `; client_max_window_bits=${p.clientMaxWindowBits}`;
  else if (p.clientMaxWindowBits === -1) s += '; client_max_window_bits';
  return s;
}

/** FIFO limiter bounding concurrent zlib jobs (zlib runs on the libuv thread pool). */
export class ZlibLimiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(readonly concurrency: number) {}
  run(job: () => void): void {
    if (this.running < this.concurrency) {
      this.running++;
      job();
    } else {
      this.queue.push(job);
    }
  }
  done(): void {
    const next = this.queue.shift();
    if (next !== undefined) next();
    else this.running--;
  }
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_BLOCK = Buffer.from([0x00]);

/**
 * One connection's compressor and decompressor, created lazily, torn down on close. With no
 * context takeover the stream is reset after every message so its window memory is not kept busy.
 */
export class PerMessageDeflate implements Inflater {
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  private outChunks: Buffer[] = [];
  private inChunks: Buffer[] = [];
  /** Output bytes of the message being inflated so far. */
  private inLength = 0;
  /** maxPayload of the message being inflated. */
  private inLimit = 0;
  private closed = false;
  /** 0 = never compress outgoing (window 8 requested, which zlib cannot honour for raw streams). */
  readonly sendWindowBits: number;
  private readonly sendNoContext: boolean;
  private readonly recvNoContext: boolean;

  constructor(
    params: DeflateParams,
    isServer: boolean,
    private readonly opts: PerMessageDeflateOptions,
    private readonly limiter: ZlibLimiter,
  ) {
    const bits = isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    this.sendWindowBits = bits === MIN_WINDOW_BITS ? 0 : bits > 0 ? bits : MAX_WINDOW_BITS;
    this.sendNoContext = isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.recvNoContext = isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover;
  }

  /** Compresses one whole message; `cb` gets the payload without the 00 00 FF FF tail. */
  compress(data: Buffer, cb: (err: Error | null, out: Buffer | null) => void): void {
    // one compression at a time per connection: output chunks of a flush belong to one message
    if (this.compressing) {
      this.compressQueue.push([data, cb]);
      return;
    }
    this.compressing = true;
    const done = (err: Error | null, out: Buffer | null) => {
      this.compressing = false;
      const next = this.compressQueue.shift();
      cb(err, out);
      if (next !== undefined && !this.closed) this.compress(next[0], next[1]);
    };
    this.compressOne(data, done);
  }

  private compressing = false;
  private compressQueue: Array<[Buffer, (err: Error | null, out: Buffer | null) => void]> = [];

  private compressOne(data: Buffer, cb: (err: Error | null, out: Buffer | null) => void): void {
    this.limiter.run(() => {
      this.active++;
      if (this.closed) {
        this.release();
        cb(new WebSocketError(WebSocketErrorCode.CLOSED, 'connection closed'), null);
        return;
      }
      if (this.deflate === null) {
        this.deflate = createDeflateRaw({
          level: this.opts.level ?? DEFAULT_LEVEL,
          memLevel: this.opts.memLevel ?? DEFAULT_MEM_LEVEL,
          windowBits: this.sendWindowBits,
          // every write ends with a sync flush (RFC 7692 §7.2.1): one thread-pool job per message
          // instead of a write job plus a flush job
          flush: constants.Z_SYNC_FLUSH,
        });
        this.deflate.on('data', (c: Buffer) => this.outChunks.push(c));
        this.deflate.on('error', () => {});
      }
      const d = this.deflate;
      d.write(data, (err) => {
        if (err) {
          // closed meanwhile (close() released the slot), or zlib failed
          if (!this.closed) {
            this.release();
            cb(err, null);
          }
          return;
        }
        if (this.closed) return cb(new WebSocketError(WebSocketErrorCode.CLOSED, 'connection closed'), null);
        let out = this.outChunks.length === 1 ? this.outChunks[0]! : Buffer.concat(this.outChunks);
        this.outChunks = [];
        if (
          out.length >= 4 &&
          out[out.length - 4] === 0 &&
          out[out.length - 3] === 0 &&
          out[out.length - 2] === 0xff &&
          out[out.length - 1] === 0xff
        ) {
          out = out.subarray(0, out.length - 4);
        } else if (out.length === 0) {
          // an empty message right after the previous sync flush: zlib emits nothing (Z_BUF_ERROR),
          // but the peer appends 00 00 FF FF and needs the block header bits: send the single
          // 0x00 byte of RFC 7692 §7.2.3.6 (an empty stored block with the tail)
          out = EMPTY_BLOCK;
        }
        if (this.sendNoContext) d.reset();
        this.release();
        cb(null, out);
      });
    });
  }

  /**
   * Inflates one whole message (its frame payloads in order), one message at a time: the receiver
   * waits for `cb` before it parses on. `cb` is called exactly once, unless the connection closes
   * first; the limiter slot is held from the start of the zlib work to that answer. The output is
   * counted as zlib produces it, and the first step past `maxPayload` stops the inflater for good
   * (TOO_BIG): nothing more is inflated, whatever the message would have grown to.
   */
  decompress(
    chunks: Buffer[],
    _fin: true,
    maxPayload: number,
    cb: (err: WebSocketError | null, data: Buffer | null) => void,
  ): void {
    this.inInput = chunks;
    this.inLimit = maxPayload;
    this.inCallback = cb;
    this.limiter.run(this.inflateJob);
  }

  /** The message waiting for a limiter slot. */
  private inInput: Buffer[] | null = null;
  /** The answer owed for the message being inflated; null once given (or when none is owed). */
  private inCallback: ((err: WebSocketError | null, data: Buffer | null) => void) | null = null;
  /** The current inflate stream's write callback (bound to that stream, see `openInflate`). */
  private inflateWritten: ((err?: Error | null) => void) | null = null;

  /** Runs in a limiter slot: writes the message and its tail to the inflater as one zlib job. */
  private readonly inflateJob = (): void => {
    this.active++;
    const chunks = this.inInput;
    this.inInput = null;
    if (this.closed || chunks === null) {
      this.inCallback = null;
      this.release();
      return;
    }
    const inf = this.inflate ?? this.openInflate();
    this.inLength = 0;
    // the message and the 00 00 FF FF tail (RFC 7692 §7.2.2) as ONE write: one thread-pool job;
    // inflate emits everything it can decode without an explicit flush
    let total = TRAILER.length;
    for (let i = 0; i < chunks.length; i++) total += chunks[i]!.length;
    const input = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      input.set(chunks[i]!, at);
      at += chunks[i]!.length;
    }
    input.set(TRAILER, at);
    inf.write(input, this.inflateWritten!);
  };

  /**
   * Creates the inflate stream (once per connection, lazily; again only after one failed). Its
   * output buffer is sized for the limit of the message that opens it (see {@link inflateChunkSize}).
   */
  private openInflate(): InflateRaw {
    const inf = createInflateRaw({ windowBits: MAX_WINDOW_BITS, chunkSize: inflateChunkSize(this.inLimit) });
    inf.on('data', this.onInflateData);
    inf.on('error', (err: Error) => this.inflateFailed(inf, err));
    this.inflateWritten = (err) => this.inflateDone(inf, err);
    this.inflate = inf;
    return inf;
  }

  /** One step's output (zlib's thread-pool callback, on the main thread). */
  private readonly onInflateData = (c: Buffer): void => {
    this.inLength += c.length;
    if (this.inLength > this.inLimit) {
      this.abortInflate();
      return;
    }
    this.inChunks.push(c);
  };

  /**
   * The output passed maxPayload: destroy the stream now. zlib schedules its next thread-pool step
   * only after this 'data' event returns, and not for a destroyed stream, so no more work runs (the
   * context is lost, but the connection fails with 1009 anyway). The write callback of a destroyed
   * stream is ignored (`inflateDone` checks the stream), so the slot and the answer are given here,
   * once.
   */
  private abortInflate(): void {
    this.inflate?.destroy();
    this.inflate = null;
    this.inflateWritten = null;
    this.inChunks = [];
    const cb = this.inCallback;
    this.inCallback = null;
    this.release();
    if (cb !== null && !this.closed) {
      cb(
        new WebSocketError(WebSocketErrorCode.TOO_BIG, `message over maxPayload (${this.inLimit} bytes)`),
        null,
      );
    }
  }

  /** A corrupt stream: the connection fails (1007); the write callback never answers. */
  private inflateFailed(inf: InflateRaw, err: Error): void {
    if (inf !== this.inflate) return;
    this.inflate = null;
    this.inflateWritten = null;
    this.inChunks = [];
    const cb = this.inCallback;
    this.inCallback = null;
    if (this.closed) return; // close() released the slot
    this.release();
    cb?.(new WebSocketError(WebSocketErrorCode.INFLATE, `invalid compressed data: ${err.message}`), null);
  }

  /** The whole message was inflated within maxPayload. */
  private inflateDone(inf: InflateRaw, err: Error | null | undefined): void {
    // aborted, failed or closed meanwhile: that path answered (or no answer is owed)
    if (err || inf !== this.inflate || this.inCallback === null) return;
    const cb = this.inCallback;
    this.inCallback = null;
    this.release();
    const parts = this.inChunks;
    this.inChunks = [];
    if (this.recvNoContext) inf.reset();
    cb(null, parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.inLength));
  }

  private active = 0;
  private release(): void {
    if (this.active > 0) {
      this.active--;
      this.limiter.done();
    }
  }

  /** Frees the zlib streams. */
  close(): void {
    this.closed = true;
    while (this.active > 0) this.release();
    this.deflate?.close();
    this.inflate?.close();
    this.deflate = null;
    this.inflate = null;
    this.inflateWritten = null;
    this.inInput = null;
    this.inCallback = null;
    this.outChunks = [];
    this.inChunks = [];
    this.compressQueue = [];
  }
}
