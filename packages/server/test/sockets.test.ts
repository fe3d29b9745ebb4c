import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';
import { makeCert, run, sleep, start, statuses } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

let dir = '';
let cert = '';
let key = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-server-'));
  ({ cert, key } = makeCert(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS and Unix sockets', () => {
  it('serves HTTPS with a certificate made at test time (node:https and curl)', async () => {
    server = createServer({
      tls: { cert, key },
      handler: (req, res) => res.send(`secure=${req.encrypted} proto=${req.protocol}`),
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/', ca: cert }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(body).toBe('secure=true proto=https');
    const c = await run('curl', ['-s', '--cacert', join(dir, 'cert.pem'), `https://127.0.0.1:${port}/`]);
    expect(c.out).toBe('secure=true proto=https');
  });

  it('serves over a Unix socket (node:http client with socketPath)', async () => {
    server = createServer({ handler: (req, res) => res.send(`unix ${req.path}`) });
    const path = join(dir, 's.sock');
    await server.listen({ path });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/here' }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(body).toBe('unix /here');
  });
});

/** Poll `read` every 10 ms until it has not changed for 100 ms (at most 3 s); returns the value. */
async function steady(read: () => number): Promise<number> {
  let last = read();
  let still = 0;
  for (let i = 0; i < 300 && still < 10; i++) {
    await sleep(10);
    const v = read();
    if (v === last) still++;
    else {
      last = v;
      still = 0;
    }
  }
  return last;
}

describe('backpressure', () => {
  it('a client that never reads: the server stops reading, memory stays bounded', async () => {
    const big = 'x'.repeat(256 * 1024);
    const s = await start({ handler: (_req, res) => res.send(big) });
    server = s.server;
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.pause(); // never read
    const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    // Offer 20 MiB worth of responses (80 requests x 256 KiB); writes on our side back up too.
    for (let i = 0; i < 80; i++) sock.write(req);
    // Wait (bounded) until the server has parsed all it will: its count holds still for 100 ms.
    const st1 = { requests: await steady(() => s.server.stats().requests) };
    const st2 = { requests: s.server.stats().requests };
    // Requests stop being read once the socket's queue is full: far fewer than offered were parsed,
    // and nothing more is parsed while the client does not read.
    expect(st1.requests).toBeLessThan(80);
    expect(st2.requests).toBe(st1.requests);
    sock.destroy();
  });
});

describe('backpressure from a synchronous writer', () => {
  it('a handler streaming a synchronous source to a client that does not read is made to wait', async () => {
    const chunk = 'y'.repeat(16 * 1024);
    const total = 2048; // 32 MiB if nothing pushed back
    let produced = 0;
    function* source() {
      for (let i = 0; i < total; i++) {
        produced++;
        yield chunk;
      }
    }
    const s = await start({ handler: (_req, res) => res.stream(source()) });
    server = s.server;
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.pause(); // does not read yet
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // Bounded wait until the producer has been made to stop (its count holds still for 100 ms).
    const early = await steady(() => produced);
    // Bounded by the socket buffers plus one high-water mark, far below the 32 MiB on offer.
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(total / 4);
    // Now read everything: the whole body arrives, in order, nothing lost.
    let received = 0;
    const done = new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        received += d.length;
        if (d.includes('0\r\n\r\n')) resolve();
      });
    });
    sock.resume();
    await done;
    expect(produced).toBe(total);
    expect(received).toBeGreaterThan(total * chunk.length);
    sock.destroy();
  });
});

describe('graceful close', () => {
  it('close() during load: every accepted request completes, idle connections close, new ones are refused', async () => {
    const s = await start({
      async handler(req, res) {
        await sleep(150);
        res.send(req.path);
      },
    });
    server = s.server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const get = (i: number) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: s.port, path: `/r${i}`, agent }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(`${res.statusCode} ${res.headers.connection} ${b}`));
          })
          .on('error', reject);
      });
    const inflight = Array.from({ length: 8 }, (_, i) => get(i));
    // Close once all 8 requests were read (a request not yet read is not accepted: its idle
    // connection may be closed, and a client would retry it).
    for (let i = 0; i < 200 && s.server.stats().requests < 8; i++) await sleep(10);
    expect(s.server.stats().requests).toBe(8);
    const closed = s.server.close({ deadline: 3000 });
    server = null;
    const results = await Promise.all(inflight);
    expect(results).toEqual(Array.from({ length: 8 }, (_, i) => `200 close /r${i}`));
    await closed;
    agent.destroy();
    await expect(fetch(`${s.url}/late`)).rejects.toThrow();
  });

  it('SIGTERM to a server process under load: every accepted request completes', async () => {
    const script = `
      import { createServer } from '${join(__dirname, '../src/index.ts')}';
      const server = createServer({ async handler(req, res) { await new Promise(r => setTimeout(r, 100)); res.send('done ' + req.path); } });
      const a = await server.listen({ host: '127.0.0.1', port: 0 });
      process.on('SIGTERM', async () => { await server.close({ deadline: 5000 }); process.exit(0); });
      console.log('PORT ' + a.port);
    `;
    const { spawn } = await import('node:child_process');
    const file = join(dir, 'sigterm.mts');
    (await import('node:fs')).writeFileSync(file, script);
    const child = spawn(process.execPath, ['--conditions=strata-source', '--import', 'tsx', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(__dirname, '..'),
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          const m = /PORT (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (c) => reject(new Error(`child exited ${c}`)));
      });
      const sockets = Array.from({ length: 10 }, (_, i) => {
        return new Promise<string>((resolve) => {
          const sock = net.connect(port, '127.0.0.1', () =>
            sock.write(`GET /r${i} HTTP/1.1\r\nHost: x\r\n\r\n`),
          );
          let got = '';
          sock.on('data', (d) => (got += d));
          sock.on('close', () => resolve(got));
          sock.on('error', () => resolve(got));
        });
      });
      await sleep(50);
      child.kill('SIGTERM');
      const replies = await Promise.all(sockets);
      for (let i = 0; i < 10; i++) {
        expect(statuses(replies[i]!)).toEqual([200]);
        expect(replies[i]).toContain(`done /r${i}`);
      }
      const code = await new Promise((r) =>
        child.exitCode !== null ? r(child.exitCode) : child.on('exit', r),
      );
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
