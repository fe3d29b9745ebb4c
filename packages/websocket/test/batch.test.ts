import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocketConnection, WebSocketConnectionHandlers } from '../src/_connection';
import { type UpgradeRequest, WebSocketServer } from '../src/index';
import { clientFrame, KEY, rawClient, startServer } from './_helpers';

/** An in-memory connection that records every write (one entry per write call). */
function memoryConnection(): {
  conn: WebSocketConnection;
  writes: Buffer[];
  feed: (b: Buffer) => void;
  destroyed: () => boolean;
} {
  let handlers: WebSocketConnectionHandlers | null = null;
  const writes: Buffer[] = [];
  let destroyed = false;
  let corked = 0;
  let pending: Buffer[] = [];
  const conn: WebSocketConnection = {
    write(data) {
      const b = Buffer.from(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      if (destroyed) return false;
      if (corked > 0) pending.push(b);
      else writes.push(b);
      return true;
    },
    cork: () => {
      corked++;
    },
    uncork: () => {
      if (--corked === 0 && pending.length > 0) {
        writes.push(Buffer.concat(pending));
        pending = [];
      }
    },
    end(data) {
      if (data !== undefined) conn.write(data);
    },
    destroy: () => {
      // like @strata/transport's Connection: a destroyed connection drops its unsent batch
      destroyed = true;
      pending = [];
    },
    pause: () => {},
    resume: () => {},
    setHandlers: (h) => {
      handlers = h;
    },
    // like @strata/transport's Connection: corked bytes count as unsent
    get writableLength() {
      let n = 0;
      for (const b of pending) n += b.length;
      return n;
    },
  };
  return { conn, writes, feed: (b) => handlers!.onData(conn, b), destroyed: () => destroyed };
}

function upgradeRequest(): UpgradeRequest {
  const h: Record<string, string> = {
    host: 'x',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
  };
  return { method: 'GET', httpVersion: '1.1', url: '/', header: (n) => h[n.toLowerCase()] };
}

/** Splits server frames (unmasked) into `[opcode, payload]` pairs. */
function frames(bytes: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let p = 0;
  while (p < bytes.length) {
    const op = bytes[p]! & 0x0f;
    let len = bytes[p + 1]! & 0x7f;
    p += 2;
    if (len === 126) {
      len = bytes.readUInt16BE(p);
      p += 2;
    }
    out.push([op, bytes.toString('latin1', p, p + len)]);
    p += len;
  }
  return out;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('reply batching (several frames in one received chunk)', () => {
  it('echoes of every frame in a chunk leave in ONE write, in order, pongs in place', () => {
    const wss = new WebSocketServer({ heartbeatInterval: 0 });
    wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const m = memoryConnection();
    wss.handleUpgrade(upgradeRequest(), m.conn);
    expect(m.writes.length).toBe(1); // the 101 response
    const chunk = Buffer.concat([
      clientFrame(1, 'a'),
      clientFrame(2, Buffer.from('bb')),
      clientFrame(9, 'ping!'),
      clientFrame(1, 'c'.repeat(300)),
      clientFrame(1, 'dd'),
    ]);
    m.feed(chunk);
    expect(m.writes.length).toBe(2);
    expect(frames(m.writes[1]!)).toEqual([
      [1, 'a'],
      [2, 'bb'],
      [10, 'ping!'],
      [1, 'c'.repeat(300)],
      [1, 'dd'],
    ]);
    // the same chunk split byte by byte gives the same frames, whatever the write grouping
    const m2 = memoryConnection();
    wss.handleUpgrade(upgradeRequest(), m2.conn);
    for (let i = 0; i < chunk.length; i++) m2.feed(chunk.subarray(i, i + 1));
    expect(frames(Buffer.concat(m2.writes.slice(1)))).toEqual(frames(m.writes[1]!));
    void wss.close({ deadline: 0 });
  });

  it('a large reply, a close or a publish inside the chunk first flushes the batched frames', () => {
    const wss = new WebSocketServer({ heartbeatInterval: 0 });
    wss.on('connection', (ws) => {
      ws.subscribe('t');
      ws.on('message', (d, b) => {
        const s = d.toString();
        if (s === 'big') ws.send(Buffer.alloc(20_000, 0x62));
        else if (s === 'pub') wss.publish('t', 'published');
        else if (s === 'bye') ws.close(1000, 'bye');
        else ws.send(d, { binary: b });
      });
    });
    const m = memoryConnection();
    wss.handleUpgrade(upgradeRequest(), m.conn);
    m.feed(
      Buffer.concat([
        clientFrame(1, 'x1'),
        clientFrame(1, 'big'),
        clientFrame(1, 'x2'),
        clientFrame(1, 'pub'),
        clientFrame(1, 'x3'),
        clientFrame(1, 'bye'),
        clientFrame(1, 'after close: not echoed'),
      ]),
    );
    const got = frames(Buffer.concat(m.writes.slice(1))).map(([op, p]) => [
      op,
      p.length > 20 ? `${p.length}` : p,
    ]);
    expect(got).toEqual([
      [1, 'x1'],
      [2, '20000'],
      [1, 'x2'],
      [1, 'published'],
      [1, 'x3'],
      [8, '\u0003\u00e8bye'],
    ]);
    void wss.close({ deadline: 0 });
  });

  it('terminate() inside the chunk discards the batch; bufferedAmount counts batched bytes', () => {
    const wss = new WebSocketServer({ heartbeatInterval: 0 });
    const amounts: number[] = [];
    wss.on('connection', (ws) =>
      ws.on('message', (d) => {
        if (d.toString() === 'kill') ws.terminate();
        else {
          ws.send(d);
          amounts.push(ws.bufferedAmount);
        }
      }),
    );
    const m = memoryConnection();
    wss.handleUpgrade(upgradeRequest(), m.conn);
    m.feed(Buffer.concat([clientFrame(1, 'one'), clientFrame(1, 'two'), clientFrame(1, 'kill')]));
    expect(amounts).toEqual([5, 10]);
    expect(m.destroyed()).toBe(true);
    expect(m.writes.length).toBe(1); // only the 101 response
    void wss.close({ deadline: 0 });
  });

  it('over a real socket: 200 pipelined messages in one write come back complete and in order', async () => {
    const s = await startServer();
    cleanups.push(s.close);
    s.wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const c = await rawClient(s.port);
    cleanups.push(() => {
      c.socket.destroy();
    });
    const msgs = Array.from({ length: 200 }, (_, i) => `m${i}-${'z'.repeat(i * 7)}`);
    c.socket.write(Buffer.concat(msgs.map((t) => clientFrame(1, t))));
    const want = Buffer.concat(
      msgs.map((t) => Buffer.concat([Buffer.from([0x81]), lenBytes(t.length), Buffer.from(t)])),
    );
    const got = await c.waitBytes(want.length);
    expect(got.subarray(0, want.length).equals(want)).toBe(true);
  });
});

function lenBytes(n: number): Buffer {
  return n < 126 ? Buffer.from([n]) : Buffer.from([126, n >> 8, n & 0xff]);
}
