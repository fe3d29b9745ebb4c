import { type ConnectionOptions, createSecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, type Listener, listen } from '../src/index';
import { makeCert } from './_cert';
import { portOf, until } from './_helpers';

let pem: { cert: string; key: string };
let other: { cert: string; key: string };
let listener: Listener;
const sniNames: string[] = [];
const conns: Connection[] = [];

beforeAll(async () => {
  pem = makeCert('localhost');
  other = makeCert('other.test');
  const otherCtx = createSecureContext(other);
  listener = await listen(
    {
      host: '127.0.0.1',
      port: 0,
      tls: {
        cert: pem.cert,
        key: pem.key,
        ALPNProtocols: ['http/1.1'],
        SNICallback(name, cb) {
          sniNames.push(name);
          cb(null, name === 'other.test' ? otherCtx : undefined);
        },
      },
    },
    {
      onOpen(c) {
        conns.push(c);
      },
      onData(c, chunk) {
        c.write(chunk);
      },
    },
  );
});

afterAll(async () => {
  await listener.close({ deadline: 0 });
});

function dialTls(servername: string, extra: Record<string, unknown> = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect(
      {
        host: '127.0.0.1',
        port: portOf(listener),
        servername,
        ca: [pem.cert, other.cert],
        ALPNProtocols: ['http/1.1'],
        ...extra,
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
}

function roundTrip(s: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) {
        s.off('data', onData);
        resolve(got);
      }
    };
    s.on('data', onData);
    s.write(text);
  });
}

describe('TLS', () => {
  it('serves TLS with a certificate made at test time, negotiates ALPN http/1.1, marks encrypted', async () => {
    const s = await dialTls('localhost');
    expect(s.authorized).toBe(true);
    expect(s.alpnProtocol).toBe('http/1.1');
    expect(await roundTrip(s, 'secret hello')).toBe('secret hello');
    const conn = conns.at(-1)! as Connection & { alpnProtocol: string | false; servername: string | false };
    expect(conn.encrypted).toBe(true);
    expect(conn.alpnProtocol).toBe('http/1.1');
    expect(conn.servername).toBe('localhost');
    expect(conn.remoteAddress).toBe('127.0.0.1');
    s.destroy();
  });

  it('picks the certificate with the SNI callback', async () => {
    const s = await dialTls('other.test');
    expect(s.getPeerCertificate().subject.CN).toBe('other.test');
    expect(sniNames).toContain('other.test');
    expect(await roundTrip(s, 'x')).toBe('x');
    s.destroy();
  });

  it('resumes sessions', async () => {
    const first = await dialTls('localhost');
    const session = await new Promise<Buffer>((resolve) => {
      first.once('session', resolve);
      void roundTrip(first, 'warm');
    });
    expect(first.isSessionReused()).toBe(false);
    first.end();
    const second = await dialTls('localhost', { session });
    expect(second.isSessionReused()).toBe(true);
    expect(await roundTrip(second, 'again')).toBe('again');
    second.destroy();
  });

  it('counts the connection and closes cleanly when the client ends', async () => {
    const before = listener.stats().total;
    const s = await dialTls('localhost');
    await roundTrip(s, 'bye');
    s.end();
    await until(() => listener.stats().total === before + 1 && conns.at(-1)!.closed);
  });
});

describe('TLS graceful close', () => {
  it('lets a busy TLS connection finish and ends an idle one', async () => {
    let gotData = false;
    const l = await listen(
      { host: '127.0.0.1', port: 0, tls: { cert: pem.cert, key: pem.key } },
      {
        onOpen(c) {
          c.idle = true;
        },
        onData(c) {
          c.idle = false;
          gotData = true;
          setTimeout(() => {
            c.write('finished');
            c.idle = true;
          }, 150);
        },
      },
    );
    const dial = (): Promise<TLSSocket> =>
      new Promise((resolve) => {
        const s = tlsConnect(
          { host: '127.0.0.1', port: portOf(l), servername: 'localhost', ca: pem.cert },
          () => resolve(s),
        );
      });
    const idle = await dial();
    const busy = await dial();
    const text = (s: TLSSocket): Promise<string> =>
      new Promise((resolve) => {
        let t = '';
        s.on('data', (d: Buffer) => {
          t += d.toString();
        });
        s.on('error', () => {});
        s.once('close', () => resolve(t));
      });
    const idleText = text(idle);
    const busyText = text(busy);
    busy.write('go');
    await until(() => gotData);
    await l.close({ deadline: 3000 });
    expect(await idleText).toBe('');
    expect(await busyText).toBe('finished');
  });
});

describe('TLS half-close', () => {
  it('keeps the server side writable after the client ends (allowHalfOpen over TLS)', async () => {
    const l = await listen(
      { host: '127.0.0.1', port: 0, tls: { cert: pem.cert, key: pem.key } },
      {
        onData(c, d) {
          c.data = `${(c.data as string | undefined) ?? ''}${Buffer.from(d).toString()}`;
        },
        onEnd(c) {
          setTimeout(() => c.end(`got ${c.data as string}`), 30);
        },
      },
    );
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect(
          // allowHalfOpen is honoured by tls.connect at run time but missing from @types/node's options.
          {
            host: '127.0.0.1',
            port: portOf(l),
            ca: pem.cert,
            servername: 'localhost',
            allowHalfOpen: true,
          } as ConnectionOptions,
          () => s.end('request'),
        );
        let text = '';
        s.on('data', (d: Buffer) => {
          text += d.toString();
        });
        s.once('error', reject);
        s.once('close', () => resolve(text));
      });
      expect(out).toBe('got request');
    } finally {
      await l.close({ deadline: 0 });
    }
  });
});
