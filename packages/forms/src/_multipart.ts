/**
 * Streaming `multipart/form-data` parser (RFC 7578 over RFC 2046 section 5.1), sans I/O: bytes in
 * through `write()` / `end()`, events out through callbacks. Delimiters are found by a filter over
 * every (n - 3)th position (its 4 bytes tested against the set of the needle's 4-byte substrings)
 * and a Boyer-Moore-Horspool search over `CRLF "--" boundary` where the filter fires; only the
 * possible partial match (at most `needle.length - 1` bytes) is kept between chunks, so no chunk is
 * ever concatenated with the next.
 */
import { FormError, FormErrorCode } from './_errors';
import { checkLimit } from './_limits';
import { BCHAR, MAX_BOUNDARY, type PartInfo, parsePartHeaders, partHeadersEnd } from './_part-headers';

// ---------------------------------------------------------------------------------------------
// Limits

/** Named bounds of one multipart body. Every one is checked; the defaults suit a typical upload form. */
export interface MultipartLimits {
  /** Parts (fields + files). Default 1000. Over it: `FORM_TOO_MANY_PARTS`. */
  maxParts: number;
  /** Non-file parts (no `filename` parameter). Default 1000. Over it: `FORM_TOO_MANY_FIELDS`. */
  maxFields: number;
  /** Body bytes of one non-file part. Default 1 MiB. Over it: `FORM_FIELD_TOO_LARGE`. */
  maxFieldBytes: number;
  /** File parts (a `filename` or `filename*` parameter). Default 100. Over it: `FORM_TOO_MANY_FILES`. */
  maxFiles: number;
  /** Body bytes of one file part. Default 16 MiB. Over it: `FORM_FILE_TOO_LARGE`. */
  maxFileBytes: number;
  /** Bytes of one part's header block, CRLFs included. Default 8 KiB. Over it: `FORM_PART_HEADERS_TOO_LARGE`. */
  maxPartHeaderBytes: number;
  /** Bytes of the whole body (preamble and epilogue included). Default 64 MiB. Over it: `FORM_TOO_LARGE`. */
  maxTotalBytes: number;
}

/** The default limits (see each field of `MultipartLimits`). */
export const DEFAULT_MULTIPART_LIMITS: Readonly<MultipartLimits> = Object.freeze({
  maxParts: 1000,
  maxFields: 1000,
  maxFieldBytes: 1024 * 1024,
  maxFiles: 100,
  maxFileBytes: 16 * 1024 * 1024,
  maxPartHeaderBytes: 8 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
});

// ---------------------------------------------------------------------------------------------
// Parser

/**
 * Event callbacks. A callback may throw; the error propagates out of `write()`/`end()` and the
 * parser is then failed (until `reset()`).
 */
export interface MultipartCallbacks {
  /** A part's header block was parsed. */
  onPartStart(part: PartInfo): void;
  /**
   * Body bytes of the current part. `view` is a view into the chunk given to `write()` or into the
   * parser's own small lookbehind buffer: it is valid only during this call. Copy what you keep.
   */
  onPartData(view: Uint8Array): void;
  /** The current part ended (its closing delimiter was seen). */
  onPartEnd(): void;
  /** The close delimiter was seen: the form is complete (the epilogue that may follow is ignored). */
  onEnd(): void;
}

const State = {
  /** Searching for the first delimiter; bytes before it are the preamble (ignored, RFC 2046 5.1.1). */
  Preamble: 0,
  /** Just after `--boundary`: `--` (close), or transport padding then CRLF. */
  AfterBoundary: 1,
  /** After the first `-` of a close delimiter. */
  CloseDash: 2,
  /** Transport padding (LWSP) after the boundary. */
  Padding: 3,
  /** CR after the boundary line; LF must follow. */
  BoundaryCr: 4,
  /** Reading a part's header block. */
  Headers: 5,
  /** CR in the header block; LF must follow. */
  HeaderCr: 6,
  /** Searching for the next delimiter; bytes before it are the part's body. */
  Body: 7,
  /** After the close delimiter: the epilogue, ignored. */
  Epilogue: 8,
  /** An error was thrown; every later call throws it again. */
  Failed: 9,
} as const;
type State = (typeof State)[keyof typeof State];

