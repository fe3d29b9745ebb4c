/**
 * Pub/sub test kit: an in-memory bus that keeps the {@link PubSubBackend} contract, a `ws` client
 * that records what it receives, two servers sharing topics through a pair of backends, and one
 * conformance suite run against every backend (`pubsub.test.ts`: memory and Redis).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PubSubBackend, PubSubDeliver, WebSocketServer, WebSocketServerOptions } from '../src/index';
import { startServer } from './_helpers';

/** One process's end of a {@link MemoryBus}, with what the server asked of it. */
export interface MemoryBackend extends PubSubBackend {
  readonly calls: string[];
  closed: boolean;
}

/**
 * Several "processes" in one: each backend hands a publish to the others (never to itself),
 * asynchronously and in order, and only to those that subscribe to the topic.
 */
export class MemoryBus {
  private readonly ends: Array<{ topics: Set<string>; deliver: PubSubDeliver | null; closed: boolean }> = [];

  backend(): MemoryBackend {
    const end = { topics: new Set<string>(), deliver: null as PubSubDeliver | null, closed: false };
    this.ends.push(end);
    const calls: string[] = [];
    const ends = this.ends;
    return {
      calls,
      get closed() {
        return end.closed;
      },
      set closed(v: boolean) {
        end.closed = v;
      },
      publish(topic, data, binary) {
        calls.push(`publish ${topic}`);
        const copy = typeof data === 'string' ? data : Uint8Array.from(data);
        for (const other of ends) {
          if (other === end || other.closed || !other.topics.has(topic)) continue;
          setImmediate(() => {
            if (!other.closed && other.topics.has(topic)) other.deliver?.(topic, copy, binary);
          });
        }
      },
      subscribe(topic) {
        calls.push(`subscribe ${topic}`);
        end.topics.add(topic);
      },
      unsubscribe(topic) {
        calls.push(`unsubscribe ${topic}`);
        end.topics.delete(topic);
      },
      onMessage(deliver) {
        calls.push('onMessage');
        end.deliver = deliver;
      },
      close() {
        calls.push('close');
        end.closed = true;
      },
    };
  }
}

