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
export function parsePartHeaders(block: Uint8Array, offset: number): PartInfo {
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
