import { describe, expect, it } from 'vitest';
import { type Connection, type ConnectionHandlers, TransportErrorCode } from '../src/index';
import { createConnectionPair } from '../src/testing';

const echo: ConnectionHandlers = {
  onData(conn, chunk) {
    conn.write(chunk);
  },
};

describe('createConnectionPair', () => {
  it('delivers bytes both ways, asynchronously, with the Connection interface', async () => {
    let opened: Connection | null = null;
    const { server, client } = createConnectionPair(
      {
        onOpen(c) {
          opened = c;
        },
        onData: echo.onData,
      },
      { client: { address: '10.1.2.3', port: 4444 }, encrypted: true },
    );
    expect(opened).toBe(server);
    expect(server.remoteAddress).toBe('10.1.2.3');
    expect(server.remotePort).toBe(4444);
    expect(server.encrypted).toBe(true);
    client.write('ping');
    expect(client.receivedText()).toBe(''); // not synchronous, like a socket
    await client.settle();
    expect(client.receivedText()).toBe('ping');
  });

  it('splits deliveries with maxChunk and poisons chunks after onData', async () => {
    const kept: Uint8Array[] = [];
    const seen: string[] = [];
    const { client } = createConnectionPair(
      {
        onData(_c, chunk) {
          seen.push(Buffer.from(chunk).toString());
          kept.push(chunk); // a bug: keeping the view past the call
        },
      },
      { maxChunk: 1 },
    );
    client.write('abc');
    await client.settle();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(kept.every((k) => k[0] === 0xee)).toBe(true);
  });

  it('sends a cork batch as one chunk (one flush)', async () => {
    const chunks: string[] = [];
    const { server, client } = createConnectionPair(
      { onData() {} },
      {},
      {
        onData(_c, chunk) {
          chunks.push(Buffer.from(chunk).toString());
        },
      },
    );
    server.cork();
    server.write('a');
    server.write(new Uint8Array([0x62]));
    server.write('c');
    server.uncork();
    await client.settle();
    expect(chunks).toEqual(['abc']);
    expect(server.flushes).toBe(1);
    expect(server.writes).toBe(3);
  });

  it('applies backpressure while the reader is paused and drains after resume', async () => {
    let drains = 0;
    const { server, client } = createConnectionPair(
      {
        onData() {},
        onDrain() {
          drains++;
        },
      },
      { highWaterMark: 100 },
    );
    client.pause();
    expect(server.write(Buffer.alloc(60))).toBe(true);
    expect(server.write(Buffer.alloc(60))).toBe(false);
    expect(server.writableLength).toBe(120);
    await client.settle();
    expect(drains).toBe(0);
    client.resume();
    await client.settle();
    expect(drains).toBe(1);
    expect(client.receivedBytes().length).toBe(120);
  });

  it('half-closes: onEnd lets the owner answer, then both sides close cleanly', async () => {
    const { client, server } = createConnectionPair({
      onData() {},
      onEnd(c) {
        c.end('bye');
      },
    });
    client.end('last');
    expect(await client.whenClosed()).toBeUndefined();
    expect(await server.whenClosed()).toBeUndefined();
    expect(client.receivedText()).toBe('bye');
    expect(client.peerEnded).toBe(true);
  });

  it('ends its side by itself without onEnd', async () => {
    const { client, server } = createConnectionPair(echo);
    client.end('x');
    await server.whenClosed();
    expect(client.receivedText()).toBe('x');
    expect(client.closed && server.closed).toBe(true);
  });

  it('destroy closes both sides; the peer sees ERR_TRANSPORT_PEER_RESET', async () => {
    const { client, server } = createConnectionPair(echo);
    const boom = new Error('boom');
    server.destroy(boom);
    expect(await server.whenClosed()).toBe(boom);
    expect(await client.whenClosed()).toMatchObject({ code: TransportErrorCode.PEER_RESET });
    expect(server.write('x')).toBe(false);
  });

  it('fires the idle timeout (onTimeout, or destroy without it) and activity restarts it', async () => {
    let timeouts = 0;
    const a = createConnectionPair(
      {
        onData() {},
        onTimeout(c) {
          timeouts++;
          c.end();
        },
      },
      { idleTimeout: 40 },
    );
    await a.server.whenClosed();
    expect(timeouts).toBe(1);

    const b = createConnectionPair({ onData() {} }, { idleTimeout: 60 });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 30));
      b.client.write('.');
    }
    expect(b.server.closed).toBe(false);
    expect(await b.server.whenClosed()).toMatchObject({ code: TransportErrorCode.IDLE_TIMEOUT });
  });

  it('hands off with setHandlers', async () => {
    const later: string[] = [];
    const { client, server } = createConnectionPair({
      onData(c) {
        c.setHandlers({
          onData(_c, chunk) {
            later.push(Buffer.from(chunk).toString());
          },
        });
      },
    });
    client.write('first');
    await client.settle();
    client.write('second');
    await client.settle();
    expect(later).toEqual(['second']);
    server.destroy();
  });
});
