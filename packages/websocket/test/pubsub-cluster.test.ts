/**
 * `WebSocketServer({ pubsub: clusterPubSub() })` in the workers of `runCluster`: real processes
 * (`fixtures/pubsub-cluster.ts`), one port per worker so each client's worker is known, `ws`
 * clients. Order across 2 and 4 workers, binary payloads, a stopped worker (drops counted in the
 * primary, the others unaffected), a stopped primary (drops counted in the publishing worker), and
 * a killed worker (delivery to the others goes on; its replacement starts with no subscriptions).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BundledFixture, bundleFixture } from '../../transport/test/_bundle';
import { type Client, client } from './_pubsub';

const fixtureSource = fileURLToPath(new URL('./fixtures/pubsub-cluster.ts', import.meta.url));
let fixture = '';
let bundle: BundledFixture | null = null;
beforeAll(async () => {
  bundle = await bundleFixture(fixtureSource, ['strata-source']);
  fixture = bundle.file;
});
afterAll(() => bundle?.remove());

type Event = { ev: string; [k: string]: unknown };
type WorkerView = {
  slot: number;
  pid: number;
  port: number;
  pubsub: { sent: number; dropped: number; pendingBytes: number; topics: number };
};

const running: Array<{ proc: ChildProcess; pids: Set<number> }> = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const { proc, pids } of running.splice(0)) {
    for (const pid of [proc.pid!, ...pids]) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

async function startCluster(env: Record<string, string>) {
  const proc = spawn(process.execPath, [fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const entry = { proc, pids: new Set<number>() };
  running.push(entry);
  const events: Event[] = [];
  let buf = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const e = JSON.parse(buf.slice(0, nl)) as Event;
      events.push(e);
      for (const w of (e.workers as WorkerView[] | undefined) ?? []) if (w.pid > 0) entry.pids.add(w.pid);
      buf = buf.slice(nl + 1);
    }
  });
  const waitFor = async (pred: (e: Event) => boolean, ms = 15_000): Promise<Event> => {
    const end = Date.now() + ms;
    for (;;) {
      for (let i = events.length - 1; i >= 0; i--) if (pred(events[i]!)) return events[i]!;
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`no such event; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const ready = await waitFor((e) => e.ev === 'ready');
  /** The latest relay counters the primary printed. */
  const relay = (): { total: WorkerView['pubsub']; workers: WorkerView[] } => {
    const last = [...events].reverse().find((e) => e.ev === 'pubsub');
    return last as unknown as { total: WorkerView['pubsub']; workers: WorkerView[] };
  };
  return { proc, events, waitFor, relay, workers: ready.workers as WorkerView[] };
}

type Msg = { type?: string; slot?: number; stats?: Record<string, number> };

/** A client on `port`, its worker's welcome checked, subscribed to `topic`. */
async function member(port: number, slot: number, topic = 'room'): Promise<Client> {
  const c = await client(port);
  clients.push(c);
  await c.until(() => c.messages.length >= 1);
  expect(JSON.parse(c.messages[0]!.data.toString())).toMatchObject({ type: 'welcome', slot });
  c.ws.send(JSON.stringify({ op: 'sub', topic }));
  await c.until(() => c.texts().some((t) => t.includes('"subscribed"')));
  return c;
}

/** The numbers of the `n:<i>:` messages a client received, in arrival order. */
function numbers(c: Client): number[] {
  const out: number[] = [];
  for (const m of c.messages) {
    if (m.binary) continue;
    const t = m.data.toString();
    if (t.startsWith('n:')) out.push(Number(t.slice(2, t.indexOf(':', 2))));
  }
  return out;
}

/** Probes from `publisher` until every client has one: subscriptions reach the primary over IPC. */
async function untilRouted(publisher: Client, all: Client[], topic = 'room'): Promise<void> {
  const timer = setInterval(() => publisher.ws.send(JSON.stringify({ op: 'probe', topic })), 20);
  try {
    await Promise.all(all.map((c) => c.until(() => c.texts().includes('probe'))));
  } finally {
    clearInterval(timer);
  }
}

