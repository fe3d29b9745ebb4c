/**
 * Streaming `multipart/form-data` parser (RFC 7578 over RFC 2046 section 5.1), sans I/O: bytes in
 * through `write()` / `end()`, events out through callbacks. Delimiters are found with a
 * Boyer-Moore-Horspool search over `CRLF "--" boundary` that keeps only the possible partial match
 * (at most `needle.length - 1` bytes) between chunks, so no byte is scanned twice for a match start
 * and no chunk is ever concatenated with the next.
 */
import { FormError, FormErrorCode } from './_errors';

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
// Byte tables

/** RFC 9110 section 5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1; // DIGIT
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1; // ALPHA upper
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1; // ALPHA lower
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

/** RFC 2046 section 5.1.1 bcharsnospace (bchars = bcharsnospace / " "). */
const BCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) BCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) BCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) BCHAR[c] = 1;
for (const ch of "'()+_,-./:=?") BCHAR[ch.charCodeAt(0)] = 1;
BCHAR[0x20] = 2; // " " allowed, but not last

/** RFC 8187 section 3.2.1 attr-char. */
const ATTR_CHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) ATTR_CHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ATTR_CHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ATTR_CHAR[c] = 1;
for (const ch of '!#$&+-.^_`|~') ATTR_CHAR[ch.charCodeAt(0)] = 1;

/** Hex digit value, or 255. */
const HEX = new Uint8Array(256).fill(255);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

const MAX_BOUNDARY = 70; // RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace

const utf8 = new TextDecoder('utf-8');

/** ISO-8859-1 (each byte its code point; TextDecoder's 'latin1' is windows-1252). */
function latin1(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Content-Type of the request

/** The parsed request `Content-Type` of a multipart/form-data body. */
export interface MultipartContentType {
  /** The boundary, without quotes and without the leading `--`. */
  boundary: string;
}

interface MediaType {
  type: string;
  params: Map<string, string>;
}

/** Skips OWS (SP / HTAB) in `s` from `i`. */
function skipOws(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 /* SP */ && c !== 0x09 /* HTAB */) break;
    i++;
  }
  return i;
}

/** Reads a token from `i`; returns its end (== i when none). */
function tokenEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) break;
    i++;
  }
  return i;
}

/**
 * Parses `params` = *( OWS ";" OWS name "=" value ) with value = token / quoted-string.
 * `escapes`: a backslash in a quoted-string escapes the next character (RFC 9110 quoted-pair);
 * false for Content-Disposition, where browsers send backslashes literally (WHATWG HTML
 * multipart/form-data encoding escapes only CR, LF and `"`, as %0D %0A %22).
 * Returns null on a syntax error or a repeated parameter name.
 */
function parseParams(s: string, i: number, escapes: boolean): Map<string, string> | null {
  const params = new Map<string, string>();
  for (;;) {
    i = skipOws(s, i);
    if (i === s.length) return params;
    if (s.charCodeAt(i) !== 0x3b /* ; */) return null;
    i = skipOws(s, i + 1);
    if (i === s.length) return params; // a trailing ";" is tolerated (curl, some proxies)
    const ne = tokenEnd(s, i);
    if (ne === i) return null;
    const name = s.slice(i, ne).toLowerCase();
    i = skipOws(s, ne);
    if (s.charCodeAt(i) !== 0x3d /* = */) return null;
    i = skipOws(s, i + 1);
    let value: string;
    if (s.charCodeAt(i) === 0x22 /* " */) {
      i++;
      let out = '';
      let from = i;
      for (;;) {
        if (i >= s.length) return null; // unterminated quoted-string
        const c = s.charCodeAt(i);
        if (c === 0x22 /* " */) break;
        if (escapes && c === 0x5c /* \ */) {
          if (i + 1 >= s.length) return null;
          out += s.slice(from, i);
          from = i + 1;
          i += 2;
          continue;
        }
        i++;
      }
      value = out + s.slice(from, i);
      i++;
    } else {
      const ve = tokenEnd(s, i);
      if (ve === i) return null;
      value = s.slice(i, ve);
      i = ve;
    }
    if (params.has(name)) return null;
    params.set(name, value);
  }
}

/** `type "/" subtype *(OWS ";" OWS parameter)`, type lowercased; null if malformed. */
function parseMediaType(s: string, escapes: boolean): MediaType | null {
  let i = skipOws(s, 0);
  const te = tokenEnd(s, i);
  if (te === i || s.charCodeAt(te) !== 0x2f /* / */) return null;
  const se = tokenEnd(s, te + 1);
  if (se === te + 1) return null;
  const type = s.slice(i, se).toLowerCase();
  i = se;
  const params = parseParams(s, i, escapes);
  if (params === null) return null;
  return { type, params };
}

