import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SendStatus, type WebSocket as StrataSocket } from '../src/index';
import { clientFrame, KEY, parseServerFrames, sleep, startServer } from './_helpers';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** VmRSS of a process, in MiB. */
function rssOf(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? Number.NaN) / 1024;
}

/** `fixtures/flood-server.mts` in a child process (its memory apart from the test runner's). */
async function startFlood(env: Record<string, string>): Promise<{
  pid: number;
  port: number;
  out: () => string;
  stop: () => void;
}> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=strata-source', '--import', 'tsx', join(__dirname, 'fixtures', 'flood-server.mts')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd: join(__dirname, '..') },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  let port = 0;
  for (let i = 0; i < 300 && port === 0; i++) {
    const m = /READY (\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) break;
    else await sleep(50);
  }
  if (port === 0) {
    child.kill('SIGKILL');
    throw new Error(`flood fixture did not start: ${err}`);
  }
  return { pid: child.pid!, port, out: () => out, stop: () => child.kill('SIGKILL') };
}

/** A raw client past the handshake (the 101 head consumed); reading paused when `read` is false. */
async function upgraded(port: number, read: boolean): Promise<{ socket: Socket; received: () => number }> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = Buffer.alloc(0);
  await new Promise<void>((r) => {
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      if (head.indexOf('\r\n\r\n') >= 0) {
        socket.off('data', onData);
        r();
      }
    };
    socket.on('data', onData);
  });
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  let received = 0;
  if (read) socket.on('data', (c: Buffer) => (received += c.length));
  else socket.pause();
  return { socket, received: () => received };
}

/** 2,000 pings of 125 bytes (131 bytes each on the wire), one buffer reused for every write. */
const PINGS = Buffer.concat(Array.from({ length: 2000 }, () => clientFrame(0x9, Buffer.alloc(125, 0x70))));

/**
 * Writes pings until `total` bytes are out or the socket stays full for `stuckMs` (the server
 * stopped reading). Returns the bytes written.
 */
async function flood(socket: Socket, total: number, stuckMs: number): Promise<number> {
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    sent += PINGS.length;
    if (!socket.write(PINGS)) {
      const drained = await new Promise<boolean>((r) => {
        const t = setTimeout(() => r(false), stuckMs);
        socket.once('drain', () => {
          clearTimeout(t);
          r(true);
        });
      });
      if (!drained) break;
    }
  }
  return sent;
}

describe('one sender: bounded under a peer that does not read', () => {
  it('a 200 MB ping flood with no reads: RSS within +16 MB, reading throttled, then closed 1008', async () => {
    const srv = await startFlood({ BACKPRESSURE_TIMEOUT: '2000' });
    cleanups.push(srv.stop);
    // warm up: a connection that reads sends 8 MB of pings, so the code paths are compiled and the
    // heap has grown to its working size before the baseline (only the flood's own cost is measured)
    const warm = await upgraded(srv.port, true);
    warm.socket.write(clientFrame(1, 'warm'));
    await flood(warm.socket, 8 * 1024 * 1024, 600);
    await sleep(300);
    warm.socket.destroy();
    await sleep(200);
    const base = rssOf(srv.pid);
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(srv.pid));
    }, 20);
    cleanups.push(() => clearInterval(sampler));

    const c = await upgraded(srv.port, false);
    cleanups.push(() => {
      c.socket.destroy();
    });
    const sent = await flood(c.socket, 200 * 1024 * 1024, 600);
    // throttled: the server stopped reading long before 200 MB (the rest backs up in TCP buffers)
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // the timeout closes it: 1008, WS_BACKPRESSURE_TIMEOUT
    for (let i = 0; i < 100 && !srv.out().includes('CLOSE 1008'); i++) await sleep(50);
    clearInterval(sampler);
    peak = Math.max(peak, rssOf(srv.pid));
    expect(srv.out()).toContain('CLOSE 1008 WS_BACKPRESSURE_TIMEOUT');
    expect(peak - base).toBeLessThan(16);
  });

  it('a peer that stops reading for less than the timeout is throttled, then served in full', async () => {
    const srv = await startFlood({ BACKPRESSURE_TIMEOUT: '5000' });
    cleanups.push(srv.stop);
    const c = await upgraded(srv.port, false);
    cleanups.push(() => {
      c.socket.destroy();
    });
    const sent = await flood(c.socket, 200 * 1024 * 1024, 400);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // now read: every ping gets its pong (127 bytes each), and the connection stays open
    const pongs = (sent / 131) * 127;
    let got = 0;
    let tail: Buffer = Buffer.alloc(0);
    let count = 0;
    c.socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      // count pong frames (opcode 0xA): 0x8A, length 125
      tail = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      const whole = tail.length - (tail.length % 127);
      for (let p = 0; p < whole; p += 127) if (tail[p] === 0x8a && tail[p + 1] === 125) count++;
      tail = tail.subarray(whole);
    });
    c.socket.resume();
    for (let i = 0; i < 200 && got < pongs; i++) await sleep(50);
    expect(got).toBe(pongs);
    expect(count).toBe(sent / 131);
    expect(srv.out()).not.toContain('CLOSE');
    // still open and serving
    const echo = new Promise<Buffer>((r) => c.socket.once('data', r));
    c.socket.write(clientFrame(1, 'still here'));
    expect(parseServerFrames(await echo)[0]?.payload.toString()).toBe('still here');
  });
});

