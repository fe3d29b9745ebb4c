/**
 * The header side of `multipart/form-data`: the request's `Content-Type` (the boundary, RFC 2046
 * section 5.1.1) and each part's header block (`Content-Disposition` per RFC 7578 section 4.2 with
 * RFC 8187 `filename*`, `Content-Type` and charset), plus `safeFilename`. Pure functions over strings
 * and bytes; the body state machine that calls them is in `_multipart.ts`.
 */
import { FormError, FormErrorCode } from './_errors';

// ---------------------------------------------------------------------------------------------
// Byte tables

/** RFC 9110 section 5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1; // DIGIT
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1; // ALPHA upper
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1; // ALPHA lower
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

/** RFC 2046 section 5.1.1 bcharsnospace (bchars = bcharsnospace / " "). */
export const BCHAR = new Uint8Array(256);
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

export const MAX_BOUNDARY = 70; // RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace

const utf8 = new TextDecoder('utf-8');

/** Values up to this many bytes are decoded from a copy in SCRATCH (no view made per value). */
const SCRATCH_MAX = 256;
const SCRATCH = new Uint8Array(SCRATCH_MAX);
/** `SCRATCH_VIEWS[n]`: the view of SCRATCH's first `n` bytes, made on first use. */
const SCRATCH_VIEWS: (Uint8Array | undefined)[] = [];

/** UTF-8 decodes `buf[from, to)`: a short one through a reused view of SCRATCH. */
function decodeRange(buf: Uint8Array, from: number, to: number): string {
  const n = to - from;
  if (n > SCRATCH_MAX) return utf8.decode(new Uint8Array(buf.buffer, buf.byteOffset + from, n));
  for (let k = 0; k < n; k++) SCRATCH[k] = buf[from + k]!;
  let view = SCRATCH_VIEWS[n];
  if (view === undefined) view = SCRATCH_VIEWS[n] = SCRATCH.subarray(0, n);
  return utf8.decode(view);
}

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
    // RFC 9110 section 5.6.6: parameters = *( OWS ";" OWS [ parameter ] ): an empty parameter
    // (a trailing ";", or ";;") is allowed and skipped.
    if (i === s.length) return params;
    if (s.charCodeAt(i) === 0x3b /* ; */) continue;
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

/** ASCII lowercase of each byte (other bytes unchanged). */
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a /* A-Z */ ? c | 0x20 : c;

/**
 * A lowercase ASCII name to compare without regard to ASCII case. `pairs`: each byte, then the bit
 * that a byte of the input may differ by (0x20 for a letter, 0 for anything else); `words` and
 * `masks`: the same for the first `4 * floor(length / 4)` bytes, four at a time (little-endian).
 */
class Caseless {
  readonly length: number;
  readonly pairs: Uint8Array;
  readonly words: Int32Array;
  readonly masks: Int32Array;

  constructor(s: string) {
    const n = s.length;
    this.length = n;
    this.pairs = new Uint8Array(2 * n);
    const bytes = new Uint8Array(n);
    const bits = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      bytes[i] = c;
      bits[i] = c >= 0x61 && c <= 0x7a /* a-z */ ? 0x20 : 0;
      this.pairs[2 * i] = c;
      this.pairs[2 * i + 1] = bits[i]!;
    }
    this.words = new Int32Array(n >>> 2);
    this.masks = new Int32Array(n >>> 2);
    const wv = new DataView(bytes.buffer);
    const mv = new DataView(bits.buffer);
    for (let k = 0; k < this.words.length; k++) {
      this.words[k] = wv.getInt32(4 * k, true);
      this.masks[k] = mv.getInt32(4 * k, true);
    }
  }
}
const CONTENT_DISPOSITION = new Caseless('content-disposition');
const CONTENT_TYPE = new Caseless('content-type');
const FORM_DATA = new Caseless('form-data');
const NAME = new Caseless('name');
const FILENAME = new Caseless('filename');
const FILENAME_EXT = new Caseless('filename*');

/** True when `s[from, to)` equals `name`, ignoring ASCII case. */
function strIs(s: string, from: number, to: number, name: Caseless): boolean {
  const n = name.length;
  if (to - from !== n) return false;
  const pairs = name.pairs;
  for (let k = 0; k < n; k++) {
    if ((s.charCodeAt(from + k) | pairs[2 * k + 1]!) !== pairs[2 * k]) return false;
  }
  return true;
}

