/**
 * The chat room and the live figures across processes: `--workers 2` (the cluster's IPC bus) and
 * two demo processes on different ports sharing one Redis (`--redis URL`, a real `redis-server`
 * on 127.0.0.1). Each welcome names the process (`pid`), so the tests know where a client landed.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LiveSnapshot } from '../src/live';
import { type Demo, runCli, startDemo } from './_harness';
import { type RedisServer, startRedis } from './_redis';

type ChatMessage = {
  type: string;
  name?: string;
  online?: number;
  pid?: number;
  from?: string;
  text?: string;
};

interface Member {
  ws: WebSocket;
  name: string;
  pid: number;
  messages: ChatMessage[];
  /** Resolves once `pred` holds for a message received so far or later (10 s at most). */
  next(pred: (m: ChatMessage) => boolean): Promise<ChatMessage>;
  /** The latest online count this member was told (welcome or online message). */
  online(): number | undefined;
  close(): Promise<void>;
}

function join(url: string): Promise<Member> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
    const messages: ChatMessage[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as ChatMessage;
      messages.push(m);
      for (const w of waiters) w();
      if (m.type === 'welcome') {
        resolve({
          ws,
          name: m.name!,
          pid: m.pid!,
          messages,
          next(pred) {
            return new Promise((ok, fail) => {
              const timer = setTimeout(() => {
                waiters.delete(check);
                fail(new Error(`no such message; got ${JSON.stringify(messages.slice(-5))}`));
              }, 10_000);
              const check = (): void => {
                const hit = messages.find(pred);
                if (hit === undefined) return;
                clearTimeout(timer);
                waiters.delete(check);
                ok(hit);
              };
              waiters.add(check);
              check();
            });
          },
          online() {
            for (let i = messages.length - 1; i >= 0; i--) {
              const o = messages[i]!.online;
              if (typeof o === 'number') return o;
            }
            return undefined;
          },
          close: () =>
            new Promise<void>((done) => {
              if (ws.readyState === WebSocket.CLOSED) return done();
              ws.once('close', () => done());
              ws.close(1000);
            }),
        });
      }
    });
    ws.once('error', reject);
  });
}

/** Polls until `member` was told `online` members in all (figures travel between processes). */
async function untilOnline(member: Member, online: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (member.online() !== online) {
    if (Date.now() > end) throw new Error(`online is ${member.online()}, not ${online}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls Redis until `n` connections subscribe to the chat channel: subscribing is asynchronous,
 * and a process misses what is published before its subscription takes effect (at most once).
 */
async function untilSubscribed(port: number, n: number): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const out = execFileSync('redis-cli', ['-p', String(port), 'PUBSUB', 'NUMSUB', 'strata-demo:chat:chat'], {
      encoding: 'utf8',
    });
    if (Number(out.trim().split('\n')[1]) >= n) return;
    if (Date.now() > end) throw new Error(`chat channel subscribers: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A live snapshot with `n` processes in it. */
function liveWith(url: string, n: number): Promise<LiveSnapshot> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/live/ws`);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no snapshot with ${n} processes`));
    }, 10_000);
    ws.on('message', (d) => {
      const s = JSON.parse(String(d)) as LiveSnapshot;
      if (s.workers.length !== n) return;
      clearTimeout(timer);
      ws.close();
      resolve(s);
    });
    ws.once('error', reject);
  });
}

/** Alice and Bob in one room served by two different processes: messages, online, leave. */
async function roomAcrossProcesses(alice: Member, bob: Member): Promise<void> {
  expect(alice.pid).not.toBe(bob.pid);
  expect(alice.name).not.toBe(bob.name);
  await untilOnline(alice, 2);
  await untilOnline(bob, 2);
  await alice.next((m) => m.type === 'join' && m.name === bob.name);
  alice.ws.send('hello from alice');
  expect(await bob.next((m) => m.type === 'message')).toMatchObject({
    from: alice.name,
    text: 'hello from alice',
  });
  expect(await alice.next((m) => m.type === 'message')).toMatchObject({ text: 'hello from alice' });
  for (let i = 0; i < 20; i++) bob.ws.send(`bob ${i}`);
  await alice.next((m) => m.text === 'bob 19');
  const fromBob = alice.messages.filter((m) => m.type === 'message' && m.from === bob.name);
  expect(fromBob.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `bob ${i}`));
  await bob.close();
  expect(await alice.next((m) => m.type === 'leave')).toMatchObject({ name: bob.name });
  await untilOnline(alice, 1);
  await alice.close();
}

describe('--workers 2', () => {
  it('one chat room across both workers: messages in order, join/leave, the online count, one live view', async () => {
    const demo = await startDemo(['--port', '0', '--workers', '2']);
    try {
      // Fresh connections until the two members are on different workers (bounded).
      const alice = await join(demo.url);
      let bob = await join(demo.url);
      for (let i = 0; i < 30 && bob.pid === alice.pid; i++) {
        await bob.close();
        bob = await join(demo.url);
      }
      expect(bob.pid).not.toBe(alice.pid);
      await roomAcrossProcesses(alice, bob);
      const live = await liveWith(demo.url, 2);
      expect(new Set(live.workers.map((w) => w.pid))).toEqual(new Set([alice.pid, bob.pid]));
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });
});

describe('--redis URL', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two demo processes on different ports share the chat room and the live figures', async () => {
    const one: Demo = await startDemo(['--port', '0', '--redis', redis.url]);
    let two: Demo | null = null;
    try {
      two = await startDemo(['--port', '0', '--redis', redis.url]);
      expect(two.port).not.toBe(one.port);
      const alice = await join(one.url);
      await untilSubscribed(redis.port, 1);
      const bob = await join(two.url);
      await untilSubscribed(redis.port, 2);
      expect([alice.pid, bob.pid]).toEqual([one.child.pid, two.child.pid]);
      await roomAcrossProcesses(alice, bob);
      const live = await liveWith(two.url, 2);
      expect(new Set(live.workers.map((w) => w.pid))).toEqual(new Set([one.child.pid, two.child.pid]));
      expect(live.workers.map((w) => w.label)).toEqual(['main', 'main']);
    } finally {
      expect(await one.stop()).toBe(0);
      if (two !== null) expect(await two.stop()).toBe(0);
    }
  });

  it('a Redis that cannot be reached: one line, exit 1', async () => {
    const dead = `redis://127.0.0.1:${redis.port}`;
    await redis.stop();
    try {
      const r = await runCli(['--port', '0', '--redis', dead], 15_000);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^strata-demo: cannot connect to Redis at ${dead}: .+\\n$`));
    } finally {
      redis = await startRedis();
    }
  });
});
