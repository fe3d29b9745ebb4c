import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  type ConnectionHandlers,
  type Listener,
  listen,
  TransportError,
  TransportErrorCode,
} from '../src/index';
import { collect, dial, portOf, Recorder, until } from './_helpers';

const listeners: Listener[] = [];
const sockets: Socket[] = [];

async function start(
  handlers: ConnectionHandlers,
  opts: Parameters<typeof listen>[0] = {},
): Promise<Listener> {
  const l = await listen({ host: '127.0.0.1', port: 0, ...opts }, handlers);
  listeners.push(l);
  return l;
}

async function client(l: Listener, host = '127.0.0.1'): Promise<Socket> {
  const s = await dial(portOf(l), host);
  sockets.push(s);
  return s;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.close({ deadline: 0 })));
});

const echo: ConnectionHandlers = {
  onData(conn, chunk) {
    conn.write(chunk);
  },
};

describe('listen on TCP', () => {
  it('binds port 0 on IPv4, reports the real port and echoes through a node:net client', async () => {
    const rec = new Recorder();
    const l = await start({
      onOpen: (c) => rec.onOpen(c),
      onData(c, chunk) {
        rec.onData(c, chunk);
        c.write(chunk);
      },
      onClose: (c, e) => rec.onClose(c, e),
    });
    const a = l.address();
    expect('port' in a && a.port > 0 && a.host === '127.0.0.1' && a.family === 'IPv4').toBe(true);
    const s = await client(l);
    const clientPort = s.localPort;
    const got = collect(s);
    s.write('hello ');
    s.end('world');
    expect((await got).toString()).toBe('hello world');
    await until(() => rec.events.some((e) => e.startsWith('close:')));
    const conn = rec.conns[0]!;
    expect(rec.events[0]).toBe(`open:${conn.id}`);
    expect(rec.events.at(-1)).toBe(`close:${conn.id}`);
    expect(conn.remoteAddress).toBe('127.0.0.1');
    expect(conn.remotePort).toBe(clientPort);
    expect(conn.localAddress).toBe('127.0.0.1');
    expect(conn.localPort).toBe(portOf(l));
    expect(conn.encrypted).toBe(false);
    expect(conn.closed).toBe(true);
    expect(rec.closeErrors.get(conn.id)).toBeUndefined();
    expect(l.stats()).toEqual({ open: 0, total: 1, bytesIn: 11, bytesOut: 11, dropped: 0 });
  });

  it('binds ::1 on IPv6', async () => {
    let remote = '';
    const l = await start(
      {
        onOpen(c) {
          remote = c.remoteAddress;
        },
        onData: echo.onData,
      },
      { host: '::1' },
    );
    const a = l.address();
    expect('family' in a && a.family).toBe('IPv6');
    const s = await client(l, '::1');
    const got = collect(s);
    s.end('v6');
    expect((await got).toString()).toBe('v6');
    expect(remote).toBe('::1');
  });

  it('counts open connections and bytes while they are open', async () => {
    const l = await start(echo);
    const a = await client(l);
    const b = await client(l);
    a.write('12345');
    b.write('123');
    await until(() => l.stats().bytesOut === 8);
    expect(l.stats()).toMatchObject({ open: 2, total: 2, bytesIn: 8, bytesOut: 8 });
  });

  it('refuses connections above maxConnections and counts them', async () => {
    const rec = new Recorder();
    const l = await start(rec, { maxConnections: 1 });
    await client(l);
    await until(() => rec.conns.length === 1);
    const s2 = await client(l);
    const closed = new Promise((r) => s2.once('close', r));
    s2.on('error', () => {});
    await closed;
    expect(rec.conns.length).toBe(1);
    expect(l.stats().dropped).toBe(1);
  });

  it('rejects bad options with a stable code', async () => {
    await expect(listen({ port: 70000 }, echo)).rejects.toMatchObject({
      code: TransportErrorCode.INVALID_OPTION,
    });
    await expect(listen({ port: 0 }, {} as ConnectionHandlers)).rejects.toBeInstanceOf(TransportError);
    await expect(listen({ path: '/tmp/x', port: 1 }, echo)).rejects.toMatchObject({
      code: TransportErrorCode.INVALID_OPTION,
    });
    await expect(listen({ port: 0, proxyProtocol: { trusted: ['nope'] } }, echo)).rejects.toMatchObject({
      code: TransportErrorCode.INVALID_OPTION,
    });
  });

  it('rejects when the port is taken', async () => {
    const l = await start(echo);
    await expect(listen({ host: '127.0.0.1', port: portOf(l) }, echo)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

describe('listen on a Unix socket', () => {
  it('serves a path, reports it, and removes it on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-'));
    const path = join(dir, 's.sock');
    try {
      let remote: string | null = null;
      const l = await listen(
        { path },
        {
          onOpen(c) {
            remote = c.remoteAddress;
          },
          onData: echo.onData,
        },
      );
      expect(l.address()).toEqual({ path });
      const s = connect({ path });
      const got = collect(s);
      s.end('over unix');
      expect((await got).toString()).toBe('over unix');
      expect(remote).toBe('');
      await l.close({ deadline: 0 });
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Connection writes', () => {
  /** A server-side connection whose socket writes are recorded (`'string'` or `'bytes'` each), and its client's bytes. */
  async function spied(): Promise<{ c: Connection; seen: string[]; got: Promise<Buffer> }> {
    let conn: Connection | null = null;
    const l = await start({
      onOpen(c) {
        conn = c;
      },
      onData() {},
    });
    const s = await client(l);
    await until(() => conn !== null);
    const c = conn as unknown as Connection & { socket: Socket };
    const seen: string[] = [];
    const orig = c.socket.write.bind(c.socket);
    c.socket.write = ((...args: Parameters<Socket['write']>) => {
      seen.push(typeof args[0] === 'string' ? 'string' : 'bytes');
      return orig(...args);
    }) as Socket['write'];
    return { c, seen, got: collect(s) };
  }

  it('cork/uncork sends a batch as one socket write, in order, with nested corks and big chunks', async () => {
    const { c, seen, got } = await spied();
    c.cork();
    c.write('HTTP-ish head\r\n');
    c.cork();
    c.write(new Uint8Array([0x61, 0x62, 0x63]));
    c.write('é€😀');
    c.uncork();
    expect(seen).toHaveLength(0);
    c.write(Buffer.from('tail'));
    c.uncork();
    expect(seen).toHaveLength(1);
    // A batch with a chunk above the copy limit keeps its order (pieces leave in one writev).
    const big = Buffer.alloc(40_000, 0x7a);
    c.cork();
    c.write('[');
    c.write(big);
    c.write(']');
    c.uncork();
    c.end('!');
    const text = (await got).toString();
    expect(text).toBe(`HTTP-ish head\r\nabcé€😀tail[${'z'.repeat(40_000)}]!`);
  });

  it('a batch of strings leaves as one string; bytes are copied at once; a long string keeps its place', async () => {
    const { c, seen, got } = await spied();
    c.cork();
    for (let i = 0; i < 16; i++) c.write(`r${i};`);
    c.uncork();
    expect(seen).toEqual(['string']); // one write, encoded once by Node
    const reused = Buffer.from('ABC');
    const long = 'é'.repeat(10_000); // over the pool's copy limit once encoded
    c.cork();
    c.write('<');
    c.write(reused);
    reused.fill(0x78); // the caller reuses its buffer: the batch holds a copy
    c.write(long);
    c.write(Buffer.from('>'));
    c.uncork();
    c.end();
    const text = (await got).toString();
    expect(text).toBe(`${Array.from({ length: 16 }, (_, i) => `r${i};`).join('')}<ABC${long}>`);
  });

  it('keeps two connections corked at once apart', async () => {
    const conns: Connection[] = [];
    const l = await start({
      onOpen(c) {
        conns.push(c);
      },
      onData() {},
    });
    const a = await client(l);
    const b = await client(l);
    await until(() => conns.length === 2);
    const ga = collect(a);
    const gb = collect(b);
    const [ca, cb] = conns as [Connection, Connection];
    ca.cork();
    cb.cork();
    for (let i = 0; i < 200; i++) {
      ca.write(`a${i};`);
      cb.write(`b${i};`);
    }
    ca.uncork();
    cb.uncork();
    ca.end();
    cb.end();
    const expectA = Array.from({ length: 200 }, (_, i) => `a${i};`).join('');
    const expectB = Array.from({ length: 200 }, (_, i) => `b${i};`).join('');
    // Which client got which server-side connection depends on accept order.
    const texts = [(await ga).toString(), (await gb).toString()].sort();
    expect(texts).toEqual([expectA, expectB].sort());
  });

  it('returns false under backpressure, stays bounded with a client that never reads, then drains', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let conn: Connection | null = null;
    let sent = 0;
    let drains = 0;
    let maxQueued = 0;
    const total = 8 * 1024 * 1024;
    const pump = (c: Connection): void => {
      while (sent < total) {
        sent += chunk.length;
        const ok = c.write(chunk);
        if (c.writableLength > maxQueued) maxQueued = c.writableLength;
        if (!ok) return;
      }
      c.end();
    };
    const l = await start({
      onOpen(c) {
        conn = c;
        pump(c);
      },
      onData() {},
      onDrain(c) {
        drains++;
        pump(c);
      },
    });
    const s = await client(l);
    s.pause(); // never reads for now
    await until(() => conn !== null);
    await new Promise((r) => setTimeout(r, 150));
    const stalledAt = sent;
    expect(stalledAt).toBeLessThan(total); // the writer stopped: the kernel buffers are full
    expect(conn!.writableLength).toBeLessThanOrEqual(chunk.length * 2); // our queue is bounded
    await new Promise((r) => setTimeout(r, 100));
    expect(sent).toBe(stalledAt); // and stays stopped
    let received = 0;
    s.on('data', (d: Buffer) => {
      received += d.length;
    });
    s.resume();
    await new Promise((r) => s.once('end', r));
    expect(received).toBe(sent);
    expect(sent).toBeGreaterThanOrEqual(total);
    expect(drains).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(chunk.length * 2);
  });

  it('owes onDrain when a corked batch crossed the high-water mark', async () => {
    let conn: Connection | null = null;
    let drained = 0;
    const l = await start({
      onOpen(c) {
        conn = c;
      },
      onData() {},
      onDrain() {
        drained++;
      },
    });
    const s = await client(l);
    await until(() => conn !== null);
    const c = conn!;
    c.cork();
    let ok = true;
    let written = 0;
    // Node's socket high-water mark is 16 KiB on Node 20 and 64 KiB on Node 22+.
    for (let i = 0; i < 40 && ok; i++) {
      ok = c.write(Buffer.alloc(4000, 0x42));
      written += 4000;
    }
    expect(ok).toBe(false);
    expect(written).toBeLessThanOrEqual(c.writableLength);
    c.uncork();
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
    });
    await until(() => drained === 1);
    await until(() => got === written);
  });

  it('drops writes after end() and after destroy()', async () => {
    let conn: Connection | null = null;
    const l = await start({
      onOpen(c) {
        conn = c;
      },
      onData() {},
    });
    const s = await client(l);
    const got = collect(s);
    await until(() => conn !== null);
    conn!.end('bye');
    expect(conn!.write('late')).toBe(false);
    expect((await got).toString()).toBe('bye');
  });
});

describe('Connection reads', () => {
  it('pause() holds onData until resume()', async () => {
    const rec = new Recorder();
    const l = await start({
      onOpen(c) {
        rec.onOpen(c);
        c.pause();
      },
      onData: (c, d) => rec.onData(c, d),
    });
    const s = await client(l);
    s.write('held');
    await until(() => rec.conns.length === 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(rec.received.size).toBe(0);
    rec.conns[0]!.resume();
    await until(() => rec.text(rec.conns[0]!.id) === 'held');
  });

  it('setHandlers hands the connection to a new owner', async () => {
    const second = new Recorder();
    const first: ConnectionHandlers = {
      onData(c, chunk) {
        c.write(`first:${Buffer.from(chunk).toString()}`);
        c.setHandlers(second);
      },
    };
    const l = await start(first);
    const s = await client(l);
    const got = collect(s);
    s.write('one');
    await until(() => l.stats().bytesOut > 0);
    s.write('two');
    await until(() => second.received.size === 1);
    s.destroy();
    await got;
    expect(Buffer.concat([...second.received.values()].flat()).toString()).toBe('two');
    await until(() => second.events.some((e) => e.startsWith('close:')));
  });

  it('keeps the data slot per connection', async () => {
    const l = await start({
      onOpen(c) {
        c.data = { n: 0 };
      },
      onData(c, chunk) {
        const st = c.data as { n: number };
        st.n += chunk.length;
        if (st.n >= 6) c.end(String(st.n));
      },
    });
    const s = await client(l);
    const got = collect(s);
    s.write('abc');
    await new Promise((r) => setTimeout(r, 20));
    s.write('def');
    expect((await got).toString()).toBe('6');
  });
});

describe('half-close', () => {
  it('lets the owner answer after the peer half-closed (onEnd)', async () => {
    const l = await start({
      onData(c, chunk) {
        (c.data as Buffer[] | undefined) ?? (c.data = []);
        (c.data as Buffer[]).push(Buffer.from(chunk));
      },
      onEnd(c) {
        const body = Buffer.concat(c.data as Buffer[]).toString();
        setTimeout(() => c.end(`got ${body}`), 30); // still writable after the peer's FIN
      },
    });
    const s = await dial(portOf(l));
    sockets.push(s);
    const got = collect(s);
    s.end('request');
    expect((await got).toString()).toBe('got request');
  });

  it('ends its side by itself when the owner has no onEnd', async () => {
    const l = await start(echo);
    const s = await client(l);
    const got = collect(s);
    s.end('x');
    expect((await got).toString()).toBe('x');
    await until(() => l.stats().open === 0);
  });
});

describe('idle timeout', () => {
  it('calls onTimeout and leaves the connection open', async () => {
    let timeouts = 0;
    const l = await start(
      {
        onData() {},
        onTimeout(c) {
          timeouts++;
          c.end('timeout');
        },
      },
      { idleTimeout: 80 },
    );
    const s = await client(l);
    const got = collect(s);
    expect((await got).toString()).toBe('timeout');
    expect(timeouts).toBe(1);
  });

  it('destroys with ERR_TRANSPORT_IDLE_TIMEOUT without onTimeout; activity restarts it; 0 disables it', async () => {
    const rec = new Recorder();
    const l = await start(rec, { idleTimeout: 100 });
    const s = await client(l);
    const closed = collect(s);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s.write('.');
    }
    expect(rec.conns[0]!.closed).toBe(false);
    await closed;
    await until(() => rec.closeErrors.size === 1);
    expect(rec.closeErrors.get(rec.conns[0]!.id)).toMatchObject({ code: TransportErrorCode.IDLE_TIMEOUT });

    const s2 = await client(l);
    await until(() => rec.conns.length === 2);
    rec.conns[1]!.setIdleTimeout(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(rec.conns[1]!.closed).toBe(false);
    s2.destroy();
  });
});

describe('graceful close', () => {
  it('ends idle connections at once, lets busy ones finish, then resolves', async () => {
    const rec = new Recorder();
    const l = await start({
      onOpen(c) {
        rec.onOpen(c);
        c.idle = true;
      },
      onData(c, chunk) {
        rec.onData(c, chunk);
        c.idle = false; // a "request" is in flight
        setTimeout(() => {
          c.write('done');
          c.idle = true; // finished: during a close this ends the connection
        }, 150);
      },
      onClose: (c, e) => rec.onClose(c, e),
    });
    const idleClient = await client(l);
    const busyClient = await client(l);
    const idleGot = collect(idleClient);
    const busyGot = collect(busyClient);
    busyClient.write('work');
    await until(() => rec.received.size === 1);
    const t0 = Date.now();
    const closing = l.close({ deadline: 2000 });
    expect(l.closing).toBe(true);
    expect((await idleGot).length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(120); // the idle one went at once
    expect((await busyGot).toString()).toBe('done');
    await closing;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect([...rec.closeErrors.values()].every((e) => e === undefined)).toBe(true);
    // No longer accepting.
    await expect(dial(portOf(l))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('calls onClosing and destroys what remains at the deadline', async () => {
    const rec = new Recorder();
    let closingCalls = 0;
    const l = await start({
      onOpen: (c) => rec.onOpen(c),
      onData() {},
      onClosing() {
        closingCalls++;
      },
      onClose: (c, e) => rec.onClose(c, e),
    });
    const s = await client(l);
    const got = collect(s);
    await until(() => rec.conns.length === 1);
    const t0 = Date.now();
    await l.close({ deadline: 120 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(closingCalls).toBe(1);
    expect(rec.closeErrors.get(rec.conns[0]!.id)).toMatchObject({ code: TransportErrorCode.CLOSE_DEADLINE });
    await got;
    expect(l.close()).toBe(l.close()); // idempotent
  });
});

describe('more listener cases', () => {
  it('matches IPv4-mapped peers against IPv4 trust rules on a dual-stack listener', async () => {
    const rec = new Recorder();
    const l = await listen(
      { host: '::', port: 0, proxyProtocol: { trusted: ['127.0.0.1'] } },
      {
        onOpen: (c) => rec.onOpen(c),
        onData(c) {
          c.end(c.remoteAddress);
        },
      },
    );
    listeners.push(l);
    const s = await dial(portOf(l), '127.0.0.1');
    const got = collect(s);
    s.write('PROXY TCP4 192.0.2.77 127.0.0.1 1000 80\r\nx');
    expect((await got).toString()).toBe('192.0.2.77');
  });

  it('trusts Unix-socket peers only with the `unix` keyword', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-'));
    try {
      const path = join(dir, 'p.sock');
      const l = await listen(
        { path, proxyProtocol: { trusted: ['unix'] } },
        {
          onData(c) {
            c.end(`${c.remoteAddress}:${c.remotePort}`);
          },
        },
      );
      listeners.push(l);
      const s = connect({ path });
      const got = collect(s);
      s.write('PROXY TCP6 2001:db8::5 ::1 7777 443\r\nhi');
      expect((await got).toString()).toBe('2001:db8::5:7777');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts reusePort with port 0 (ignored there) and serves', async () => {
    const l = await start(echo, { reusePort: true });
    const s = await client(l);
    const got = collect(s);
    s.end('r');
    expect((await got).toString()).toBe('r');
  });
});
