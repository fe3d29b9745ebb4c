/**
 * The inspector over real sockets (raw `net` sockets and fetch) on a plain `@strata/server` app:
 * each request's exact bytes (pipelined, chunked, split anywhere), route, response head, figures;
 * refused requests with code, offset and status; masking; the bounds (ring, bytes per entry); and
 * recording only while someone watches, with nothing subscribed otherwise.
 */
import { hasSubscribers } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { Channels } from '../src/_recorder';
import { type InspectorEntry, UNOBSERVED_EARLIER } from '../src/index';
import { type App, finished, raw, sleep, startApp, until } from './_helpers';

let app: App | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const CHANNELS = [
  Channels.OPEN,
  Channels.CLOSE,
  Channels.DATA,
  Channels.PARSE_ERROR,
  Channels.ROUTE_MATCH,
  Channels.HTTP2_FRAME,
  'strata:server:request.refused',
  'strata:server:response.finish',
  'tracing:strata:server:request:start',
];
const subscribed = () => CHANNELS.filter((name) => hasSubscribers(name));

const lines = (entries: InspectorEntry[]) => entries.map((e) => `${e.request.method} ${e.request.target}`);

describe('what an entry holds', () => {
  it('the raw bytes, route, response head, status, duration and bytes in/out of a request', async () => {
    app = await startApp({ mode: 'on' });
    const request =
      'GET /user/ada?x=1 HTTP/1.1\r\nHost: inspect.test\r\nX-Trace: 42\r\nConnection: close\r\n\r\n';
    const reply = await raw(app.port, [request]);
    const e = await finished(app.inspector, 'GET /user/ada');
    expect(e.request).toMatchObject({
      method: 'GET',
      target: '/user/ada?x=1',
      version: '1.1',
      bytes: request,
      bytesTotal: request.length,
      complete: true,
      keepAlive: false,
      framing: 'none',
      unobserved: null,
    });
    expect(e.request.headers).toContainEqual(['X-Trace', '42']);
    expect(e.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(e.route).toEqual({ pattern: '/user/:name', status: 200, params: { name: 'ada' } });
    expect(e.refused).toBeNull();
    const head = reply.slice(0, reply.indexOf('\r\n\r\n') + 4);
    expect(e.response).toMatchObject({
      status: 200,
      head,
      canned: false,
      finished: true,
      aborted: false,
      bytesOut: reply.length,
      bodyBytesIn: 0,
    });
    expect(e.response!.headers[0]).toEqual(['Content-Type', 'text/plain; charset=utf-8']);
    expect(e.response!.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a 404 has no route pattern and the router status; the JSON says the same', async () => {
    app = await startApp({ mode: 'on' });
    await raw(app.port, ['GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const e = await finished(app.inspector, 'GET /nope');
    expect(e.route).toEqual({ pattern: null, status: 404, params: {} });
    expect(e.response?.status).toBe(404);
    const json = (await (await fetch(`${app.url}/inspect/entries.json`)).json()) as {
      capacity: number;
      recording: { mode: string; on: boolean };
      entries: InspectorEntry[];
    };
    expect(json.capacity).toBe(50);
    expect(json.recording).toMatchObject({ mode: 'on', on: true });
    expect(json.entries.find((x) => x.id === e.id)).toEqual(e);
  });

  it('a streaming response shows its head as soon as it is on the wire, before it finishes', async () => {
    app = await startApp({ mode: 'on' });
    const done = raw(app.port, ['GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const mid = await until(() => app!.inspector.entries().find((e) => e.response?.head != null));
    expect(mid.response).toMatchObject({ status: 200, finished: false });
    expect(mid.response!.head).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Transfer-Encoding: chunked\r\n\r\n$/);
    await done;
    expect((await finished(app.inspector, 'GET /slow')).response?.finished).toBe(true);
  });

  it('the inspector does not record its own requests', async () => {
    app = await startApp({ mode: 'on' });
    await (await fetch(`${app.url}/inspect`)).text();
    await (await fetch(`${app.url}/inspect/entries.json`)).text();
    await raw(app.port, ['GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    await finished(app.inspector, 'GET /hello');
    expect(lines(app.inspector.entries())).toEqual(['GET /hello']);
  });
});

describe('splitting a connection into requests', () => {
  const first =
    'POST /echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
  const second = 'PUT /echo HTTP/1.1\r\nHost: p\r\nContent-Length: 4\r\n\r\nwxyz';
  const third = 'GET /hello HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n';
  const input = Buffer.from(first + second + third, 'latin1');

  async function check(pieces: Uint8Array[], gapMs: number, where: string): Promise<void> {
    app!.inspector.clear();
    const reply = await raw(app!.port, pieces, gapMs);
    expect(reply.match(/HTTP\/1\.1 200 OK/g), where).toHaveLength(3);
    await finished(app!.inspector, 'GET /hello');
    const entries = app!.inspector.entries().reverse();
    expect(
      entries.map((e) => e.request.bytes),
      where,
    ).toEqual([first, second, third]);
    expect(
      entries.map((e) => e.request.complete),
      where,
    ).toEqual([true, true, true]);
    expect(entries[0]!.request.framing).toBe('chunked');
    expect(entries[0]!.request.trailers).toEqual([['X-T', '1']]);
    expect(entries[0]!.response?.bodyBytesIn).toBe(5);
    expect(entries[1]!.request).toMatchObject({ framing: 'content-length', contentLength: 4 });
  }

  it('pipelined in one write: each request gets exactly its own bytes', async () => {
    app = await startApp({ mode: 'on' });
    await check([input], 0, 'whole');
  });

  it('byte by byte, and split in two at every point', async () => {
    app = await startApp({ mode: 'on' });
    await check(
      Array.from(input, (_, i) => input.subarray(i, i + 1)),
      1,
      'byte by byte',
    );
    for (let i = 1; i < input.length; i += 1) {
      await check([input.subarray(0, i), input.subarray(i)], 2, `split at ${i}`);
    }
  }, 120_000);

  it('an Upgrade the server declines (curl --http2 on plain HTTP) is served as HTTP/1.1, and so recorded', async () => {
    app = await startApp({ mode: 'on' });
    const h2c =
      'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n';
    const withBody =
      'POST /echo HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\nContent-Length: 3\r\n\r\nabc';
    const plain = 'GET /user/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const input = Buffer.from(h2c + withBody + plain, 'latin1');
    for (const cut of [0, 30, h2c.length + 10, h2c.length + withBody.length - 1]) {
      app.inspector.clear();
      await raw(app.port, cut === 0 ? [input] : [input.subarray(0, cut), input.subarray(cut)], 10);
      await finished(app.inspector, 'GET /user/x');
      const entries = app.inspector.entries().reverse();
      expect(
        entries.map((e) => e.request.bytes),
        `cut at ${cut}`,
      ).toEqual([h2c, withBody, plain]);
      expect(entries.map((e) => e.response?.status)).toEqual([200, 200, 200]);
    }
  });

  it('keeps at most maxEntryBytes of a large body but counts all, and finds the next request after it', async () => {
    app = await startApp({ mode: 'on', maxEntryBytes: 1024 });
    const size = 200_000;
    const head = `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`;
    const next = 'GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const body = Buffer.alloc(size, 0x61);
    await raw(app.port, [head, body.subarray(0, 1000), body.subarray(1000), next]);
    await finished(app.inspector, 'GET /hello');
    const [hello, big] = app.inspector.entries();
    expect(big!.request.bytesTotal).toBe(head.length + size);
    expect(big!.request.bytes).toHaveLength(1024);
    expect(big!.request.bytes!.startsWith(head)).toBe(true);
    expect(big!.response?.bodyBytesIn).toBe(size);
    expect(hello!.request.bytes).toBe(next);
  });
});

describe('refused requests', () => {
  it('a bad header: the bytes up to the error, the HPE_ code, the offset, the status and the canned answer', async () => {
    app = await startApp({ mode: 'on' });
    const good = 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n';
    const bad = 'GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n';
    const reply = await raw(app.port, [good + bad]);
    expect(reply).toMatch(/HTTP\/1\.1 400 Bad Request/);
    const e = await until(() =>
      app!.inspector.entries().find((x) => x.refused !== null && x.response?.finished),
    );
    const offset = good.length + bad.indexOf(' Header');
    expect(e.refused).toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN', status: 400, offset });
    expect(e.refused!.reason).toBeTypeOf('string');
    // The bytes of this request up to and including the offending byte, which `at` points at.
    expect(e.request.bytes).toBe(bad.slice(0, bad.indexOf(' Header') + 1));
    expect(e.refused!.at).toBe(bad.indexOf(' Header'));
    expect(e.refused!.bytesAfter).toBe(bad.length - e.request.bytes!.length);
    expect(e.request).toMatchObject({ method: 'GET', target: '/bad', version: '1.1' });
    expect(e.route).toBeNull();
    expect(e.response).toMatchObject({ status: 400, canned: true, finished: true });
    expect(e.response!.head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\n$/);
    // The good request before it on the same connection is whole and routed.
    const ok = app.inspector.entries().find((x) => x.request.target === '/hello')!;
    expect(ok.request.bytes).toBe(good);
    expect(ok.connectionId).toBe(e.connectionId);

    const page = await (await fetch(`${app.url}/inspect`)).text();
    expect(page).toContain('<b class="refused-code">HPE_INVALID_HEADER_TOKEN</b>');
    expect(page).toContain(`<b class="refused-offset">${offset}</b>`);
    expect(page).toContain('<b class="refused-status">400</b>');
    expect(page).toContain('<mark class="error-byte"');
  });

  it('a smuggling shape (two Content-Length) split across packets', async () => {
    app = await startApp({ mode: 'on' });
    const bad = 'GET /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab';
    expect(await raw(app.port, [bad.slice(0, 20), bad.slice(20)], 20)).toMatch(/^HTTP\/1\.1 400 /);
    const e = await until(() => app!.inspector.entries().find((x) => x.refused !== null));
    expect(e.refused!.code).toMatch(/^HPE_/);
    expect(bad.startsWith(e.request.bytes!)).toBe(true);
    expect(e.refused!.at).toBe(e.request.bytes!.length - 1);
    expect(e.refused!.offset).toBe(e.refused!.at);
  });

  it('a body larger than the limit: the request reached its handler, the entry says refused 413', async () => {
    const { createServer } = await import('@strata/server');
    const { createInspector } = await import('../src/index');
    const inspector = createInspector({ mode: 'on' });
    const server = createServer({
      limits: { maxBodyBytes: 10 },
      async handler(req, res) {
        await req.bytes();
        res.send('never');
      },
    });
    const port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
    try {
      const reply = await raw(
        port,
        ['POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n', 'x'.repeat(100)],
        20,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 413 /);
      const e = await until(() => inspector.entries().find((x) => x.response?.finished));
      expect(e.request.method).toBe('POST');
      expect(e.refused).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', status: 413 });
      expect(e.response?.status).toBe(413);
    } finally {
      inspector.close();
      await server.close();
    }
  });
});

describe('secrets', () => {
  it('masks Authorization, Proxy-Authorization and Cookie in the raw bytes and headers, Set-Cookie in the response', async () => {
    app = await startApp({ mode: 'on' });
    const request =
      'GET /login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-123\r\nproxy-authorization:Basic cHJveHk=\r\n' +
      'Cookie: a=hunter2; b=2\r\nX-Visible: yes\r\nConnection: close\r\n\r\n';
    // Split inside the Authorization value: masking must not depend on how the bytes arrived.
    const at = request.indexOf('tok-') + 2;
    const reply = await raw(app.port, [request.slice(0, at), request.slice(at)], 20);
    expect(reply).toContain('session=s3cr3t-session'); // the client got it; the inspector must not show it
    const e = await finished(app.inspector, 'GET /login');
    const all = JSON.stringify(e);
    for (const secret of ['tok-123', 'cHJveHk=', 'hunter2', 's3cr3t']) expect(all).not.toContain(secret);
    // Masked byte for byte: offsets into the bytes stay true.
    expect(e.request.bytes).toHaveLength(request.length);
    expect(e.request.bytes).toContain(`Authorization: ${'*'.repeat('Bearer tok-123'.length)}\r\n`);
    expect(e.request.bytes).toContain(`proxy-authorization:${'*'.repeat('Basic cHJveHk='.length)}\r\n`);
    expect(e.request.bytes).toContain('X-Visible: yes\r\n');
    expect(e.request.headers).toContainEqual(['Cookie', '*'.repeat('a=hunter2; b=2'.length)]);
    expect(e.response!.headers).toContainEqual([
      'Set-Cookie',
      '*'.repeat('session=s3cr3t-session; HttpOnly'.length),
    ]);
    const page = await (await fetch(`${app.url}/inspect`)).text();
    for (const secret of ['tok-123', 'hunter2', 's3cr3t']) expect(page).not.toContain(secret);
  });

  it('masks a secret in the trailers of a chunked body, parsed and raw', async () => {
    app = await startApp({ mode: 'on' });
    const request =
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      '4\r\nbody\r\n0\r\nAuthorization: Bearer hunter2\r\nX-Sum: 1\r\n\r\n';
    const at = request.indexOf('hunter2') + 3;
    expect(await raw(app.port, [request.slice(0, at), request.slice(at)], 20)).toMatch(/^HTTP\/1\.1 200 /);
    const e = await finished(app.inspector, 'POST /echo');
    expect(e.request.bytes).toBe(request.replace('Bearer hunter2', '*'.repeat('Bearer hunter2'.length)));
    expect(e.request.trailers).toEqual([
      ['Authorization', '*'.repeat('Bearer hunter2'.length)],
      ['X-Sum', '1'],
    ]);
  });

  it('masks a secret in the bytes of a refused request too', async () => {
    app = await startApp({ mode: 'on' });
    await raw(app.port, ['GET / HTTP/1.1\r\nCookie: id=hunter2\r\nBad Header: 1\r\n\r\n']);
    const e = await until(() => app!.inspector.entries().find((x) => x.refused !== null));
    expect(e.request.bytes).toContain('Cookie: **********\r\n');
    expect(JSON.stringify(e)).not.toContain('hunter2');
  });

  it('maskHeaders replaces the list: [] shows everything', async () => {
    app = await startApp({ mode: 'on', maskHeaders: [] });
    await raw(app.port, [
      'GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-123\r\nConnection: close\r\n\r\n',
    ]);
    expect((await finished(app.inspector, 'GET /hello')).request.bytes).toContain('Bearer tok-123');
  });
});

describe('the handler', () => {
  it('answers only under its base path: 405 for other methods, 404 for unknown paths, HEAD on the feed', async () => {
    app = await startApp({ mode: 'on' });
    expect((await fetch(`${app.url}/inspect`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${app.url}/inspect/nope`)).status).toBe(404);
    const head = await fetch(`${app.url}/inspect/events`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await (await fetch(`${app.url}/inspector-not`)).text()).toBe('no\n'); // not under /inspect
    expect((await fetch(`${app.url}/inspect/entries.html`)).headers.get('content-type')).toMatch(
      /^text\/html/,
    );
  });
});

describe('TLS', () => {
  it('shows the decrypted bytes of a TLS connection (the transport publishes plaintext)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const tls = await import('node:tls');
    const { createServer } = await import('@strata/server');
    const { createInspector } = await import('../src/index');
    const dir = mkdtempSync(join(tmpdir(), 'inspector-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ].concat(['-days', '1', '-subj', '/CN=localhost']),
      { stdio: 'ignore' },
    );
    const inspector = createInspector({ mode: 'on' });
    const server = createServer({
      tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
      handler: (_req, res) => void res.send('secure'),
    });
    rmSync(dir, { recursive: true, force: true });
    const port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
    try {
      const request = 'GET /tls HTTP/1.1\r\nHost: x\r\nCookie: k=v\r\nConnection: close\r\n\r\n';
      const reply = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => s.write(request));
        let got = '';
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('close', () => resolve(got));
        s.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
      const e = await until(() => inspector.entries().find((x) => x.response?.finished));
      expect(e.request.bytes).toBe(request.replace('k=v', '***'));
    } finally {
      inspector.close();
      await server.close();
    }
  });
});

describe('bounds', () => {
  it('keeps the last `capacity` entries, newest first', async () => {
    app = await startApp({ mode: 'on', capacity: 3 });
    for (let i = 1; i <= 5; i++) {
      await raw(app.port, [`GET /hello?n=${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      await finished(app.inspector, `GET /hello?n=${i}`);
    }
    const entries = app.inspector.entries();
    expect(lines(entries)).toEqual(['GET /hello?n=5', 'GET /hello?n=4', 'GET /hello?n=3']);
    expect(entries.map((e) => e.id)).toEqual([5, 4, 3]);
  });

  it('checks its options', async () => {
    const { createInspector } = await import('../src/index');
    expect(() => createInspector({ capacity: 0 })).toThrow(RangeError);
    expect(() => createInspector({ maxEntryBytes: 1.5 })).toThrow(RangeError);
    expect(() => createInspector({ basePath: 'inspect' })).toThrow(RangeError);
    expect(() => createInspector({ basePath: '/inspect/' })).toThrow(RangeError);
    expect(() => createInspector({ mode: 'always' as 'on' })).toThrow(RangeError);
    expect(subscribed()).toEqual([]);
  });
});

describe('recording only while someone watches', () => {
  it('subscribes nothing until it records, and unsubscribes everything after', async () => {
    expect(subscribed()).toEqual([]);
    app = await startApp(); // watch mode, nobody watching
    expect(subscribed()).toEqual([]);
    await raw(app.port, ['GET /hello?unwatched HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    await sleep(50);
    expect(app.inspector.entries()).toEqual([]);
    expect(app.inspector.state()).toEqual({ mode: 'watch', on: false, watchers: 0 });

    const release = app.inspector.watch();
    expect(app.inspector.state()).toEqual({ mode: 'watch', on: true, watchers: 1 });
    expect(subscribed()).toEqual(CHANNELS);
    await raw(app.port, ['GET /hello?watched HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    await finished(app.inspector, 'GET /hello?watched');
    release();
    expect(subscribed()).toEqual([]);
    await raw(app.port, ['GET /hello?after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    await sleep(50);
    expect(lines(app.inspector.entries())).toEqual(['GET /hello?watched']);
    await app.close();
    app = null;
    expect(subscribed()).toEqual([]);
  });

  it('mode off never records, even with a page open', async () => {
    app = await startApp({ mode: 'off' });
    const release = app.inspector.watch();
    await (await fetch(`${app.url}/inspect`)).text();
    await raw(app.port, ['GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    await sleep(50);
    expect(app.inspector.entries()).toEqual([]);
    expect(subscribed()).toEqual([]);
    release();
  });

  it('serving the page records for the grace period, and closes a connection it does not follow', async () => {
    app = await startApp({ graceMs: 300 });
    const res = await fetch(`${app.url}/inspect`);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.text()).toContain('<b id="recording-state">recording</b>');
    await raw(app.port, ['GET /user/grace HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect((await finished(app.inspector, 'GET /user/grace')).request.bytes).toMatch(/^GET \/user\/grace /);
    await until(() => !app!.inspector.state().on, 2000);
    expect(subscribed()).toEqual([]);
  });

  it('a connection opened before recording started: entries without bytes, and why', async () => {
    app = await startApp();
    // A keep-alive connection, opened (and used) while nobody watches.
    const net = await import('node:net');
    const sock = net.connect(app.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.write('GET /hello?early-1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => got.endsWith('Hello, World!'));
    const release = app.inspector.watch();
    sock.write('GET /hello?early-2 HTTP/1.1\r\nHost: x\r\n\r\n');
    const e = await finished(app.inspector, 'GET /hello?early-2');
    expect(e.request.bytes).toBeNull();
    expect(e.request.unobserved).toBe(UNOBSERVED_EARLIER);
    expect(e.route?.pattern).toBe('/hello');
    expect(e.response?.status).toBe(200);
    sock.destroy();
    release();
  });

  it('the live feed (server-sent events) holds recording on and says when entries change', async () => {
    app = await startApp();
    const ac = new AbortController();
    const res = await fetch(`${app.url}/inspect/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const event = async (type: string) => {
      for (;;) {
        const found = text
          .split('\n\n')
          .filter((b) => b.includes('data: '))
          .map(
            (b) =>
              JSON.parse(b.slice(b.indexOf('data: ') + 6)) as { type: string; on: boolean; watchers: number },
          )
          .find((m) => m.type === type);
        if (found !== undefined) return found;
        const { value, done } = await reader.read();
        if (done) throw new Error('feed ended');
        text += decoder.decode(value);
      }
    };
    expect(await event('recording')).toMatchObject({ on: true, watchers: 1 });
    await raw(app.port, ['GET /hello?live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(await event('changed')).toMatchObject({ on: true });
    expect(lines(app.inspector.entries())).toEqual(['GET /hello?live']);
    ac.abort();
    await until(() => app!.inspector.state().watchers === 0);
    expect(app.inspector.state().on).toBe(false);
  });
});