/**
 * Parses a request `Content-Type` value for `multipart/form-data`.
 *
 * @throws FormError `FORM_UNSUPPORTED_MEDIA_TYPE` (415) for another (or a malformed) media type;
 *   `FORM_BAD_BOUNDARY` (400) when the boundary is missing, empty, longer than 70 characters, has a
 *   character outside RFC 2046 section 5.1.1 `bchars`, or ends in a space.
 */
export function parseContentType(value: string): MultipartContentType {
  const mt = parseMediaType(value, true);
  if (mt === null || mt.type !== 'multipart/form-data') {
    throw new FormError(FormErrorCode.FORM_UNSUPPORTED_MEDIA_TYPE, -1, 'not multipart/form-data');
  }
  const boundary = mt.params.get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > MAX_BOUNDARY) {
    throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, -1, 'missing, empty or too long boundary');
  }
  for (let i = 0; i < boundary.length; i++) {
    const c = boundary.charCodeAt(i);
    if (c > 0xff || BCHAR[c] === 0) {
      throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, -1, 'forbidden character in boundary');
    }
  }
  if (boundary.charCodeAt(boundary.length - 1) === 0x20 /* SP */) {
    throw new FormError(FormErrorCode.FORM_BAD_BOUNDARY, -1, 'boundary ends in a space');
  }
  return { boundary };
}

// ---------------------------------------------------------------------------------------------
// Part headers

/** What a part declares about itself, reported at its start. */
export interface PartInfo {
  /** The `name` parameter of Content-Disposition (required). */
  name: string;
  /**
   * The raw `filename` (or RFC 8187 `filename*`, which wins) parameter; `undefined` for a field.
   * Untrusted: pass it through `safeFilename` before using it as a path.
   */
  filename: string | undefined;
  /** Lowercased media type of the part (`text/plain` when no Content-Type, RFC 7578 section 4.4). */
  mediaType: string;
  /** The `charset` parameter of the part's Content-Type, lowercased, or `undefined`. */
  charset: string | undefined;
  /** All header lines of the part, flat: `[lowercased name, value, ...]` (values decoded as UTF-8). */
  headers: string[];
}

/** Decodes an RFC 8187 ext-value (`charset'lang'pct-encoded`); null if malformed or not UTF-8/ISO-8859-1. */
function decodeExtValue(v: string): string | null {
  const q1 = v.indexOf("'");
  const q2 = q1 < 0 ? -1 : v.indexOf("'", q1 + 1);
  if (q2 < 0) return null;
  const charset = v.slice(0, q1).toLowerCase();
  if (charset !== 'utf-8' && charset !== 'iso-8859-1') return null;
  const out = new Uint8Array(v.length);
  let n = 0;
  for (let i = q2 + 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (i + 2 >= v.length) return null;
      const h = HEX[v.charCodeAt(i + 1) & 0xff]!;
      const l = HEX[v.charCodeAt(i + 2) & 0xff]!;
      if (h === 255 || l === 255 || v.charCodeAt(i + 1) > 0xff || v.charCodeAt(i + 2) > 0xff) return null;
      out[n++] = (h << 4) | l;
      i += 2;
    } else if (c <= 0xff && ATTR_CHAR[c] === 1) {
      out[n++] = c;
    } else {
      return null;
    }
  }
  return charset === 'utf-8' ? utf8.decode(out.subarray(0, n)) : latin1(out, 0, n);
}

/**
 * Parses one part's header block (`block` holds the lines, each ending in CRLF, without the final
 * empty line). Throws FormError at `offset` (the block's first byte) on anything malformed.
 */
