/**
 * The cheap paths of the engine, driven through real sockets: the client address read on first use
 * (`lazyRemoteAddress`), PROXY protocol and trust-proxy on top of it, and request bodies kept as
 * views of the socket's read buffers instead of copies (`stableChunks`).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type ResponseInfo, type Server, type ServerOptions } from '../src/index';
import { raw, start, statuses } from './_helpers';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ deadline: 0 })));
});

async function serve(options: ServerOptions) {
  const s = await start(options);
  servers.push(s.server);
  return s;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => resolve(sock));
    sock.once('error', reject);
  });
}

describe('client address, read on first use', () => {
  it('gives the socket peer to the handler and to the access log', async () => {
    const logs: ResponseInfo[] = [];
    const { port } = await serve({
      handler(req, res) {
        res.send(`${req.remoteAddress}|${req.remotePort}|${req.ip}`);
      },
      onResponse: (info) => logs.push(info),
    });
    const sock = await connect(port);
    const clientPort = sock.localPort;
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    const closed = new Promise((r) => sock.once('close', r));
    sock.end('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await closed;
    const text = Buffer.concat(got).toString('latin1');
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith(`127.0.0.1|${clientPort}|127.0.0.1`)).toBe(true);
    expect(logs.map((l) => l.remoteAddress)).toEqual(['127.0.0.1']);
  });

  it('walks X-Forwarded-For when the socket peer is a trusted proxy', async () => {
    const { port } = await serve({
      trustProxy: ['127.0.0.1'],
      handler(req, res) {
        res.send(`${req.remoteAddress}|${req.ip}|${req.protocol}`);
      },
    });
    const r = await raw(port, [
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n',
    ]);
    expect(r.text.endsWith('127.0.0.1|203.0.113.9|https')).toBe(true);
  });

  it('takes the address from a PROXY header, and trust-proxy applies to that address', async () => {
    const server = createServer({
      trustProxy: ['192.0.2.1'],
      handler(req, res) {
        res.send(`${req.remoteAddress}|${req.remotePort}|${req.ip}`);
      },
    });
    servers.push(server);
    const addr = (await server.listen({
      host: '127.0.0.1',
      port: 0,
      proxyProtocol: { trusted: ['127.0.0.1'] },
    })) as { port: number };
    const direct = await raw(addr.port, [
      'PROXY TCP4 198.51.100.7 127.0.0.1 41000 80\r\nGET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n',
    ]);
    // 198.51.100.7 is not a trusted proxy: its X-Forwarded-For is ignored.
    expect(direct.text.endsWith('198.51.100.7|41000|198.51.100.7')).toBe(true);
    const viaProxy = await raw(addr.port, [
      'PROXY TCP4 192.0.2.1 127.0.0.1 42000 80\r\nGET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.5\r\nConnection: close\r\n\r\n',
    ]);
    expect(viaProxy.text.endsWith('192.0.2.1|42000|203.0.113.5')).toBe(true);
  });

  it('keeps the address of a request still in flight when the client half-closes, then goes away', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let gone!: () => void;
    const clientGone = new Promise<void>((r) => (gone = r));
    let seen!: (v: string) => void;
    const afterClose = new Promise<string>((r) => (seen = r));
    const { port } = await serve({
      // Half-open allowed: the FIN alone does not abort the request (see fin.test.ts for the default).
      allowHalfOpen: true,
      async handler(req, res) {
        entered();
        await clientGone;
        // The client reset the connection: this write fails and the socket closes.
        res.header('content-type', 'text/plain').write('partial');
        if (!req.signal.aborted) await new Promise((r) => req.signal.addEventListener('abort', r));
        // First read of the address, after the socket is gone.
        seen(`${req.remoteAddress}|${req.remotePort}`);
      },
    });
    const sock = await connect(port);
    const clientPort = sock.localPort;
    sock.on('error', () => {});
    sock.end('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n'); // request, then FIN
    await inHandler;
    await new Promise((r) => setTimeout(r, 30)); // the server sees the FIN
    sock.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 30));
    gone();
    expect(await afterClose).toBe(`127.0.0.1|${clientPort}`);
  });
});

describe('request bodies kept as views of the read buffer', () => {
  it('keeps a body that fills its read without copying it, intact across later requests', async () => {
    const bodies: Uint8Array[] = [];
    const { port } = await serve({
      async handler(req, res) {
        const body = await req.bytes();
        bodies.push(body);
        res.send(String(body.length));
      },
    });
    const sock = await connect(port);
    sock.setNoDelay(true);
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    const closed = new Promise((r) => sock.once('close', r));
    const fills = [0x61, 0x62, 0x63]; // 'a', 'b', 'c'
    for (const [i, fill] of fills.entries()) {
      const body = Buffer.alloc(4096, fill);
      const last = i === fills.length - 1 ? 'Connection: close\r\n' : '';
      sock.write(
        Buffer.concat([
          Buffer.from(`POST / HTTP/1.1\r\nHost: a\r\n${last}Content-Length: 4096\r\n\r\n`),
          body,
        ]),
      );
      // One request per read: wait for its response before sending the next.
      const want = i + 1;
      for (let t = 0; t < 300 && statuses(Buffer.concat(got).toString('latin1')).length < want; t++) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await closed;
    expect(statuses(Buffer.concat(got).toString('latin1'))).toEqual([200, 200, 200]);
    expect(bodies.length).toBe(3);
    for (const [i, body] of bodies.entries()) {
      expect(body.length).toBe(4096);
      expect(body.every((b) => b === fills[i])).toBe(true);
      // A view of its own read (head + body), not a copy into a shared 64 KiB slab.
      expect(body.buffer.byteLength).toBeLessThanOrEqual(2 * body.byteLength);
    }
  });

  it('copies small bodies out of a large read (a view would pin the whole read)', async () => {
    const bodies: Uint8Array[] = [];
    const { port } = await serve({
      async handler(req, res) {
        const body = await req.bytes();
        bodies.push(body);
        res.send(Buffer.from(body).toString());
      },
    });
    const one = (s: string, close = false) =>
      `POST / HTTP/1.1\r\nHost: a\r\n${close ? 'Connection: close\r\n' : ''}Content-Length: ${s.length}\r\n\r\n${s}`;
    const r = await raw(port, [one('first') + one('second') + one('third', true)]);
    expect(statuses(r.text)).toEqual([200, 200, 200]);
    expect(bodies.map((b) => Buffer.from(b).toString())).toEqual(['first', 'second', 'third']);
    for (const body of bodies) expect(body.buffer.byteLength).toBeGreaterThan(2 * body.byteLength);
  });
});