/** Bits of the hash of a 4-byte substring of the needle (a set of 2^13 bits, 1 KiB, per parser). */
const GRAM_BITS = 13;
/** Multiplier of that hash (Knuth's multiplicative hashing, 2^32 / phi). */
const GRAM_HASH = 0x9e3779b1 | 0;

/**
 * Incremental multipart/form-data parser. Feed the body with `write(chunk)` in any split, then
 * call `end()`. Throws `FormError` (with `code`, `status` and the byte `offset`) on malformed input
 * or a limit; after an error every call throws the same error until `reset()`, which also readies
 * the parser for the next body.
 */
export class MultipartParser {
  private readonly cb: MultipartCallbacks;
  /** The limits in force (the defaults overridden by the constructor's `limits`). */
  readonly limits: Readonly<MultipartLimits>;
  private readonly needle: Uint8Array;
  private readonly skip: Uint8Array;
  /** The needle's first `4 * floor((n - 1) / 4)` bytes as little-endian 32-bit words. */
  private readonly needleWords: Int32Array;
  /** Hashes of the needle's 4-byte substrings, as a set of GRAM_BITS-bit values. */
  private readonly grams: Int32Array;
  /** A DataView over the chunk of the current `write` (made on first use, dropped at its end). */
  private view: DataView | null = null;
  /** Possible partial match of the needle carried between chunks. */
  private readonly lookbehind: Uint8Array;
  private lbLen: number;
  private state: State = State.Preamble;
  /** What the failed call threw (every later call throws it again). */
  private error: unknown = null;
  private failed = false;
  /** Bytes given to write() so far (the absolute offset of the next chunk's first byte). */
  private consumed = 0;
  /** Header bytes of the current block held between chunks (`[0, bufLen)`). */
  private headerBuf: Uint8Array;
  private bufLen = 0;
  /** Bytes of the current header block before the current chunk. */
  private headerLen = 0;
  private lineLen = 0;
  private headerStart = 0;
  private parts = 0;
  private fields = 0;
  private files = 0;
  private isFile = false;
  private bodyStart = 0;
  private bodyBytes = 0;
  private bodyLimit = 0;