/** Runs `sends` on one server socket whose peer reads slowly at first; records statuses and drains. */
async function sendAll(
  sizes: number[],
  compress: boolean,
  highWaterMark: number,
): Promise<{
  statuses: number[];
  drains: number;
  drainsInSend: number;
  lastBackpressureDrained: boolean;
  bytes: number;
}> {
  const s = await startServer({
    highWaterMark,
    perMessageDeflate: compress ? { threshold: 0 } : false,
  });
  try {
    const connected = new Promise<StrataSocket>((r) => s.wss.once('connection', r));
    const ext = compress ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '';
    const socket = netConnect({ host: '127.0.0.1', port: s.port });
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', r));
    let bytes = 0;
    socket.on('data', (c: Buffer) => (bytes += c.length));
    socket.pause();
    socket.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${ext}\r\n`,
    );
    const ws = await connected;
    const statuses: number[] = [];
    let drains = 0;
    let owed = false;
    let inSend = false;
    let drainsInSend = 0;
    ws.on('drain', () => {
      drains++;
      if (inSend) drainsInSend++;
      owed = false;
    });
    for (const n of sizes) {
      // compressible text: deflate shrinks it, so the compressed path really runs
      inSend = true;
      const st = ws.send('ab'.repeat(n >> 1) + (n & 1 ? 'c' : ''));
      inSend = false;
      statuses.push(st);
      if (st === SendStatus.BACKPRESSURE) owed = true;
    }
    // the peer starts reading after a while: everything must leave and every owed drain fire
    await sleep(20);
    socket.resume();
    for (let i = 0; i < 200 && (owed || ws.bufferedAmount > 0); i++) await sleep(10);
    socket.destroy();
    return { statuses, drains, drainsInSend, lastBackpressureDrained: !owed, bytes };
  } finally {
    await s.close();
  }
}

describe('one rule: every BACKPRESSURE is followed by a drain', () => {
  it('send("a".repeat(20000)) with permessage-deflate and a 16 KiB mark: BACKPRESSURE, then drain', async () => {
    const r = await sendAll([20_000], true, 16 * 1024);
    expect(r.statuses).toEqual([SendStatus.BACKPRESSURE]);
    expect(r.drains).toBe(1);
  });

  it('property: over message sizes, compression on and off, and marks, the owed drain fires', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom(1024, 16 * 1024, 64 * 1024),
        async (sizes, compress, mark) => {
          const r = await sendAll(sizes, compress, mark);
          expect(r.statuses.every((x) => x !== SendStatus.DROPPED)).toBe(true);
          if (r.statuses.includes(SendStatus.BACKPRESSURE)) expect(r.drains).toBeGreaterThan(0);
          expect(r.lastBackpressureDrained).toBe(true);
          expect(r.drainsInSend).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);
});
