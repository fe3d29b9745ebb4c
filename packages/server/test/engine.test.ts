/**
 * The connection engine over the in-memory transport pair: pipelining at every split point, byte by
 * byte, one flush per batch, ordering with async handlers, close semantics, errors in order.
 */
import type { ResponseWriter } from '@strata/response';
import { createConnectionPair } from '@strata/transport/testing';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/_server';
import type { ServerRequest } from '../src/index';
import { statuses } from './_helpers';

const norm = (t: string) => t.replace(/Date: [^\r]*\r\n/gi, '');

async function echoHandler(req: ServerRequest, res: ResponseWriter): Promise<void> {
  if (req.method === 'POST') {
    const body = await req.text();
    res.header('content-type', 'text/plain').send(`${req.path}:${body}:${req.rawTrailers.join('=')}`);
    return;
  }
  res.header('content-type', 'text/plain').send(`${req.method} ${req.url}`);
}

const PIPELINE =
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n' +
  'GET /d?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' +
  'GET /ignored HTTP/1.1\r\nHost: x\r\n\r\n';

async function drive(pieces: string[], maxChunk?: number) {
  const engine = createEngine({ handler: echoHandler });
  const { server, client } = createConnectionPair(engine.handlers, maxChunk ? { maxChunk } : {});
  for (const p of pieces) {
    client.write(p);
    await client.settle();
  }
  await client.settle();
  return { text: norm(client.receivedText()), server, client, engine };
}