function parsePartHeaders(block: Uint8Array, offset: number): PartInfo {
  const headers: string[] = [];
  let disposition: string | undefined;
  let contentType: string | undefined;
  let lineStart = 0;
  const bad = (why: string): FormError => new FormError(FormErrorCode.FORM_BAD_PART_HEADER, offset, why);
  while (lineStart < block.length) {
    let lineEnd = lineStart;
    while (block[lineEnd] !== 0x0d /* CR */) lineEnd++; // every line ends in CRLF (checked on input)
    let colon = lineStart;
    while (colon < lineEnd) {
      const c = block[colon]!;
      if (TCHAR[c] === 0) break;
      colon++;
    }
    // RFC 9110 section 5.1: field-name is a token; no whitespace before ":" (RFC 9112 section 5.1);
    // a line starting with whitespace is obs-fold (RFC 9112 section 5.2), rejected.
    if (colon === lineStart || colon === lineEnd || block[colon] !== 0x3a /* : */) {
      throw bad('malformed header line');
    }
    // Control characters in values are accepted: the WHATWG HTML multipart/form-data encoding
    // escapes only CR, LF and `"`, so browsers send other controls in names and file names raw
    // (safeFilename strips them). CR and LF cannot occur here: they end lines.
    // OWS around the value (RFC 9110 section 5.5) is SP / HTAB only.
    let vs = colon + 1;
    let ve = lineEnd;
    while (vs < ve && (block[vs] === 0x20 /* SP */ || block[vs] === 0x09) /* HTAB */) vs++;
    while (ve > vs && (block[ve - 1] === 0x20 /* SP */ || block[ve - 1] === 0x09) /* HTAB */) ve--;
    const name = latin1(block, lineStart, colon).toLowerCase();
    const value = utf8.decode(block.subarray(vs, ve));
    headers.push(name, value);
    if (name === 'content-disposition') {
      if (disposition !== undefined) throw bad('repeated Content-Disposition');
      disposition = value;
    } else if (name === 'content-type') {
      if (contentType !== undefined) throw bad('repeated Content-Type');
      contentType = value;
    }
    lineStart = lineEnd + 2;
  }
  if (disposition === undefined) throw bad('no Content-Disposition');
  // RFC 7578 section 4.2: `Content-Disposition: form-data; name="..."`.
  const te = tokenEnd(disposition, 0);
  if (disposition.slice(0, te).toLowerCase() !== 'form-data')
    throw bad('Content-Disposition is not form-data');
  const params = parseParams(disposition, te, false);
  if (params === null) throw bad('malformed Content-Disposition parameters');
  const name = params.get('name');
  if (name === undefined) throw bad('no name parameter');
  let filename = params.get('filename');
  const ext = params.get('filename*');
  if (ext !== undefined) {
    // RFC 8187 / RFC 6266 section 4.3: filename* wins over filename.
    const decoded = decodeExtValue(ext);
    if (decoded === null) throw bad('malformed filename*');
    filename = decoded;
  }
  let mediaType = 'text/plain';
  let charset: string | undefined;
  if (contentType !== undefined) {
    const mt = parseMediaType(contentType, true);
    if (mt === null) throw bad('malformed Content-Type');
    mediaType = mt.type;
    // RFC 7578 section 4.3: multipart/mixed for several files is deprecated; we reject any nesting.
    if (mediaType.startsWith('multipart/')) {
      throw new FormError(FormErrorCode.FORM_NESTED_MULTIPART, offset, 'nested multipart part');
    }
    const cs = mt.params.get('charset');
    if (cs !== undefined) charset = cs.toLowerCase();
  }
  return { name, filename, mediaType, charset, headers };
}

// ---------------------------------------------------------------------------------------------
// safeFilename

/**
 * A file name safe to join to a directory: the last path segment of `raw` (after the last `/` or
 * `\`), without control characters (C0, DEL), without leading dots or spaces and without trailing
 * spaces. May return `''` (nothing usable): pick a name yourself then.
 */
export function safeFilename(raw: string): string {
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x5c /* \ */) start = i + 1;
  }
  let out = '';
  for (let i = start; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) continue; // C0 controls and DEL
    if (out.length === 0 && (c === 0x2e /* . */ || c === 0x20) /* SP */) continue;
    out += raw[i];
  }
  let end = out.length;
  while (end > 0 && out.charCodeAt(end - 1) === 0x20 /* SP */) end--;
  return out.slice(0, end);
}

// ---------------------------------------------------------------------------------------------
// Parser

/**
 * Event callbacks. A callback may throw; the error propagates out of `write()`/`end()` and the
 * parser is then unusable.
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

function checkLimit(name: string, n: number): number {
  if (n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && n >= 0)) return n;
  throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${n}`);
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

/**
 * Incremental multipart/form-data parser. Feed the body with `write(chunk)` in any split, then
 * call `end()`. Throws `FormError` (with `code`, `status` and the byte `offset`) on malformed input
 * or a limit; after an error every call throws the same error.
 */
