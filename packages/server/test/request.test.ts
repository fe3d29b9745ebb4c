import { createConnectionPair } from '@strata/transport/testing';
import { describe, expect, it } from 'vitest';
import { parseForwarded } from '../src/_proxy';
import { createEngine } from '../src/_server';
import type { ResponseInfo, ServerRequest } from '../src/index';
import { statuses } from './_helpers';

async function one(
  bytes: string,
  options: Partial<Parameters<typeof createEngine>[0]> = {},
  client: { address?: string } = {},
): Promise<{ req: ServerRequest; text: string }> {
  let seen: ServerRequest | null = null;
  const engine = createEngine({
    handler(req, res) {
      seen = req;
      res.send('ok');
    },
    ...options,
  });
  const pair = createConnectionPair(engine.handlers, { client });
  pair.client.write(bytes);
  await pair.client.settle();
  return { req: seen!, text: pair.client.receivedText() };
}

describe('the request object', () => {
  it('exposes method, target, path, query, version, headers (case-insensitive) and addresses', async () => {
    const { req } = await one(
      'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: ex.com\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n',
    );
    expect([req.method, req.url, req.path, req.query, req.httpVersion]).toEqual([
      'GET',
      '/a/b?x=1&y=2',
      '/a/b',
      'x=1&y=2',
      '1.1',
    ]);
    expect(req.header('HOST')).toBe('ex.com');
    expect(req.headerAll('X-MULTI')).toEqual(['1', '2']);
    expect(req.header('missing')).toBeUndefined();
    expect(req.rawHeaders).toEqual(['Host', 'ex.com', 'X-Multi', '1', 'x-multi', '2']);
    expect([req.remoteAddress, req.ip, req.protocol, req.hostname]).toEqual([
      '127.0.0.1',
      '127.0.0.1',
      'http',
      'ex.com',
    ]);
  });

  it('trusts nothing by default: forwarding headers cannot spoof the client', async () => {
    const { req } = await one(
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\n\r\n',
    );
    expect([req.ip, req.protocol]).toEqual(['127.0.0.1', 'http']);
  });

  it('walks X-Forwarded-For from the right through trusted proxies only', async () => {
    const bytes =
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6, 1.2.3.4, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\n\r\n';
    const { req } = await one(bytes, { trustProxy: ['10.0.0.1', '10.0.0.2'] }, { address: '10.0.0.1' });
    expect([req.ip, req.protocol, req.hostname]).toEqual(['1.2.3.4', 'https', 'shop.example']);
    const untrusted = await one(bytes, { trustProxy: ['10.0.0.1'] }, { address: '10.9.9.9' });
    expect(untrusted.req.ip).toBe('10.9.9.9');
  });

  it('parses RFC 7239 Forwarded (quoted IPv6, several elements)', async () => {
    const bytes =
      'GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=6.6.6.6, for="[2001:db8::1]:4711";proto=https;host=b.example\r\n\r\n';
    const { req } = await one(bytes, { trustProxy: (a) => a === '127.0.0.1' });
    expect([req.ip, req.protocol, req.hostname]).toEqual(['2001:db8::1', 'https', 'b.example']);
    expect(parseForwarded(['for=a;proto=http,for="b,c"'])).toEqual([
      { for: 'a', proto: 'http' },
      { for: 'b,c' },
    ]);
  });

  it('body helpers: json(), invalid JSON code, iterator, consumed once', async () => {
    const results: unknown[] = [];
    const engine = createEngine({
      async handler(req, res) {
        if (req.path === '/json') results.push(await req.json());
        if (req.path === '/bad') await req.json().catch((e) => results.push(e.code));
        if (req.path === '/iter') {
          const parts: string[] = [];
          for await (const c of req) parts.push(Buffer.from(c).toString());
          results.push(parts.join('|'));
          await req.text().catch((e) => results.push(e.code));
        }
        res.send('ok');
      },
    });
    const { client } = createConnectionPair(engine.handlers);
    client.write('POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n{"a":1}');
    client.write('POST /bad HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n{x}');
    client.write('POST /iter HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n');
    await client.settle();
    client.write('2\r\ncd\r\n0\r\n\r\n');
    await client.settle();
    await new Promise((r) => setTimeout(r, 10));
    expect(results).toEqual([{ a: 1 }, 'ERR_INVALID_JSON', 'ab|cd', 'ERR_BODY_CONSUMED']);
    expect(statuses(client.receivedText())).toEqual([200, 200, 200]);
  });

  it('signal aborts when the client goes away; access log and counters see every response', async () => {
    const logs: ResponseInfo[] = [];
    let signal: AbortSignal | null = null;
    const engine = createEngine({
      onResponse: (i) => logs.push(i),
      async handler(req, res) {
        if (req.path === '/hang') {
          signal = req.signal;
          return;
        }
        res.status(req.path === '/missing' ? 404 : 200).send('body!');
      },
    });
    const { client } = createConnectionPair(engine.handlers);
    client.write(
      'GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET /hang HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    await client.settle();
    expect(signal!.aborted).toBe(false);
    client.destroy();
    await client.settle();
    expect(signal!.aborted).toBe(true);
    expect(logs.map((l) => [l.method, l.path, l.status])).toEqual([
      ['GET', '/ok', 200],
      ['GET', '/missing', 404],
    ]);
    expect(logs[0]!.bytes).toBeGreaterThan(5);
    expect(logs[0]!.remoteAddress).toBe('127.0.0.1');
    expect(engine.counters.requests).toBe(3);
    expect(engine.counters.byStatus[404]).toBe(1);
  });
});
