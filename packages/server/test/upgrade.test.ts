import net from 'node:net';
import type { Connection } from '@strata/transport';
import { afterEach, describe, expect, it } from 'vitest';
import type { Server, ServerRequest } from '../src/index';
import { raw, start, statuses } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

/** Upgrade handler used by the tests: echoes every byte back upper-cased on the raw connection. */
function echoUpgrade(seen: { req?: ServerRequest; head?: string }) {
  return (req: ServerRequest, conn: Connection, head: Uint8Array) => {
    seen.req = req;
    seen.head = Buffer.from(head).toString('latin1');
    conn.setHandlers({
      onData(c, chunk) {
        c.write(Buffer.from(chunk).toString('latin1').toUpperCase());
      },
      onEnd(c) {
        c.end();
      },
    });
    conn.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n');
    if (head.length > 0) conn.write(Buffer.from(head).toString('latin1').toUpperCase());
  };
}

describe('upgrade and CONNECT hand-off', () => {
  it('hands the connection over with the bytes after the head, after earlier pipelined responses', async () => {
    const seen: { req?: ServerRequest; head?: string } = {};
    const s = await start({ handler: (_req, res) => res.send('plain'), onUpgrade: echoUpgrade(seen) });
    server = s.server;
    const r = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.endsWith('MORE')) sock.end();
      });
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
      sock.write(
        'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nearly bytes',
      );
      setTimeout(() => sock.write('more'), 50);
    });
    expect(r.indexOf('plain')).toBeLessThan(r.indexOf('101 Switching'));
    expect(statuses(r)).toEqual([200, 101]);
    expect(r).toContain('EARLY BYTES');
    expect(r.endsWith('MORE')).toBe(true);
    expect(seen.req?.path).toBe('/ws');
    expect(seen.req?.header('upgrade')).toBe('shout');
    expect(seen.head).toBe('early bytes');
  });

  it('CONNECT goes to onUpgrade; without onUpgrade an Upgrade request is served as HTTP/1.1 and the connection stays open', async () => {
    const seen: { req?: ServerRequest; head?: string } = {};
    const s = await start({ handler: (_req, res) => res.send('plain'), onUpgrade: echoUpgrade(seen) });
    server = s.server;
    const r = await raw(s.port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nabc'], {
      timeoutMs: 300,
    });
    expect(statuses(r.text)).toEqual([101]);
    expect(r.text).toContain('ABC');
    expect(seen.req?.method).toBe('CONNECT');
    await s.server.close({ deadline: 100 });
    server = null;

    const s2 = await start({ handler: (req, res) => res.send(`plain ${req.header('upgrade')}`) });
    server = s2.server;
    const r2 = await raw(
      s2.port,
      [
        'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n',
      ],
      { timeoutMs: 300 },
    );
    // RFC 9110 section 7.8: the Upgrade is ignored and both requests are answered on a live connection.
    expect(statuses(r2.text)).toEqual([200, 200]);
    expect(r2.text).toContain('plain h2c');
    expect(r2.text).toContain('plain undefined');
    expect(r2.closed).toBe(false);
  });
});

describe('Expect: 100-continue', () => {
  it("'handler' mode lets the handler refuse before the body, and the connection closes", async () => {
    const s = await start({
      expectContinue: 'handler',
      async handler(req, res) {
        if (req.header('x-allow') === 'yes') {
          res.writeContinue();
          res.send(await req.text());
        } else res.status(417).send('no');
      },
    });
    server = s.server;
    const refused = await raw(s.port, [
      'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n',
    ]);
    expect(statuses(refused.text)).toEqual([417]);
    expect(refused.closed).toBe(true);
    const allowed = await raw(
      s.port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\nX-Allow: yes\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n',
        'abc',
      ],
      { gapMs: 30 },
    );
    expect(statuses(allowed.text)).toEqual([100, 200]);
    expect(allowed.text.endsWith('abc')).toBe(true);
  });
});