/** True when `buf[from, to)` equals `name`, ignoring ASCII case; `dv` is a DataView over `buf`. */
function bytesAre(buf: Uint8Array, dv: DataView, from: number, to: number, name: Caseless): boolean {
  const n = name.length;
  if (to - from !== n) return false;
  const words = name.words;
  const masks = name.masks;
  const nw = words.length;
  for (let k = 0; k < nw; k++) {
    if ((dv.getInt32(from + 4 * k, true) | masks[k]!) !== words[k]) return false;
  }
  const pairs = name.pairs;
  for (let k = 4 * nw; k < n; k++) {
    if ((buf[from + k]! | pairs[2 * k + 1]!) !== pairs[2 * k]) return false;
  }
  return true;
}

// What parseDisposition found (module scratch: set by each call, read right after it).
let dispName: string | undefined;
let dispFilename: string | undefined;
let dispFilenameExt: string | undefined;

/**
 * The parameters of a Content-Disposition value from `i` (after the `form-data` token): the same
 * grammar as `parseParams(s, i, false)`, but keeps only `name`, `filename` and `filename*` (in the
 * scratch variables above) and allocates nothing for them but their values. Returns false on a
 * syntax error or a repeated parameter name.
 */
function parseDisposition(s: string, i: number): boolean {
  dispName = undefined;
  dispFilename = undefined;
  dispFilenameExt = undefined;
  let others: string[] | null = null;
  const len = s.length;
  for (;;) {
    i = skipOws(s, i);
    if (i === len) return true;
    if (s.charCodeAt(i) !== 0x3b /* ; */) return false;
    i = skipOws(s, i + 1);
    if (i === len) return true; // a trailing ";" is tolerated (curl, some proxies)
    const ns = i;
    const ne = tokenEnd(s, i);
    if (ne === i) return false;
    i = skipOws(s, ne);
    if (s.charCodeAt(i) !== 0x3d /* = */) return false;
    i = skipOws(s, i + 1);
    let value: string;
    if (s.charCodeAt(i) === 0x22 /* " */) {
      // No escapes: browsers send backslashes literally (see parseParams).
      const q = s.indexOf('"', i + 1);
      if (q < 0) return false; // unterminated quoted-string
      value = s.slice(i + 1, q);
      i = q + 1;
    } else {
      const ve = tokenEnd(s, i);
      if (ve === i) return false;
      value = s.slice(i, ve);
      i = ve;
    }
    if (strIs(s, ns, ne, NAME)) {
      if (dispName !== undefined) return false;
      dispName = value;
    } else if (strIs(s, ns, ne, FILENAME)) {
      if (dispFilename !== undefined) return false;
      dispFilename = value;
    } else if (strIs(s, ns, ne, FILENAME_EXT)) {
      if (dispFilenameExt !== undefined) return false;
      dispFilenameExt = value;
    } else {
      const other = s.slice(ns, ne).toLowerCase();
      if (others === null) others = [other];
      else if (others.includes(other)) return false;
      else others.push(other);
    }
  }
}

const DISP_OK = 0;
const DISP_NOT_FORM_DATA = 1;
const DISP_MALFORMED = 2;

/** A Content-Disposition value (a string): `form-data` then the parameters. */
function dispositionString(s: string): number {
  const te = tokenEnd(s, 0);
  if (!strIs(s, 0, te, FORM_DATA)) return DISP_NOT_FORM_DATA;
  return parseDisposition(s, te) ? DISP_OK : DISP_MALFORMED;
}

/**
 * `dispositionString(s)` read from the bytes `buf[from, to)` that `s` decodes, one UTF-16 unit per
 * byte (so byte `k` is `s[k - from]` and a byte >= 0x80 is no delimiter, like its U+FFFD). Values
 * are sliced from `s`.
 */
