import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SocketConnection } from '../src/_connection';
import { type Connection, type Listener, listen } from '../src/index';
import { collect, dial, portOf, until } from './_helpers';

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close({ deadline: 0 })));
});

/** The connection a socket points back at (the transport's private symbol), if any. */
function linkOf(socket: Socket): unknown {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'strata.connection');
  return sym === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[sym];
}

describe('connection lifetime', () => {
  it('a closed socket no longer points at its connection (nor at what hangs off it)', async () => {
    const conns: Connection[] = [];
    const l = await listen(
      { host: '127.0.0.1', port: 0 },
      {
        onOpen(c) {
          c.data = { big: new Uint8Array(1024) };
          conns.push(c);
        },
        onData(c, chunk) {
          c.end(chunk);
        },
      },
    );
    listeners.push(l);
    const s = await dial(portOf(l));
    const got = collect(s);
    await until(() => conns.length === 1);
    const socket = (conns[0] as SocketConnection).socket;
    expect(linkOf(socket)).toBe(conns[0]);
    s.end('bye');
    expect((await got).toString()).toBe('bye');
    await until(() => conns[0]!.closed);
    expect(linkOf(socket)).toBeUndefined();
    // The connection itself keeps working as a record of what happened.
    expect(conns[0]!.remoteAddress).toBe('127.0.0.1');
    expect(l.stats()).toMatchObject({ open: 0, total: 1, bytesIn: 3, bytesOut: 3 });
  });

  it('counts open connections right when they close in any order', async () => {
    const conns: Connection[] = [];
    const l = await listen(
      { host: '127.0.0.1', port: 0 },
      {
        onOpen(c) {
          conns.push(c);
        },
        onData(c, chunk) {
          c.write(chunk);
        },
      },
    );
    listeners.push(l);
    const sockets: Socket[] = [];
    for (let i = 0; i < 6; i++) sockets.push(await dial(portOf(l)));
    await until(() => l.stats().open === 6);
    // Close the middle, the newest, then the oldest: every position of the list.
    for (const i of [2, 5, 0]) sockets[i]!.destroy();
    await until(() => l.stats().open === 3);
    expect(l.stats()).toMatchObject({ open: 3, total: 6 });
    // The rest still work and still count.
    const got = collect(sockets[3]!);
    sockets[3]!.end('x');
    expect((await got).toString()).toBe('x');
    sockets[1]!.destroy();
    sockets[4]!.destroy();
    await until(() => l.stats().open === 0);
    const closed = l.close({ deadline: 1000 });
    await closed;
    expect(conns.every((c) => c.closed)).toBe(true);
  });
});
