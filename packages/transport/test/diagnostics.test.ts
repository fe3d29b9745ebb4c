/**
 * The transport's diagnostics channels over real TCP and TLS sockets: open (addresses, TLS
 * details), data (the bytes as read), close (byte counts, duration, error).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import net from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConnectionCloseMessage,
  type ConnectionDataMessage,
  type ConnectionOpenMessage,
  type Listener,
  listen,
  TransportChannel,
} from '../src/index';
import { makeCert } from './_cert';
import { portOf, until } from './_helpers';

let listener: Listener | null = null;
const subs: [string, (m: unknown) => void][] = [];
function on<T>(name: string, into: T[]): void {
  const fn = (m: unknown) => into.push(m as T);
  subscribe(name, fn);
  subs.push([name, fn]);
}
afterEach(async () => {
  for (const [name, fn] of subs.splice(0)) unsubscribe(name, fn);
  await listener?.close({ deadline: 0 });
  listener = null;
});

describe('strata:transport:* channels', () => {
  it('publish open, every read, and close with byte counts, over TCP', async () => {
    const opens: ConnectionOpenMessage[] = [];
    const data: { id: number; text: string }[] = [];
    const closes: ConnectionCloseMessage[] = [];
    on(TransportChannel.OPEN, opens);
    subscribe(TransportChannel.DATA, collectData);
    subs.push([TransportChannel.DATA, collectData as (m: unknown) => void]);
    function collectData(m: unknown): void {
      const msg = m as ConnectionDataMessage;
      data.push({ id: msg.id, text: Buffer.from(msg.chunk).toString() });
    }
    on(TransportChannel.CLOSE, closes);
    listener = await listen({ host: '127.0.0.1', port: 0 }, { onData: (c, chunk) => c.write(chunk) });
    const port = portOf(listener);
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', r));
    const clientPort = sock.localPort;
    sock.write('hello');
    await new Promise<void>((r) => sock.once('data', () => r()));
    sock.end();
    await until(() => closes.length === 1);
    expect(opens).toHaveLength(1);
    const open = opens[0]!;
    expect(open).toMatchObject({
      remoteAddress: '127.0.0.1',
      remotePort: clientPort,
      localAddress: '127.0.0.1',
      localPort: port,
      encrypted: false,
      tls: null,
    });
    expect(open.connection.id).toBe(open.id);
    expect(data).toEqual([{ id: open.id, text: 'hello' }]);
    const close = closes[0]!;
    expect(close.id).toBe(open.id);
    expect(close.bytesRead).toBe(5);
    expect(close.bytesWritten).toBe(5);
    expect(close.durationMs).toBeGreaterThan(0);
    expect(close.error).toBeUndefined();
  });

  it('open carries the TLS details of an encrypted connection', async () => {
    const pem = makeCert('localhost');
    const opens: ConnectionOpenMessage[] = [];
    on(TransportChannel.OPEN, opens);
    listener = await listen(
      { host: '127.0.0.1', port: 0, tls: { ...pem, ALPNProtocols: ['http/1.1'] } },
      { onData: (c, chunk) => c.write(chunk) },
    );
    const sock = tlsConnect({
      host: '127.0.0.1',
      port: portOf(listener),
      servername: 'localhost',
      ca: pem.cert,
      ALPNProtocols: ['http/1.1'],
    });
    await new Promise<void>((r, j) => sock.once('secureConnect', r).once('error', j));
    await until(() => opens.length === 1);
    sock.destroy();
    expect(opens[0]).toMatchObject({
      encrypted: true,
      tls: { protocol: 'TLSv1.3', alpnProtocol: 'http/1.1', servername: 'localhost' },
    });
    expect(opens[0]!.tls!.cipher).toMatch(/^TLS_/);
  });

  it('close reports the error of a connection the listener cut (idle timeout)', async () => {
    const closes: ConnectionCloseMessage[] = [];
    on(TransportChannel.CLOSE, closes);
    listener = await listen({ host: '127.0.0.1', port: 0, idleTimeout: 50 }, { onData() {} });
    const sock = net.connect(portOf(listener), '127.0.0.1');
    sock.on('error', () => {});
    await until(() => closes.length === 1, 3000);
    expect((closes[0]!.error as { code?: string }).code).toBe('ERR_TRANSPORT_IDLE_TIMEOUT');
    sock.destroy();
  });
});
