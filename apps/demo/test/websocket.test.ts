/**
 * The WebSocket routes with the `ws` client: the `/ws` chat room and the `/live/ws` feed; and the
 * wire inspector, which shows each layer's view of a real request.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LiveSnapshot } from '../src/live';
import type { InspectEntry } from '../src/pages';
import { type Demo, startDemo } from './_harness';

/** Every JSON message the demo's sockets send: chat messages and live snapshots. */
type Message = { type?: string; name?: string; text?: string; from?: string } & Partial<LiveSnapshot> & {
    on?: boolean;
    watchers?: number;
    mode?: string;
  };

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo(['--port', '0']);
});
afterAll(async () => {
  await demo?.stop();
});

function wsUrl(path: string, base = demo.url): string {
  return base.replace(/^http/, 'ws') + path;
}

function open(
  path: string,
  base = demo.url,
): Promise<{ ws: WebSocket; messages: Message[]; next(pred: (m: Message) => boolean): Promise<Message> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(path, base));
    const messages: Message[] = [];
    const waiters: { pred: (m: Message) => boolean; resolve(m: Message): void }[] = [];
    ws.on('message', (data, isBinary) => {
      const m: Message = isBinary ? { type: 'binary' } : (JSON.parse(String(data)) as Message);
      messages.push(m);
      for (const w of waiters.splice(0)) {
        if (w.pred(m)) w.resolve(m);
        else waiters.push(w);
      }
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        next(pred) {
          const seen = messages.find(pred);
          if (seen !== undefined) return Promise.resolve(seen);
          return new Promise((r) => waiters.push({ pred, resolve: r }));
        },
      }),
    );
  });
}

