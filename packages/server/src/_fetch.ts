/**
 * `serve({ fetch })`: the Web-standard adapter. A `Request` in, a `Response` out, so apps written for
 * Hono, Bun or Deno (`export default { fetch }`) run unchanged on the Strata engine.
 */
import type { ResponseWriter } from '@strata/response';
import type { ListenOptions } from '@strata/transport';
import type { Handler } from './_connection';
import type { ServerRequest } from './_request';
import { createServer, type Server, type ServerOptions } from './_server';

/** What a fetch handler receives besides the `Request`. */
export interface FetchInfo {
  /** The client address (after the trust-proxy policy). */
  remoteAddress: string;
  /** The Strata request, for anything the Web `Request` cannot carry. */
  request: ServerRequest;
}

/** A Web-standard fetch handler. */
export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;

/** Options of {@link serve}: the server options without `handler`, plus `fetch` and where to listen. */
export interface ServeOptions extends Omit<ServerOptions, 'handler'> {
  fetch: FetchHandler;
  /** Listen options (default `{ host: '127.0.0.1', port: 0 }`). */
  listen?: ListenOptions;
}

function toRequest(req: ServerRequest): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const url =
    req.url.charCodeAt(0) === 47 /* '/' */
      ? `${req.protocol}://${req.hostname ?? 'localhost'}${req.url}`
      : req.url === '*'
        ? `${req.protocol}://${req.hostname ?? 'localhost'}/`
        : req.url;
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: req.signal };
  if (req.method !== 'GET' && req.method !== 'HEAD' && req._hasBody) {
    init.body = req.stream();
    init.duplex = 'half';
  }
  return new Request(url, init);
}

async function writeResponse(response: Response, res: ResponseWriter, signal: AbortSignal): Promise<void> {
  res.status(response.status);
  const cookies = response.headers.getSetCookie();
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.header(name, value);
  });
  if (cookies.length > 0) res.header('set-cookie', cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  await res.stream(response.body, { signal });
}

/**
 * Turn a fetch handler into a Strata handler (for `createServer`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * const app = new Hono().get('/', (c) => c.text('hi'));
 * createServer({ handler: fetchHandler(app.fetch) });
 * ```
 */
export function fetchHandler(fetch: FetchHandler): Handler {
  return async (req, res) => {
    const response = await fetch(toRequest(req), { remoteAddress: req.ip, request: req });
    await writeResponse(response, res, req.signal);
  };
}

/**
 * Serve a Web-standard fetch handler (Hono, Bun- or Deno-style apps) and start listening.
 *
 * @example
 * ```ts
 * const server = await serve({ fetch: app.fetch, listen: { port: 3000 } });
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { fetch, listen, ...rest } = options;
  const server = createServer({ ...rest, handler: fetchHandler(fetch) });
  await server.listen(listen ?? { host: '127.0.0.1', port: 0 });
  return server;
}