  /**
   * @param boundary the boundary from `parseContentType` (throws `FORM_BAD_BOUNDARY` if malformed).
   * @param limits overrides of {@link DEFAULT_MULTIPART_LIMITS}. Throws `RangeError` on a limit that
   *   is not a non-negative integer or `Infinity`.
   */
  constructor(boundary: string, callbacks: MultipartCallbacks, limits: Partial<MultipartLimits> = {}) {
    if (boundary.length === 0 || boundary.length > MAX_BOUNDARY) {
      throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, -1, 'bad boundary');
    }
    this.cb = callbacks;
    const d = DEFAULT_MULTIPART_LIMITS;
    this.limits = Object.freeze({
      maxParts: checkLimit('maxParts', limits.maxParts ?? d.maxParts),
      maxFields: checkLimit('maxFields', limits.maxFields ?? d.maxFields),
      maxFieldBytes: checkLimit('maxFieldBytes', limits.maxFieldBytes ?? d.maxFieldBytes),
      maxFiles: checkLimit('maxFiles', limits.maxFiles ?? d.maxFiles),
      maxFileBytes: checkLimit('maxFileBytes', limits.maxFileBytes ?? d.maxFileBytes),
      maxPartHeaderBytes: checkLimit('maxPartHeaderBytes', limits.maxPartHeaderBytes ?? d.maxPartHeaderBytes),
      maxTotalBytes: checkLimit('maxTotalBytes', limits.maxTotalBytes ?? d.maxTotalBytes),
    });
    const n = boundary.length + 4;
    const needle = new Uint8Array(n);
    needle[0] = 0x0d; // CR
    needle[1] = 0x0a; // LF
    needle[2] = 0x2d; // -
    needle[3] = 0x2d; // -
    for (let i = 0; i < boundary.length; i++) {
      const c = boundary.charCodeAt(i);
      if (c > 0xff || BCHAR[c] === 0)
        throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, -1, 'bad boundary');
      needle[4 + i] = c;
    }
    this.needle = needle;
    const skip = new Uint8Array(256).fill(n); // n <= 74
    for (let i = 0; i < n - 1; i++) skip[needle[i]!] = n - 1 - i;
    this.skip = skip;
    const words = new Int32Array((n - 1) >>> 2);
    const nv = new DataView(needle.buffer);
    for (let k = 0; k < words.length; k++) words[k] = nv.getInt32(4 * k, true);
    this.needleWords = words;
    const grams = new Int32Array(1 << (GRAM_BITS - 5));
    for (let j = 0; j + 4 <= n; j++) {
      const h = Math.imul(nv.getInt32(j, true), GRAM_HASH) >>> (32 - GRAM_BITS);
      grams[h >>> 5]! |= 1 << (h & 31);
    }
    this.grams = grams;
    this.lookbehind = new Uint8Array(n);
    // The first delimiter may open the body without a preceding CRLF (RFC 2046 section 5.1.1:
    // the CRLF belongs to the delimiter, and an empty preamble has none): start as if one was seen.
    this.lookbehind[0] = 0x0d; // CR
    this.lookbehind[1] = 0x0a; // LF
    this.lbLen = 2;
    this.headerBuf = new Uint8Array(Math.min(this.limits.maxPartHeaderBytes, 1024));
  }

  /**
   * Bytes of the current body taken so far: the sum of the chunks of the `write` calls that
   * returned since construction or `reset()` (a call that throws adds none). `end()` leaves it.
   */
  get bytesRead(): number {
    return this.consumed;
  }

  /** Feeds the next bytes of the body. The chunk is not retained after the call returns. */
  write(chunk: Uint8Array): void {
    if (this.failed) throw this.error;
    try {
      const room = this.limits.maxTotalBytes - this.consumed;
      if (chunk.length > room) {
        // Parse up to the limit, so the outcome does not depend on how the body was split.
        this.run(chunk.subarray(0, room));
        throw new FormError(FormErrorCode.FORM_TOO_LARGE, this.limits.maxTotalBytes, 'body too large');
      }
      this.run(chunk);
      this.consumed += chunk.length;
    } catch (err) {
      this.fail(err);
    } finally {
      this.view = null; // the chunk is not retained
    }
  }

  /** Ends the body. Throws `FORM_UNEXPECTED_END` unless the close delimiter was seen. */
  end(): void {
    if (this.failed) throw this.error;
    if (this.state !== State.Epilogue) {
      this.fail(new FormError(FormErrorCode.FORM_UNEXPECTED_END, this.consumed, 'no close delimiter'));
    }
  }

  /**
   * Forgets the current body and any error: the parser is ready for a new body, with the same
   * boundary, callbacks and limits, as if just constructed. Call it between bodies, not from a
   * callback.
   */
  reset(): void {
    this.state = State.Preamble;
    this.error = null;
    this.failed = false;
    this.consumed = 0;
    this.view = null;
    // As in the constructor: the first delimiter may open the body without a preceding CRLF.
    this.lookbehind[0] = 0x0d; // CR
    this.lookbehind[1] = 0x0a; // LF
    this.lbLen = 2;
    this.bufLen = 0;
    this.headerLen = 0;
    this.lineLen = 0;
    this.headerStart = 0;
    this.parts = 0;
    this.fields = 0;
    this.files = 0;
    this.isFile = false;
    this.bodyStart = 0;
    this.bodyBytes = 0;
    this.bodyLimit = 0;
  }

  private fail(err: unknown): never {
    this.state = State.Failed;
    this.failed = true;
    this.error = err;
    throw err;
  }

  private run(chunk: Uint8Array): void {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      switch (this.state) {
        case State.Preamble:
        case State.Body:
          i = this.search(chunk, i);
          break;
        case State.AfterBoundary: {
          const c = chunk[i]!;
          if (c === 0x0d /* CR */ && chunk[i + 1] === 0x0a /* LF */) {
            // The usual CRLF after the boundary, both bytes here: straight to the part's headers.
            i += 2;
            this.startPart(i);
            if (i < len) i = this.headers(chunk, i);
            break;
          }
          if (c === 0x2d /* - */) this.state = State.CloseDash;
          else if (c === 0x0d /* CR */) this.state = State.BoundaryCr;
          else if (c === 0x20 /* SP */ || c === 0x09 /* HTAB */) this.state = State.Padding;
          else this.badDelimiter(i);
          i++;
          break;
        }
        case State.CloseDash:
          if (chunk[i] !== 0x2d /* - */) this.badDelimiter(i);
          i++;
          this.state = State.Epilogue;
          this.cb.onEnd();
          break;
        case State.Padding: {
          const c = chunk[i]!;
          if (c === 0x0d /* CR */) this.state = State.BoundaryCr;
          else if (c !== 0x20 /* SP */ && c !== 0x09 /* HTAB */) this.badDelimiter(i);
          i++;
          break;
        }
        case State.BoundaryCr:
          if (chunk[i] !== 0x0a /* LF */) this.badDelimiter(i);
          i++;
          this.startPart(i);
          break;
        case State.Headers:
        case State.HeaderCr:
          i = this.headers(chunk, i);
          break;
        case State.Epilogue:
          i = len; // RFC 2046 section 5.1.1: the epilogue is ignored
          break;
        default:
          throw this.error;
      }
    }
  }

  private badDelimiter(i: number): never {
    // RFC 2046 section 5.1.1: a boundary line is `--boundary` then `--` or LWSP then CRLF; the
    // boundary must not otherwise appear in the body.
    throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, this.consumed + i, 'malformed delimiter line');
  }

  private startPart(i: number): void {
    const at = this.consumed + i;
    this.parts++;
    if (this.parts > this.limits.maxParts) {
      throw new FormError(FormErrorCode.FORM_TOO_MANY_PARTS, at, 'too many parts');
    }
    this.state = State.Headers;
    this.headerStart = at;
    this.headerLen = 0;
    this.lineLen = 0;
    this.bufLen = 0;
  }

  /**
   * Reads header bytes from `i`; returns the index after what it consumed. A block that begins and
   * ends in this chunk and is well-formed is parsed in place, in one pass. Otherwise the bytes are
   * checked one by one (the errors and their offsets come from here), and those of a block that
   * goes on in the next chunk are copied, as one range per chunk, into `headerBuf`, which never
   * holds more than `maxPartHeaderBytes`.
   */
  private headers(chunk: Uint8Array, i: number): number {
    const len = chunk.length;
    const from = i;
    // Bytes this block may still take: reading the byte at `stop` would go over the limit.
    const room = this.limits.maxPartHeaderBytes - this.headerLen;
    const stop = room < len - i ? i + room : len;
    if (this.headerLen === 0) {
      const info = parsePartHeaders(chunk, this.dataView(chunk), this.headerStart, i, stop, true);
      if (info !== null) {
        const end = partHeadersEnd();
        this.startBody(info, this.consumed + end);
        return end;
      }
    }
    let lineLen = this.lineLen;
    let cr = this.state === State.HeaderCr;
    while (i < stop) {
      const c = chunk[i]!;
      if (cr) {
        if (c !== 0x0a /* LF */) {
          throw new FormError(FormErrorCode.FORM_BAD_PART_HEADER, this.consumed + i, 'CR without LF');
        }
        i++;
        if (lineLen === 0) {
          // The empty line ends the block.
          this.endHeaders(chunk, from, i);
          return i;
        }
        lineLen = 0;
        cr = false;
      } else if (c === 0x0d /* CR */) {
        cr = true;
        i++;
      } else if (c === 0x0a /* LF */) {
        // Part header lines end in CRLF (RFC 2046 section 5.1.1, RFC 5322 section 2.2); bare LF rejected.
        throw new FormError(FormErrorCode.FORM_BAD_PART_HEADER, this.consumed + i, 'bare LF in part headers');
      } else {
        lineLen++;
        i++;
      }
    }
    if (i < len) {
      throw new FormError(
        FormErrorCode.FORM_PART_HEADERS_TOO_LARGE,
        this.headerStart + this.limits.maxPartHeaderBytes,
        'part headers too large',
      );
    }
    this.headerLen += i - from;
    this.lineLen = lineLen;
    this.state = cr ? State.HeaderCr : State.Headers;
    this.keep(chunk, from, i);
    return i;
  }

  /** Appends `chunk[from, to)` to the header bytes held between chunks. */
  private keep(chunk: Uint8Array, from: number, to: number): void {
    const need = this.bufLen + (to - from);
    if (need > this.headerBuf.length) {
      const next = new Uint8Array(Math.max(need, this.headerBuf.length * 2));
      next.set(this.headerBuf.subarray(0, this.bufLen));
      this.headerBuf = next;
    }
    this.headerBuf.set(chunk.subarray(from, to), this.bufLen);
    this.bufLen = need;
  }

  /** The block ended at `chunk[end]` (after its final CRLF); its bytes in this chunk start at `from`. */
  private endHeaders(chunk: Uint8Array, from: number, end: number): void {
    let info: PartInfo | null;
    if (this.bufLen === 0) {
      info = parsePartHeaders(chunk, this.dataView(chunk), this.headerStart, from, end, false);
    } else {
      this.keep(chunk, from, end);
      const n = this.bufLen;
      this.bufLen = 0;
      const buf = this.headerBuf;
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      info = parsePartHeaders(buf, dv, this.headerStart, 0, n, false);
    }
    this.startBody(info!, this.consumed + end);
  }

  /** The part's headers are parsed; its body starts at body offset `at`. */
  private startBody(info: PartInfo, at: number): void {
    this.isFile = info.filename !== undefined;
    if (this.isFile) {
      this.files++;
      if (this.files > this.limits.maxFiles) {
        throw new FormError(FormErrorCode.FORM_TOO_MANY_FILES, this.headerStart, 'too many files');
      }
      this.bodyLimit = this.limits.maxFileBytes;
    } else {
      this.fields++;
      if (this.fields > this.limits.maxFields) {
        throw new FormError(FormErrorCode.FORM_TOO_MANY_FIELDS, this.headerStart, 'too many fields');
      }
      this.bodyLimit = this.limits.maxFieldBytes;
    }
    this.bodyStart = at;
    this.bodyBytes = 0;
    this.state = State.Body;
    this.cb.onPartStart(info);
  }

  /** Body or preamble bytes that are not part of a delimiter. */
  private data(buf: Uint8Array, from: number, to: number): void {
    if (to <= from || this.state !== State.Body) return; // preamble: ignored
    const n = to - from;
    const room = this.bodyLimit - this.bodyBytes;
    if (n > room) {
      if (room > 0) this.cb.onPartData(buf.subarray(from, from + room));
      this.bodyBytes = this.bodyLimit;
      const code = this.isFile ? FormErrorCode.FORM_FILE_TOO_LARGE : FormErrorCode.FORM_FIELD_TOO_LARGE;
      throw new FormError(
        code,
        this.bodyStart + this.bodyLimit,
        this.isFile ? 'file too large' : 'field too large',
      );
    }
    this.bodyBytes += n;
    this.cb.onPartData(buf.subarray(from, to));
  }

  private found(): void {
    if (this.state === State.Body) this.cb.onPartEnd();
    this.state = State.AfterBoundary;
  }

  /** A DataView over `chunk`, the chunk of the current `write` (made once per call, on first use). */
  private dataView(chunk: Uint8Array): DataView {
    let dv = this.view;
    if (dv === null) dv = this.view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return dv;
  }

  /**
   * Whether the needle is at `chunk[at]` (its last byte is known to match): four bytes at a time
   * through the chunk's DataView, then the rest byte by byte.
   */
  private matchAt(chunk: Uint8Array, at: number): boolean {
    const dv = this.dataView(chunk);
    const words = this.needleWords;
    const nw = words.length;
    for (let k = 0; k < nw; k++) {
      if (dv.getInt32(at + 4 * k, true) !== words[k]) return false;
    }
    const needle = this.needle;
    const n = needle.length - 1;
    for (let j = 4 * nw; j < n; j++) {
      if (chunk[at + j] !== needle[j]) return false;
    }
    return true;
  }

  /**
   * Searches `chunk` from `i` for the needle, continuing a partial match held in the lookbehind.
   * Reports the bytes before a match (or proven not to start one) as data. Returns the index just
   * after the match, or `chunk.length` with any possible partial match saved in the lookbehind.
   */
  private search(chunk: Uint8Array, i: number): number {
    const needle = this.needle;
    const n = needle.length;
    const lb = this.lookbehind;
    const avail = chunk.length - i;
    // 1. Match starts inside the lookbehind (s < 0, relative to chunk[i]).
    if (this.lbLen > 0) {
      const lbLen = this.lbLen;
      for (let s = -lbLen; s < 0; s++) {
        let j = 0;
        while (j < n && s + j < avail) {
          const b = s + j < 0 ? lb[lbLen + s + j]! : chunk[i + s + j]!;
          if (b !== needle[j]) break;
          j++;
        }
        if (j === n) {
          this.data(lb, 0, lbLen + s);
          this.lbLen = 0;
          this.found();
          return i + s + n;
        }
        if (s + j === avail) {
          // Still a possible match when the chunk runs out: keep lookbehind[lbLen+s..] + chunk[i..].
          this.data(lb, 0, lbLen + s);
          lb.copyWithin(0, lbLen + s, lbLen);
          lb.set(chunk.subarray(i), -s);
          this.lbLen = -s + avail;
          return chunk.length;
        }
      }
      this.data(lb, 0, lbLen);
      this.lbLen = 0;
    }
    // 2. A filter, then Horspool where it fires. An occurrence starting at `s` holds the 4 bytes
    // at `q` for every `q` in [s, s + n - 4]: so testing every (n - 3)th position, with a set of
    // the needle's 4-byte substrings, finds every occurrence. The positions tested do not depend
    // on the bytes read (unlike Horspool's shifts), so the loads need not wait for each other.
    const len = chunk.length;
    const lastStart = len - n; // the last position where a whole needle fits
    let lo = i; // every start before `lo` is ruled out
    if (i <= lastStart) {
      const dv = this.dataView(chunk);
      const grams = this.grams;
      const stride = n - 3;
      for (let q = i + n - 4; q <= len - 4; q += stride) {
        const h = Math.imul(dv.getInt32(q, true), GRAM_HASH) >>> (32 - GRAM_BITS);
        if ((grams[h >>> 5]! & (1 << (h & 31))) === 0) {
          // Not a substring of the needle: no occurrence (nor a tail prefix) starts in [.., q].
          lo = q + 1;
          continue;
        }
        // Horspool over the starts [lo, hi]: `p` is the index of the window's last byte.
        const hi = Math.min(q, lastStart);
        const skip = this.skip;
        const last = needle[n - 1]!;
        const pEnd = hi + n - 1;
        let p = lo + n - 1;
        while (p <= pEnd) {
          const c = chunk[p]!;
          if (c === last) {
            const at = p - n + 1;
            if (this.matchAt(chunk, at)) {
              this.data(chunk, i, at);
              this.found();
              return p + 1;
            }
          }
          p += skip[c]!;
        }
        lo = hi + 1;
      }
    }
    let s = lo - i;
    // 3. The chunk's tail: the first position whose remaining bytes are a prefix of the needle.
    for (; s < avail; s++) {
      let j = 0;
      while (s + j < avail && chunk[i + s + j] === needle[j]) j++;
      if (s + j === avail) {
        this.data(chunk, i, i + s);
        lb.set(chunk.subarray(i + s));
        this.lbLen = avail - s;
        return chunk.length;
      }
    }
    this.data(chunk, i, chunk.length);
    return chunk.length;
  }
}
