import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type Listener, type ListenOptions, listen } from '../src/index';
import { makeCert } from './_cert';
import { collect, dial, portOf, Recorder, until } from './_helpers';

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close({ deadline: 0 })));
});

async function start(opts: ListenOptions): Promise<{ l: Listener; rec: Recorder }> {
  const rec = new Recorder();
  const l = await listen(
    { host: '127.0.0.1', port: 0, ...opts },
    {
      onOpen: (c) => rec.onOpen(c),
      onData(c, chunk) {
        rec.onData(c, chunk);
        c.write(`${c.remoteAddress}:${c.remotePort}|${Buffer.from(chunk).toString()}`);
      },
      onClose: (c, e) => rec.onClose(c, e),
    },
  );
  listeners.push(l);
  return { l, rec };
}

const V2_IPV4 = Buffer.concat([
  Buffer.from([
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
  ]),
  Buffer.from([203, 0, 113, 7, 127, 0, 0, 1, 0x1f, 0x90, 0x00, 0x50]), // 203.0.113.7:8080 -> :80
]);

describe('PROXY protocol on a listener', () => {
  it('takes the client address from a v1 header sent by a trusted peer, byte by byte', async () => {
    const { l, rec } = await start({ proxyProtocol: { trusted: ['127.0.0.0/8'] } });
    const s = await dial(portOf(l));
    s.setNoDelay(true);
    const got = collect(s);
    const header = 'PROXY TCP4 192.0.2.10 127.0.0.1 51000 80\r\n';
    for (const ch of header.slice(0, -1)) {
      s.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.conns.length).toBe(0); // no connection until the header is complete
    s.write('\n');
    await until(() => rec.conns.length === 1);
    s.write('hello');
    await until(() => rec.conns.length === 1 && rec.received.size === 1);
    const conn = rec.conns[0]!;
    expect(conn.remoteAddress).toBe('192.0.2.10');
    expect(conn.remotePort).toBe(51000);
    expect(conn.proxy).toMatchObject({ version: 1, destinationPort: 80 });
    s.end();
    expect((await got).toString()).toBe('192.0.2.10:51000|hello');
  });

  it('takes the client address from a v2 header and keeps bytes that came in the same packet', async () => {
    const { l, rec } = await start({ proxyProtocol: { trusted: ['127.0.0.1'] } });
    const s = await dial(portOf(l));
    const got = collect(s);
    s.end(Buffer.concat([V2_IPV4, Buffer.from('payload')]));
    expect((await got).toString()).toBe('203.0.113.7:8080|payload');
    expect(rec.conns[0]!.proxy?.version).toBe(2);
  });

  it('uses the real address for LOCAL commands', async () => {
    const { l } = await start({ proxyProtocol: { trusted: ['127.0.0.1'] } });
    const local = Buffer.from(V2_IPV4);
    local[12] = 0x20; // LOCAL
    const s = await dial(portOf(l));
    const port = s.localPort;
    const got = collect(s);
    s.end(Buffer.concat([local, Buffer.from('hc')]));
    expect((await got).toString()).toBe(`127.0.0.1:${port}|hc`);
  });

  it('drops a trusted peer that sends a malformed header, without opening a connection', async () => {
    const { l, rec } = await start({ proxyProtocol: { trusted: ['127.0.0.1'] } });
    const s = await dial(portOf(l));
    const got = collect(s);
    s.write('PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n\r\n');
    expect((await got).length).toBe(0);
    expect(rec.conns.length).toBe(0);
    const s2 = await dial(portOf(l));
    const got2 = collect(s2);
    s2.write('GET / HTTP/1.1\r\n\r\n'); // a trusted peer must send a header
    expect((await got2).length).toBe(0);
    expect(rec.conns.length).toBe(0);
  });

  it('drops a trusted peer that does not finish its header in time', async () => {
    const { l, rec } = await start({ proxyProtocol: { trusted: ['127.0.0.1'], timeout: 80 } });
    const s = await dial(portOf(l));
    const got = collect(s);
    s.write('PROXY TCP4 ');
    const t0 = Date.now();
    await got;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(rec.conns.length).toBe(0);
  });

  it('does not inspect bytes from untrusted peers: a forged header is just data', async () => {
    const { l, rec } = await start({ proxyProtocol: { trusted: ['10.0.0.0/8', '::ffff:192.168.0.0/112'] } });
    const s = await dial(portOf(l));
    const port = s.localPort;
    const got = collect(s);
    s.end('PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\n');
    expect((await got).toString()).toBe(`127.0.0.1:${port}|PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\n`);
    expect(rec.conns[0]!.proxy).toBeNull();
  });

  it('reads the header before the TLS handshake', async () => {
    const pem = makeCert();
    const { l, rec } = await start({ tls: pem, proxyProtocol: { trusted: ['127.0.0.1'] } });
    const raw = await dial(portOf(l));
    raw.write('PROXY TCP4 198.51.100.9 127.0.0.1 4242 443\r\n');
    const s = tlsConnect({ socket: raw, servername: 'localhost', ca: pem.cert });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
    });
    const got = collect(s);
    s.end('tls');
    expect((await got).toString()).toBe('198.51.100.9:4242|tls');
    expect(rec.conns[0]!.encrypted).toBe(true);
  });
});
