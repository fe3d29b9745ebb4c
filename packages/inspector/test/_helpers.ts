/**
 * A plain `@strata/server` app with the inspector mounted and a router in front of its routes, on
 * 127.0.0.1:0, and raw-socket helpers.
 */
import net from 'node:net';
import type { ResponseWriter } from '@strata/response';
import { createRouter } from '@strata/router';
import { createServer, type Server, type ServerRequest } from '@strata/server';
import { createInspector, type Inspector, type InspectorEntry, type InspectorOptions } from '../src/index';

type Route = (
  req: ServerRequest,
  res: ResponseWriter,
  params: Record<string, string>,
) => void | Promise<void>;

export interface App {
  server: Server;
  inspector: Inspector;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * The app: `/hello`, `/user/:name`, `/echo` (reads the body), `/login` (sets a cookie), `/trail`
 * (a body, then trailers), `/slow`. It speaks HTTP/1.1 and HTTP/2 (h2c by prior knowledge).
 */
export async function startApp(options: InspectorOptions = {}): Promise<App> {
  const inspector = createInspector(options);
  const router = createRouter<Route>();
  router.add(
    'GET',
    '/hello',
    (_req, res) => void res.header('Content-Type', 'text/plain').send('Hello, World!'),
  );
  router.add('GET', '/user/:name', (_req, res, p) => void res.send(`hi ${p.name}`));
  router.add('*', '/echo', async (req, res) => {
    const body = await req.bytes();
    res.header('Content-Type', 'text/plain').send(`got ${body.length}`);
  });
  router.add('GET', '/login', (_req, res) => {
    res.header('Set-Cookie', 'session=s3cr3t-session; HttpOnly').send('logged in');
  });
  router.add('GET', '/trail', (_req, res) => {
    res.header('Content-Type', 'text/plain').addTrailers({ 'x-sum': '42' });
    res.write('part');
    res.end();
  });
  router.add('GET', '/slow', async (_req, res) => {
    res.header('Content-Type', 'text/plain').write('first ');
    await new Promise((r) => setTimeout(r, 150));
    res.end('last');
  });
  const server = createServer({
    handler(req, res) {
      if (inspector.handle(req, res)) return;
      const found = router.find(req.method, req.url);
      if (found.status === 200) return found.value(req, res, { ...found.params });
      res.status(found.status === 405 ? 405 : 404).send('no\n');
    },
  });
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return {
    server,
    inspector,
    port: addr.port,
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      inspector.close();
      await server.close();
    },
  };
}

/** Writes raw bytes on a new connection (in pieces, `gapMs` apart) and resolves with everything until close. */
export function raw(
  port: number,
  pieces: (string | Uint8Array)[],
  gapMs = 0,
  timeoutMs = 3000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    const got: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (d) => got.push(d));
    sock.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString('latin1'));
    });
    sock.on('connect', async () => {
      for (let i = 0; i < pieces.length; i++) {
        if (sock.destroyed) return;
        sock.write(pieces[i]!);
        if (gapMs > 0 && i < pieces.length - 1) await sleep(gapMs);
      }
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred` holds (the finish of a response comes after the client read it). */
export async function until<T>(fn: () => T | undefined | null | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** The newest entry whose request line starts with `line` (once its response has finished). */
export function finished(inspector: Inspector, line: string): Promise<InspectorEntry> {
  return until(() =>
    inspector
      .entries()
      .find(
        (e) => `${e.request.method} ${e.request.target}`.startsWith(line) && e.response?.finished === true,
      ),
  );
}
