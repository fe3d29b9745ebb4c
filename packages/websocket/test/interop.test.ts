import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WSServer } from 'ws';
import { CloseCode, connect, ReadyState, SendStatus, type WebSocket } from '../src/index';
import { clientFrame, parseServerFrames, rawClient, sleep, startServer } from './_helpers';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoServer(opts: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(opts);
  s.wss.on('connection', (ws) => ws.on('message', (d, bin) => ws.send(d, { binary: bin })));
  cleanups.push(s.close);
  return s;
}

function wsClient(port: number, opts: WS.ClientOptions = {}, protocols?: string[]): Promise<WS> {
  const c = new WS(`ws://127.0.0.1:${port}/`, protocols, opts);
  cleanups.push(() => c.terminate());
  return new Promise((resolve, reject) => {
    c.once('open', () => resolve(c));
    c.once('error', reject);
  });
}

function nextMessage(c: WS): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((r) => c.once('message', (data, isBinary) => r({ data: data as Buffer, isBinary })));
}

function closed(c: WS | WebSocket): Promise<[number, string]> {
  return new Promise((r) =>
    (c as WS).once('close', (code: number, reason: Buffer | string) => r([code, reason.toString()])),
  );
}

describe('our server with the ws client', () => {
  it('echoes text and binary, small and large, with and without permessage-deflate', async () => {
    for (const perMessageDeflate of [false, true]) {
      const s = await echoServer({ perMessageDeflate: perMessageDeflate ? { threshold: 0 } : false });
      const c = await wsClient(s.port, { perMessageDeflate });
      expect(c.extensions).toBe(perMessageDeflate ? 'permessage-deflate' : '');
      for (const size of [0, 1, 125, 126, 65535, 65536, 1 << 20]) {
        const text = 'é'.repeat(size >> 1);
        c.send(text);
        const m = await nextMessage(c);
        expect([m.isBinary, m.data.toString()]).toEqual([false, text]);
        const bin = Buffer.alloc(size, size & 0xff);
        c.send(bin);
        const b = await nextMessage(c);
        expect(b.isBinary).toBe(true);
        expect(b.data.equals(bin)).toBe(true);
      }
      // compressed frames really are compressed on the wire (RSV1) when negotiated
      c.close(1000, 'done');
      expect(await closed(c)).toEqual([1000, '']);
    }
  });

  it('keeps order when compressed and uncompressed messages interleave (threshold)', async () => {
    const s = await echoServer({ perMessageDeflate: { threshold: 100 } });
    const c = await wsClient(s.port, { perMessageDeflate: { threshold: 0 } });
    const got: string[] = [];
    const all = new Promise<void>((r) =>
      c.on('message', (d) => got.push(d.toString()).valueOf() === 40 && r()),
    );
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const m = i % 3 === 0 ? `${i}`.padEnd(500, 'x') : `${i}`;
      sent.push(m);
      c.send(m);
    }
    await all;
    expect(got).toEqual(sent);
  });

  it('negotiates a subprotocol and answers pings; ws sees our pongs', async () => {
    const s = await echoServer({ handleProtocols: (p) => (p.includes('chat') ? 'chat' : false) });
    const c = await wsClient(s.port, {}, ['superchat', 'chat']);
    expect(c.protocol).toBe('chat');
    const pong = new Promise<Buffer>((r) => c.once('pong', r));
    c.ping('are you there');
    expect((await pong).toString()).toBe('are you there');
  });

  it('closes 1009 when a message exceeds maxPayload and 1007 on invalid UTF-8', async () => {
    const s = await echoServer({ maxPayload: 1000 });
    const c = await wsClient(s.port);
    c.send(Buffer.alloc(1001));
    expect((await closed(c))[0]).toBe(1009);
    const raw = await rawClient(s.port);
    raw.socket.write(clientFrame(1, Buffer.from([0xce, 0xba, 0xff])));
    await raw.waitClose();
    const frames = parseServerFrames(raw.received());
    expect(frames.map((f) => [f.opcode, f.payload.readUInt16BE(0)])).toEqual([[8, 1007]]);
  });

  it('server close() sends 1001 to every client and resolves when they are gone', async () => {
    const s = await startServer();
    const c1 = await wsClient(s.port);
    const c2 = await wsClient(s.port);
    const p1 = closed(c1);
    const p2 = closed(c2);
    await s.wss.close({ deadline: 2000 });
    expect((await p1)[0]).toBe(1001);
    expect((await p2)[0]).toBe(1001);
    expect(s.wss.clients.size).toBe(0);
    await s.close();
  });

  it('publish/subscribe sends one frame to every subscriber except the sender', async () => {
    const s = await startServer();
    s.wss.on('connection', (ws) => {
      ws.subscribe('room');
      ws.on('message', (d) => s.wss.publish('room', d as string, { except: ws }));
    });
    cleanups.push(s.close);
    const a = await wsClient(s.port);
    const b = await wsClient(s.port);
    const c = await wsClient(s.port);
    await sleep(20);
    expect(s.wss.subscribers('room')).toBe(3);
    const gotB = nextMessage(b);
    const gotC = nextMessage(c);
    let aGot = false;
    a.on('message', () => {
      aGot = true;
    });
    a.send('hello room');
    expect((await gotB).data.toString()).toBe('hello room');
    expect((await gotC).data.toString()).toBe('hello room');
    await sleep(20);
    expect(aGot).toBe(false);
    c.close();
    await closed(c);
    await sleep(20);
    expect(s.wss.subscribers('room')).toBe(2);
  });

  it('heartbeat drops a peer that stops answering pings', async () => {
    const s = await startServer({ heartbeatInterval: 60 });
    cleanups.push(s.close);
    let serverSide: WebSocket | null = null;
    s.wss.on('connection', (ws) => {
      serverSide = ws;
    });
    const raw = await rawClient(s.port); // never answers pings
    await sleep(20);
    const code = await closed(serverSide!);
    expect(code[0]).toBe(CloseCode.ABNORMAL);
    expect((serverSide as unknown as WebSocket).error?.message).toContain('heartbeat');
    await raw.waitClose();
    // a live ws client answers the pings and stays
    const live = await wsClient(s.port);
    await sleep(250);
    expect(live.readyState).toBe(WS.OPEN);
  });

  it('slow-client policy: close (default) destroys a reader that falls behind; drop skips messages', async () => {
    for (const policy of ['close', 'drop'] as const) {
      const s = await startServer({ maxBufferedAmount: 256 * 1024, slowClientPolicy: policy });
      cleanups.push(s.close);
      const server = new Promise<WebSocket>((r) => s.wss.on('connection', r));
      const raw = await rawClient(s.port);
      raw.socket.pause(); // stop reading: the kernel buffers fill, then ours
      const ws = await server;
      const chunk = Buffer.alloc(64 * 1024, 1);
      const statuses: number[] = [];
      for (let i = 0; i < 400 && ws.readyState === ReadyState.OPEN; i++) {
        statuses.push(ws.send(chunk));
        if (i % 20 === 0) await sleep(1);
      }
      expect(statuses).toContain(SendStatus.BACKPRESSURE);
      expect(ws.bufferedAmount).toBeLessThan(256 * 1024 + 2 * chunk.length + 16);
      if (policy === 'close') {
        expect(ws.readyState).not.toBe(ReadyState.OPEN);
        expect((ws.error as { code?: string } | null)?.code).toBe('WS_BACKPRESSURE_LIMIT');
      } else {
        expect(ws.readyState).toBe(ReadyState.OPEN);
        expect(statuses).toContain(SendStatus.DROPPED);
      }
      raw.socket.destroy();
    }
  });

  it('emits drain after backpressure', async () => {
    const s = await startServer();
    cleanups.push(s.close);
    const server = new Promise<WebSocket>((r) => s.wss.on('connection', r));
    const c = await wsClient(s.port);
    const ws = await server;
    let status: number = SendStatus.SENT;
    for (let i = 0; i < 200 && status === SendStatus.SENT; i++) status = ws.send(Buffer.alloc(64 * 1024));
    expect(status).toBe(SendStatus.BACKPRESSURE);
    await new Promise<void>((r) => ws.once('drain', r));
    expect(ws.bufferedAmount).toBe(0);
    c.terminate();
  });

  it('close timeout destroys a peer that never answers our close', async () => {
    const s = await startServer({ closeTimeout: 100 });
    cleanups.push(s.close);
    const server = new Promise<WebSocket>((r) => s.wss.on('connection', r));
    const raw = await rawClient(s.port);
    const ws = await server;
    const t0 = Date.now();
    ws.close(4001, 'bye');
    const [code] = await closed(ws);
    expect(code).toBe(CloseCode.ABNORMAL);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    const frames = parseServerFrames(raw.received());
    expect(frames[0]?.opcode).toBe(8);
    expect(frames[0]?.payload.toString('utf8', 2)).toBe('bye');
  });
});

