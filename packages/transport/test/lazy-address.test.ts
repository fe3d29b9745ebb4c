import { afterEach, describe, expect, it } from 'vitest';
import { type Connection, type Listener, type ListenOptions, listen } from '../src/index';
import { createConnectionPair } from '../src/testing';
import { collect, dial, portOf, Recorder, until } from './_helpers';

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close({ deadline: 0 })));
});

async function start(opts: ListenOptions, onData: (c: Connection, chunk: Uint8Array) => void) {
  const rec = new Recorder();
  const l = await listen(
    { host: '127.0.0.1', port: 0, ...opts },
    {
      onOpen: (c) => rec.onOpen(c),
      onData(c, chunk) {
        rec.onData(c, chunk);
        onData(c, chunk);
      },
      onClose: (c, e) => rec.onClose(c, e),
    },
  );
  listeners.push(l);
  return { l, rec };
}

describe('lazyRemoteAddress', () => {
  it('reads the peer on first use, and the value stays valid after close', async () => {
    const { l, rec } = await start({ lazyRemoteAddress: true }, (c, chunk) => {
      c.end(`${c.remoteAddress}:${c.remotePort}|${Buffer.from(chunk).toString()}`);
    });
    const s = await dial(portOf(l));
    const clientPort = s.localPort;
    const got = collect(s);
    s.write('hi');
    expect((await got).toString()).toBe(`127.0.0.1:${clientPort}|hi`);
    await until(() => rec.events.some((e) => e.startsWith('close:')));
    const conn = rec.conns[0]!;
    expect(conn.closed).toBe(true);
    expect([conn.remoteAddress, conn.remotePort]).toEqual(['127.0.0.1', clientPort]);
  });

  it('reads the peer before destroying a connection nobody asked about', async () => {
    const { l, rec } = await start({ lazyRemoteAddress: true }, (c) => c.destroy());
    const s = await dial(portOf(l));
    const clientPort = s.localPort;
    const got = collect(s);
    s.write('x');
    await got;
    await until(() => rec.events.some((e) => e.startsWith('close:')));
    const conn = rec.conns[0]!;
    expect(conn.closed).toBe(true);
    expect([conn.remoteAddress, conn.remotePort]).toEqual(['127.0.0.1', clientPort]);
  });

  it('takes the address from an accepted PROXY header, also after close', async () => {
    const { l, rec } = await start(
      { lazyRemoteAddress: true, proxyProtocol: { trusted: ['127.0.0.1'] } },
      (c, chunk) => c.end(`${c.remoteAddress}:${c.remotePort}|${Buffer.from(chunk).toString()}`),
    );
    const s = await dial(portOf(l));
    const got = collect(s);
    s.write('PROXY TCP4 198.51.100.4 127.0.0.1 40000 80\r\nping');
    expect((await got).toString()).toBe('198.51.100.4:40000|ping');
    await until(() => rec.events.some((e) => e.startsWith('close:')));
    const conn = rec.conns[0]!;
    expect([conn.remoteAddress, conn.remotePort]).toEqual(['198.51.100.4', 40000]);
  });

  it('falls back to the socket peer for a PROXY LOCAL header (health checks)', async () => {
    const { l } = await start({ lazyRemoteAddress: true, proxyProtocol: { trusted: ['127.0.0.1'] } }, (c) =>
      c.end(`${c.remoteAddress}:${c.remotePort}`),
    );
    const s = await dial(portOf(l));
    const clientPort = s.localPort;
    const got = collect(s);
    // v2 LOCAL command, family UNSPEC, no address block.
    s.write(
      Buffer.from([
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00, 0x41,
      ]),
    );
    expect((await got).toString()).toBe(`127.0.0.1:${clientPort}`);
  });
});

describe('stableChunks', () => {
  it('is true for socket connections: a chunk kept after onData is never overwritten', async () => {
    const kept: Uint8Array[] = [];
    const { l, rec } = await start({}, (c, chunk) => {
      expect(c.stableChunks).toBe(true);
      kept.push(chunk); // no copy: allowed because stableChunks is true
      if (Buffer.concat(kept).length >= 6) c.end();
    });
    const s = await dial(portOf(l));
    s.setNoDelay(true);
    const got = collect(s);
    // Three separate reads (each waits for the previous one): three fresh buffers.
    for (const [i, piece] of ['ab', 'cd', 'ef'].entries()) {
      s.write(piece);
      await until(() => Buffer.concat(kept).length >= 2 * (i + 1));
    }
    await got;
    await until(() => rec.events.some((e) => e.startsWith('close:')));
    expect(Buffer.concat(kept).toString()).toBe('abcdef');
    expect(rec.text(rec.conns[0]!.id)).toBe('abcdef');
  });

  it('is false for the in-memory pair (which poisons chunks after the call)', () => {
    const pair = createConnectionPair({ onData() {} });
    expect(pair.server.stableChunks).toBe(false);
    expect(pair.client.stableChunks).toBe(false);
  });
});
