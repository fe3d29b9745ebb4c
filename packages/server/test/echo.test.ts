import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { start } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

function body(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

/** The echo handler of the benchmark: await the body, send it back (async: the send happens in a microtask). */
async function echo(
  req: { bytes(): Promise<Uint8Array>; header(n: string): string | undefined },
  res: { header(n: string, v: string): unknown; send(b: Uint8Array): void },
) {
  const b = await req.bytes();
  res.header('x-len', String(b.length));
  res.send(b);
}

// Around Node's Buffer pool limit (4 KiB), the writer's coalesce limit (16 KiB), its 64 KiB slab
// and the transport's 64 KiB read size.
const SIZES = [1, 4000, 4095, 4096, 4097, 16_383, 16_384, 16_385, 65_000, 65_536, 70_000, 200_000];

/** Read `count` Content-Length responses from a raw socket stream. */
function readResponses(sock: net.Socket, count: number): Promise<{ head: string; body: Buffer }[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: { head: string; body: Buffer }[] = [];
    const timer = setTimeout(() => reject(new Error(`timeout after ${out.length} responses`)), 5000);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        out.push({ head, body: Buffer.from(buf.subarray(end + 4, end + 4 + len)) });
        buf = buf.subarray(end + 4 + len);
        if (out.length === count) {
          clearTimeout(timer);
          resolve(out);
          return;
        }
      }
    });
    sock.on('error', reject);
  });
}

describe('POST echo over a real socket', () => {
  it('node:http client: every size comes back byte-identical', async () => {
    const s = await start({ handler: echo });
    server = s.server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const size of SIZES) {
        const sent = body(size, size & 0xff);
        const got = await new Promise<Buffer>((resolve, reject) => {
          const req = http.request(
            { port: s.port, host: '127.0.0.1', method: 'POST', path: '/echo', agent },
            (res) => {
              const parts: Buffer[] = [];
              res.on('data', (d: Buffer) => parts.push(d));
              res.on('end', () => resolve(Buffer.concat(parts)));
            },
          );
          req.on('error', reject);
          req.end(sent);
        });
        expect(got.length).toBe(size);
        expect(got.equals(sent)).toBe(true);
      }
    } finally {
      agent.destroy();
    }
  });

  it('pipelined echoes of mixed sizes: responses in request order, all bodies intact', async () => {
    const s = await start({ handler: echo });
    server = s.server;
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const sent = SIZES.concat(SIZES.slice().reverse()).map((n, i) => body(n, i));
    const pending = readResponses(sock, sent.length);
    const wire: Buffer[] = [];
    for (const b of sent)
      wire.push(Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${b.length}\r\n\r\n`), b);
    sock.write(Buffer.concat(wire));
    const got = await pending;
    sock.destroy();
    for (let i = 0; i < sent.length; i++) {
      expect(got[i]!.head).toContain(`x-len: ${sent[i]!.length}`);
      expect(got[i]!.body.equals(sent[i]!)).toBe(true);
    }
  });

  it('an async send that ends the last response flushes it at once; a slower earlier one keeps the order', async () => {
    // Request 1 answers after a timer, request 2 right away (in a microtask): 2 must wait for 1.
    const s = await start({
      async handler(req, res) {
        const b = await req.bytes();
        if (req.path === '/slow') await new Promise((r) => setTimeout(r, 30));
        res.send(b);
      },
    });
    server = s.server;
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const a = body(5000, 1);
    const b = body(300, 2);
    const pending = readResponses(sock, 2);
    sock.write(
      Buffer.concat([
        Buffer.from(`POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: ${a.length}\r\n\r\n`),
        a,
        Buffer.from(`POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: ${b.length}\r\n\r\n`),
        b,
      ]),
    );
    const got = await pending;
    sock.destroy();
    expect(got[0]!.body.equals(a)).toBe(true);
    expect(got[1]!.body.equals(b)).toBe(true);
  });

  it('Connection: close after an async send: the response is complete, then the server closes', async () => {
    const s = await start({ handler: echo });
    server = s.server;
    const sent = body(20_000, 9);
    const sock = net.connect(s.port, '127.0.0.1');
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.write(
      Buffer.concat([
        Buffer.from(
          `POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${sent.length}\r\n\r\n`,
        ),
        sent,
      ]),
    );
    await closed;
    const all = Buffer.concat(parts);
    const end = all.indexOf('\r\n\r\n', 0, 'latin1');
    expect(all.toString('latin1', 0, end)).toContain('Connection: close');
    expect(all.subarray(end + 4).equals(sent)).toBe(true);
  });
});
