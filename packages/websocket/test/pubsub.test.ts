/**
 * `WebSocketServer({ pubsub })`: the server's side of the seam (what it asks of its backend), and
 * the backend conformance suite (`_pubsub.ts`) against the in-memory bus and against Redis
 * (`@strata/websocket/redis` with `@redis/client` and a real `redis-server` on 127.0.0.1).
 */
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubSubBackend } from '../src/index';
import { type RedisPubSub, redisPubSub } from '../src/redis';
import { startServer } from './_helpers';
import { client, MemoryBus, pubsubSuite, untilRouted } from './_pubsub';
import { type RedisServer, startRedis } from './_redis';

describe('WebSocketServer with a pubsub backend', () => {
  it('subscribes on the first local subscriber, unsubscribes on the last, closes with the server', async () => {
    const bus = new MemoryBus();
    const backend = bus.backend();
    const s = await startServer({ pubsub: backend });
    s.wss.on('connection', (ws) => {
      ws.subscribe('room');
      ws.subscribe('room'); // twice: still one subscription
    });
    expect(backend.calls).toEqual(['onMessage']);
    const one = await client(s.port);
    const two = await client(s.port);
    await one.until(() => s.wss.subscribers('room') === 2, 5000).catch(() => undefined);
    expect(s.wss.subscribers('room')).toBe(2);
    expect(backend.calls).toEqual(['onMessage', 'subscribe room']);
    const [first] = [...s.wss.clients];
    s.wss.unsubscribe(first!, 'room');
    expect(backend.calls).toEqual(['onMessage', 'subscribe room']);
    await one.close();
    await two.close();
    for (let i = 0; i < 100 && s.wss.subscribers('room') > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(backend.calls).toEqual(['onMessage', 'subscribe room', 'unsubscribe room']);
    // publish() with no local subscriber still goes to the backend (others may have some).
    expect(s.wss.publish('room', 'x')).toBe(0);
    expect(backend.calls.at(-1)).toBe('publish room');
    await s.close();
    expect(backend.calls.at(-1)).toBe('close');
    expect(s.wss.publish('room', 'after close')).toBe(0);
    expect(backend.calls.filter((c) => c === 'close')).toHaveLength(1);
    expect(backend.calls.at(-1)).toBe('close'); // nothing published after the backend closed
  });

  it('a socket that closes drops its topics; close() waits for the sockets, then the backend', async () => {
    const bus = new MemoryBus();
    const backend = bus.backend();
    const s = await startServer({ pubsub: backend });
    s.wss.on('connection', (ws) => {
      ws.subscribe('a');
      ws.subscribe('b');
      // What a socket publishes while the server closes still reaches the other processes.
      ws.on('close', () => s.wss.publish('a', 'bye'));
    });
    const c = await client(s.port);
    await c.until(() => s.wss.subscribers('b') === 1, 5000).catch(() => undefined);
    await s.close();
    expect(backend.calls).toEqual([
      'onMessage',
      'subscribe a',
      'subscribe b',
      'unsubscribe a',
      'unsubscribe b',
      'publish a',
      'close',
    ]);
  });

  it('delivers messages from the backend to local subscribers only (no echo back to it)', async () => {
    const bus = new MemoryBus();
    const here = bus.backend();
    const there = bus.backend();
    let delivered = 0;
    there.onMessage(() => {
      delivered++;
    });
    there.subscribe('room');
    const s = await startServer({ pubsub: here });
    s.wss.on('connection', (ws) => ws.subscribe('room'));
    const c = await client(s.port);
    await c.until(() => s.wss.subscribers('room') === 1, 5000).catch(() => undefined);
    there.publish('room', Buffer.from([1, 2, 3]), true);
    there.publish('room', 'text', false);
    await c.until(() => c.messages.length >= 2);
    expect(c.messages.map((m) => [m.binary, [...m.data]])).toEqual([
      [true, [1, 2, 3]],
      [false, [...Buffer.from('text')]],
    ]);
    expect(here.calls.filter((x) => x.startsWith('publish'))).toEqual([]);
    expect(delivered).toBe(0);
    await c.close();
    await s.close();
  });
});

pubsubSuite('an in-memory bus', async () => {
  const bus = new MemoryBus();
  return { a: bus.backend(), b: bus.backend(), dispose: async () => {} };
});

describe('Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** One "process": its own publisher and subscriber connections. */
  async function processClients() {
    const publisher = createClient({ url: redis.url });
    await publisher.connect();
    const subscriber = publisher.duplicate();
    await subscriber.connect();
    return {
      publisher,
      subscriber,
      async quit() {
        await Promise.all([publisher.close(), subscriber.close()]);
      },
    };
  }

  pubsubSuite('Redis (@redis/client, two connections per server)', async () => {
    const one = await processClients();
    const two = await processClients();
    const prefix = `t${Math.random().toString(36).slice(2)}:`;
    return {
      a: redisPubSub({ publisher: one.publisher, subscriber: one.subscriber, prefix }),
      b: redisPubSub({ publisher: two.publisher, subscriber: two.subscriber, prefix }),
      async dispose() {
        await Promise.all([one.quit(), two.quit()]);
      },
    };
  });

  it('skips its own messages, counts them, and skips foreign payloads on its channels', async () => {
    const p = await processClients();
    const backend: RedisPubSub = redisPubSub({
      publisher: p.publisher,
      subscriber: p.subscriber,
      prefix: 'own:',
    });
    const got: unknown[] = [];
    backend.onMessage((topic, data, binary) => got.push([topic, data, binary]));
    backend.subscribe('x');
    await new Promise((r) => setTimeout(r, 100));
    backend.publish('x', 'mine', false);
    await p.publisher.publish('own:x', 'not ours'); // no kind byte and origin: skipped
    const deadline = Date.now() + 5000;
    while (backend.stats().own + backend.stats().invalid < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(backend.stats()).toMatchObject({ sent: 1, own: 1, invalid: 1, received: 0, topics: 1 });
    expect(got).toEqual([]);
    expect(backend.id).toMatch(/^[0-9a-f]{32}$/);
    await backend.close();
    expect(backend.stats().topics).toBe(0);
    await p.quit();
  });

  it('drops and counts past maxPendingBytes while Redis does not answer', async () => {
    const replies: Array<() => void> = [];
    const publisher = {
      publish: () => new Promise<number>((resolve) => replies.push(() => resolve(1))),
    };
    const subscriber = { subscribe: async () => {}, unsubscribe: async () => {} };
    const backend = redisPubSub({ publisher, subscriber, maxPendingBytes: 1000 });
    const payload = 'x'.repeat(200);
    for (let i = 0; i < 10; i++) backend.publish('t', payload, false);
    // Each message is 17 + 200 bytes plus the channel: the fifth reaches 1000, the rest drop.
    expect(backend.stats()).toMatchObject({ sent: 5, dropped: 5 });
    expect(backend.stats().pendingBytes).toBeGreaterThanOrEqual(1000);
    for (const r of replies.splice(0)) r();
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.stats().pendingBytes).toBe(0);
    backend.publish('t', payload, false);
    expect(backend.stats()).toMatchObject({ sent: 6, dropped: 5 });
  });

  it('rejects clients without the needed methods, and a second onMessage', () => {
    expect(() => redisPubSub({ publisher: {} as never, subscriber: {} as never })).toThrow(TypeError);
    const b: PubSubBackend = redisPubSub({
      publisher: { publish: async () => 1 },
      subscriber: { subscribe: async () => {}, unsubscribe: async () => {} },
    });
    b.onMessage(() => {});
    expect(() => b.onMessage(() => {})).toThrow(/already/);
  });

  it('two servers with their own Redis connections share a topic (a failed PUBLISH is counted)', async () => {
    const one = await processClients();
    const two = await processClients();
    const errors: unknown[] = [];
    const a = redisPubSub({
      publisher: one.publisher,
      subscriber: one.subscriber,
      onError: (e) => errors.push(e),
    });
    const b = redisPubSub({ publisher: two.publisher, subscriber: two.subscriber });
    const sa = await startServer({ pubsub: a });
    const sb = await startServer({ pubsub: b });
    for (const s of [sa, sb]) s.wss.on('connection', (ws) => ws.subscribe('chat'));
    const ca = await client(sa.port);
    const cb = await client(sb.port);
    await untilRouted(sb.wss, 'chat', [ca, cb]);
    expect(b.stats().own).toBeGreaterThan(0);
    sb.wss.publish('chat', 'from b');
    await ca.until(() => ca.texts().includes('from b'));
    await ca.close();
    await cb.close();
    await Promise.all([sa.close(), sb.close()]);
    await one.publisher.close();
    a.publish('chat', 'after quit', false); // the backend is closed: nothing is sent
    expect(a.stats().errors).toBe(0);
    await two.quit();
    await one.subscriber.close();
    expect(errors).toEqual([]);
  });
});
