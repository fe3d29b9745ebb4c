import { connect as netConnect } from 'node:net';
import { createServer } from '@strata/server';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { buildCases } from '../conformance/cases';
import { REDUCED, runCase } from '../conformance/harness';
import { connect, WebSocketServer } from '../src/index';
import { clientFrame, parseServerFrames, sleep } from './_helpers';

// End to end through the real stack: @strata/transport sockets -> @strata/server's upgrade hand-off.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function strataEcho(opts: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  const wss = new WebSocketServer({ heartbeatInterval: 0, ...opts });
  wss.on('connection', (ws) => ws.on('message', (d, bin) => ws.send(d, { binary: bin })));
  const server = createServer({
    handler: (_req, res) => {
      res.status(200).send('plain http');
    },
    onUpgrade: (req, conn, head) => {
      wss.handleUpgrade(req, conn, head);
    },
  });
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  cleanups.push(async () => {
    await wss.close({ deadline: 200 });
    await server.close({ deadline: 200 });
  });
  return { port: addr.port, wss };
}

describe('through @strata/server and @strata/transport', () => {
  it('ws client: echo, compression, close', async () => {
    const { port } = await strataEcho({ perMessageDeflate: { threshold: 0 } });
    const c = new WS(`ws://127.0.0.1:${port}/chat`, { perMessageDeflate: true });
    await new Promise((r, j) => {
      c.once('open', r);
      c.once('error', j);
    });
    expect(c.extensions).toBe('permessage-deflate');
    for (const m of ['hi', 'x'.repeat(100_000)]) {
      const got = new Promise<string>((r) => c.once('message', (d) => r(d.toString())));
      c.send(m);
      expect(await got).toBe(m);
    }
    const closed = new Promise<number>((r) => c.once('close', r));
    c.close(1000);
    expect(await closed).toBe(1000);
  });

  it('our client: binary echo of 1 MiB, plain HTTP still served on the same port', async () => {
    const { port } = await strataEcho();
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const big = Buffer.alloc(1 << 20, 9);
    const got = new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)));
    ws.send(big);
    expect((await got).equals(big)).toBe(true);
    ws.close();
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('plain http');
  });

  it('bytes sent right behind the upgrade request reach the socket (head hand-off)', async () => {
    const { port } = await strataEcho();
    const sock = netConnect({ host: '127.0.0.1', port });
    await new Promise((r) => sock.once('connect', r));
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
    });
    sock.write(
      Buffer.concat([
        Buffer.from(
          'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        clientFrame(1, 'early bird'),
      ]),
    );
    for (let i = 0; i < 100 && parseServerFrames(buf.subarray(buf.indexOf('\r\n\r\n') + 4)).length === 0; i++)
      await sleep(10);
    const head = buf.toString('latin1', 0, buf.indexOf('\r\n\r\n'));
    expect(head).toContain('HTTP/1.1 101 Switching Protocols');
    const frames = parseServerFrames(buf.subarray(buf.indexOf('\r\n\r\n') + 4));
    expect(frames[0]?.payload.toString()).toBe('early bird');
    sock.destroy();
  });

  it('refuses a bad handshake with 426 written by @strata/websocket', async () => {
    const { port } = await strataEcho();
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-version': '7' },
    }).catch((e: Error) => e);
    // fetch may refuse to send Upgrade; fall back to a raw request
    if (res instanceof Response) expect(res.status).toBe(426);
    const sock = netConnect({ host: '127.0.0.1', port });
    await new Promise((r) => sock.once('connect', r));
    const text = new Promise<string>((r) => {
      let s = '';
      sock.on('data', (d: Buffer) => {
        s += d.toString('latin1');
      });
      sock.on('close', () => r(s));
    });
    sock.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n',
    );
    const out = await text;
    expect(out).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(out).toContain('Sec-WebSocket-Version: 13\r\n');
  });

  it('conformance sections 1-7 and 10 pass through the real stack', async () => {
    const { port } = await strataEcho({ maxPayload: 64 * 1024 * 1024, perMessageDeflate: { threshold: 0 } });
    const cases = buildCases(REDUCED).filter(
      (c) =>
        ['1', '2', '3', '4', '5', '6', '7', '10'].includes(c.id.split('.')[0]!) &&
        !['7.1.6', '7.13.1', '7.13.2'].includes(c.id),
    );
    const bad: string[] = [];
    for (const c of cases) {
      const r = await runCase(c, '127.0.0.1', port, REDUCED, 'strata');
      if (r.behavior !== 'OK' || r.behaviorClose !== 'OK')
        bad.push(`${c.id}: ${r.behavior}/${r.behaviorClose} ${r.detail}`);
    }
    expect(bad).toEqual([]);
  }, 60_000);
});
