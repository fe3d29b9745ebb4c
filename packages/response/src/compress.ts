import { pipeline, Readable, type Transform } from 'node:stream';
import { nodeZlib } from './_builtins';
import type { RequestLike } from './_headers';
import type { ResponseWriter, StreamSource } from './writer';

/** Content codings this package can produce. */
export type Encoding = 'br' | 'gzip' | 'deflate';

/** identity not mentioned: acceptable, but any listed coding with q > 0 is preferred. */
const IMPLICIT_IDENTITY = 0.0001;

/**
 * Picks a content coding from `Accept-Encoding` (RFC 9110 section 12.5.3): highest q-value wins, ties
 * go to the order of `supported`; `*` covers codings not listed; `identity` is acceptable unless
 * refused (`identity;q=0`, or `*;q=0` without identity). Returns `'identity'` for no coding, or
 * `null` when nothing at all is acceptable (the caller may answer 406 or send identity anyway).
 *
 * @example
 * negotiateEncoding('gzip;q=0.8, br'); // 'br'
 */
export function negotiateEncoding(
  header: string | undefined,
  supported: readonly Encoding[] = ['br', 'gzip', 'deflate'],
): Encoding | 'identity' | null {
  if (header === undefined) return 'identity';
  const q: Record<string, number> = Object.create(null);
  for (const part of header.split(',')) {
    const semi = part.indexOf(';');
    const name = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase();
    if (name === '') continue;
    let weight = 1;
    if (semi >= 0) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(part.slice(semi + 1));
      if (!m) continue; // invalid parameter: ignore the member
      weight = Math.min(1, Number(m[1]));
    }
    if (!(name in q) || weight > q[name]!) q[name] = weight;
  }
  const star = q['*'];
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const enc of supported) {
    const w = q[enc] ?? (enc === 'gzip' ? q['x-gzip'] : undefined) ?? star ?? 0;
    if (w > bestQ) {
      best = enc;
      bestQ = w;
    }
  }
  const identity = q.identity ?? (star !== undefined ? star : IMPLICIT_IDENTITY);
  if (best !== null && bestQ >= identity) return best;
  if (identity > 0) return 'identity';
  return best;
}

/** Options of {@link sendCompressed}. */
export interface CompressionOptions {
  /** Codings offered, in preference order for ties (default `['br', 'gzip', 'deflate']`). */
  encodings?: Encoding[];
  /** Known bodies smaller than this are sent uncompressed (default 1024 bytes). */
  threshold?: number;
  /** Decides whether a Content-Type is worth compressing (default: text, JSON, XML, JS, SVG, wasm). */
  filter?: (contentType: string) => boolean;
  /** zlib level for gzip/deflate (default 6) and brotli quality (default 4: fast enough for dynamic bodies). */
  level?: number;
  brotliQuality?: number;
}

const COMPRESSIBLE =
  /^(?:text\/|application\/(?:json|javascript|xml|wasm|manifest\+json|x-www-form-urlencoded)|image\/svg\+xml|[^;]*\+(?:json|xml))/i;

/** The default compressibility filter. */
export function isCompressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType);
}

/**
 * Adds `Accept-Encoding` to `Vary` unless already listed (or `*`).
 *
 * @internal not exported from the package entry.
 */
export function addVary(res: ResponseWriter): void {
  const cur = res.getHeader('Vary');
  const list = cur === undefined ? [] : typeof cur === 'string' ? [cur] : cur;
  for (const v of list)
    for (const t of v.split(',')) {
      const tt = t.trim().toLowerCase();
      if (tt === 'accept-encoding' || tt === '*') return;
    }
  res.appendHeader('Vary', 'Accept-Encoding');
}

/**
 * What a full (200) response would be sent as, decided from the request's `Accept-Encoding`, the
 * Content-Type and the body size (`-1`: unknown, no threshold applies): `compressible` says whether
 * the type passes the filter (so the answer depends on `Accept-Encoding` and `Vary` is due), `enc`
 * the coding to use. Pure: touches no response.
 *
 * @internal not exported from the package entry.
 */
export function planEncoding(
  acceptEncoding: string | undefined,
  contentType: string,
  size: number,
  options: CompressionOptions,
): { compressible: boolean; enc: Encoding | 'identity' } {
  const compressible = contentType !== '' && (options.filter ?? isCompressible)(contentType);
  if (!compressible || (size >= 0 && size < (options.threshold ?? 1024)))
    return { compressible, enc: 'identity' };
  return { compressible, enc: negotiateEncoding(acceptEncoding, options.encodings) ?? 'identity' };
}

