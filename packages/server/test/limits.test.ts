import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { raw, sleep, start, statuses } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

const hello = {
  async handler(req: import('../src/index').ServerRequest, res: import('@strata/response').ResponseWriter) {
    if (req.method === 'POST') {
      try {
        res.send(await req.body());
      } catch {
        // the server already answered with the limit's status
      }
      return;
    }
    res.send('hi');
  },
};

describe('limits over a real socket', () => {
  it('431 for a head above maxHeaderBytes, 414 for a long URL, then close', async () => {
    const s = await start({ ...hello, limits: { maxHeaderBytes: 1024, maxRequestLineBytes: 256 } });
    server = s.server;
    const big = await raw(s.port, [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`]);
    expect(statuses(big.text)).toEqual([431]);
    expect(big.closed).toBe(true);
    const long = await raw(s.port, [`GET /${'u'.repeat(400)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(statuses(long.text)).toEqual([414]);
    expect(long.closed).toBe(true);
  });

  it('413 for a declared or streamed body above maxBodyBytes', async () => {
    const s = await start({ ...hello, limits: { maxBodyBytes: 100 } });
    server = s.server;
    const declared = await raw(s.port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n']);
    expect(statuses(declared.text)).toEqual([413]);
    expect(declared.closed).toBe(true);
    const chunked = await raw(
      s.port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
        `40\r\n${'a'.repeat(64)}\r\n`,
        `40\r\n${'b'.repeat(64)}\r\n0\r\n\r\n`,
      ],
      { gapMs: 20 },
    );
    expect(statuses(chunked.text)).toEqual([413]);
    expect(chunked.closed).toBe(true);
    const ok = await raw(s.port, [
      `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100\r\n\r\n${'z'.repeat(100)}`,
    ]);
    expect(statuses(ok.text)).toEqual([200]);
  });

  it('400 with a canned body for malformed requests, no resync', async () => {
    const s = await start(hello);
    server = s.server;
    const r = await raw(s.port, [
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\n\r\n',
    ]);
    expect(statuses(r.text)).toEqual([400]);
    expect(r.text).toMatch(/connection: close/i);
    expect(r.closed).toBe(true);
  });
});

describe('timeouts', () => {
  it('slowloris is cut at the headers timeout with 408 while another client is served', async () => {
    const s = await start({ ...hello, timeouts: { headers: 300, request: 5000, keepAlive: 5000 } });
    server = s.server;
    const head =
      'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n';
    const t0 = Date.now();
    const slow = raw(s.port, head.split(''), { gapMs: 25, timeoutMs: 4000 });
    await sleep(100);
    const fast = await fetch(`${s.url}/`);
    expect(await fast.text()).toBe('hi');
    const r = await slow;
    const elapsed = Date.now() - t0;
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(1500);
  });

  it('a body dribbled past the request timeout gets 408', async () => {
    const s = await start({ ...hello, timeouts: { headers: 1000, request: 300, keepAlive: 5000 } });
    server = s.server;
    const pieces = ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n', ...'x'.repeat(40).split('')];
    const r = await raw(s.port, pieces, { gapMs: 25, timeoutMs: 4000 });
    expect(statuses(r.text)).toEqual([408]);
    expect(r.closed).toBe(true);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout, without a response', async () => {
    const s = await start({ ...hello, timeouts: { keepAlive: 200 } });
    server = s.server;
    const t0 = Date.now();
    const r = await raw(s.port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 3000 });
    expect(statuses(r.text)).toEqual([200]);
    expect(r.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