describe('our client', () => {
  it('talks to a ws server, with and without compression, including fragmented input', async () => {
    for (const perMessageDeflate of [false, true]) {
      const wss = new WSServer({
        port: 0,
        host: '127.0.0.1',
        perMessageDeflate: perMessageDeflate ? { threshold: 0 } : false,
      });
      await new Promise((r) => wss.once('listening', r));
      cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
      wss.on('connection', (sock) => {
        sock.on('message', (d, bin) => {
          // echo back fragmented in 3 frames
          const buf = d as Buffer;
          const a = Math.floor(buf.length / 3);
          sock.send(buf.subarray(0, a), { binary: bin, fin: false });
          sock.send(buf.subarray(a, 2 * a), { binary: bin, fin: false });
          sock.send(buf.subarray(2 * a), { binary: bin, fin: true });
        });
      });
      const port = (wss.address() as { port: number }).port;
      const ws = await connect(`ws://127.0.0.1:${port}/x?y=1`, { perMessageDeflate });
      expect(ws.extensions).toBe(perMessageDeflate ? 'permessage-deflate' : '');
      for (const size of [0, 10, 200, 70000]) {
        const text = '€'.repeat(size);
        const got = new Promise<[unknown, boolean]>((r) => ws.once('message', (d, b) => r([d, b])));
        ws.send(text);
        expect(await got).toEqual([text, false]);
        const bin = Buffer.alloc(size, 3);
        const gotB = new Promise<[unknown, boolean]>((r) => ws.once('message', (d, b) => r([d, b])));
        ws.send(bin);
        const [d, b] = await gotB;
        expect(b).toBe(true);
        expect((d as Buffer).equals(bin)).toBe(true);
      }
      const c = closed(ws);
      ws.close(1000, 'bye');
      expect(await c).toEqual([1000, 'bye']);
    }
  });

  it('our client against our server: ping, close codes, protocols', async () => {
    const s = await echoServer({ handleProtocols: () => 'v2', perMessageDeflate: true });
    const ws = await connect(`ws://127.0.0.1:${s.port}`, {
      protocols: ['v1', 'v2'],
      perMessageDeflate: true,
    });
    expect(ws.protocol).toBe('v2');
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    ws.ping('x');
    expect((await pong).toString()).toBe('x');
    expect(() => ws.close(1005)).toThrow(/invalid close code/);
    expect(() => ws.ping(Buffer.alloc(126))).toThrow();
    const c = closed(ws);
    ws.close(4321, 'custom');
    expect(await c).toEqual([4321, '']);
    expect(ws.send('late')).toBe(SendStatus.DROPPED);
  });

  it('rejects failed handshakes with a clear error', async () => {
    const s = await echoServer();
    await expect(
      connect(`ws://127.0.0.1:${s.port}`, { headers: { 'Sec-WebSocket-Version': '12' } }),
    ).rejects.toMatchObject({ code: 'WS_HANDSHAKE' });
    await expect(connect('http://127.0.0.1:1/')).rejects.toMatchObject({ code: 'WS_URL' });
    await expect(connect('ws://127.0.0.1:1/')).rejects.toMatchObject({ code: 'WS_CONNECT' });
  });
});
