import { nodeCrypto } from './_builtins';
import type { RequestLike } from './_headers';
import type { ResponseWriter } from './writer';

/** Validators of the selected representation (RFC 9110 section 8.8). */
export interface Validators {
  /** Entity tag, with quotes, optionally `W/` weak: `"abc"` or `W/"abc"`. */
  etag?: string;
  /** Last modification time (second precision on the wire). */
  lastModified?: Date | number;
}

/** A parsed entity tag. */
export interface EntityTag {
  weak: boolean;
  /** The opaque tag with its quotes. */
  tag: string;
}

/**
 * A strong ETag for a body: `"<length hex>-<SHA-1 base64url, 27 chars>"`; `weak` gives `W/"..."`.
 *
 * @example
 * res.header('ETag', etagFor(body));
 */
export function etagFor(body: string | Uint8Array, weak = false): string {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const hash = nodeCrypto().createHash('sha1').update(bytes).digest('base64url');
  const tag = `"${bytes.byteLength.toString(16)}-${hash}"`;
  return weak ? `W/${tag}` : tag;
}

/** Parses one entity-tag (`"x"` or `W/"x"`, etagc = 0x21 / 0x23-0x7E / obs-text). Null when invalid. */
export function parseETag(s: string): EntityTag | null {
  let weak = false;
  let t = s.trim();
  if (t.startsWith('W/')) {
    weak = true;
    t = t.slice(2);
  }
  if (t.length < 2 || t.charCodeAt(0) !== 0x22 || t.charCodeAt(t.length - 1) !== 0x22) return null; // '"'
  for (let i = 1; i < t.length - 1; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x21 || c === 0x22 || c === 0x7f || c > 0xff) return null;
  }
  return { weak, tag: t };
}

/** Parses an If-Match / If-None-Match list: `'*'`, or the valid entity tags (invalid members dropped). */
export function parseETagList(header: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*';
  const out: EntityTag[] = [];
  // Entity tags may contain ',' inside quotes: scan instead of split.
  let i = 0;
  const n = header.length;
  for (let guard = 0; i < n && guard <= n; guard++) {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
    if (i >= n) break;
    const start = i;
    if (header.startsWith('W/', i)) i += 2;
    if (header[i] !== '"') {
      const next = header.indexOf(',', i);
      i = next < 0 ? n : next;
      continue;
    }
    const close = header.indexOf('"', i + 1);
    if (close < 0) break;
    i = close + 1;
    const tag = parseETag(header.slice(start, i));
    if (tag) out.push(tag);
  }
  return out;
}

/** Strong comparison (RFC 9110 section 8.8.3.2): both strong and identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.tag === b.tag;
}

/** Weak comparison: opaque tags identical, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.tag === b.tag;
}

const IMF =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
const RFC850 =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d\d-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d \d\d:\d\d:\d\d GMT$/;
const ASCTIME =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d:\d\d:\d\d) (\d{4})$/;

/**
 * Parses an HTTP-date (RFC 9110 section 5.6.7: IMF-fixdate, obsolete RFC 850 and asctime forms) to
 * epoch milliseconds; NaN when invalid. Two-digit RFC 850 years are read as 19xx/20xx per V8.
 */
export function parseHttpDate(s: string): number {
  const t = s.trim();
  if (IMF.test(t) || RFC850.test(t)) return Date.parse(t);
  const m = ASCTIME.exec(t);
  if (m) return Date.parse(`${m[2]!.trim()} ${m[1]} ${m[4]} ${m[3]} GMT`);
  return Number.NaN;
}

function seconds(d: Date | number): number {
  const ms = typeof d === 'number' ? d : d.getTime();
  return Math.floor(ms / 1000);
}

/** Result of {@link evaluateConditions}: proceed (200), not modified (304) or precondition failed (412). */
export type ConditionResult = 200 | 304 | 412;

/**
 * Evaluates the preconditions of RFC 9110 section 13.2.2, in its order:
 * 1. If-Match -> 412 unless a current strong ETag matches (`*` matches any current representation);
 * 2. else If-Unmodified-Since -> 412 when modified after the date;
 * 3. If-None-Match -> 304 for GET/HEAD (412 otherwise) when an ETag matches weakly (or `*`);
 * 4. else, for GET/HEAD, If-Modified-Since -> 304 when not modified since the date.
 * Invalid dates are ignored, as the RFC requires. `exists: false` (no current representation) makes
 * `If-Match: *` fail and `If-None-Match: *` pass.
 *
 * @example
 * evaluateConditions(req, { etag: '"v2"' }); // 304 when If-None-Match: "v2"
 */
export function evaluateConditions(req: RequestLike, v: Validators, exists = true): ConditionResult {
  const method = req.method;
  const current = v.etag !== undefined ? parseETag(v.etag) : null;
  const lm = v.lastModified !== undefined ? seconds(v.lastModified) : Number.NaN;
  const ifMatch = req.header('if-match');
  if (ifMatch !== undefined) {
    const list = parseETagList(ifMatch);
    const ok =
      list === '*' ? exists : current !== null && exists && list.some((t) => strongMatch(t, current));
    if (!ok) return 412;
  } else {
    const ius = req.header('if-unmodified-since');
    if (ius !== undefined && exists) {
      const d = parseHttpDate(ius);
      if (!Number.isNaN(d) && !Number.isNaN(lm) && lm > seconds(d)) return 412;
    }
  }
  const safe = method === 'GET' || method === 'HEAD';
  const inm = req.header('if-none-match');
  if (inm !== undefined) {
    const list = parseETagList(inm);
    const match =
      list === '*' ? exists : current !== null && exists && list.some((t) => weakMatch(t, current));
    if (match) return safe ? 304 : 412;
  } else if (safe && exists) {
    const ims = req.header('if-modified-since');
    if (ims !== undefined) {
      const d = parseHttpDate(ims);
      if (!Number.isNaN(d) && !Number.isNaN(lm) && lm <= seconds(d)) return 304;
    }
  }
  return 200;
}

/**
 * Sets `ETag` / `Last-Modified` on the response and answers the preconditions: on 304 or 412 it
 * ends the response (no body; the headers already set, such as Cache-Control and Vary, are kept) and
 * returns true. Returns false when the handler should send the full response. Works for any response.
 *
 * @example
 * if (!respondConditionally(req, res, { etag: etagFor(body) })) res.send(body);
 */
export function respondConditionally(req: RequestLike, res: ResponseWriter, v: Validators): boolean {
  if (v.etag !== undefined) res.header('ETag', v.etag);
  if (v.lastModified !== undefined)
    res.header('Last-Modified', new Date(seconds(v.lastModified) * 1000).toUTCString());
  const r = evaluateConditions(req, v);
  if (r === 200) return false;
  if (r === 412) res.removeHeader('Content-Length');
  res.status(r).end();
  return true;
}