export class MultipartParser {
  private readonly cb: MultipartCallbacks;
  /** The limits in force (the defaults overridden by the constructor's `limits`). */
  readonly limits: Readonly<MultipartLimits>;
  private readonly needle: Uint8Array;
  private readonly skip: Int32Array;
  /** Possible partial match of the needle carried between chunks. */
  private readonly lookbehind: Uint8Array;
  private lbLen: number;
  private state: State = State.Preamble;
  /** What the failed call threw (every later call throws it again). */
  private error: unknown = null;
  private failed = false;
  /** Bytes given to write() so far (the absolute offset of the next chunk's first byte). */
  private consumed = 0;
  private headerBuf: Uint8Array;
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
    const skip = new Int32Array(256).fill(n);
    for (let i = 0; i < n - 1; i++) skip[needle[i]!] = n - 1 - i;
    this.skip = skip;
    this.lookbehind = new Uint8Array(n);
    // The first delimiter may open the body without a preceding CRLF (RFC 2046 section 5.1.1:
    // the CRLF belongs to the delimiter, and an empty preamble has none): start as if one was seen.
    this.lookbehind[0] = 0x0d; // CR
    this.lookbehind[1] = 0x0a; // LF
    this.lbLen = 2;
    this.headerBuf = new Uint8Array(Math.min(this.limits.maxPartHeaderBytes, 1024));
  }

  /** Feeds the next bytes of the body. The chunk is not retained after the call returns. */
  write(chunk: Uint8Array): void {
    if (this.failed) throw this.error;
    try {
      const room = this.limits.maxTotalBytes - this.consumed;
      if (chunk.length > room) {
        this.run(chunk.subarray(0, room));
        this.consumed += room;
        throw new FormError(FormErrorCode.FORM_TOO_LARGE, this.limits.maxTotalBytes, 'body too large');
      }
      this.run(chunk);
      this.consumed += chunk.length;
    } catch (err) {
      this.fail(err);
    }
  }

  /** Ends the body. Throws `FORM_UNEXPECTED_END` unless the close delimiter was seen. */
  end(): void {
    if (this.failed) throw this.error;
    if (this.state !== State.Epilogue) {
      this.fail(new FormError(FormErrorCode.FORM_UNEXPECTED_END, this.consumed, 'no close delimiter'));
    }
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
  }

  /** Reads header bytes from `i`; returns the index after what it consumed. */
  private headers(chunk: Uint8Array, i: number): number {
    const len = chunk.length;
    const max = this.limits.maxPartHeaderBytes;
    while (i < len) {
      const c = chunk[i]!;
      if (this.headerLen >= max) {
        throw new FormError(
          FormErrorCode.FORM_PART_HEADERS_TOO_LARGE,
          this.headerStart + max,
          'part headers too large',
        );
      }
      if (this.state === State.HeaderCr) {
        if (c !== 0x0a /* LF */) {
          throw new FormError(FormErrorCode.FORM_BAD_PART_HEADER, this.consumed + i, 'CR without LF');
        }
        i++;
        this.headerLen++;
        if (this.lineLen === 0) {
          this.endHeaders(this.consumed + i);
          return i;
        }
        this.push(0x0d);
        this.push(0x0a);
        this.lineLen = 0;
        this.state = State.Headers;
        continue;
      }
      if (c === 0x0d /* CR */) {
        this.state = State.HeaderCr;
      } else if (c === 0x0a /* LF */) {
        // Part header lines end in CRLF (RFC 2046 section 5.1.1, RFC 5322 section 2.2); bare LF rejected.
        throw new FormError(FormErrorCode.FORM_BAD_PART_HEADER, this.consumed + i, 'bare LF in part headers');
      } else {
        this.push(c);
        this.lineLen++;
      }
      this.headerLen++;
      i++;
    }
    return i;
  }

  private push(c: number): void {
    if (this.bufLen >= this.headerBuf.length) {
      const next = new Uint8Array(Math.min(this.headerBuf.length * 2, this.limits.maxPartHeaderBytes + 2));
      next.set(this.headerBuf);
      this.headerBuf = next;
    }
    // headerLen counts bytes of the block; the buffer holds the same bytes but for the final CRLF
    this.headerBuf[this.bufLen++] = c;
  }

  private bufLen = 0;

  private endHeaders(at: number): void {
    const block = this.headerBuf.subarray(0, this.bufLen);
    this.bufLen = 0;
    const info = parsePartHeaders(block, this.headerStart);
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
    // 2. Horspool over the chunk.
    const skip = this.skip;
    const last = needle[n - 1]!;
    let s = 0;
    while (s <= avail - n) {
      const c = chunk[i + s + n - 1]!;
      if (c === last) {
        let j = n - 2;
        while (j >= 0 && chunk[i + s + j] === needle[j]) j--;
        if (j < 0) {
          this.data(chunk, i, i + s);
          this.found();
          return i + s + n;
        }
      }
      s += skip[c]!;
    }
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