async function reply(c: Client, type: string): Promise<Msg> {
  const from = c.messages.length;
  let found: Msg | undefined;
  await c.until(() => {
    for (const m of c.messages.slice(from)) {
      if (m.binary || !m.data.toString().startsWith('{')) continue;
      const o = JSON.parse(m.data.toString()) as Msg;
      if (o.type === type) found = o;
    }
    return found !== undefined;
  });
  return found!;
}

/** Polls `pred` every 20 ms (for figures that arrive on stdout, not as client messages). */
async function eventually(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('clusterPubSub across runCluster workers', () => {
  it.each([2, 4])(
    '%i workers: 200 messages from one publisher reach every worker in order; binary survives',
    async (n) => {
      const cl = await startCluster({ STRATA_TEST_WORKERS: String(n) });
      expect(cl.workers).toHaveLength(n);
      expect(new Set(cl.workers.map((w) => w.port)).size).toBe(n); // one port per worker
      const members = await Promise.all(cl.workers.map((w) => member(w.port, w.slot)));
      const publisher = members[0]!;
      await untilRouted(publisher, members);
      const sent = reply(publisher, 'published');
      publisher.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 200, size: 64 }));
      expect((await sent).stats).toMatchObject({ sent: expect.any(Number), dropped: 0 });
      for (const c of members) await c.until(() => numbers(c).length >= 200);
      for (const c of members) expect(numbers(c)).toEqual(range(200));

      publisher.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 3, size: 264, binary: true }));
      for (const c of members) await c.until(() => c.messages.filter((m) => m.binary).length >= 3);
      for (const c of members) {
        const bins = c.messages.filter((m) => m.binary).map((m) => m.data);
        expect(bins.map((b) => b.readUInt32BE(0))).toEqual([0, 1, 2]);
        for (const b of bins) {
          expect(b.length).toBe(8 + 256);
          expect([...b.subarray(8)]).toEqual(range(256));
        }
      }
      // Interest routing: each worker subscribes to 'room' once; nothing was relayed elsewhere.
      const relay = cl.relay();
      expect(relay.total.dropped).toBe(0);
      expect(relay.workers.map((w) => w.pubsub.topics)).toEqual(cl.workers.map(() => 1));
      expect(
        await cl.waitFor((e) => e.ev === 'pubsub' && (e.total as WorkerView['pubsub']).pendingBytes === 0),
      ).toBeTruthy();
    },
  );

  it('a stopped worker misses messages past the relay bound (counted in the primary); the others get all', async () => {
    const cl = await startCluster({ STRATA_TEST_WORKERS: '3', STRATA_TEST_RELAY_MAX: String(512 * 1024) });
    const [a, b, c] = await Promise.all(cl.workers.map((w) => member(w.port, w.slot)));
    await untilRouted(a!, [a!, b!, c!]);
    const slow = cl.workers[2]!;
    process.kill(slow.pid, 'SIGSTOP');
    try {
      const sent = reply(a!, 'published');
      // 2000 messages of 2 KiB, 20 every 5 ms (a pace the running workers keep up with, on a
      // busy machine too): 4 MB for a worker that reads nothing.
      a!.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 2000, size: 2048, batch: 20, pause: 5 }));
      expect((await sent).stats).toMatchObject({ dropped: 0 });
      await b!
        .until(() => numbers(b!).length >= 2000, 15_000)
        .catch((e) => {
          throw new Error(`${e}: b has ${numbers(b!).length}; relay ${JSON.stringify(cl.relay())}`);
        });
      const during = await cl.waitFor(
        (e) => e.ev === 'pubsub' && (e.workers as WorkerView[])[2]!.pubsub.dropped > 0,
      );
      // The bound holds while the worker is stopped: at most one message over it.
      expect((during.workers as WorkerView[])[2]!.pubsub.pendingBytes).toBeLessThanOrEqual(512 * 1024 + 2200);
    } finally {
      process.kill(slow.pid, 'SIGCONT');
    }
    expect(numbers(b!)).toEqual(range(2000));
    expect(numbers(a!)).toEqual(range(2000));
    // Everything relayed before the bound arrives, in order; the rest was dropped and counted.
    const dropped = () => cl.relay().workers[2]!.pubsub.dropped;
    await eventually(() => numbers(c!).length + dropped() >= 2000);
    const got = numbers(c!);
    expect(got.length + dropped()).toBe(2000);
    expect(dropped()).toBeGreaterThan(0);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
    const relay = cl.relay();
    expect(relay.workers[1]!.pubsub.dropped).toBe(0);
    expect(relay.total.dropped).toBe(dropped());
  });

  it('a stopped primary: the publishing worker drops past its bound and counts it', async () => {
    const cl = await startCluster({ STRATA_TEST_WORKERS: '2', STRATA_TEST_WORKER_MAX: String(256 * 1024) });
    const [a, b] = await Promise.all(cl.workers.map((w) => member(w.port, w.slot)));
    await untilRouted(a!, [a!, b!]);
    const probed = reply(a!, 'stats');
    a!.ws.send(JSON.stringify({ op: 'stats' }));
    const before = (await probed).stats!; // the probes were sent too
    process.kill(cl.proc.pid!, 'SIGSTOP');
    let stats: { sent: number; dropped: number };
    try {
      const sent = reply(a!, 'published');
      a!.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 2000, size: 2048, batch: 20 }));
      const now = (await sent).stats!;
      stats = { sent: now.sent! - before.sent!, dropped: now.dropped! - before.dropped! };
    } finally {
      process.kill(cl.proc.pid!, 'SIGCONT');
    }
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.sent + stats.dropped).toBe(2000);
    // What the worker handed to IPC reaches the other worker once the primary runs, in order.
    await b!.until(() => numbers(b!).length >= stats.sent, 20_000);
    const got = numbers(b!);
    expect(got).toHaveLength(stats.sent);
    for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
    expect(numbers(a!)).toEqual(range(2000)); // local delivery is never dropped by the bus
    const after = reply(a!, 'stats');
    a!.ws.send(JSON.stringify({ op: 'stats' }));
    expect((await after).stats).toMatchObject({ pendingBytes: 0, dropped: stats.dropped + before.dropped! });
  });

  it('a killed worker does not stop delivery to the others; its replacement starts with no subscriptions', async () => {
    const cl = await startCluster({ STRATA_TEST_WORKERS: '3' });
    const [a, b, c] = await Promise.all(cl.workers.map((w) => member(w.port, w.slot)));
    await untilRouted(a!, [a!, b!, c!]);
    const victim = cl.workers[2]!;
    const sent = reply(a!, 'published');
    a!.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 1000, size: 256, batch: 10 }));
    await b!.until(() => numbers(b!).length >= 100);
    process.kill(victim.pid, 'SIGKILL');
    await sent;
    await b!.until(() => numbers(b!).length >= 1000);
    expect(numbers(b!)).toEqual(range(1000));
    await cl.waitFor((e) => e.ev === 'exit' && e.pid === victim.pid);
    const replaced = await cl.waitFor((e) => e.ev === 'worker-ready' && e.slot === 2 && e.pid !== victim.pid);
    const fresh = (replaced.workers as WorkerView[])[2]!;
    expect(fresh.pubsub).toEqual({ sent: 0, dropped: 0, pendingBytes: 0, topics: 0 });
    // The primary forgot the dead worker's topic: two workers subscribe to 'room' now.
    expect(
      (await cl.waitFor((e) => e.ev === 'pubsub' && (e.total as WorkerView['pubsub']).topics === 2)).total,
    ).toMatchObject({ topics: 2 });
    // A client of the replacement subscribes and is reached like any other.
    const again = await member(fresh.port, 2);
    await untilRouted(a!, [again]);
    a!.ws.send(JSON.stringify({ op: 'pub', topic: 'room', count: 50, size: 16 }));
    await again.until(() => numbers(again).length >= 50);
    expect(numbers(again)).toEqual(range(50));
  });
});
