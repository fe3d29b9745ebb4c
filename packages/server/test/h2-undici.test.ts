/**
 * undici with `allowH2` over TLS: ALPN picks h2, requests and bodies go over one HTTP/2 connection,
 * and the same server still answers undici's HTTP/1.1 (allowH2 off) on the same port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';
import { makeCert } from './_helpers';

let dir = '';
let cert = '';
let key = '';
let server: Server;
let base = '';
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-undici-h2-'));
  ({ cert, key } = makeCert(dir));
  server = createServer({
    tls: { cert, key },
    async handler(req, res) {
      seen.push(req.httpVersion);
      if (req.method === 'POST') {
        const body = await req.text();
        res
          .header('content-type', 'application/json')
          .send(JSON.stringify({ got: body.length, v: req.httpVersion }));
        return;
      }
      res.header('x-version', req.httpVersion).send(`hello ${req.path}`);
    },
  });
  const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  base = `https://localhost:${port}`;
});

afterAll(async () => {
  await server.close({ deadline: 200 });
  rmSync(dir, { recursive: true, force: true });
});

describe('undici over HTTP/2', () => {
  it('allowH2: fetch and request are served as HTTP/2 on one connection', async () => {
    seen.length = 0;
    // One connection: undici multiplexes the concurrent requests over it as HTTP/2 streams.
    const agent = new Agent({
      allowH2: true,
      connections: 1,
      pipelining: 32,
      connect: { ca: cert, servername: 'localhost' },
    });
    try {
      const r1 = await fetch(`${base}/a`, { dispatcher: agent });
      expect(r1.status).toBe(200);
      expect(r1.headers.get('x-version')).toBe('2.0');
      expect(await r1.text()).toBe('hello /a');
      const body = 'x'.repeat(200_000);
      const r2 = await request(`${base}/up`, { method: 'POST', body, dispatcher: agent });
      expect(r2.statusCode).toBe(200);
      expect(await r2.body.json()).toEqual({ got: 200_000, v: '2.0' });
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(`${base}/n${i}`, { dispatcher: agent }).then((r) => r.text()),
        ),
      );
      expect(many).toEqual(Array.from({ length: 20 }, (_, i) => `hello /n${i}`));
      expect(seen.every((v) => v === '2.0')).toBe(true);
      expect(server.stats().totalConnections).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it('without allowH2 undici gets HTTP/1.1 from the same port', async () => {
    const agent = new Agent({ connect: { ca: cert, servername: 'localhost' } });
    try {
      const r = await fetch(`${base}/b`, { dispatcher: agent });
      expect(r.headers.get('x-version')).toBe('1.1');
      expect(await r.text()).toBe('hello /b');
    } finally {
      await agent.close();
    }
  });
});
