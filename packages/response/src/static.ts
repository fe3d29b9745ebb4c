import type { FileHandle } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { nodeFsPromises } from './_builtins';
import type { RequestLike } from './_headers';
import { MIME } from './_mime';
import { addVary, type CompressionOptions, createEncoder, markEncoded, planEncoding } from './compress';
import { evaluateConditions } from './conditional';
import { planMultipart, rangeFor } from './range';
import type { ResponseWriter } from './writer';

/** Stable reasons a request path is refused by {@link resolveSafePath}. */
export const PathErrorCode = {
  /** Malformed percent-encoding or not starting with `/`. */
  MALFORMED: 'ERR_PATH_MALFORMED',
  /** NUL byte (raw or `%00`). */
  NUL: 'ERR_PATH_NUL',
  /** A backslash (raw or `%5c`): never a separator here, refused to be safe on every OS. */
  BACKSLASH: 'ERR_PATH_BACKSLASH',
  /** A `..` segment (raw or encoded such as `%2e%2e`). */
  TRAVERSAL: 'ERR_PATH_TRAVERSAL',
  /** A drive letter or other absolute form inside the path. */
  ABSOLUTE: 'ERR_PATH_ABSOLUTE',
} as const;

/** Result of {@link resolveSafePath}. */
export type SafePath =
  | { ok: true; path: string; dotfile: boolean }
  | { ok: false; status: 400 | 403; code: (typeof PathErrorCode)[keyof typeof PathErrorCode] };

/**
 * Maps a URL path (percent-encoded, without the query) to a file path strictly inside `root`.
 * Decodes once, then refuses NUL, backslashes, `..` segments, drive letters, and checks the joined
 * result is still under `root`. Symlinks are checked separately (see {@link serveStatic}).
 *
 * @example
 * resolveSafePath('/srv/www', '/a/%2e%2e/b'); // { ok: false, status: 403, code: 'ERR_PATH_TRAVERSAL' }
 */
export function resolveSafePath(root: string, urlPath: string): SafePath {
  const base = resolve(root);
  if (urlPath.charCodeAt(0) !== 0x2f) return { ok: false, status: 400, code: PathErrorCode.MALFORMED }; // '/'
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400, code: PathErrorCode.MALFORMED };
  }
  if (decoded.indexOf('\0') >= 0) return { ok: false, status: 400, code: PathErrorCode.NUL };
  if (decoded.indexOf('\\') >= 0) return { ok: false, status: 403, code: PathErrorCode.BACKSLASH };
  const parts = decoded.split('/');
  const keep: string[] = [];
  let dotfile = false;
  for (const seg of parts) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { ok: false, status: 403, code: PathErrorCode.TRAVERSAL };
    if (seg.indexOf(':') >= 0 && /^[A-Za-z]:/.test(seg))
      return { ok: false, status: 403, code: PathErrorCode.ABSOLUTE };
    if (seg.charCodeAt(0) === 0x2e) dotfile = true; // '.'
    keep.push(seg);
  }
  const rel = keep.join('/');
  if (isAbsolute(rel)) return { ok: false, status: 403, code: PathErrorCode.ABSOLUTE };
  const full = join(base, rel);
  if (full !== base && !full.startsWith(base.endsWith(sep) ? base : base + sep))
    return { ok: false, status: 403, code: PathErrorCode.TRAVERSAL };
  return { ok: true, path: full, dotfile };
}

/** Options of {@link serveStatic}. */
export interface StaticOptions {
  /** Index files tried for a directory (default `['index.html']`; `[]` disables). */
  index?: string[];
  /** Dot-files: `ignore` (default: as if absent), `deny` (403) or `allow`. */
  dotfiles?: 'ignore' | 'deny' | 'allow';
  /** Serve symlinks whose target leaves the root (default false: treated as absent). */
  followSymlinksOutsideRoot?: boolean;
  /** `Cache-Control` value (default `public, max-age=0`; `null` omits it). */
  cacheControl?: string | null;
  /** Send ETag (default true) and Last-Modified (default true). */
  etag?: boolean;
  lastModified?: boolean;
  /** Extra or overriding content types by extension (no dot, lower case). */
  contentTypes?: Record<string, string>;
  /** Content type for unknown extensions (default `application/octet-stream`). */
  defaultContentType?: string;
  /** Redirect a directory without trailing slash to `path/` with 301 (default true). */
  redirectDirectories?: boolean;
  /** When the file is missing: return false to let the caller answer (default) or send 404. */
  fallthrough?: boolean;
  /** Read chunk size for file streams (default 64 KiB). */
  highWaterMark?: number;
  /**
   * Compress full-body responses (default false: off). `true` uses the {@link sendCompressed}
   * defaults (br > gzip > deflate, 1024-byte threshold on the file size, compressible types only);
   * an object sets them. Only whole-file 200 answers are encoded; ranges (206) are always served
   * from the identity bytes (see the README). Compressible types get `Vary: Accept-Encoding`.
   */
  compress?: boolean | CompressionOptions;
}