describe('pipelining', () => {
  it('answers pipelined requests in order, ignores bytes after Connection: close, then closes', async () => {
    const { text, server } = await drive([PIPELINE]);
    expect(statuses(text)).toEqual([200, 200, 200, 200]);
    const bodies = text
      .split('\r\n\r\n')
      .slice(1)
      .map((b) => b.split('HTTP/1.1')[0]);
    expect(bodies).toEqual(['GET /a', '/b:hello:', '/c:abc:T=v', 'GET /d?q=1']);
    expect(text).not.toContain('ignored');
    expect(text).toMatch(/connection: close/i);
    expect(server.closed).toBe(true);
  });

  it('sends every response produced while handling one read in one flush', async () => {
    const engine = createEngine({ handler: echoHandler });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write('GET /hello HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(16));
    await client.settle();
    expect(statuses(client.receivedText())).toHaveLength(16);
    // One chunk reaches the peer: the transport's cork batched the 16 responses into one write.
    expect(server.flushes).toBe(1);
  });

  it('gives the same bytes at every split point and byte by byte', async () => {
    const whole = (await drive([PIPELINE])).text;
    for (let i = 1; i < PIPELINE.length; i++) {
      const { text } = await drive([PIPELINE.slice(0, i), PIPELINE.slice(i)]);
      if (text !== whole) expect({ split: i, text }).toEqual({ split: i, text: whole });
    }
    const { text } = await drive([PIPELINE], 1);
    expect(text).toBe(whole);
  });

  it('keeps request order when an earlier handler is slower', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const engine = createEngine({
      async handler(req, res) {
        if (req.path === '/slow') await gate;
        res.send(req.path);
      },
    });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write(
      'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast1 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast2 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await client.settle();
    expect(client.receivedText()).toBe(''); // the fast ones wait behind /slow
    release();
    await client.settle();
    const text = norm(client.receivedText());
    const order = [...text.matchAll(/\r\n\r\n(\/[a-z0-9]+)/g)].map((m) => m[1]);
    expect(order).toEqual(['/slow', '/fast1', '/fast2']);
    // the slow response released the two buffered ones in the same flush
    expect(server.flushes).toBe(1);
  });

  it('answers a framing error after the valid requests before it, then closes (no resync)', async () => {
    const { text, server } = await drive([
      'GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n',
    ]);
    expect(statuses(text)).toEqual([200, 400]);
    expect(text).toContain('GET /ok');
    expect(text).not.toContain('/after');
    expect(server.closed).toBe(true);
  });

  it('HTTP/1.0 without keep-alive closes after one response', async () => {
    const { text, server } = await drive(['GET /x HTTP/1.0\r\n\r\nGET /y HTTP/1.0\r\n\r\n']);
    expect(statuses(text)).toEqual([200]);
    expect(server.closed).toBe(true);
  });

  it('HTTP/1.0 with Connection: keep-alive stays open', async () => {
    const engine = createEngine({ handler: echoHandler });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write(
      'GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    );
    await client.settle();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([200, 200]);
    expect(text.match(/connection: keep-alive/gi)).toHaveLength(2);
    expect(server.closed).toBe(false);
  });

  it('honours maxRequestsPerConnection with Connection: close on the last one', async () => {
    const engine = createEngine({ handler: echoHandler, limits: { maxRequestsPerConnection: 2 } });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write(
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await client.settle();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([200, 200]);
    expect(text.split('HTTP/1.1 200')[2]).toMatch(/connection: close/i);
    expect(server.closed).toBe(true);
  });

  it('client half-close: complete requests are answered, then the server closes', async () => {
    const engine = createEngine({ handler: echoHandler });
    const { client, server } = createConnectionPair(engine.handlers);
    client.end('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.settle();
    await server.whenClosed();
    expect(statuses(client.receivedText())).toEqual([200, 200]);
  });

  it('pauses reading while too many responses wait, and resumes', async () => {
    let release: (() => void) | null = null;
    const gate = new Promise<void>((r) => (release = r));
    const engine = createEngine({
      limits: { maxPipelined: 4 },
      async handler(req, res) {
        if (req.path === '/0') await gate;
        res.send(req.path);
      },
    });
    const { client } = createConnectionPair(engine.handlers);
    let bytes = '';
    for (let i = 0; i < 10; i++) bytes += `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    client.write(bytes);
    await client.settle();
    expect(client.receivedText()).toBe('');
    release!();
    await new Promise((r) => setTimeout(r, 10));
    await client.settle();
    expect(statuses(client.receivedText())).toHaveLength(10);
  });
});

describe('handler errors', () => {
  it('a throw before the head becomes a 500 and the connection keeps serving', async () => {
    const errors: unknown[] = [];
    const engine = createEngine({
      onError: (e) => errors.push(e),
      handler(req, res) {
        if (req.path === '/boom') throw new Error('secret detail');
        res.send('fine');
      },
    });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write('GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.settle();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([500, 200]);
    expect(text).not.toContain('secret');
    expect(server.closed).toBe(false);
    expect(errors).toHaveLength(1);
    expect(engine.counters.byStatus[500]).toBe(1);
  });

  it('an async rejection after the head was sent cuts that response and closes after the earlier ones', async () => {
    const engine = createEngine({
      async handler(req, res) {
        if (req.path === '/cut') {
          res.write('partial');
          await Promise.resolve();
          throw new Error('midway');
        }
        res.send('whole');
      },
    });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /cut HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await client.settle();
    await server.whenClosed();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([200, 200]);
    expect(text).toContain('whole');
    expect(text).toContain('partial');
    expect(text).not.toContain('0\r\n\r\n'); // the chunked body was never terminated
  });
});

describe('graceful shutdown on one connection', () => {
  it('answers every request already read, accepts none after, and closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const engine = createEngine({
      async handler(req, res) {
        await gate;
        res.send(req.path);
      },
    });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.settle();
    engine.shutdown();
    client.write('GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.settle();
    release();
    await client.settle();
    await server.whenClosed();
    const text = client.receivedText();
    expect(statuses(text)).toEqual([200, 200]);
    expect(text).not.toContain('/late');
    expect(text.split('HTTP/1.1 200')[2]).toMatch(/connection: close/i);
  });

  it('a request whose body is still arriving completes and gets Connection: close', async () => {
    const engine = createEngine({ handler: echoHandler });
    const { client, server } = createConnectionPair(engine.handlers);
    client.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc');
    await client.settle();
    engine.shutdown();
    client.write('def');
    await client.settle();
    await server.whenClosed();
    const text = norm(client.receivedText());
    expect(statuses(text)).toEqual([200]);
    expect(text).toMatch(/connection: close/i);
    expect(text.endsWith('/up:abcdef:')).toBe(true);
  });
});
