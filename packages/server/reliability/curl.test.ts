/**
 * What a real client sends when pointed at the server as a proxy (absolute-form targets) or when
 * it offers HTTP/2 in cleartext (`Upgrade: h2c`): curl, unmodified.
 */
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';
import { exchange } from './_clients';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

function curl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 10_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('curl', () => {
  it('curl -x: an absolute-form target gives req.path /admin', async () => {
    const seen: { url: string; path: string; host: string | null }[] = [];
    server = createServer({
      handler(req, res) {
        seen.push({ url: req.url, path: req.path, host: req.host });
        res.send(req.path);
      },
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    const r = await curl([
      '-sS',
      '-x',
      `http://127.0.0.1:${port}`,
      '-w',
      '\\n%{http_code}',
      'http://127.0.0.1/admin',
    ]);
    console.log(
      `[curl -x] exit ${r.code}, output ${JSON.stringify(r.out)}; the server saw ${JSON.stringify(seen)}`,
    );
    expect(r.code).toBe(0);
    expect(seen).toEqual([{ url: 'http://127.0.0.1/admin', path: '/admin', host: '127.0.0.1' }]);
    expect(r.out).toBe('/admin\n200');
  });

  it('curl --http2 (Upgrade: h2c) gets 200 over HTTP/1.1 from a server with a websocket onUpgrade', async () => {
    const upgrades: string[] = [];
    const heads: string[][] = [];
    server = createServer({
      handler(req, res) {
        heads.push(req.rawHeaders);
        res.header('Content-Type', 'text/plain').send('hello');
      },
      onUpgrade(req, conn) {
        upgrades.push(req.header('upgrade') ?? '');
        conn.destroy();
      },
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    const r = await curl([
      '-sS',
      '--http2',
      '-w',
      '\\n%{http_code} HTTP/%{http_version}',
      `http://127.0.0.1:${port}/hello`,
    ]);
    const offered = heads[0]?.filter((_, i, a) => i % 2 === 1 && /^upgrade$/i.test(a[i - 1]!)) ?? [];
    console.log(
      `[curl --http2] exit ${r.code}, output ${JSON.stringify(r.out)}; Upgrade offered ${JSON.stringify(offered)}; ` +
        `onUpgrade called ${upgrades.length}x`,
    );
    expect(offered).toEqual(['h2c']); // curl did offer the upgrade
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello\n200 HTTP/1.1');
    expect(upgrades).toEqual([]);
    // The same server does take a websocket upgrade (its onUpgrade is live, default protocols).
    await exchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(upgrades).toEqual(['websocket']);
  });
});