/** What {@link serveStatic} needs of the request: method, headers and the raw path (no query). */
export interface StaticRequest extends RequestLike {
  /** Raw (percent-encoded) path, without the query string. */
  readonly path: string;
  /** Raw query string without `?`, kept on directory redirects. */
  readonly query?: string;
}

/** A static file handler: resolves true when it answered, false when the caller should (missing file). */
export type StaticHandler = (req: StaticRequest, res: ResponseWriter) => Promise<boolean>;

const EMPTY = new Uint8Array(0);

function contentTypeFor(path: string, o: StaticOptions): string {
  const slash = path.lastIndexOf(sep);
  const dot = path.lastIndexOf('.');
  const ext = dot > slash + 1 ? path.slice(dot + 1).toLowerCase() : '';
  return o.contentTypes?.[ext] ?? MIME[ext] ?? o.defaultContentType ?? 'application/octet-stream';
}

function within(child: string, root: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Serves files under `root` for GET and HEAD: content types from extensions, index files, directory
 * redirects, `Last-Modified` and a strong `ETag` (size + mtime), conditional requests (304/412),
 * ranges (206, multipart/byteranges, 416, If-Range), and traversal-proof path resolution (see
 * {@link resolveSafePath}; symlinks leaving the root are refused unless allowed). Bodies are streamed
 * from `node:fs` with the writer's backpressure. Other methods resolve false.
 *
 * @example
 * const files = serveStatic('./public');
 * if (!(await files(req, res))) res.status(404).send('Not Found');
 */
export function serveStatic(root: string, options: StaticOptions = {}): StaticHandler {
  const base = resolve(root);
  let realBase: Promise<string> | null = null;
  const index = options.index ?? ['index.html'];
  const dotfiles = options.dotfiles ?? 'ignore';
  const fallthrough = options.fallthrough !== false;
  const compress: CompressionOptions | null =
    options.compress === true ? {} : options.compress ? options.compress : null;

  async function missing(res: ResponseWriter): Promise<boolean> {
    if (fallthrough) return false;
    res.status(404).send('Not Found');
    return true;
  }

  /** Opens `path` if it is a regular file (or directory) whose real path is allowed. */
  async function openChecked(
    path: string,
  ): Promise<{ fh: FileHandle; dir: false } | { fh: null; dir: true } | null> {
    const { open, realpath } = nodeFsPromises();
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return null;
    }
    if (!options.followSymlinksOutsideRoot) {
      realBase ??= realpath(base).catch(() => base);
      if (!within(real, await realBase)) return null; // a symlink leaving the root: as if absent
    }
    let fh: FileHandle;
    try {
      fh = await open(real, 'r');
    } catch {
      return null;
    }
    const st = await fh.stat().catch(() => null);
    if (st === null) {
      await fh.close().catch(() => {});
      return null;
    }
    if (st.isFile()) return { fh, dir: false };
    await fh.close();
    return st.isDirectory() ? { fh: null, dir: true } : null;
  }

  return async function serve(req: StaticRequest, res: ResponseWriter): Promise<boolean> {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const safe = resolveSafePath(base, req.path);
    if (!safe.ok) {
      res.status(safe.status).send(safe.status === 400 ? 'Bad Request' : 'Forbidden');
      return true;
    }
    if (safe.dotfile && dotfiles !== 'allow') {
      if (dotfiles === 'ignore') return missing(res);
      res.status(403).send('Forbidden');
      return true;
    }
    let target = safe.path;
    let found = await openChecked(target);
    if (found === null) return missing(res);
    if (found.dir) {
      if (!req.path.endsWith('/')) {
        if (options.redirectDirectories === false) return missing(res);
        const q = req.query ? `?${req.query}` : '';
        res.status(301).header('Location', `${req.path}/${q}`).send('Moved Permanently');
        return true;
      }
      found = null;
      for (const name of index) {
        const candidate = join(target, name);
        const f = await openChecked(candidate);
        if (f !== null && !f.dir) {
          found = f;
          target = candidate;
          break;
        }
      }
      if (found === null) return missing(res);
    }
    const fh = found.fh;
    let handedOff = false;
    try {
      const st = await fh.stat();
      const size = st.size;
      const etag =
        options.etag === false ? undefined : `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      const lastModified = options.lastModified === false ? undefined : st.mtime;
      const v = { etag, lastModified };
      const type = contentTypeFor(target, options);
      if (etag !== undefined) res.header('ETag', etag);
      if (lastModified !== undefined) res.header('Last-Modified', lastModified.toUTCString());
      const cc = options.cacheControl === undefined ? 'public, max-age=0' : options.cacheControl;
      if (cc !== null) res.header('Cache-Control', cc);
      res.header('Accept-Ranges', 'bytes');
      // With `compress`, what a full GET would be sent as: the coding decides the ETag (weak when
      // encoded) also for 304 and HEAD, which must carry the validators and headers of that GET.
      const coding =
        compress === null ? null : planEncoding(req.header('accept-encoding'), type, size, compress);
      const cond = evaluateConditions(req, v);
      if (cond !== 200) {
        if (cond === 304 && coding !== null) {
          if (coding.compressible) addVary(res);
          if (coding.enc !== 'identity' && size > 0 && etag !== undefined) res.header('ETag', `W/${etag}`);
        }
        res.status(cond).end();
        return true;
      }
      const plan = rangeFor(req, size, v);
      if (plan.type === 'unsatisfiable') {
        res.status(416).header('Content-Range', `bytes */${size}`).end();
        return true;
      }
      // Ranges are served from the identity bytes (strong ETag, exact Content-Range), never encoded;
      // Vary still names Accept-Encoding since the 200 of this resource depends on it.
      if (coding?.compressible) addVary(res);
      const hwm = options.highWaterMark ?? 64 * 1024;
      if (plan.type === 'none' && coding !== null && coding.enc !== 'identity' && size > 0) {
        res.header('Content-Type', type);
        markEncoded(res, coding.enc);
        if (method === 'HEAD') {
          // The GET's headers; no Content-Length (unknown until encoded) and, as the writer does for
          // any body-less streamed answer, no Transfer-Encoding either.
          res.write(EMPTY);
          res.end();
          return true;
        }
        // pipeline: the file stream and the coder destroy each other on failure or early close, and
        // the writer destroys the coder on abort, or at once when the response is already over, so
        // the file handle (closed by its stream, autoClose) is always released.
        const z = createEncoder(coding.enc, size, compress!);
        pipeline(fh.createReadStream({ start: 0, end: size - 1, highWaterMark: hwm }), z, () => {});
        handedOff = true;
        await res.stream(z);
        return true;
      }
      if (plan.type === 'none' || plan.ranges.length === 1) {
        let start = 0;
        let end = size - 1;
        if (plan.type === 'ranges') {
          start = plan.ranges[0]!.start;
          end = plan.ranges[0]!.end;
          res.status(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
        }
        res.header('Content-Type', type).header('Content-Length', String(end - start + 1));
        if (method === 'HEAD' || end < start) {
          res.end();
          return true;
        }
        // The stream closes the file handle (autoClose) when it ends or is destroyed; the writer
        // destroys it on abort, or at once when the response is already over.
        const body = fh.createReadStream({ start, end, highWaterMark: hwm });
        handedOff = true;
        await res.stream(body);
        return true;
      }
      const mp = planMultipart(plan.ranges, size, type);
      res.status(206).header('Content-Type', `multipart/byteranges; boundary=${mp.boundary}`);
      res.header('Content-Length', String(mp.length));
      const ranges = plan.ranges;
      // The part streams share `fh` (autoClose: false) and never close it: the `finally` below does,
      // once `stream` settles, which it does on completion, abort (the writer returns this generator,
      // which destroys the part stream it is in) and at once when the response is already over.
      await res.stream(
        (async function* parts() {
          for (let i = 0; i < ranges.length; i++) {
            const r = ranges[i]!;
            yield mp.heads[i]!;
            yield* fh.createReadStream({ start: r.start, end: r.end, highWaterMark: hwm, autoClose: false });
          }
          yield mp.tail;
        })(),
      );
      return true;
    } finally {
      if (!handedOff) await fh.close().catch(() => {});
    }
  };
}
