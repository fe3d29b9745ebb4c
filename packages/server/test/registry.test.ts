import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { raw, start, statuses } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

/** A keep-alive connection that has had one response. */
function keepAliveClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', reject);
    s.once('data', () => resolve(s));
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('open connections (sweep and shutdown list)', () => {
  it('sweeps idle connections that remain after others closed in any order', async () => {
    const s = await start({
      handler: (_req, res) => res.send('ok'),
      timeouts: { keepAlive: 300 },
    });
    server = s.server;
    const clients: net.Socket[] = [];
    for (let i = 0; i < 6; i++) clients.push(await keepAliveClient(s.port));
    expect(s.server.stats().connections).toBe(6);
    // Leave from the middle, the newest and the oldest of the list.
    for (const i of [3, 5, 0]) clients[i]!.destroy();
    await until(() => s.server.stats().connections === 3);
    const closedByServer = clients.filter((_, i) => i !== 0 && i !== 3 && i !== 5);
    const closes = closedByServer.map((c) => new Promise((r) => c.once('close', r)));
    await Promise.all(closes); // the keep-alive timeout ends the rest
    await until(() => s.server.stats().connections === 0);
    expect(s.server.stats()).toMatchObject({ connections: 0, totalConnections: 6, responses: 6 });
  });

  it('many short Connection: close requests leave nothing open, and close() still drains', async () => {
    const s = await start({ handler: (_req, res) => res.send('ok') });
    server = s.server;
    const runs: Promise<{ text: string }>[] = [];
    for (let i = 0; i < 40; i++)
      runs.push(raw(s.port, ['GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']));
    const results = await Promise.all(runs);
    expect(results.every((r) => statuses(r.text).join() === '200')).toBe(true);
    await until(() => s.server.stats().connections === 0);
    const idle = await keepAliveClient(s.port);
    const idleClosed = new Promise((r) => idle.once('close', r));
    await s.server.close({ deadline: 1000 });
    server = null;
    await idleClosed;
    expect(s.server.stats()).toMatchObject({ connections: 0, totalConnections: 41, responses: 41 });
  });
});

describe('ConnRegistry membership', () => {
  it('add and delete are idempotent, from any position', async () => {
    const { ConnRegistry } = await import('../src/_registry');
    type Member = Parameters<InstanceType<typeof ConnRegistry>['add']>[0];
    const reg = new ConnRegistry();
    const m = Array.from({ length: 4 }, () => ({ regPrev: null, regNext: null }) as unknown as Member);
    for (const s of m) reg.add(s);
    reg.add(m[2]!); // already in: no change
    expect(reg.size).toBe(4);
    expect(reg.toArray()).toEqual([m[3], m[2], m[1], m[0]]);
    reg.delete(m[1]!);
    reg.delete(m[1]!); // already out: no change
    reg.delete(m[3]!); // the first
    expect(reg.size).toBe(2);
    expect(reg.toArray()).toEqual([m[2], m[0]]);
    expect(reg.has(m[1]!) || reg.has(m[3]!)).toBe(false);
    reg.add(m[1]!); // back in after leaving
    expect(reg.toArray()).toEqual([m[1], m[2], m[0]]);
    for (const s of m) reg.delete(s);
    expect(reg.size).toBe(0);
    expect(reg.first).toBe(null);
  });
});
