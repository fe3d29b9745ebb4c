import { nodeCrypto } from './_builtins';
import type { RequestLike } from './_headers';
import { parseETag, parseHttpDate, strongMatch, type Validators } from './conditional';
import type { ResponseWriter } from './writer';

/** One satisfiable byte range, inclusive bounds. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Outcome of {@link parseRange}: `none` (no Range, not bytes, or invalid syntax: serve the whole
 * representation, as RFC 9110 section 14.2 allows), `unsatisfiable` (416), or the ranges to send.
 */
export type RangeResult =
  | { type: 'none' }
  | { type: 'unsatisfiable' }
  | { type: 'ranges'; ranges: ByteRange[] };

/** Limits of range handling. */
export interface RangeOptions {
  /** More ranges than this and the Range header is ignored (default 16; RFC 9110 section 14.2 DoS advice). */
  maxRanges?: number;
}

const NONE: RangeResult = { type: 'none' };
const UNSAT: RangeResult = { type: 'unsatisfiable' };

function digits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1; // '0'..'9'
  }
  return Number(s);
}

/**
 * Parses `Range: bytes=...` (RFC 9110 section 14.1.2) against a representation of `size` bytes:
 * `first-last`, `first-` and `-suffix`. Unsatisfiable members are dropped; if none remain the result
 * is `unsatisfiable`. Overlapping or adjacent ranges are coalesced (ascending order) so a client
 * cannot multiply the bytes sent.
 *
 * @example
 * parseRange('bytes=0-499', 10000); // { type: 'ranges', ranges: [{ start: 0, end: 499 }] }
 */
export function parseRange(
  header: string | undefined,
  size: number,
  options: RangeOptions = {},
): RangeResult {
  if (header === undefined) return NONE;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return NONE;
  const specs = header.slice(eq + 1).split(',');
  const max = options.maxRanges ?? 16;
  const out: ByteRange[] = [];
  let members = 0;
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue; // empty list elements are allowed (RFC 9110 section 5.6.1)
    if (++members > max) return NONE;
    const dash = spec.indexOf('-');
    if (dash < 0) return NONE;
    const a = spec.slice(0, dash);
    const b = spec.slice(dash + 1);
    if (a === '') {
      const suffix = digits(b);
      if (suffix < 0) return NONE;
      if (suffix === 0 || size === 0) continue; // unsatisfiable member
      out.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const first = digits(a);
    if (first < 0) return NONE;
    let last = size - 1;
    if (b !== '') {
      last = digits(b);
      if (last < 0 || last < first) return NONE; // invalid: last-pos < first-pos
      if (last > size - 1) last = size - 1;
    }
    if (first >= size) continue; // unsatisfiable member
    out.push({ start: first, end: last });
  }
  if (members === 0) return NONE;
  if (out.length === 0) return UNSAT;
  if (out.length > 1) {
    out.sort((x, y) => x.start - y.start);
    const merged: ByteRange[] = [out[0]!];
    for (let i = 1; i < out.length; i++) {
      const r = out[i]!;
      const top = merged[merged.length - 1]!;
      if (r.start <= top.end + 1) top.end = Math.max(top.end, r.end);
      else merged.push(r);
    }
    return { type: 'ranges', ranges: merged };
  }
  return { type: 'ranges', ranges: out };
}

/**
 * If-Range (RFC 9110 section 13.1.5): true when the Range header may be used. An entity tag must
 * match the current one strongly; a date must equal Last-Modified exactly. Absent If-Range: true.
 */
export function ifRangeAllows(req: RequestLike, v: Validators): boolean {
  const h = req.header('if-range');
  if (h === undefined) return true;
  const t = h.trim();
  if (t.startsWith('"') || t.startsWith('W/')) {
    const given = parseETag(t);
    const current = v.etag !== undefined ? parseETag(v.etag) : null;
    return given !== null && current !== null && strongMatch(given, current);
  }
  const d = parseHttpDate(t);
  if (Number.isNaN(d) || v.lastModified === undefined) return false;
  const lm = typeof v.lastModified === 'number' ? v.lastModified : v.lastModified.getTime();
  return Math.floor(d / 1000) === Math.floor(lm / 1000);
}

/**
 * The range plan for a GET: `none` for other methods (RFC 9110 section 14.2: range handling is
 * defined for GET only), when If-Range fails, or when the Range header is absent/invalid.
 */
export function rangeFor(
  req: RequestLike,
  size: number,
  v: Validators = {},
  options?: RangeOptions,
): RangeResult {
  if (req.method !== 'GET') return NONE;
  const h = req.header('range');
  if (h === undefined || !ifRangeAllows(req, v)) return NONE;
  return parseRange(h, size, options);
}

/** One part header of a multipart/byteranges body. */
export interface MultipartPlan {
  boundary: string;
  /** Per range: the part head (`--boundary` ... blank line), preceded by CRLF except for the first. */
  heads: string[];
  /** `\r\n--boundary--\r\n`. */
  tail: string;
  /** Total body length. */
  length: number;
}

/** Plans a `multipart/byteranges` body (RFC 9110 section 14.6) for the given ranges. */
export function planMultipart(
  ranges: ByteRange[],
  size: number,
  contentType: string | undefined,
): MultipartPlan {
  const boundary = `strata-${nodeCrypto().randomBytes(12).toString('hex')}`;
  const heads: string[] = [];
  let length = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    let h = `${i === 0 ? '' : '\r\n'}--${boundary}\r\n`;
    if (contentType) h += `Content-Type: ${contentType}\r\n`;
    h += `Content-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`;
    heads.push(h);
    length += h.length + (r.end - r.start + 1);
  }
  const tail = `\r\n--${boundary}--\r\n`;
  length += tail.length;
  return { boundary, heads, tail, length };
}

/**
 * Sends `body` honouring Range / If-Range: 200 with the whole body, 206 with `Content-Range` for one
 * range, 206 `multipart/byteranges` for several, 416 with `Content-Range: bytes *\/size` when
 * unsatisfiable. Sets `Accept-Ranges: bytes`. Content-Type should be set on `res` beforehand.
 *
 * @example
 * res.header('Content-Type', 'text/plain');
 * sendRanged(req, res, text, { etag });
 */
export function sendRanged(
  req: RequestLike,
  res: ResponseWriter,
  body: string | Uint8Array,
  v: Validators = {},
  options?: RangeOptions,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const size = bytes.byteLength;
  res.header('Accept-Ranges', 'bytes');
  const plan = rangeFor(req, size, v, options);
  if (plan.type === 'none') {
    res.send(bytes);
    return;
  }
  if (plan.type === 'unsatisfiable') {
    res.removeHeader('Content-Type');
    res.status(416).header('Content-Range', `bytes */${size}`).end();
    return;
  }
  const ranges = plan.ranges;
  if (ranges.length === 1) {
    const r = ranges[0]!;
    res.status(206).header('Content-Range', `bytes ${r.start}-${r.end}/${size}`);
    res.send(bytes.subarray(r.start, r.end + 1));
    return;
  }
  const ct = res.getHeader('Content-Type');
  const mp = planMultipart(ranges, size, typeof ct === 'string' ? ct : undefined);
  res.status(206).header('Content-Type', `multipart/byteranges; boundary=${mp.boundary}`);
  res.header('Content-Length', String(mp.length));
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    res.write(mp.heads[i]!);
    res.write(bytes.subarray(r.start, r.end + 1));
  }
  res.end(mp.tail);
}
