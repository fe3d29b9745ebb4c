import { errorChannel, publishError } from './_diagnostics';
import { ErrorCode, HttpParseError } from './_errors';
import { HEX, IP_LITERAL, QDTEXT, QUOTED_PAIR, REG_NAME, TARGET, TOKEN, VALUE } from './_tables';
import {
  DEFAULT_LIMITS,
  type ParserCallbacks,
  type ParserOptions,
  ParseStatus,
  type RequestHead,
} from './_types';

// Parser states. The head states (S_METHOD .. S_HEAD_END_LF) are contiguous: while in one of them the
// bytes seen so far belong to the head (or trailer section) and are kept for decoding.
const S_START = 0; // between messages: optional empty lines (CRLF) then a method
const S_START_LF = 1; // saw CR of an empty line before the request line
const S_METHOD = 2;
const S_TARGET = 3;
const S_VERSION = 4; // "HTTP/d.d" CR LF, tracked with `vIdx`
const S_FIELD_START = 5; // start of a field line, or CR of the empty line
const S_NAME = 6;
const S_VALUE_OWS = 7; // OWS after ':'
const S_VALUE = 8;
const S_VALUE_LF = 9;
const S_HEAD_END_LF = 10;
const S_BODY = 11; // Content-Length body
const S_CHUNK_SIZE = 12;
const S_CHUNK_SIZE_WS = 13; // BWS between the size and ';'
const S_CHUNK_EXT = 14; // inside extensions, sub-state in `extState`
const S_CHUNK_SIZE_LF = 15;
const S_CHUNK_DATA = 16;
const S_CHUNK_DATA_CR = 17;
const S_CHUNK_DATA_LF = 18;
const S_MSG_DONE = 19; // head without body parsed: onMessageComplete is due
const S_CLOSED = 20; // a non-keep-alive message completed: the rest of the stream is ignored
const S_UPGRADED = 21;
const S_ERROR = 22;

// Chunk extension sub-states (RFC 9112 section 7.1.1):
// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
const X_NAME_START = 0; // after ';', BWS then a token
const X_NAME = 1;
const X_AFTER_NAME = 2; // BWS, then '=', ';' or CR
const X_VALUE_START = 3; // after '=', BWS then token or '"'
const X_VALUE_TOKEN = 4;
const X_QUOTED = 5;
const X_QUOTED_PAIR = 6;
const X_AFTER_VALUE = 7; // BWS, then ';' or CR

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_DIV10 = Math.floor(MAX_SAFE / 10);
const MAX_SAFE_DIV16 = Math.floor(MAX_SAFE / 16);

const EMPTY = new Uint8Array(0);

const latin1Slice: ((this: Uint8Array, start: number, end: number) => string) | undefined = (
  globalThis as {
    Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, s: number, e: number) => string } };
  }
).Buffer?.prototype.latin1Slice;