function dispositionBytes(buf: Uint8Array, dv: DataView, from: number, to: number, s: string): number {
  let i = from;
  while (i < to && TCHAR[buf[i]!] === 1) i++;
  if (!bytesAre(buf, dv, from, i, FORM_DATA)) return DISP_NOT_FORM_DATA;
  dispName = undefined;
  dispFilename = undefined;
  dispFilenameExt = undefined;
  let others: string[] | null = null;
  for (;;) {
    while (i < to && (buf[i] === 0x20 /* SP */ || buf[i] === 0x09) /* HTAB */) i++;
    if (i === to) return DISP_OK;
    if (buf[i] !== 0x3b /* ; */) return DISP_MALFORMED;
    i++;
    while (i < to && (buf[i] === 0x20 /* SP */ || buf[i] === 0x09) /* HTAB */) i++;
    if (i === to) return DISP_OK; // a trailing ";" is tolerated (curl, some proxies)
    const ns = i;
    while (i < to && TCHAR[buf[i]!] === 1) i++;
    const ne = i;
    if (ne === ns) return DISP_MALFORMED;
    while (i < to && (buf[i] === 0x20 /* SP */ || buf[i] === 0x09) /* HTAB */) i++;
    if (i === to || buf[i] !== 0x3d /* = */) return DISP_MALFORMED;
    i++;
    while (i < to && (buf[i] === 0x20 /* SP */ || buf[i] === 0x09) /* HTAB */) i++;
    let value: string;
    if (i < to && buf[i] === 0x22 /* " */) {
      // No escapes: browsers send backslashes literally (see parseParams).
      let q = i + 1;
      while (q < to && buf[q] !== 0x22 /* " */) q++;
      if (q === to) return DISP_MALFORMED; // unterminated quoted-string
      value = s.slice(i + 1 - from, q - from);
      i = q + 1;
    } else {
      const vs = i;
      while (i < to && TCHAR[buf[i]!] === 1) i++;
      if (i === vs) return DISP_MALFORMED;
      value = s.slice(vs - from, i - from);
    }
    if (bytesAre(buf, dv, ns, ne, NAME)) {
      if (dispName !== undefined) return DISP_MALFORMED;
      dispName = value;
    } else if (bytesAre(buf, dv, ns, ne, FILENAME)) {
      if (dispFilename !== undefined) return DISP_MALFORMED;
      dispFilename = value;
    } else if (bytesAre(buf, dv, ns, ne, FILENAME_EXT)) {
      if (dispFilenameExt !== undefined) return DISP_MALFORMED;
      dispFilenameExt = value;
    } else {
      const other = s.slice(ns - from, ne - from).toLowerCase();
      if (others === null) others = [other];
      else if (others.includes(other)) return DISP_MALFORMED;
      else others.push(other);
    }
  }
}

/** `form-data; name="` as little-endian 32-bit words (16 bytes), then its last byte, `"`. */
const BROWSER_PREFIX = 'form-data; name="';
const BROWSER_WORDS = /* @__PURE__ */ (() => {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = BROWSER_PREFIX.charCodeAt(i);
  const v = new DataView(bytes.buffer);
  return Int32Array.of(v.getInt32(0, true), v.getInt32(4, true), v.getInt32(8, true), v.getInt32(12, true));
})();
/** Longest name browserName builds (longer ones are decoded). */
const BROWSER_NAME_MAX = 32;

/**
 * The value every browser sends for a field, `form-data; name="..."` exactly (lowercase, one
 * space), with a name of ASCII bytes and no `"`: returns the name, built byte by byte; the value's
 * UTF-8 decoding is then `form-data; name="<name>"`, and parsing it gives this name and no file
 * name. Anything else (or a longer name): null.
 */
function browserName(buf: Uint8Array, dv: DataView, from: number, to: number): string | null {
  const n = to - from - 18; // the name's length: the prefix (17) and the closing quote (1) aside
  if (n < 0 || n > BROWSER_NAME_MAX) return null;
  if (
    dv.getInt32(from, true) !== BROWSER_WORDS[0] ||
    dv.getInt32(from + 4, true) !== BROWSER_WORDS[1] ||
    dv.getInt32(from + 8, true) !== BROWSER_WORDS[2] ||
    dv.getInt32(from + 12, true) !== BROWSER_WORDS[3] ||
    buf[from + 16] !== 0x22 /* " */ ||
    buf[to - 1] !== 0x22 /* " */
  ) {
    return null;
  }
  let name = '';
  for (let k = from + 17; k < to - 1; k++) {
    const c = buf[k]!;
    if (c >= 0x80 || c === 0x22 /* " */) return null;
    name += String.fromCharCode(c);
  }
  return name;
}

