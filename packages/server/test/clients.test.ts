import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { run, start } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 500 });
  server = null;
});

const app = {
  async handler(req: import('../src/index').ServerRequest, res: import('@strata/response').ResponseWriter) {
    if (req.method === 'POST') {
      const body = await req.body();
      res.header('content-type', 'application/octet-stream').send(body);
      return;
    }
    if (req.path === '/hello') {
      res.header('content-type', 'text/plain').send('Hello, World!');
      return;
    }
    res.status(404).send(`no ${req.path} (${req.query})`);
  },
};

describe('real clients', () => {
  it('Node fetch: GET, 404 and a POST body echoed', async () => {
    const s = await start(app);
    server = s.server;
    const r = await fetch(`${s.url}/hello`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(await r.text()).toBe('Hello, World!');
    const nf = await fetch(`${s.url}/nope?x=1`);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe('no /nope (x=1)');
    const payload = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const p = await fetch(`${s.url}/echo`, { method: 'POST', body: payload });
    expect(new Uint8Array(await p.arrayBuffer())).toEqual(payload);
  });

  it('node:http client with keep-alive reuses one connection for many requests', async () => {
    const s = await start(app);
    server = s.server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: s.port, path, agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body, socket: res.socket }));
          })
          .on('error', reject);
      });
    const results = await Promise.all(Array.from({ length: 20 }, () => get('/hello')));
    expect(results.every((r) => r.status === 200 && r.body === 'Hello, World!')).toBe(true);
    agent.destroy();
    expect(s.server.stats().totalConnections).toBe(1);
    expect(s.server.stats().requests).toBe(20);
    expect(s.server.stats().byStatus).toEqual({ '200': 20 });
  });

  it('node:http client: chunked request body', async () => {
    const s = await start(app);
    server = s.server;
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/echo' }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.write('part one, ');
      setTimeout(() => req.end('part two'), 20);
    });
    expect(body).toBe('part one, part two');
  });

  it('curl: keep-alive across two URLs, HTTP/1.0 closes', async () => {
    const s = await start(app);
    server = s.server;
    const r = await run('curl', ['-sv', `${s.url}/hello`, `${s.url}/hello`]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Hello, World!Hello, World!');
    expect(r.out).toMatch(/Re-using existing connection|Reusing existing/);
    const r10 = await run('curl', ['-sv', '--http1.0', `${s.url}/hello`]);
    expect(r10.out).toContain('Hello, World!');
    expect(r10.out).toMatch(/Closing connection|closing connection/i);
  });

  it('curl: Expect: 100-continue upload is answered automatically', async () => {
    const s = await start(app);
    server = s.server;
    const r = await run('sh', [
      '-c',
      `head -c 600000 /dev/zero | curl -sv -H 'Expect: 100-continue' --data-binary @- ${s.url}/echo 2>/dev/null | wc -c; head -c 600000 /dev/zero | curl -sv -o /dev/null -H 'Expect: 100-continue' --data-binary @- ${s.url}/echo`,
    ]);
    expect(r.out).toContain('HTTP/1.1 100 Continue');
    expect(r.out).toMatch(/^\s*600000\s*\n/);
  });
});