/** Decode bytes as ISO-8859-1 (one char per byte), the only lossless decoding of field values. */
function latin1(src: Uint8Array, start: number, end: number): string {
  // A Buffer (what sockets deliver): call its own method, which V8 dispatches faster than `.call`
  // on the detached function (about 25 ns less per head).
  const b = src as Uint8Array & { latin1Slice?: (s: number, e: number) => string };
  if (b.latin1Slice !== undefined) return b.latin1Slice(start, end);
  if (latin1Slice !== undefined) return latin1Slice.call(src, start, end);
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, src.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

function lit(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The field names checked line by line, keyed by name length and the low five bits of the first byte
 * (the same for upper and lower case letters): `SPECIAL[len * 32 + (b0 & 0x1f)]` is 1 for host,
 * expect, upgrade, connection, content-length and transfer-encoding. Common fields of the same length
 * (User-Agent, Keep-Alive, Accept, Cookie, Accept-Charset) are skipped without a call. A 1 is only a
 * candidate: `fieldLine` compares the whole name, so a collision costs a compare, never a wrong result.
 * Names of 32 bytes or more are never special (the index is out of range and reads `undefined`).
 */
const SPECIAL = new Uint8Array(32 * 32);
for (const name of ['host', 'expect', 'upgrade', 'connection', 'content-length', 'transfer-encoding']) {
  SPECIAL[name.length * 32 + (name.charCodeAt(0) & 0x1f)] = 1;
}

/** True when the field name at buf[s, s+n) may be one of the `SPECIAL` names. */
function maybeSpecial(buf: Uint8Array, s: number, n: number): boolean {
  return n < 32 && SPECIAL[n * 32 + (buf[s]! & 0x1f)] === 1;
}

const L_HOST = lit('host');
const L_EXPECT = lit('expect');
const L_UPGRADE = lit('upgrade');
const L_CONNECTION = lit('connection');
const L_CONTENT_LENGTH = lit('content-length');
const L_TRANSFER_ENCODING = lit('transfer-encoding');
const L_CLOSE = lit('close');
const L_KEEP_ALIVE = lit('keep-alive');
const L_CHUNKED = lit('chunked');
const L_100_CONTINUE = lit('100-continue');

/** Chunks shorter than this are scanned without the word-at-a-time view (see `execute`). */
const VIEW_MIN = 64;

/**
 * Index of the first byte in buf[i, lim) that is not a field-value byte (see `VALUE`). Long runs are
 * checked four bytes at a time (SWAR) through `w32`, an Int32Array over all of `buf.buffer`: a word
 * passes when no byte is below 0x20 (CTL, CR, LF, and also HTAB, which then takes the byte loop) and
 * no byte is 0x7F (DEL). Byte order does not matter: only "is any byte bad" is asked.
 */
function scanValue(buf: Uint8Array, i: number, lim: number, w32: Int32Array, off: number): number {
  const t = VALUE;
  while (i < lim && ((off + i) & 3) !== 0) {
    if (t[buf[i]!] !== 1) return i;
    i++;
  }
  let w = (off + i) >> 2;
  const wEnd = (off + lim) >> 2;
  while (w < wEnd) {
    const x = w32[w]!;
    const y = x ^ 0x7f7f7f7f;
    if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) break;
    w++;
  }
  i = (w << 2) - off;
  while (i < lim && t[buf[i]!] === 1) i++;
  return i;
}

/**
 * Index of the first byte in buf[i, lim) that is not a request-target byte (see `TARGET`), four bytes
 * at a time like `scanValue`: a word passes when no byte has the high bit set, none is below 0x21,
 * and none is 0x7F (DEL) or 0x23 ('#').
 */
function scanTarget(buf: Uint8Array, i: number, lim: number, w32: Int32Array, off: number): number {
  const t = TARGET;
  while (i < lim && ((off + i) & 3) !== 0) {
    if (t[buf[i]!] !== 1) return i;
    i++;
  }
  let w = (off + i) >> 2;
  const wEnd = (off + lim) >> 2;
  while (w < wEnd) {
    const x = w32[w]!;
    const y = x ^ 0x7f7f7f7f;
    const z = x ^ 0x23232323;
    if ((x | (x - 0x21212121) | ((y - 0x01010101) & ~y) | ((z - 0x01010101) & ~z)) & 0x80808080) break;
    w++;
  }
  i = (w << 2) - off;
  while (i < lim && t[buf[i]!] === 1) i++;
  return i;
}

/** Case-insensitive compare of src[s, s+l.length) against a lowercase literal (letters, digits, '-'). */
function eqLower(src: Uint8Array, s: number, l: Uint8Array): boolean {
  for (let k = 0; k < l.length; k++) {
    if ((src[s + k]! | 0x20) !== l[k]) return false;
  }
  return true;
}

/** Exact byte compare against an ASCII literal. */
function eqExact(src: Uint8Array, s: number, l: string): boolean {
  for (let k = 0; k < l.length; k++) {
    if (src[s + k] !== l.charCodeAt(k)) return false;
  }
  return true;
}

/** The interned method string for the common methods, else null. Avoids a string per request. */
function knownMethod(src: Uint8Array, s: number, n: number): string | null {
  switch (n) {
    case 3:
      if (eqExact(src, s, 'GET')) return 'GET';
      if (eqExact(src, s, 'PUT')) return 'PUT';
      return null;
    case 4:
      if (eqExact(src, s, 'POST')) return 'POST';
      if (eqExact(src, s, 'HEAD')) return 'HEAD';
      return null;
    case 5:
      if (eqExact(src, s, 'PATCH')) return 'PATCH';
      if (eqExact(src, s, 'TRACE')) return 'TRACE';
      return null;
    case 6:
      return eqExact(src, s, 'DELETE') ? 'DELETE' : null;
    case 7:
      if (eqExact(src, s, 'OPTIONS')) return 'OPTIONS';
      if (eqExact(src, s, 'CONNECT')) return 'CONNECT';
      return null;
    default:
      return null;
  }
}

/**
 * Validate `uri-host [ ":" port ]` (RFC 9110 section 7.2, RFC 3986 section 3.2.2) in src[s, e).
 * `portRequired` for authority-form (CONNECT). Returns true when valid.
 */
function validAuthority(
  src: Uint8Array,
  s: number,
  e: number,
  portRequired: boolean,
  hostRequired: boolean,
): boolean {
  // Tables in locals: imported bindings are live cells, a load and a check per byte otherwise.
  const tReg = REG_NAME;
  const tHex = HEX;
  let i = s;
  if (i < e && src[i] === 0x5b) {
    // '[' IP-literal ']'
    i++;
    const start = i;
    while (i < e && IP_LITERAL[src[i]!] === 1) i++;
    if (i === start || i >= e || src[i] !== 0x5d) return false; // ']'
    i++;
  } else {
    const start = i;
    while (i < e) {
      const b = src[i]!;
      if (tReg[b] === 1) {
        i++;
      } else if (b === 0x25) {
        // '%' HEXDIG HEXDIG
        if (i + 2 >= e || tHex[src[i + 1]!] === 255 || tHex[src[i + 2]!] === 255) return false;
        i += 3;
      } else {
        break;
      }
    }
    if (hostRequired && i === start) return false;
  }
  if (i === e) return !portRequired;
  if (src[i] !== 0x3a) return false; // ':'
  i++;
  if (portRequired && i === e) return false;
  while (i < e) {
    const b = src[i]!;
    if (b < 0x30 || b > 0x39) return false;
    i++;
  }
  return true;
}

/**
 * A strict, incremental, zero-copy HTTP/1.1 request parser (RFC 9112).
 *
 * Feed it bytes as they arrive with `execute`; it calls `onHead`, `onBody` and `onMessageComplete`
 * and returns a `ParseStatus`. It never throws on bad input, never resynchronises after an error,
 * and keeps no reference to a chunk after `execute` returns (head bytes split across chunks are copied
 * into an internal buffer of at most `maxHeadBytes`).
 *
 * @example
 * const parser = new RequestParser({
 *   onHead(head) { console.log(head.method, head.target, head.rawHeaders); },
 *   onBody(chunk) { body.push(chunk.slice()); }, // copy: the view dies after the call
 *   onMessageComplete() { console.log('done'); },
 * });
 * const status = parser.execute(bytes);
 * if (status === ParseStatus.ERROR) reply(parser.error!.status);
 */
export class RequestParser {
  /** Bytes of the last chunk consumed by the last `execute` (meaningful for UPGRADE and PAUSED). */
  consumed = 0;
  /** The error once `execute` or `finish` returned `ParseStatus.ERROR`; null otherwise. */
  error: HttpParseError | null = null;
  /** The error last published on the diagnostics channel (each is published once). */
  private reported: HttpParseError | null = null;

  private readonly cb: ParserCallbacks;
  private readonly maxRequestLine: number;
  private readonly maxHead: number;
  private readonly maxHeaders: number;
  private readonly maxExt: number;
  private readonly maxBody: number;
  private readonly requireHost: boolean;

  private state = S_START;
  /** Stream offset of byte 0 of the current chunk. */
  private base = 0;
  /** Head (or trailer) bytes kept from earlier chunks. */
  private hbuf: Uint8Array = EMPTY;
  private hlen = 0;
  /** Stream offset of the first byte of the current head or trailer section. */
  private headOff = 0;
  private vIdx = 0;
  private vMajor = 0;
  private vMinor = 0;
  private methodEnd = 0;
  private targetEnd = 0;
  /**
   * Per field line: name start, name end, value start, value end, relative to the head start. The
   * value end is set when the line's CR is seen, with trailing OWS (SP / HTAB only) already trimmed.
   */
  private fields: Int32Array;
  private nfields = 0;
  private inTrailers = false;
  private keepAlive = true;
  private remaining = 0;
  private chunkSize = 0;
  private sizeDigits = 0;
  private bodyBytes = 0;
  private extBytes = 0;
  private extState = 0;
  // Per-message facts gathered from field lines as each line completes.
  private hostCount = 0;
  private hostS = 0;
  private hostE = 0;
  private clCount = 0;
  private contentLength = -1;
  private clRel = 0;
  private teRel = -1;
  private teElems = 0;
  private teLastChunked = false;
  private connClose = false;
  private connKeepAlive = false;
  private connUpgrade = false;
  private hasUpgrade = false;
  private expectContinue = false;
  private afterUpgrade = S_START;

  constructor(callbacks: ParserCallbacks, limits?: Partial<ParserOptions>) {
    this.cb = callbacks;
    const o = { ...DEFAULT_LIMITS, ...limits };
    this.maxRequestLine = o.maxRequestLineBytes;
    this.maxHead = o.maxHeadBytes;
    this.maxHeaders = o.maxHeaders;
    this.maxExt = o.maxChunkExtensionBytes;
    this.maxBody = o.maxBodyBytes;
    this.requireHost = o.requireHost;
    this.fields = new Int32Array(Math.min(this.maxHeaders, 64) * 4);
  }

  /** Forget everything (including an error) and start a fresh stream at offset 0. */
  reset(): void {
    this.state = S_START;
    this.base = 0;
    this.hlen = 0;
    this.consumed = 0;
    this.error = null;
    this.nfields = 0;
    this.inTrailers = false;
  }

  /** True once a request without keep-alive completed; later bytes are ignored (never parsed). */
  get closed(): boolean {
    return this.state === S_CLOSED;
  }

  /** True once an Upgrade/CONNECT head was parsed; the connection now belongs to another protocol. */
  get upgraded(): boolean {
    return this.state === S_UPGRADED;
  }

  /**
   * After `ParseStatus.UPGRADE`, decline the upgrade (RFC 9110 section 7.8: a server MAY ignore
   * Upgrade; e.g. `Upgrade: h2c` from curl) and keep parsing this request's body and the following
   * requests as HTTP/1.1: call `execute` with the bytes after `consumed`. Returns false (and does
   * nothing) when the parser is not stopped at an upgrade.
   */
  declineUpgrade(): boolean {
    if (this.state !== S_UPGRADED) return false;
    this.state = this.afterUpgrade;
    return true;
  }

  /**
   * Parse the next bytes of the stream. Returns a `ParseStatus`; `consumed` says how many bytes of
   * `chunk` were used. Body views passed to `onBody` point into `chunk`.
   */
  execute(chunk: Uint8Array): ParseStatus {
    const status = this.run(chunk);
    // One compare per call: the error channel is looked at only once the parser has failed.
    if (status === ParseStatus.ERROR && errorChannel.hasSubscribers) this.report(chunk);
    return status;
  }

  /** Publishes the error once on `strata:http-parser:error`, with the bytes around its offset. */
  private report(chunk: Uint8Array): void {
    const error = this.error;
    if (error === null || error === this.reported) return;
    this.reported = error;
    publishError(error, chunk, this.base);
  }

  private run(chunk: Uint8Array): ParseStatus {
    const len = chunk.length;
    let state = this.state;
    if (state >= S_CLOSED) {
      this.consumed = state === S_CLOSED ? len : 0;
      if (state === S_CLOSED) this.base += len;
      return state === S_CLOSED
        ? ParseStatus.OK
        : state === S_UPGRADED
          ? ParseStatus.UPGRADE
          : ParseStatus.ERROR;
    }
    const buf = chunk;
    // Tables in locals: imported bindings are live cells, a load and a check per byte otherwise.
    const tToken = TOKEN;
    const tValue = VALUE;
    const tTarget = TARGET;
    const tHex = HEX;
    let w32: Int32Array | null = null;
    // Targets and values with at least this many bytes left go four at a time through `w32`. The view
    // is an allocation; a chunk under VIEW_MIN bytes (one small request per read, as load generators
    // and health checks send) is cheaper to scan byte by byte than to allocate for: `len + 1` is more
    // than any run left in this chunk, so the word scan never starts.
    const swarMin = len >= VIEW_MIN ? 16 : len + 1;
    let boff = 0;
    let i = 0;
    // Head bookkeeping: head bytes of this chunk start at `hstart`; `lim` is where the head limit bites.
    let hstart = 0;
    let lim = state >= S_METHOD && state <= S_HEAD_END_LF ? Math.min(len, this.maxHead - this.hlen) : len;

    for (;;) {
      switch (state) {
        case S_START: {
          if (i >= len) {
            this.state = state;
            return this.done(len);
          }
          const b = buf[i]!;
          if (b === CR) {
            // RFC 9112 section 2.2: ignore empty lines (CRLF) before the request line.
            i++;
            state = S_START_LF;
            break;
          }
          hstart = i;
          this.hlen = 0;
          this.headOff = this.base + i;
          this.nfields = 0;
          this.inTrailers = false;
          this.hostCount = 0;
          this.clCount = 0;
          this.contentLength = -1;
          this.teRel = -1;
          this.teElems = 0;
          this.teLastChunked = false;
          this.connClose = false;
          this.connKeepAlive = false;
          this.connUpgrade = false;
          this.hasUpgrade = false;
          this.expectContinue = false;
          lim = Math.min(len, i + this.maxHead);
          state = S_METHOD;
          break;
        }
        case S_START_LF: {
          if (i >= len) {
            this.state = state;
            return this.done(len);
          }
          if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Expected LF after CR');
          i++;
          state = S_START;
          break;
        }
        case S_METHOD: {
          const l = this.rlLimit(lim, hstart);
          while (i < l && tToken[buf[i]!] === 1) i++;
          if (i >= l) {
            if (l === len) break;
            return this.rlOverflow(i, hstart, true);
          }
          if (buf[i] !== SP) return this.fail(ErrorCode.HPE_INVALID_METHOD, i, 'Invalid method character');
          const rel = this.rel(i, hstart);
          if (rel === 0) return this.fail(ErrorCode.HPE_INVALID_METHOD, i, 'Empty method');
          this.methodEnd = rel;
          i++; // ' '
          state = S_TARGET;
          break;
        }
        case S_TARGET: {
          const l = this.rlLimit(lim, hstart);
          if (l - i >= swarMin) {
            if (w32 === null) {
              w32 = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
              boff = buf.byteOffset;
            }
            i = scanTarget(buf, i, l, w32, boff);
          } else {
            while (i < l && tTarget[buf[i]!] === 1) i++;
          }
          if (i >= l) {
            if (l === len) break;
            return this.rlOverflow(i, hstart, false);
          }
          if (buf[i] !== SP)
            return this.fail(ErrorCode.HPE_INVALID_URL, i, 'Invalid request-target character');
          const rel = this.rel(i, hstart);
          if (rel === this.methodEnd + 1)
            return this.fail(ErrorCode.HPE_INVALID_URL, i, 'Empty request-target');
          this.targetEnd = rel;
          this.vIdx = 0;
          i++; // ' '
          state = S_VERSION;
          break;
        }
        case S_VERSION: {
          // "HTTP/" DIGIT "." DIGIT CR LF, byte by byte so that it resumes anywhere (no prefix parsing).
          const l = this.rlLimit(lim, hstart);
          let v = this.vIdx;
          if (v === 0 && l - i >= 10) {
            // fast path: "HTTP/1.1" or "HTTP/1.0" and CRLF all present; anything else takes the byte loop
            const m = buf[i + 7]!;
            if (
              buf[i] === 0x48 && // 'H'
              buf[i + 1] === 0x54 && // 'T'
              buf[i + 2] === 0x54 && // 'T'
              buf[i + 3] === 0x50 && // 'P'
              buf[i + 4] === 0x2f && // '/'
              buf[i + 5] === 0x31 && // '1'
              buf[i + 6] === 0x2e && // '.'
              (m === 0x31 || m === 0x30) && // '1' | '0'
              buf[i + 8] === CR &&
              buf[i + 9] === LF
            ) {
              this.vMajor = 1;
              this.vMinor = m - 0x30;
              i += 10;
              state = S_FIELD_START;
              break;
            }
          }
          while (i < l && v < 10) {
            const b = buf[i]!;
            switch (v) {
              case 0:
                if (b !== 0x48) return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected HTTP/'); // 'H'
                break;
              case 1:
              case 2:
                if (b !== 0x54) return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected HTTP/'); // 'T'
                break;
              case 3:
                if (b !== 0x50) return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected HTTP/'); // 'P'
                break;
              case 4:
                if (b !== 0x2f) return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected HTTP/'); // '/'
                break;
              case 5:
                if (b < 0x30 || b > 0x39)
                  return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Invalid major version');
                this.vMajor = b - 0x30;
                break;
              case 6:
                if (b !== 0x2e) return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected dot'); // '.'
                break;
              case 7:
                if (b < 0x30 || b > 0x39)
                  return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Invalid minor version');
                this.vMinor = b - 0x30;
                if (this.vMajor !== 1 || this.vMinor > 1) {
                  return this.fail(
                    ErrorCode.HPE_HTTP_VERSION_NOT_SUPPORTED,
                    i - 2,
                    'Only HTTP/1.0 and HTTP/1.1 are supported',
                  );
                }
                break;
              case 8:
                if (b === LF) return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Bare LF after version');
                if (b !== CR)
                  return this.fail(ErrorCode.HPE_INVALID_VERSION, i, 'Expected CRLF after version');
                break;
              default:
                if (b !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR after version');
                break;
            }
            v++;
            i++;
          }
          this.vIdx = v;
          if (v < 10) {
            if (l === len) break;
            return this.rlOverflow(i, hstart, false);
          }
          state = S_FIELD_START;
          break;
        }
        case S_FIELD_START: {
          // Fast path: whole field lines in one go while the bytes are there. When the chunk (or the
          // head limit) runs out mid-line, the line continues in the granular state for that point,
          // which applies exactly the same checks; so results never depend on where chunks split.
          const rb = this.hlen - hstart; // head-relative position = i + rb
          let f = this.fields;
          for (;;) {
            if (i >= lim) break;
            const b = buf[i]!;
            if (tToken[b] !== 1) {
              if (b === CR) {
                i++;
                state = S_HEAD_END_LF;
                break;
              }
              if (b === SP || b === HTAB) {
                // RFC 9112 section 5.2: obs-fold is rejected with 400; so is whitespace before the first field.
                return this.fail(ErrorCode.HPE_OBS_FOLD, i, 'Field line starts with whitespace (obs-fold)');
              }
              if (b === LF) return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Bare LF');
              return this.fail(ErrorCode.HPE_INVALID_HEADER_TOKEN, i, 'Invalid header name character');
            }
            const n = this.nfields;
            if (n >= this.maxHeaders) {
              return this.fail(ErrorCode.HPE_TOO_MANY_HEADERS, i, 'Too many header fields');
            }
            if (n * 4 >= f.length) {
              this.growFields();
              f = this.fields;
            }
            const k = n * 4;
            f[k] = i + rb;
            i++;
            while (i < lim && tToken[buf[i]!] === 1) i++;
            if (i >= lim) {
              state = S_NAME;
              break;
            }
            if (buf[i] !== 0x3a) {
              // ':' - RFC 9112 section 5.1: no whitespace between field name and colon.
              return this.fail(ErrorCode.HPE_INVALID_HEADER_TOKEN, i, 'Invalid header name character');
            }
            f[k + 1] = i + rb;
            i++;
            while (i < lim && (buf[i] === SP || buf[i] === HTAB)) i++;
            if (i >= lim) {
              state = S_VALUE_OWS;
              break;
            }
            f[k + 2] = i + rb;
            if (lim - i >= swarMin) {
              // one Int32Array view per execute, only when values are long enough to pay for it
              if (w32 === null) {
                w32 = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
                boff = buf.byteOffset;
              }
              i = scanValue(buf, i, lim, w32, boff);
            } else {
              while (i < lim && tValue[buf[i]!] === 1) i++;
            }
            if (i >= lim) {
              state = S_VALUE;
              break;
            }
            if (buf[i] !== CR) {
              if (buf[i] === LF) return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Bare LF in field line');
              return this.fail(ErrorCode.HPE_INVALID_HEADER_VALUE, i, 'Invalid character in field value');
            }
            // Trim trailing OWS (SP / HTAB only; never other bytes such as \xa0) while the bytes are hot.
            let ve = i;
            const vsb = f[k + 2]! - rb;
            while (ve > vsb && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
            f[k + 3] = ve + rb;
            i++;
            if (i >= lim) {
              state = S_VALUE_LF;
              break;
            }
            if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR in field line');
            i++;
            this.nfields = n + 1;
            if (maybeSpecial(buf, f[k]! - rb, f[k + 1]! - f[k]!)) {
              // maybe a framing/routing field (length + first letter): check it now, for early errors
              let st: ParseStatus;
              if (f[k]! >= this.hlen) st = this.fieldLine(buf, hstart - this.hlen, k);
              else {
                this.keep(buf, hstart, i);
                hstart = i;
                st = this.fieldLine(this.hbuf, 0, k);
              }
              if (st === ParseStatus.ERROR) return this.fail2(i);
            }
          }
          break;
        }
        case S_NAME: {
          while (i < lim && tToken[buf[i]!] === 1) i++;
          if (i >= lim) break;
          if (buf[i] !== 0x3a) {
            // ':' - RFC 9112 section 5.1: no whitespace between field name and colon.
            return this.fail(ErrorCode.HPE_INVALID_HEADER_TOKEN, i, 'Invalid header name character');
          }
          this.fields[this.nfields * 4 + 1] = this.rel(i, hstart);
          i++;
          state = S_VALUE_OWS;
          break;
        }
        case S_VALUE_OWS: {
          while (i < lim && (buf[i] === SP || buf[i] === HTAB)) i++;
          if (i >= lim) break;
          this.fields[this.nfields * 4 + 2] = this.rel(i, hstart);
          state = S_VALUE;
          break;
        }
        case S_VALUE: {
          // (resuming a value split across chunks; whole lines take the fast path in S_FIELD_START)
          while (i < lim && tValue[buf[i]!] === 1) i++;
          if (i >= lim) break;
          const b = buf[i]!;
          if (b !== CR) {
            if (b === LF) return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Bare LF in field line');
            return this.fail(ErrorCode.HPE_INVALID_HEADER_VALUE, i, 'Invalid character in field value');
          }
          this.fields[this.nfields * 4 + 3] = this.trimmedEnd(buf, hstart, this.rel(i, hstart));
          i++;
          state = S_VALUE_LF;
          break;
        }
        case S_VALUE_LF: {
          if (i >= lim) break;
          if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR in field line');
          i++;
          const k = this.nfields * 4;
          this.nfields++;
          state = S_FIELD_START;
          const f = this.fields;
          const ns = f[k]!;
          const inChunk = ns >= this.hlen;
          if (
            inChunk
              ? maybeSpecial(buf, ns - this.hlen + hstart, f[k + 1]! - ns)
              : maybeSpecial(this.hbuf, ns, f[k + 1]! - ns)
          ) {
            let st: ParseStatus;
            if (f[k]! >= this.hlen) st = this.fieldLine(buf, hstart - this.hlen, k);
            else {
              this.keep(buf, hstart, i);
              hstart = i;
              st = this.fieldLine(this.hbuf, 0, k);
            }
            if (st === ParseStatus.ERROR) return this.fail2(i);
          }
          break;
        }
        case S_HEAD_END_LF: {
          if (i >= lim) break;
          if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR at end of head');
          i++;
          // The head is complete: decode it from one contiguous buffer.
          let src: Uint8Array;
          let off: number;
          const n = this.hlen + (i - hstart);
          if (this.hlen === 0) {
            src = buf;
            off = hstart;
          } else {
            this.keep(buf, hstart, i);
            src = this.hbuf;
            off = 0;
          }
          this.hlen = 0;
          if (this.inTrailers) {
            const st = this.completeTrailers(src, off, n);
            if (st === ParseStatus.ERROR) return this.fail2(i);
            state = this.state;
            if (st === ParseStatus.PAUSED) return this.pause(i);
            break;
          }
          const st = this.completeHead(src, off, n);
          if (st === ParseStatus.ERROR) return this.fail2(i);
          state = this.state;
          if (state === S_UPGRADED) {
            this.base += i;
            this.consumed = i;
            return ParseStatus.UPGRADE;
          }
          if (st === ParseStatus.PAUSED) return this.pause(i);
          break;
        }
        case S_BODY: {
          if (i >= len) break;
          const avail = len - i;
          const rem = this.remaining;
          const n = Math.min(avail, rem);
          this.remaining = rem - n;
          const stop = this.cb.onBody(buf.subarray(i, i + n)) === true;
          i += n;
          if (this.remaining === 0) {
            if (stop) return this.pauseAt(i, S_MSG_DONE);
            state = this.messageDone(null);
            if (state < 0) return this.pauseAt(i, -state - 1);
          } else if (stop) {
            return this.pauseAt(i, state);
          }
          break;
        }
        case S_CHUNK_SIZE: {
          let size = this.chunkSize;
          let digits = this.sizeDigits;
          while (i < len) {
            const h = tHex[buf[i]!]!;
            if (h === 255) break;
            if (size > MAX_SAFE_DIV16)
              return this.fail(ErrorCode.HPE_INVALID_CHUNK_SIZE, i, 'Chunk size overflow');
            size = size * 16 + h;
            digits++;
            i++;
          }
          this.chunkSize = size;
          this.sizeDigits = digits;
          if (i >= len) break;
          const b = buf[i]!;
          if (digits === 0)
            return this.fail(ErrorCode.HPE_INVALID_CHUNK_SIZE, i, 'Invalid character in chunk size');
          if (this.bodyBytes + size > this.maxBody) {
            return this.fail(ErrorCode.HPE_BODY_TOO_LARGE, i, 'Body larger than maxBodyBytes');
          }
          if (b === CR) {
            i++;
            state = S_CHUNK_SIZE_LF;
          } else if (b === 0x3b) {
            // ';'
            i++;
            this.extBytes = 1;
            this.extState = X_NAME_START;
            state = S_CHUNK_EXT;
          } else if (b === SP || b === HTAB) {
            i++;
            this.extBytes = 1;
            state = S_CHUNK_SIZE_WS;
          } else if (b === LF) {
            return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Bare LF after chunk size');
          } else {
            return this.fail(ErrorCode.HPE_INVALID_CHUNK_SIZE, i, 'Invalid character in chunk size');
          }
          break;
        }
        case S_CHUNK_SIZE_WS: {
          // BWS is only allowed when an extension follows (RFC 9112 section 7.1.1).
          while (i < len && (buf[i] === SP || buf[i] === HTAB)) {
            if (++this.extBytes > this.maxExt) {
              return this.fail(ErrorCode.HPE_CHUNK_EXTENSIONS_OVERFLOW, i, 'Chunk extensions too long');
            }
            i++;
          }
          if (i >= len) break;
          if (buf[i] !== 0x3b)
            return this.fail(ErrorCode.HPE_INVALID_CHUNK_SIZE, i, 'Whitespace after chunk size');
          i++;
          this.extState = X_NAME_START;
          state = S_CHUNK_EXT;
          break;
        }
        case S_CHUNK_EXT: {
          const r = this.chunkExt(buf, i, len);
          if (r < 0) return ParseStatus.ERROR;
          i = r;
          if (i >= len) break;
          // chunkExt stops only at the CR that ends the size line
          i++;
          state = S_CHUNK_SIZE_LF;
          break;
        }
        case S_CHUNK_SIZE_LF: {
          if (i >= len) break;
          if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR after chunk size');
          i++;
          if (this.chunkSize === 0) {
            // last-chunk: the trailer section follows, parsed as field lines.
            this.inTrailers = true;
            this.nfields = 0;
            this.hlen = 0;
            hstart = i;
            this.headOff = this.base + i;
            lim = Math.min(len, i + this.maxHead);
            state = S_FIELD_START;
          } else {
            this.remaining = this.chunkSize;
            state = S_CHUNK_DATA;
          }
          break;
        }
        case S_CHUNK_DATA: {
          if (i >= len) break;
          const avail = len - i;
          const rem = this.remaining;
          const n = Math.min(avail, rem);
          this.remaining = rem - n;
          this.bodyBytes += n;
          const stop = this.cb.onBody(buf.subarray(i, i + n)) === true;
          i += n;
          if (this.remaining === 0) state = S_CHUNK_DATA_CR;
          if (stop) return this.pauseAt(i, state);
          break;
        }
        case S_CHUNK_DATA_CR: {
          if (i >= len) break;
          if (buf[i] !== CR) return this.fail(ErrorCode.HPE_CR_EXPECTED, i, 'Expected CRLF after chunk data');
          i++;
          state = S_CHUNK_DATA_LF;
          break;
        }
        case S_CHUNK_DATA_LF: {
          if (i >= len) break;
          if (buf[i] !== LF) return this.fail(ErrorCode.HPE_LF_EXPECTED, i, 'Bare CR after chunk data');
          i++;
          this.chunkSize = 0;
          this.sizeDigits = 0;
          state = S_CHUNK_SIZE;
          break;
        }
        case S_MSG_DONE: {
          state = this.messageDone(null);
          if (state < 0) return this.pauseAt(i, -state - 1);
          break;
        }
        case S_CLOSED: {
          // RFC 9112 section 9.6: after a request with "close", no further requests are read.
          this.state = state;
          return this.done(len);
        }
        default:
          // S_UPGRADED and S_ERROR never reach the loop.
          return ParseStatus.ERROR;
      }
      if ((i >= len && state !== S_MSG_DONE) || (i >= lim && state >= S_METHOD && state <= S_HEAD_END_LF)) {
        if (state >= S_METHOD && state <= S_HEAD_END_LF) {
          if (i < len) {
            return this.fail(
              ErrorCode.HPE_HEADER_OVERFLOW,
              i,
              this.inTrailers ? 'Trailers too large' : 'Head too large',
            );
          }
          this.keep(buf, hstart, len);
        }
        this.state = state;
        return this.done(len);
      }
    }
  }

  /**
   * Signal the end of the stream. Returns OK between messages (or after close/upgrade), and ERROR
   * (`HPE_INVALID_EOF_STATE`) when the stream ends inside a message.
   */
  finish(): ParseStatus {
    const s = this.state;
    if (s === S_ERROR) return ParseStatus.ERROR;
    if (s === S_START || s === S_CLOSED || s === S_UPGRADED) return ParseStatus.OK;
    if (s === S_START_LF) return ParseStatus.OK;
    if (s === S_MSG_DONE) {
      // paused after a body-less head: the message is complete
      this.messageDone(null);
      return ParseStatus.OK;
    }
    this.consumed = 0;
    this.error = new HttpParseError(
      ErrorCode.HPE_INVALID_EOF_STATE,
      this.base,
      'Stream ended inside a message',
    );
    this.state = S_ERROR;
    if (errorChannel.hasSubscribers) this.report(EMPTY);
    return ParseStatus.ERROR;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private done(len: number): ParseStatus {
    this.base += len;
    this.consumed = len;
    return ParseStatus.OK;
  }

  private rel(i: number, hstart: number): number {
    return this.hlen + (i - hstart);
  }

  /** The loop bound for request-line states: the head limit or the request-line limit. */
  private rlLimit(lim: number, hstart: number): number {
    const l = hstart + this.maxRequestLine - this.hlen;
    return Math.min(l, lim);
  }

  private rlOverflow(i: number, hstart: number, inMethod: boolean): ParseStatus {
    if (this.rel(i, hstart) >= this.maxRequestLine) {
      if (inMethod) return this.fail(ErrorCode.HPE_METHOD_TOO_LONG, i, 'Method too long');
      return this.fail(ErrorCode.HPE_URI_TOO_LONG, i, 'Request line too long');
    }
    return this.fail(ErrorCode.HPE_HEADER_OVERFLOW, i, 'Head too large');
  }

  /** Append chunk[s, e) to the kept head bytes. Bounded by maxHeadBytes through `lim`. */
  private keep(buf: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (n <= 0) return;
    const need = this.hlen + n;
    if (need > this.hbuf.length) {
      let cap = this.hbuf.length === 0 ? 1024 : this.hbuf.length * 2;
      while (cap < need) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.hbuf.subarray(0, this.hlen));
      this.hbuf = nb;
    }
    this.hbuf.set(buf.subarray(s, e), this.hlen);
    this.hlen = need;
  }

  /**
   * The head-relative end of the current field value whose CR is at head-relative `cr`, with trailing
   * OWS (SP / HTAB only) trimmed. The value may span earlier chunks (kept in `hbuf`) and this one.
   */
  private trimmedEnd(buf: Uint8Array, hstart: number, cr: number): number {
    const vs = this.fields[this.nfields * 4 + 2]!;
    const hlen = this.hlen;
    const hb = this.hbuf;
    let ve = cr;
    while (ve > vs) {
      const b = ve - 1 >= hlen ? buf[ve - 1 - hlen + hstart] : hb[ve - 1];
      if (b !== SP && b !== HTAB) break;
      ve--;
    }
    return ve;
  }

  private growFields(): void {
    const nf = new Int32Array(this.fields.length * 2);
    nf.set(this.fields);
    this.fields = nf;
  }

  private fail(code: ErrorCode, i: number, reason: string): ParseStatus {
    this.error = new HttpParseError(code, this.base + i, reason);
    this.state = S_ERROR;
    this.consumed = i;
    return ParseStatus.ERROR;
  }

  /** Finish an error raised by a head/trailer check (error already set, offset already absolute). */
  private fail2(i: number): ParseStatus {
    this.state = S_ERROR;
    this.consumed = i;
    return ParseStatus.ERROR;
  }

  private failAt(code: ErrorCode, rel: number, reason: string): ParseStatus {
    this.error = new HttpParseError(code, this.headOff + rel, reason);
    return ParseStatus.ERROR;
  }

  private pause(i: number): ParseStatus {
    this.base += i;
    this.consumed = i;
    return ParseStatus.PAUSED;
  }

  private pauseAt(i: number, state: number): ParseStatus {
    this.state = state;
    return this.pause(i);
  }

  /**
   * A message ended: call onMessageComplete and choose the next state. Returns the next state, or
   * -(state + 1) when the callback asked to pause.
   */
  private messageDone(trailers: string[] | null): number {
    const next = this.keepAlive ? S_START : S_CLOSED;
    this.state = next;
    const stop = this.cb.onMessageComplete(trailers) === true;
    return stop ? -(next + 1) : next;
  }

  /** Chunk extension grammar; returns the index of the CR ending the size line, len, or -1 on error. */
  private chunkExt(buf: Uint8Array, i: number, len: number): number {
    let x = this.extState;
    let count = this.extBytes;
    const max = this.maxExt;
    while (i < len) {
      const b = buf[i]!;
      if (b === CR) {
        if (x === X_NAME_START || x === X_VALUE_START || x === X_QUOTED || x === X_QUOTED_PAIR) {
          this.fail(ErrorCode.HPE_INVALID_CHUNK_EXTENSION, i, 'Incomplete chunk extension');
          return -1;
        }
        this.extState = x;
        this.extBytes = count;
        return i;
      }
      if (++count > max) {
        this.fail(ErrorCode.HPE_CHUNK_EXTENSIONS_OVERFLOW, i, 'Chunk extensions too long');
        return -1;
      }
      let ok = true;
      switch (x) {
        case X_NAME_START:
          if (b === SP || b === HTAB) break;
          if (TOKEN[b] === 1) x = X_NAME;
          else ok = false;
          break;
        case X_NAME:
          if (TOKEN[b] === 1) break;
          if (b === SP || b === HTAB) x = X_AFTER_NAME;
          else if (b === 0x3d)
            x = X_VALUE_START; // '='
          else if (b === 0x3b)
            x = X_NAME_START; // ';'
          else ok = false;
          break;
        case X_AFTER_NAME:
          if (b === SP || b === HTAB) break;
          if (b === 0x3d)
            x = X_VALUE_START; // '='
          else if (b === 0x3b)
            x = X_NAME_START; // ';'
          else ok = false;
          break;
        case X_VALUE_START:
          if (b === SP || b === HTAB) break;
          if (b === 0x22)
            x = X_QUOTED; // '"'
          else if (TOKEN[b] === 1) x = X_VALUE_TOKEN;
          else ok = false;
          break;
        case X_VALUE_TOKEN:
          if (TOKEN[b] === 1) break;
          if (b === SP || b === HTAB) x = X_AFTER_VALUE;
          else if (b === 0x3b)
            x = X_NAME_START; // ';'
          else ok = false;
          break;
        case X_QUOTED:
          if (b === 0x22)
            x = X_AFTER_VALUE; // '"'
          else if (b === 0x5c)
            x = X_QUOTED_PAIR; // '\\'
          else if (QDTEXT[b] !== 1) ok = false;
          break;
        case X_QUOTED_PAIR:
          if (QUOTED_PAIR[b] === 1) x = X_QUOTED;
          else ok = false;
          break;
        default:
          // X_AFTER_VALUE
          if (b === SP || b === HTAB) break;
          if (b === 0x3b)
            x = X_NAME_START; // ';'
          else ok = false;
          break;
      }
      if (!ok) {
        this.fail(
          b === LF ? ErrorCode.HPE_CR_EXPECTED : ErrorCode.HPE_INVALID_CHUNK_EXTENSION,
          i,
          'Invalid chunk extension',
        );
        return -1;
      }
      i++;
    }
    this.extState = x;
    this.extBytes = count;
    return i;
  }

  /**
   * Apply the rules of one completed field line whose name length is a framing/routing one.
   * `k` indexes the line's four entries in `fields`; src[off + rel] addresses its bytes.
   */
  private fieldLine(src: Uint8Array, off: number, k: number): ParseStatus {
    const tToken = TOKEN; // a local, not a live import cell
    const f = this.fields;
    const ns = f[k]!;
    const ne = f[k + 1]!;
    const vs = f[k + 2]!;
    const ve = f[k + 3]!; // trailing OWS already trimmed
    const a = off + ns;
    const nlen = ne - ns;
    if (this.inTrailers) {
      // RFC 9110 section 6.5.1: framing, routing and connection fields never come from trailers.
      if (
        (nlen === 4 && eqLower(src, a, L_HOST)) ||
        (nlen === 10 && eqLower(src, a, L_CONNECTION)) ||
        (nlen === 7 && eqLower(src, a, L_UPGRADE)) ||
        (nlen === 14 && eqLower(src, a, L_CONTENT_LENGTH)) ||
        (nlen === 17 && eqLower(src, a, L_TRANSFER_ENCODING))
      ) {
        return this.failAt(ErrorCode.HPE_INVALID_TRAILER, ns, 'Framing or routing field in trailers');
      }
      return ParseStatus.OK;
    }
    switch (nlen) {
      case 4:
        if (eqLower(src, a, L_HOST)) {
          // RFC 9112 section 3.2: exactly one Host, a valid uri-host [ ":" port ].
          if (++this.hostCount > 1) return this.failAt(ErrorCode.HPE_INVALID_HOST, vs, 'Duplicate Host');
          if (!validAuthority(src, off + vs, off + ve, false, false)) {
            return this.failAt(ErrorCode.HPE_INVALID_HOST, vs, 'Invalid Host');
          }
          this.hostS = vs;
          this.hostE = ve;
        }
        break;
      case 6:
        if (eqLower(src, a, L_EXPECT)) {
          if (ve - vs === 12 && eqLower(src, off + vs, L_100_CONTINUE)) this.expectContinue = true;
        }
        break;
      case 7:
        if (eqLower(src, a, L_UPGRADE)) {
          if (ve > vs) this.hasUpgrade = true;
        }
        break;
      case 10:
        if (eqLower(src, a, L_CONNECTION)) {
          // RFC 9110 section 7.6.1: Connection = #connection-option, connection-option = token. Each
          // list element (section 5.6.1: OWS "," OWS between, empty elements allowed) counts only when
          // it is one whole token, compared case-insensitively: `close/x`, `upgrade x` or
          // `keep-alive;q=1` match nothing and are ignored (not rejected); other elements still count.
          let p = off + vs;
          const e = off + ve;
          while (p < e) {
            while (p < e && (src[p] === SP || src[p] === HTAB || src[p] === 0x2c)) p++; // ','
            const t = p;
            while (p < e && tToken[src[p]!] === 1) p++;
            const tl = p - t;
            while (p < e && (src[p] === SP || src[p] === HTAB)) p++;
            if (p < e && src[p] !== 0x2c) {
              // ',': not a single token; skip the rest of this element
              while (p < e && src[p] !== 0x2c) p++;
            } else if (tl === 5 && eqLower(src, t, L_CLOSE)) this.connClose = true;
            else if (tl === 10 && eqLower(src, t, L_KEEP_ALIVE)) this.connKeepAlive = true;
            else if (tl === 7 && eqLower(src, t, L_UPGRADE)) this.connUpgrade = true;
          }
        }
        break;
      case 14:
        if (eqLower(src, a, L_CONTENT_LENGTH)) {
          // RFC 9112 section 6.3: Content-Length = 1*DIGIT. A sign, a hex prefix, '_', a list, an empty
          // value or a second field (even an equal one) is rejected; overflow is guarded, no Number().
          if (this.teRel >= 0) {
            return this.failAt(
              ErrorCode.HPE_UNEXPECTED_CONTENT_LENGTH,
              vs,
              'Content-Length with Transfer-Encoding',
            );
          }
          if (++this.clCount > 1)
            return this.failAt(ErrorCode.HPE_INVALID_CONTENT_LENGTH, vs, 'Duplicate Content-Length');
          if (ve === vs) return this.failAt(ErrorCode.HPE_INVALID_CONTENT_LENGTH, vs, 'Empty Content-Length');
          let v = 0;
          for (let p = off + vs; p < off + ve; p++) {
            const d = src[p]! - 0x30;
            if (d < 0 || d > 9) {
              return this.failAt(ErrorCode.HPE_INVALID_CONTENT_LENGTH, p - off, 'Invalid Content-Length');
            }
            if (v > MAX_SAFE_DIV10 || (v === MAX_SAFE_DIV10 && d > MAX_SAFE % 10)) {
              return this.failAt(ErrorCode.HPE_INVALID_CONTENT_LENGTH, p - off, 'Content-Length overflow');
            }
            v = v * 10 + d;
          }
          if (v > this.maxBody) {
            return this.failAt(ErrorCode.HPE_BODY_TOO_LARGE, vs, 'Content-Length larger than maxBodyBytes');
          }
          this.contentLength = v;
          this.clRel = vs;
        }
        break;
      case 17:
        if (eqLower(src, a, L_TRANSFER_ENCODING)) {
          // RFC 9112 section 6.1: a case-insensitive list of codings, empty elements ignored; chunked
          // must be last and only once; TE in HTTP/1.0 or with Content-Length is a framing fault.
          if (this.vMinor === 0) {
            return this.failAt(ErrorCode.HPE_INVALID_TRANSFER_ENCODING, vs, 'Transfer-Encoding in HTTP/1.0');
          }
          if (this.clCount > 0) {
            return this.failAt(
              ErrorCode.HPE_UNEXPECTED_CONTENT_LENGTH,
              this.clRel,
              'Content-Length with Transfer-Encoding',
            );
          }
          if (this.teRel < 0) this.teRel = vs;
          let p = off + vs;
          const e = off + ve;
          while (p < e) {
            while (p < e && (src[p] === SP || src[p] === HTAB || src[p] === 0x2c)) p++; // ','
            if (p >= e) break;
            const t = p;
            while (p < e && tToken[src[p]!] === 1) p++;
            const tl = p - t;
            if (tl === 0)
              return this.failAt(ErrorCode.HPE_INVALID_TRANSFER_ENCODING, t - off, 'Invalid transfer coding');
            if (this.teLastChunked) {
              return this.failAt(
                ErrorCode.HPE_INVALID_TRANSFER_ENCODING,
                t - off,
                'chunked must be the last coding',
              );
            }
            this.teElems++;
            while (p < e && (src[p] === SP || src[p] === HTAB)) p++;
            const params = p < e && src[p] !== 0x2c;
            if (tl === 7 && eqLower(src, t, L_CHUNKED)) {
              if (params)
                return this.failAt(
                  ErrorCode.HPE_INVALID_TRANSFER_ENCODING,
                  p - off,
                  'chunked takes no parameters',
                );
              this.teLastChunked = true;
            } else {
              // RFC 9112 section 6.1: a coding we do not implement is answered with 501.
              return this.failAt(
                ErrorCode.HPE_UNKNOWN_TRANSFER_ENCODING,
                t - off,
                'Unsupported transfer coding',
              );
            }
          }
        }
        break;
    }
    return ParseStatus.OK;
  }

  /** Build the RequestHead from the contiguous head bytes src[off, off+n), check it and pick framing. */
  private completeHead(src: Uint8Array, off: number, n: number): ParseStatus {
    const methodEnd = this.methodEnd;
    const targetStart = methodEnd + 1;
    const targetEnd = this.targetEnd;
    const versionMinor = this.vMinor as 0 | 1;
    const str = latin1(src, off, off + n);
    const method = knownMethod(src, off, methodEnd) ?? str.slice(0, methodEnd);
    const target = str.slice(targetStart, targetEnd);

    const nf = this.nfields;
    const f = this.fields;
    const raw = new Array<string>(nf * 2);
    for (let k = 0; k < nf; k++) {
      // (the value end has its trailing OWS trimmed already)
      raw[k * 2] = str.slice(f[k * 4]!, f[k * 4 + 1]!);
      raw[k * 2 + 1] = str.slice(f[k * 4 + 2]!, f[k * 4 + 3]!);
    }
    const hostCount = this.hostCount;
    const hostS = this.hostS;
    const hostE = this.hostE;
    const contentLength = this.contentLength;
    const teRel = this.teRel;

    const http11 = versionMinor === 1;
    // Host (RFC 9112 section 3.2): exactly one, valid; required in HTTP/1.1.
    if (hostCount === 0 && http11 && this.requireHost) {
      return this.failAt(ErrorCode.HPE_INVALID_HOST, n, 'Missing Host');
    }
    let host: string | null = hostCount === 1 ? str.slice(hostS, hostE) : null;

    // Request-target forms (RFC 9112 section 3.2).
    const t0 = src[off + targetStart];
    const isConnect = methodEnd === 7 && method === 'CONNECT';
    if (isConnect) {
      // authority-form: uri-host ":" port
      if (!validAuthority(src, off + targetStart, off + targetEnd, true, true)) {
        return this.failAt(ErrorCode.HPE_INVALID_URL, targetStart, 'CONNECT needs host:port');
      }
      host = target;
    } else if (t0 === 0x2f) {
      // '/' origin-form
    } else if (t0 === 0x2a) {
      // '*' asterisk-form, OPTIONS only
      if (targetEnd - targetStart !== 1 || !(methodEnd === 7 && method === 'OPTIONS')) {
        return this.failAt(ErrorCode.HPE_INVALID_URL, targetStart, 'Asterisk-form is for OPTIONS only');
      }
    } else {
      // absolute-form: scheme ":" hier-part; an authority wins over Host (RFC 9112 section 3.2.2).
      let p = off + targetStart;
      const e = off + targetEnd;
      const s0 = src[p]!;
      if (!((s0 | 0x20) >= 0x61 && (s0 | 0x20) <= 0x7a)) {
        return this.failAt(ErrorCode.HPE_INVALID_URL, targetStart, 'Invalid request-target');
      }
      p++;
      while (p < e) {
        const b = src[p]!;
        const lb = b | 0x20;
        if ((lb >= 0x61 && lb <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2b || b === 0x2d || b === 0x2e)
          p++;
        else break;
      }
      if (p >= e || src[p] !== 0x3a) {
        return this.failAt(ErrorCode.HPE_INVALID_URL, p - off, 'Invalid request-target');
      }
      const schemeLen = p - (off + targetStart);
      const isHttp =
        (schemeLen === 4 && eqLower(src, off + targetStart, lit4http)) ||
        (schemeLen === 5 && eqLower(src, off + targetStart, lit5https));
      p++;
      if (p + 1 < e && src[p] === 0x2f && src[p + 1] === 0x2f) {
        p += 2;
        const as = p;
        while (p < e && src[p] !== 0x2f && src[p] !== 0x3f) {
          // userinfo is deprecated and treated as an error (RFC 9110 section 4.2.4)
          if (src[p] === 0x40)
            return this.failAt(ErrorCode.HPE_INVALID_URL, p - off, 'Userinfo in request-target');
          p++;
        }
        if (!validAuthority(src, as, p, false, isHttp)) {
          return this.failAt(ErrorCode.HPE_INVALID_URL, as - off, 'Invalid authority in request-target');
        }
        host = str.slice(as - off, p - off);
      } else if (isHttp) {
        return this.failAt(ErrorCode.HPE_INVALID_URL, p - off, 'http(s) URI without authority');
      }
    }

    // Message framing (RFC 9112 section 6). Line-level rules (CL syntax, CL+TE, TE in HTTP/1.0,
    // chunked not last or twice, unknown codings) were applied as each line completed.
    let chunked = false;
    if (teRel >= 0) {
      if (this.teElems === 0 || !this.teLastChunked) {
        return this.failAt(ErrorCode.HPE_INVALID_TRANSFER_ENCODING, teRel, 'Invalid Transfer-Encoding');
      }
      chunked = true;
    }

    const connClose = this.connClose;
    const keepAlive = http11 ? !connClose : this.connKeepAlive && !connClose;
    const upgrade = isConnect || (http11 && this.hasUpgrade && this.connUpgrade);
    this.keepAlive = keepAlive;
    const head: RequestHead = {
      method,
      target,
      versionMinor,
      rawHeaders: raw,
      host,
      contentLength: chunked ? -1 : contentLength,
      chunked,
      keepAlive,
      upgrade,
      expectContinue: this.expectContinue && http11,
    };

    let next: number;
    if (chunked) {
      this.chunkSize = 0;
      this.sizeDigits = 0;
      this.bodyBytes = 0;
      next = S_CHUNK_SIZE;
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      next = S_BODY;
    } else {
      // No body: the message completes right after the head (in state S_MSG_DONE, so a pause in
      // onHead comes before onMessageComplete).
      next = S_MSG_DONE;
    }
    if (upgrade) {
      // Stop right after the head; `declineUpgrade()` resumes at `next` if the caller says no.
      this.afterUpgrade = next;
      this.state = S_UPGRADED;
      this.cb.onHead(head);
      return ParseStatus.UPGRADE;
    }
    this.state = next;
    return this.cb.onHead(head) === true ? ParseStatus.PAUSED : ParseStatus.OK;
  }

  /** Build and check the trailer section src[off, off+n), then complete the message. */
  private completeTrailers(src: Uint8Array, off: number, n: number): ParseStatus {
    const nf = this.nfields;
    let trailers: string[] | null = null;
    if (nf > 0) {
      const str = latin1(src, off, off + n);
      const f = this.fields;
      trailers = new Array<string>(nf * 2);
      for (let k = 0; k < nf; k++) {
        const ns = f[k * 4]!;
        const ne = f[k * 4 + 1]!;
        trailers[k * 2] = str.slice(ns, ne);
        trailers[k * 2 + 1] = str.slice(f[k * 4 + 2]!, f[k * 4 + 3]!); // trailing OWS trimmed already
      }
    }
    this.inTrailers = false;
    this.nfields = 0;
    const r = this.messageDone(trailers);
    return r < 0 ? ParseStatus.PAUSED : ParseStatus.OK;
  }
}

const lit4http = lit('http');
const lit5https = lit('https');