function badHeader(offset: number, why: string): FormError {
  return new FormError(FormErrorCode.FORM_BAD_PART_HEADER, offset, why);
}

/** Where the block parsed by the last successful `parsePartHeaders` call ended (module scratch). */
let blockEnd = 0;

/** The index just after the final CRLF of the block the last successful `parsePartHeaders` read. */
export function partHeadersEnd(): number {
  return blockEnd;
}

/**
 * Parses one part's header block from `buf[start]`: header lines, each ending in CRLF, then the
 * empty line (CRLF), all before `stop`. `dv` is a DataView over the same bytes as `buf`. On success returns the part's `PartInfo`, and
 * `partHeadersEnd()` gives the index after the empty line.
 *
 * `fast === false`: the block has been checked byte by byte already (every CR followed by LF, no
 * bare LF, within its size limit); anything malformed throws FormError at `offset` (the block's
 * first byte). `fast === true`: the block is parsed in place from a chunk, unchecked and perhaps
 * incomplete; anything unusual (the end not reached before `stop`, a bare CR or LF, any error)
 * returns null without side effects, and the caller reads the block the checked way, which throws
 * the right error at the right offset.
 */
export function parsePartHeaders(
  buf: Uint8Array,
  dv: DataView,
  offset: number,
  start: number,
  stop: number,
  fast: boolean,
): PartInfo | null {
  // Made with its first pair (an array literal of two, not an empty array grown by push).
  let headers: string[] | null = null;
  let disposition: string | undefined;
  // The name of a Content-Disposition read by browserName (null: parse the value).
  let plainName: string | null = null;
  let dvs = 0; // where the Content-Disposition value's bytes are: buf[dvs, dve)
  let dve = 0;
  let contentType: string | undefined;
  let pos = start;
  for (;;) {
    if (pos >= stop) {
      if (fast) return null;
      throw badHeader(offset, 'no end of part headers');
    }
    if (buf[pos] === 0x0d /* CR */) {
      // The empty line ends the block.
      if (pos + 1 < stop && buf[pos + 1] === 0x0a /* LF */) break;
      if (fast) return null;
      throw badHeader(offset, 'CR without LF');
    }
    const lineStart = pos;
    // Content-Disposition first (every part has one), without the tchar scan when it matches.
    let known = 0; // 1: Content-Disposition, 2: Content-Type, 0: another name
    if (
      pos + 19 < stop &&
      buf[pos + 19] === 0x3a /* : */ &&
      bytesAre(buf, dv, pos, pos + 19, CONTENT_DISPOSITION)
    ) {
      pos += 19;
      known = 1;
    } else {
      while (pos < stop && TCHAR[buf[pos]!] === 1) pos++; // stops at ":", CR or LF at the latest
      if (bytesAre(buf, dv, lineStart, pos, CONTENT_TYPE)) known = 2;
      else if (bytesAre(buf, dv, lineStart, pos, CONTENT_DISPOSITION)) known = 1;
    }
    const colon = pos;
    // RFC 9110 section 5.1: field-name is a token; no whitespace before ":" (RFC 9112 section 5.1);
    // a line starting with whitespace is obs-fold (RFC 9112 section 5.2), rejected.
    if (colon === lineStart || colon >= stop || buf[colon] !== 0x3a /* : */) {
      if (fast) return null;
      throw badHeader(offset, 'malformed header line');
    }
    // Control characters in values are accepted: the WHATWG HTML multipart/form-data encoding
    // escapes only CR, LF and `"`, so browsers send other controls in names and file names raw
    // (safeFilename strips them). CR and LF end the line: CRLF, or (unchecked input) an error.
    let lineEnd = colon + 1;
    // Four bytes at a time while none is below 0x0e (so neither CR nor LF): the word test is
    // exact for "some byte < 0x0e" (Anderson's bit hacks, hasless(x, 14)).
    while (lineEnd + 4 <= stop) {
      const w = dv.getInt32(lineEnd, true);
      if (((w - 0x0e0e0e0e) & ~w & 0x80808080) !== 0) break;
      lineEnd += 4;
    }
    for (;;) {
      if (lineEnd >= stop) {
        if (fast) return null;
        throw badHeader(offset, 'no end of part headers');
      }
      const c = buf[lineEnd]!;
      if (c <= 0x0d /* CR */) {
        if (c === 0x0d /* CR */) break;
        if (c === 0x0a /* LF */) {
          if (fast) return null;
          throw badHeader(offset, 'bare LF in part headers');
        }
      }
      lineEnd++;
    }
    if (lineEnd + 1 >= stop || buf[lineEnd + 1] !== 0x0a /* LF */) {
      if (fast) return null;
      throw badHeader(offset, 'CR without LF');
    }
    // OWS around the value (RFC 9110 section 5.5) is SP / HTAB only.
    let vs = colon + 1;
    let ve = lineEnd;
    while (vs < ve && (buf[vs] === 0x20 /* SP */ || buf[vs] === 0x09) /* HTAB */) vs++;
    while (ve > vs && (buf[ve - 1] === 0x20 /* SP */ || buf[ve - 1] === 0x09) /* HTAB */) ve--;
    let value: string;
    if (known === 1 && (plainName = browserName(buf, dv, vs, ve)) !== null) {
      value = `form-data; name="${plainName}"`;
    } else {
      value = vs === ve ? '' : decodeRange(buf, vs, ve);
    }
    if (known === 1) {
      if (disposition !== undefined) {
        if (fast) return null;
        throw badHeader(offset, 'repeated Content-Disposition');
      }
      if (headers === null) headers = ['content-disposition', value];
      else headers.push('content-disposition', value);
      disposition = value;
      dvs = vs;
      dve = ve;
    } else if (known === 2) {
      if (contentType !== undefined) {
        if (fast) return null;
        throw badHeader(offset, 'repeated Content-Type');
      }
      if (headers === null) headers = ['content-type', value];
      else headers.push('content-type', value);
      contentType = value;
    } else {
      let name = '';
      for (let k = lineStart; k < colon; k++) name += String.fromCharCode(LOWER[buf[k]!]!);
      if (headers === null) headers = [name, value];
      else headers.push(name, value);
    }
    pos = lineEnd + 2;
  }
  const end = pos + 2;
  // From here on the whole block is well-formed: a fast parse may throw what a checked one would.
  if (disposition === undefined) throw badHeader(offset, 'no Content-Disposition');
  // RFC 7578 section 4.2: `Content-Disposition: form-data; name="..."`.
  // One UTF-16 unit per byte (ASCII, or single bytes that became U+FFFD): the bytes are read in
  // place. Otherwise (multi-byte characters, a BOM) the decoded string is.
  let how: number;
  if (plainName !== null) {
    dispName = plainName;
    dispFilename = undefined;
    dispFilenameExt = undefined;
    how = DISP_OK;
  } else if (disposition.length === dve - dvs) {
    how = dispositionBytes(buf, dv, dvs, dve, disposition);
  } else {
    how = dispositionString(disposition);
  }
  if (how === DISP_NOT_FORM_DATA) throw badHeader(offset, 'Content-Disposition is not form-data');
  if (how === DISP_MALFORMED) throw badHeader(offset, 'malformed Content-Disposition parameters');
  const name = dispName;
  if (name === undefined) throw badHeader(offset, 'no name parameter');
  let filename = dispFilename;
  const ext = dispFilenameExt;
  if (ext !== undefined) {
    // RFC 8187 / RFC 6266 section 4.3: filename* wins over filename.
    const decoded = decodeExtValue(ext);
    if (decoded === null) throw badHeader(offset, 'malformed filename*');
    filename = decoded;
  }
  let mediaType = 'text/plain';
  let charset: string | undefined;
  if (contentType !== undefined) {
    const mt = parseMediaType(contentType, true);
    if (mt === null) throw badHeader(offset, 'malformed Content-Type');
    mediaType = mt.type;
    // RFC 7578 section 4.3: multipart/mixed for several files is deprecated; we reject any nesting.
    if (mediaType.startsWith('multipart/')) {
      throw new FormError(FormErrorCode.FORM_NESTED_MULTIPART, offset, 'nested multipart part');
    }
    const cs = mt.params.get('charset');
    if (cs !== undefined) charset = cs.toLowerCase();
  }
  blockEnd = end;
  return { name, filename, mediaType, charset, headers: headers! };
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