/** A `ws` client that keeps every message it receives. */
export interface Client {
  ws: WebSocket;
  messages: Array<{ data: Buffer; binary: boolean }>;
  texts(): string[];
  /** Resolves once `pred` holds (polled on every message; rejects after `ms`). */
  until(pred: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function client(port: number, path = '/'): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const messages: Client['messages'] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data, binary) => {
    messages.push({ data: data as Buffer, binary });
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    texts: () => messages.filter((m) => !m.binary).map((m) => m.data.toString()),
    until(pred, ms = 10_000) {
      if (pred()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          const last = messages.at(-1);
          const tail =
            last === undefined
              ? 'none'
              : last.binary
                ? `${last.data.length} bytes`
                : last.data.toString().slice(0, 60);
          reject(
            new Error(`condition not met within ${ms} ms (${messages.length} messages, the last: ${tail})`),
          );
        }, ms);
        const check = (): void => {
          if (!pred()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}

/** Two backends of one bus, as two processes would hold them. */
export interface BackendPair {
  a: PubSubBackend;
  b: PubSubBackend;
  /** Frees what the pair holds (after both servers closed, so after both backends closed). */
  dispose(): Promise<void>;
}

type Served = Awaited<ReturnType<typeof startServer>>;

/**
 * Publishes `probe` messages from `from` every 20 ms until every client has one: a subscription
 * reaches the other processes asynchronously (an IPC message, a SUBSCRIBE), so a test first
 * waits until the path is open. Probes are text `probe`; the tests ignore them.
 */
export async function untilRouted(wss: WebSocketServer, topic: string, clients: Client[]): Promise<void> {
  const timer = setInterval(() => wss.publish(topic, 'probe'), 20);
  try {
    await Promise.all(clients.map((c) => c.until(() => c.texts().includes('probe'))));
  } finally {
    clearInterval(timer);
  }
}

/** Every backend must pass this: two servers (as two processes) share topics through it. */
export function pubsubSuite(name: string, pair: () => Promise<BackendPair>): void {
  async function servers(options: WebSocketServerOptions = {}): Promise<{
    a: Served;
    b: Served;
    close(): Promise<void>;
  }> {
    const backends = await pair();
    const a = await startServer({ ...options, pubsub: backends.a });
    const b = await startServer({ ...options, pubsub: backends.b });
    for (const s of [a, b]) s.wss.on('connection', (ws) => ws.subscribe('room'));
    return {
      a,
      b,
      async close() {
        await Promise.all([a.close(), b.close()]);
        await backends.dispose();
      },
    };
  }

  describe(`pub/sub through ${name}`, () => {
    it('reaches the subscribers of both servers, 200 messages in publish order, each once', async () => {
      const s = await servers();
      try {
        const onA = await client(s.a.port);
        const onB = await client(s.b.port);
        const onB2 = await client(s.b.port);
        await untilRouted(s.a.wss, 'room', [onA, onB, onB2]);
        for (let i = 0; i < 200; i++) expect(s.a.wss.publish('room', `m${i}`)).toBe(1);
        const want = Array.from({ length: 200 }, (_, i) => `m${i}`);
        const numbered = (c: Client) => c.texts().filter((t) => t !== 'probe');
        for (const c of [onA, onB, onB2]) await c.until(() => numbered(c).length >= 200);
        // A little longer: a second copy of anything (our own message coming back) would show.
        await new Promise((r) => setTimeout(r, 100));
        for (const c of [onA, onB, onB2]) expect(numbered(c)).toEqual(want);
        for (const c of [onA, onB, onB2]) await c.close();
      } finally {
        await s.close();
      }
    });

    it('keeps binary bytes and text, both ways; except and the count are local', async () => {
      const s = await servers();
      try {
        const onA = await client(s.a.port);
        const onB = await client(s.b.port);
        await untilRouted(s.a.wss, 'room', [onA, onB]);
        await untilRouted(s.b.wss, 'room', [onA]);
        const got = (c: Client, from: number) =>
          c.messages.slice(from).filter((m) => m.binary || m.data.toString() !== 'probe');
        // From A: bytes 0..255 with its only local subscriber excluded (0 local writes; B still
        // gets it), then text sent as binary.
        const from = onB.messages.length;
        const fromA = onA.messages.length;
        const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
        const [senderOnA] = [...s.a.wss.clients];
        expect(s.a.wss.publish('room', bytes, { except: senderOnA })).toBe(0);
        bytes.fill(7); // the backend copied the payload before publish() returned
        expect(s.a.wss.publish('room', 'as binary', { binary: true })).toBe(1);
        await onB.until(() => got(onB, from).length >= 2);
        const onBGot = got(onB, from);
        expect(onBGot.map((m) => m.binary)).toEqual([true, true]);
        expect([...onBGot[0]!.data]).toEqual(Array.from({ length: 256 }, (_, i) => i));
        expect(onBGot[1]!.data.toString()).toBe('as binary');
        // From B: UTF-8 text, and bytes sent as text.
        expect(s.b.wss.publish('room', 'héllo ✓ 🚀')).toBe(1);
        expect(s.b.wss.publish('room', Buffer.from('as text'), { binary: false })).toBe(1);
        await onA.until(() => got(onA, fromA).length >= 3);
        expect(got(onA, fromA).map((m) => [m.binary, m.data.toString()])).toEqual([
          [true, 'as binary'], // A's own local write, before anything B published
          [false, 'héllo ✓ 🚀'],
          [false, 'as text'],
        ]);
        await onA.close();
        await onB.close();
      } finally {
        await s.close();
      }
    });

    it('local: true stays in this process; a topic without subscribers anywhere costs no delivery', async () => {
      const s = await servers();
      try {
        const onA = await client(s.a.port);
        const onB = await client(s.b.port);
        await untilRouted(s.a.wss, 'room', [onA, onB]);
        const base = onB.messages.length;
        expect(s.a.wss.publish('room', 'only here', { local: true })).toBe(1);
        expect(s.a.wss.publish('nobody', 'lost')).toBe(0);
        s.a.wss.publish('room', 'marker');
        await onB.until(() => onB.texts().includes('marker'));
        await onA.until(() => onA.texts().includes('marker'));
        const after = onB.messages.slice(base).map((m) => m.data.toString());
        expect(after.filter((t) => t !== 'probe')).toEqual(['marker']);
        expect(onA.texts()).toContain('only here');
        await onA.close();
        await onB.close();
      } finally {
        await s.close();
      }
    });
  });
}