describe('/ws chat room', () => {
  it('relays a text message from one client to every client', async () => {
    const alice = await open('/ws');
    const bob = await open('/ws');
    const welcome = await bob.next((m) => m.type === 'welcome');
    expect(welcome.name).toMatch(/^guest-\d+$/);
    alice.ws.send('hello, room');
    const got = await bob.next((m) => m.type === 'message');
    expect(got).toMatchObject({ type: 'message', text: 'hello, room' });
    const echoed = await alice.next((m) => m.type === 'message');
    expect(echoed.text).toBe('hello, room');
    const left = bob.next((m) => m.type === 'leave');
    alice.ws.close(1000, 'bye');
    expect(await left).toMatchObject({ type: 'leave' });
    await new Promise<void>((resolve) => {
      bob.ws.once('close', (code) => {
        expect(code).toBe(1000);
        resolve();
      });
      bob.ws.close(1000);
    });
  });

  it('a plain GET /ws without Upgrade is refused with 426', async () => {
    const res = await fetch(`${demo.url}/ws`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toMatch(/websocket/i);
    await res.arrayBuffer();
  });
});

describe('/live/ws feed', () => {
  it('sends live snapshots that count the requests served', async () => {
    const feed = await open('/live/ws');
    const before = await feed.next((m) => typeof m.requests === 'number');
    for (let i = 0; i < 5; i++) await (await fetch(`${demo.url}/hello`)).text();
    const after = await feed.next((m) => (m.requests ?? 0) >= (before.requests ?? 0) + 5);
    expect(after.workers).toHaveLength(1);
    expect(after.workers?.[0]).toMatchObject({ pid: demo.child.pid, label: 'main' });
    expect(after.connections).toBeGreaterThanOrEqual(1);
    // The engine's client-fault counters, summed over workers and per worker.
    for (const key of ['aborted', 'timedOut', 'rejected'] as const) {
      expect(after[key], key).toBeTypeOf('number');
      expect(after.workers?.[0]?.[key], key).toBe(after[key]);
    }
    feed.ws.close();
  });
});

describe('/inspect wire inspector', () => {
  // The inspector records while a page is open: this socket stands for the open page.
  let watcher: Awaited<ReturnType<typeof open>>;
  beforeAll(async () => {
    watcher = await open('/inspect/ws');
    expect(await watcher.next((m) => m.type === 'recording')).toMatchObject({ on: true, mode: 'watch' });
  });
  afterAll(() => watcher?.ws.close());

  /** Writes raw bytes on a fresh connection and waits until the server closes it. */
  function send(bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect(demo.port, '127.0.0.1', () => s.end(bytes));
      s.on('data', (c) => chunks.push(c));
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.on('error', reject);
    });
  }
  /** The logged entry whose received bytes satisfy `pred` (fails the test with the log when none). */
  function find(log: InspectEntry[], pred: (received: string) => boolean): InspectEntry {
    const entry = log.find((e) => e.received !== null && pred(e.received));
    if (entry === undefined) throw new Error(`no such entry in ${JSON.stringify(log.slice(0, 3))}`);
    return entry;
  }
  async function entries(): Promise<InspectEntry[]> {
    return ((await (await fetch(`${demo.url}/inspect.json`)).json()) as { entries: InspectEntry[] }).entries;
  }

  it('shows the raw bytes, parser events, route match and response of a request', async () => {
    const request =
      'GET /user/ada?x=1 HTTP/1.1\r\nHost: inspect.test\r\nX-Trace: 42\r\nConnection: close\r\n\r\n';
    expect(await send(request)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const log = await entries();
    const entry = find(log, (r) => r.includes('X-Trace: 42'));
    expect(entry.received).toBe(request);
    expect(entry.receivedBytes).toBe(request.length);
    expect(entry.parserEvents).toEqual([
      'head GET /user/ada?x=1 HTTP/1.1 (3 fields, keep-alive no)',
      'message complete',
    ]);
    expect(entry.framing).toMatch(/^no body/);
    expect(entry.route).toEqual({ pattern: '/user/:name', status: 200, params: { name: 'ada' } });
    expect(entry.response?.status).toBe(200);
    expect(entry.response?.headers).toContainEqual(['Content-Type', 'text/html; charset=utf-8']);

    const page = await (await fetch(`${demo.url}/inspect`)).text();
    expect(page).toContain('X-Trace: 42');
    expect(page).toContain('/user/:name');
    expect(page).toContain('\\r\\n'); // line ends are shown
  });

  it('gives each pipelined request exactly its own bytes, and shows chunked framing and trailers', async () => {
    const first =
      'POST /echo HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
    const second = 'GET /hello?pipelined HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n';
    const reply = await send(first + second);
    expect(reply.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    const log = await entries();
    const a = find(log, (r) => r.startsWith('POST /echo HTTP/1.1\r\nHost: p\r\n'));
    const b = find(log, (r) => r.startsWith('GET /hello?pipelined'));
    expect(a.received).toBe(first);
    expect(b.received).toBe(second);
    expect(a.framing).toBe('chunked (Transfer-Encoding)');
    // Rebuilt from what the server reported (no second parse): the body's size, not its pieces.
    expect(a.parserEvents).toEqual([
      'head POST /echo HTTP/1.1 (2 fields, keep-alive yes)',
      'body 5 bytes',
      'trailers 1 (X-T: 1)',
      'message complete',
    ]);
    expect(b.route).toEqual({ pattern: '/hello', status: 200, params: {} });
  });

  it('records a request the parser refused, with its error code, as never routed', async () => {
    const bad = 'GET /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab';
    expect(await send(bad)).toMatch(/^HTTP\/1\.1 400 /);
    const log = await entries();
    const entry = find(log, (r) => r.startsWith('GET /smuggle'));
    expect(entry.route).toBeNull();
    expect(entry.response?.status).toBe(400);
    expect(entry.parserEvents.at(-1)).toMatch(/^error HPE_\w+ at byte \d+/);
    const page = await (await fetch(`${demo.url}/inspect`)).text();
    expect(page).toContain('the parser refused the request');
  });

  it('records a 404 as no route and does not record itself', async () => {
    // A fresh connection: one that fetch pooled before the page opened is not tapped.
    expect(await send('GET /missing-page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/ 404 /);
    const log = await entries();
    const missing = find(log, (r) => r.startsWith('GET /missing-page'));
    expect(missing.route).toEqual({ pattern: null, status: 404, params: {} });
    expect(missing.response?.status).toBe(404);
    expect(log.some((e) => e.received?.startsWith('GET /inspect'))).toBe(false);
  });
});

describe('/inspect records only while a page is open (--inspector watch, the default)', () => {
  let own: Demo;
  beforeAll(async () => {
    own = await startDemo(['--port', '0']);
  });
  afterAll(async () => {
    await own?.stop();
  });

  type Log = { recording: { mode: string; on: boolean; watchers: number }; entries: InspectEntry[] };
  const log = async (): Promise<Log> =>
    (await (await fetch(`${own.url}/inspect.json`, { headers: { connection: 'close' } })).json()) as Log;
  /** One request on a fresh connection, closed after the answer. */
  function get(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect(own.port, '127.0.0.1', () =>
        s.end(`GET ${path} HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n`),
      );
      s.on('data', (c) => chunks.push(c));
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.on('error', reject);
    });
  }
  /** A keep-alive connection: send a request, resolve with the response head once it is in. */
  function keepAlive(): { ask(path: string): Promise<string>; close(): void } {
    const s = connect(own.port, '127.0.0.1');
    let pending: ((text: string) => void) | null = null;
    let got = '';
    s.on('data', (c) => {
      got += c.toString('latin1');
      if (pending !== null && got.includes('\r\n\r\n') && got.endsWith('Hello, World!')) {
        const done = pending;
        pending = null;
        done(got);
        got = '';
      }
    });
    return {
      ask: (path) =>
        new Promise((resolve) => {
          pending = resolve;
          s.write(`GET ${path} HTTP/1.1\r\nHost: w\r\n\r\n`);
        }),
      close: () => s.destroy(),
    };
  }

  it('records nothing with no page open, records while one is, and stops when it closes', async () => {
    expect(await get('/hello?unwatched')).toMatch(/^HTTP\/1\.1 200 OK/);
    let state = await log();
    expect(state.recording).toEqual({ mode: 'watch', on: false, watchers: 0, tls: false, workers: 0 });
    expect(state.entries).toEqual([]);
    const early = keepAlive(); // opened before recording: never tapped
    await early.ask('/hello?early-1');

    const page = await open('/inspect/ws', own.url);
    expect(await page.next((m) => m.type === 'recording')).toMatchObject({ on: true, watchers: 1 });
    expect(await get('/hello?watched')).toMatch(/^HTTP\/1\.1 200 OK/);
    await early.ask('/hello?early-2');
    // The page hears that the log changed.
    await page.next((m) => m.type === 'changed');
    state = await log();
    expect(state.recording.on).toBe(true);
    const watched = state.entries.find((e) => e.received?.startsWith('GET /hello?watched '));
    expect(watched?.receivedBytes).toBe(watched?.received?.length);
    expect(watched?.route).toEqual({ pattern: '/hello', status: 200, params: {} });
    const earlier = state.entries.find((e) => e.parserEvents[0]?.startsWith('head GET /hello?early-2 '));
    expect(earlier?.received).toBeNull();
    expect(earlier?.unobserved).toMatch(/already open when the inspector started recording/);
    expect(state.entries.some((e) => e.parserEvents[0]?.includes('unwatched'))).toBe(false);
    expect(state.entries.some((e) => e.parserEvents[0]?.includes('early-1'))).toBe(false);

    const tapped = keepAlive(); // opened while recording: tapped until recording stops
    await tapped.ask('/hello?tapped-1');
    page.ws.close();
    for (let i = 0; i < 100 && (await log()).recording.on; i++) await new Promise((r) => setTimeout(r, 20));
    state = await log();
    expect(state.recording).toMatchObject({ on: false, watchers: 0 });
    const before = state.entries.length;
    await tapped.ask('/hello?tapped-2');
    await get('/hello?after');
    state = await log();
    expect(state.entries.length).toBe(before);
    expect(state.entries.some((e) => e.received?.startsWith('GET /hello?tapped-1 '))).toBe(true);
    early.close();
    tapped.close();
  });

  it('serving /inspect records for a grace period and closes an untapped connection', async () => {
    const res = await fetch(`${own.url}/inspect`);
    expect(res.headers.get('connection')).toBe('close');
    const html = await res.text();
    expect(html).toContain('<b id="recording-state">recording</b>'); // the page itself starts it
    expect(html).toContain('while an inspector page is open');
    expect((await log()).recording.on).toBe(true);
    await get('/user/grace');
    const entry = (await log()).entries.find((e) => e.received?.startsWith('GET /user/grace '));
    expect(entry?.route?.pattern).toBe('/user/:name');
  });
});

describe('--inspector on and off', () => {
  it('on: records from the start without a page; off: never, even with a page open', async () => {
    const on = await startDemo(['--port', '0', '--inspector', 'on']);
    const off = await startDemo(['--port', '0', '--inspector', 'off']);
    try {
      await fetch(`${on.url}/hello?from-start`, { headers: { connection: 'close' } }).then((r) => r.text());
      const a = (await (await fetch(`${on.url}/inspect.json`)).json()) as {
        recording: { mode: string; on: boolean };
        entries: InspectEntry[];
      };
      expect(a.recording).toMatchObject({ mode: 'on', on: true });
      expect(a.entries.some((e) => e.received?.startsWith('GET /hello?from-start '))).toBe(true);

      const page = await open('/inspect/ws', off.url);
      expect(await page.next((m) => m.type === 'recording')).toMatchObject({ mode: 'off', on: false });
      await fetch(`${off.url}/hello?never`).then((r) => r.text());
      const b = (await (await fetch(`${off.url}/inspect.json`)).json()) as {
        recording: { on: boolean };
        entries: InspectEntry[];
      };
      expect(b.recording.on).toBe(false);
      expect(b.entries).toEqual([]);
      expect(await (await fetch(`${off.url}/inspect`)).text()).toContain('--inspector off');
      page.ws.close();
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  });
});
