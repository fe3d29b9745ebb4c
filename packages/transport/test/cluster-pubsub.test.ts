/**
 * `clusterPubSub()`: outside a cluster (a no-op), option checks, and a real 2-worker cluster
 * (`fixtures/cluster-bus.ts`) driven over TCP: interest routing, channels kept apart, text and
 * bytes intact, never back to the publisher, unsubscribe. Drops, order and dead workers are
 * tested through WebSocket servers in `@strata/websocket` (`test/pubsub-cluster.test.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clusterPubSub, DEFAULT_PUBSUB_MAX_PENDING_BYTES, runCluster } from '../src/cluster';
import { type BundledFixture, bundleFixture } from './_bundle';

describe('clusterPubSub outside a cluster', () => {
  it('is an inactive no-op with zero counters', () => {
    const bus = clusterPubSub();
    expect(bus.active).toBe(false);
    expect(bus.channel).toBe('default');
    const got: unknown[] = [];
    bus.onMessage((...args) => got.push(args));
    bus.subscribe('t');
    bus.publish('t', 'x', false);
    bus.publish('t', new Uint8Array([1]), true);
    bus.unsubscribe('t');
    expect(bus.stats()).toEqual({ sent: 0, dropped: 0, pendingBytes: 0, received: 0, topics: 0 });
    expect(got).toEqual([]);
    bus.close();
    bus.close();
    // Two of one channel are fine here (nothing is registered), and each is its own bus.
    expect(clusterPubSub({ channel: 'x' }).active).toBe(false);
    expect(clusterPubSub({ channel: 'x' }).active).toBe(false);
  });

  it('takes one onMessage callback and checks its options', async () => {
    const bus = clusterPubSub();
    bus.onMessage(() => {});
    expect(() => bus.onMessage(() => {})).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT_INVALID_OPTION' }),
    );
    expect(() => clusterPubSub({ maxPendingBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT_INVALID_OPTION' }),
    );
    expect(() => clusterPubSub({ channel: 7 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_TRANSPORT_INVALID_OPTION' }),
    );
    await expect(
      runCluster({ worker: () => ({ close: async () => {} }), pubsub: { maxPendingBytes: Number.NaN } }),
    ).rejects.toMatchObject({ code: 'ERR_TRANSPORT_INVALID_OPTION' });
    expect(DEFAULT_PUBSUB_MAX_PENDING_BYTES).toBe(4 * 1024 * 1024);
  });
});

const fixtureSource = fileURLToPath(new URL('./fixtures/cluster-bus.ts', import.meta.url));
let fixture = '';
let bundle: BundledFixture | null = null;
beforeAll(async () => {
  bundle = await bundleFixture(fixtureSource);
  fixture = bundle.file;
});
afterAll(() => bundle?.remove());

let child: ChildProcess | null = null;
const pids: number[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

type Line = { ev: string; [k: string]: unknown };

/** A TCP client of one worker: sends commands, keeps every line the worker wrote. */
async function drive(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines: Line[] = [];
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Line);
      buf = buf.slice(nl + 1);
    }
  });
  const until = async (pred: () => boolean, ms = 10_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: ${JSON.stringify(lines.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    lines,
    until,
    msgs: () => lines.filter((l) => l.ev === 'msg'),
    /** Sends one command and waits for the worker's `done`. */
    async send(cmd: Record<string, unknown>): Promise<void> {
      const done = lines.filter((l) => l.ev === 'done').length;
      socket.write(`${JSON.stringify(cmd)}\n`);
      await until(() => lines.filter((l) => l.ev === 'done').length > done);
    },
  };
}

describe('clusterPubSub in a 2-worker cluster', () => {
  it('routes by topic and channel, keeps text and bytes, never echoes, and stops on unsubscribe', async () => {
    const proc = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const events: Line[] = [];
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl !== -1; nl = out.indexOf('\n')) {
        events.push(JSON.parse(out.slice(0, nl)) as Line);
        out = out.slice(nl + 1);
      }
    });
    const relay = async (pred: (s: Record<string, number>) => boolean): Promise<void> => {
      const end = Date.now() + 10_000;
      for (;;) {
        const last = [...events].reverse().find((e) => e.ev === 'pubsub' || e.ev === 'ready');
        if (last && pred(last.pubsub as Record<string, number>)) return;
        if (Date.now() > end || proc.exitCode !== null)
          throw new Error(`relay: ${JSON.stringify(last)} ${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const startEnd = Date.now() + 15_000;
    while (!events.some((e) => e.ev === 'ready')) {
      if (Date.now() > startEnd || proc.exitCode !== null) throw new Error(`no start: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = events.find((e) => e.ev === 'ready')!;
    const workers = ready.workers as Array<{ pid: number; port: number; pubsub: unknown }>;
    for (const w of workers) pids.push(w.pid);
    expect(workers.map((w) => w.pubsub)).toEqual([
      { sent: 0, dropped: 0, pendingBytes: 0, topics: 0 },
      { sent: 0, dropped: 0, pendingBytes: 0, topics: 0 },
    ]);
    const w0 = await drive(workers[0]!.port);
    const w1 = await drive(workers[1]!.port);

    await w0.send({ op: 'stats', ch: 'a' });
    expect(w0.lines.find((l) => l.ev === 'stats')).toMatchObject({ active: true });
    await w0.send({ op: 'same-channel' });
    expect(w0.lines.find((l) => l.ev === 'error')).toEqual({
      ev: 'error',
      code: 'ERR_TRANSPORT_INVALID_OPTION',
    });

    // Worker 1 subscribes to a/t; worker 0 to a/t too (its own publishes must not come back).
    await w1.send({ op: 'sub', ch: 'a', topic: 't' });
    await w0.send({ op: 'sub', ch: 'a', topic: 't' });
    await relay((s) => s.topics === 2);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await w0.send({ op: 'pub', ch: 'b', topic: 't', text: 'other channel', binary: false });
    await w0.send({ op: 'pub', ch: 'a', topic: 'u', text: 'other topic', binary: false });
    await w0.send({ op: 'pub', ch: 'a', topic: 't', text: 'héllo ✓ 🚀', binary: false });
    await w0.send({ op: 'pub', ch: 'a', topic: 't', bytes: bytes.toString('base64'), binary: true });
    await w0.send({ op: 'pub', ch: 'a', topic: 't', text: 'text as binary', binary: true });
    await w1.until(() => w1.msgs().length >= 3);
    expect(w1.msgs()).toEqual([
      { ev: 'msg', ch: 'a', topic: 't', binary: false, bytes: false, data: 'héllo ✓ 🚀' },
      { ev: 'msg', ch: 'a', topic: 't', binary: true, bytes: true, data: bytes.toString('base64') },
      { ev: 'msg', ch: 'a', topic: 't', binary: true, bytes: false, data: 'text as binary' },
    ]);
    // Only the three messages with a subscriber elsewhere were relayed (interest routing).
    await relay((s) => s.sent === 3 && s.pendingBytes === 0);

    // Worker 1 unsubscribes: the primary forgets it; a later message reaches nobody.
    await w1.send({ op: 'unsub', ch: 'a', topic: 't' });
    await relay((s) => s.topics === 1);
    await w0.send({ op: 'pub', ch: 'a', topic: 't', text: 'unheard', binary: false });
    await w1.send({ op: 'sub', ch: 'b', topic: 'marker' });
    await relay((s) => s.topics === 2);
    await w0.send({ op: 'pub', ch: 'b', topic: 'marker', text: 'last', binary: false });
    await w1.until(() => w1.msgs().length >= 4);
    expect(w1.msgs().slice(3)).toEqual([
      { ev: 'msg', ch: 'b', topic: 'marker', binary: false, bytes: false, data: 'last' },
    ]);
    expect(w0.msgs()).toEqual([]);
    await w1.send({ op: 'stats', ch: 'a' });
    expect(w1.lines.filter((l) => l.ev === 'stats').at(-1)).toMatchObject({
      stats: { sent: 0, dropped: 0, received: 3, topics: 0 },
    });
    await w0.send({ op: 'stats', ch: 'a' });
    expect(w0.lines.filter((l) => l.ev === 'stats').at(-1)).toMatchObject({
      stats: { sent: 5, dropped: 0, received: 0, topics: 1, pendingBytes: 0 },
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
