/**
 * Interop: the writer's bytes read back by real clients (node:http's client and fetch/undici) over
 * a real TCP socket. The test adapts a node:net socket to ByteSink itself (the package never imports
 * node:net); requests are parsed minimally here, one request per connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ByteSink,
  ResponseWriter,
  requestFrom,
  sendCompressed,
  sendRanged,
  serveStatic,
} from '../src/index';

const staticDir = mkdtempSync(join(tmpdir(), 'strata-interop-'));
const lorem = 'static file, compressed on the way out\n'.repeat(400);
writeFileSync(join(staticDir, 'lorem.txt'), lorem);
const files = serveStatic(staticDir, { compress: true });

type Handler = (req: ReturnType<typeof requestFrom>, res: ResponseWriter) => void | Promise<void>;
const routes: Record<string, Handler> = {
  '/text': (_q, res) => res.header('X-Test', 'yes').send('hello'),
  '/stream': async (_q, res) => {
    res.header('Trailer', 'X-Checksum').addTrailers({ 'X-Checksum': 'abc123' });
    await res.stream(
      (async function* () {
        for (let i = 0; i < 50; i++) yield `line ${i}\n`;
      })(),
    );
  },
  '/cookies': (_q, res) => res.header('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly']).end(),
  '/range': (q, res) => {
    res.header('Content-Type', 'text/plain');
    sendRanged(q, res, 'abcdefghijklmnopqrstuvwxyz', { etag: '"v1"' });
  },
  '/gzip': async (q, res) => {
    res.header('Content-Type', 'text/plain');
    await sendCompressed(q, res, 'compress me please '.repeat(500));
  },
  '/not-modified': (_q, res) => res.status(304).header('ETag', '"v1"').end(),
  '/static/lorem.txt': async (q, res) => {
    await files(Object.assign(q, { path: '/lorem.txt' }), res);
  },
};

let server: Server;
let port = 0;
const sockets = new Set<Socket>();

function sinkFor(socket: Socket): ByteSink {
  return {
    write: (c) => socket.write(c),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    onDrain: (l) => socket.once('drain', l),
    end: () => socket.end(),
  };
}

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [line = '', ...lines] = buf.slice(0, end).split('\r\n');
      const [method = 'GET', target = '/', version = 'HTTP/1.1'] = line.split(' ');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const c = l.indexOf(':');
        headers[l.slice(0, c)] = l.slice(c + 1).trim();
      }
      const res = new ResponseWriter(sinkFor(socket), {
        method,
        versionMinor: version === 'HTTP/1.0' ? 0 : 1,
        keepAlive: false,
      });
      const h = routes[target];
      if (h) void Promise.resolve(h(requestFrom(method, headers), res)).catch(() => socket.destroy());
      else res.status(404).send('nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(staticDir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{
    status: number;
    headers: Record<string, unknown>;
    body: Buffer;
    trailers: Record<string, unknown>;
  }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(parts),
          trailers: res.trailers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('real clients read the writer output', () => {
  it('text with headers (node:http client)', async () => {
    const r = await get('/text');
    expect(r.status).toBe(200);
    expect(r.headers['x-test']).toBe('yes');
    expect(r.headers.connection).toBe('close');
    expect(r.body.toString()).toBe('hello');
  });
  it('chunked stream with trailers', async () => {
    const r = await get('/stream');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.body.toString().split('\n').length).toBe(51);
    expect(r.trailers['x-checksum']).toBe('abc123');
  });
  it('Set-Cookie lines stay separate', async () => {
    expect((await get('/cookies')).headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
  });
  it('HEAD and 304 carry no body', async () => {
    const h = await get('/text', {}, 'HEAD');
    expect(h.headers['content-length']).toBe('5');
    expect(h.body.length).toBe(0);
    const n = await get('/not-modified');
    expect(n.status).toBe(304);
    expect(n.body.length).toBe(0);
  });
  it('fetch (undici): range, multipart and gzip', async () => {
    const one = await fetch(`http://127.0.0.1:${port}/range`, { headers: { Range: 'bytes=3-5' } });
    expect(one.status).toBe(206);
    expect(one.headers.get('content-range')).toBe('bytes 3-5/26');
    expect(await one.text()).toBe('def');
    const multi = await fetch(`http://127.0.0.1:${port}/range`, { headers: { Range: 'bytes=0-0,25-25' } });
    expect(multi.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    expect(await multi.text()).toMatch(
      /Content-Range: bytes 0-0\/26\r\n\r\na\r\n--[\s\S]*Content-Range: bytes 25-25\/26\r\n\r\nz\r\n--/,
    );
    const z = await fetch(`http://127.0.0.1:${port}/gzip`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(z.headers.get('content-encoding')).toBe('gzip');
    expect(await z.text()).toBe('compress me please '.repeat(500)); // fetch decodes gzip itself
    const raw = await get('/gzip', { 'Accept-Encoding': 'gzip' });
    expect(gunzipSync(raw.body).toString()).toBe('compress me please '.repeat(500));
  });
  it('serveStatic with compress: fetch decodes br/gzip, node:http sees the encoded bytes', async () => {
    for (const ae of ['br', 'gzip']) {
      const r = await fetch(`http://127.0.0.1:${port}/static/lorem.txt`, {
        headers: { 'Accept-Encoding': ae },
      });
      expect(r.headers.get('content-encoding')).toBe(ae);
      expect(r.headers.get('vary')).toBe('Accept-Encoding');
      expect(await r.text()).toBe(lorem);
    }
    const raw = await get('/static/lorem.txt', { 'Accept-Encoding': 'gzip' });
    expect(raw.headers['transfer-encoding']).toBe('chunked');
    expect(raw.headers.etag).toMatch(/^W\//);
    expect(gunzipSync(raw.body).toString()).toBe(lorem);
    const head = await get('/static/lorem.txt', { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.headers.etag).toBe(raw.headers.etag);
    expect(head.body.length).toBe(0);
    const range = await get('/static/lorem.txt', { 'Accept-Encoding': 'gzip', Range: 'bytes=0-5' });
    expect(range.status).toBe(206);
    expect(range.headers['content-encoding']).toBeUndefined();
    expect(range.body.toString()).toBe('static');
  });
});