/**
 * Decides the coding of a response about to be sent: a status with a body (not 206, 204, 304), not
 * HEAD, no Content-Encoding or Content-Range already set, then {@link planEncoding} over the
 * Content-Type on `res`. Adds `Vary: Accept-Encoding` whenever the type is compressible (the answer
 * depended on the request), except on 206. Touches nothing else on `res`.
 *
 * @internal not exported from the package entry.
 */
export function chooseEncoding(
  req: RequestLike,
  res: ResponseWriter,
  size: number,
  options: CompressionOptions,
): Encoding | 'identity' {
  const code = res.statusCode;
  const ct = res.getHeader('Content-Type');
  const plan = planEncoding(req.header('accept-encoding'), typeof ct === 'string' ? ct : '', size, options);
  if (plan.compressible && code !== 206) addVary(res);
  const eligible =
    req.method !== 'HEAD' &&
    code >= 200 &&
    code !== 204 &&
    code !== 206 &&
    code !== 304 &&
    !res.hasHeader('Content-Encoding') &&
    !res.hasHeader('Content-Range');
  return eligible ? plan.enc : 'identity';
}

/**
 * Marks `res` as encoded with `enc`: Content-Encoding set, Content-Length removed (unknown until
 * encoded), a strong ETag made weak since the encoded bytes differ.
 *
 * @internal not exported from the package entry.
 */
export function markEncoded(res: ResponseWriter, enc: Encoding): void {
  res.header('Content-Encoding', enc);
  res.removeHeader('Content-Length');
  const etag = res.getHeader('ETag');
  if (typeof etag === 'string' && etag.startsWith('"')) res.header('ETag', `W/${etag}`);
}

/**
 * The zlib coder for `enc` (`size`: the input length when known, a hint for brotli; `-1` unknown).
 *
 * @internal not exported from the package entry.
 */
export function createEncoder(enc: Encoding, size: number, options: CompressionOptions): Transform {
  const { constants, createBrotliCompress, createDeflate, createGzip } = nodeZlib();
  if (enc === 'br')
    return createBrotliCompress({
      params: {
        [constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 4,
        ...(size >= 0 ? { [constants.BROTLI_PARAM_SIZE_HINT]: size } : {}),
      },
    });
  return enc === 'gzip'
    ? createGzip({ level: options.level ?? 6 })
    : createDeflate({ level: options.level ?? 6 });
}

/**
 * Sends a body, compressed when the client accepts a coding and the response qualifies: a status with
 * a body (not 206, 204, 304), no Content-Encoding already set, a compressible Content-Type (set it on
 * `res` first), and a known size at or above the threshold. Adds `Vary: Accept-Encoding` whenever the
 * choice depended on the request. A strong `ETag` is made weak when the body is encoded. The zlib
 * stream is pumped through the writer's backpressure (chunked or close-delimited framing).
 *
 * @example
 * res.header('Content-Type', 'application/json');
 * await sendCompressed(req, res, JSON.stringify(data));
 */
export async function sendCompressed(
  req: RequestLike,
  res: ResponseWriter,
  body: string | Uint8Array | StreamSource,
  options: CompressionOptions = {},
): Promise<void> {
  const known = typeof body === 'string' || body instanceof Uint8Array;
  const size = known ? (typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) : -1;
  const enc = chooseEncoding(req, res, size, options);
  if (enc === 'identity') {
    await res.stream(body);
    return;
  }
  markEncoded(res, enc);
  const z = createEncoder(enc, size, options);
  if (known) z.end(body);
  else {
    const src =
      typeof (body as ReadableStream).getReader === 'function'
        ? Readable.fromWeb(body as import('node:stream/web').ReadableStream)
        : typeof (body as NodeJS.ReadableStream).pipe === 'function'
          ? (body as NodeJS.ReadableStream)
          : Readable.from(body as AsyncIterable<Uint8Array | string>);
    // pipeline: backpressure between source and coder, and either side's failure or early close
    // (the writer returning the coder's iterator on abort) destroys the other, so no fd is leaked.
    pipeline(src, z, () => {});
  }
  await res.stream(z);
}
