/**
 * Hostile HTTP/2 clients (h2c by prior knowledge on a real socket), one test per attack. Each one
 * checks what the server answers on the wire (GOAWAY with its code, RST_STREAM, or a 431) within a
 * bounded wait, that a fresh connection is still served afterwards, and where the attack aims at
 * memory, that the server's heap did not grow with it. The bounds are the `Http2Limits` of
 * `@strata/http2`, set small here where that keeps a test fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerOptions } from '../src/index';
import { sleep } from './_child';
import {
  F,
  frame,
  getStatus,
  H2Client,
  headers,
  indexed,
  literalIndexed,
  ping,
  requestBlock,
  rst,
  S,
  settings,
  T,
  tableSizeUpdate,
} from './_h2-client';

const MiB = 1024 * 1024;
/** Wire error codes (RFC 9113 section 7). */
const FLOW_CONTROL_ERROR = 0x3;
const SETTINGS_TIMEOUT = 0x4;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const COMPRESSION_ERROR = 0x9;
const ENHANCE_YOUR_CALM = 0xb;
/** How long any answer may take (the sweep runs every 100 ms or less in these tests). */
const WAIT = 3000;

let server: Server | null = null;
let client: H2Client | null = null;
afterEach(async () => {
  client?.destroy();
  client = null;
  await server?.close({ deadline: 200 });
  server = null;
});

/** Heap and buffers of this process (server and clients share it), in MiB. */
function heapMiB(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / MiB;
}

/** A promise and its resolver: handlers wait on it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** Listen on 127.0.0.1 with `options`; resolves with the port. */
async function start(options: ServerOptions): Promise<number> {
  server = createServer(options);
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return addr.port;
}

async function connect(port: number, options?: Parameters<typeof H2Client.connect>[1]): Promise<H2Client> {
  client = await H2Client.connect(port, options);
  return client;
}

/** The GOAWAY code of `c` once it came within `WAIT`, or -1. */
async function goawayCode(c: H2Client): Promise<number> {
  await c.until(() => c.goaway() !== null, WAIT);
  return c.goaway()?.code ?? -1;
}

describe('HTTP/2 hostile clients', () => {
  it('Rapid Reset (CVE-2023-44487): streams opened and cancelled at once end in GOAWAY ENHANCE_YOUR_CALM', async () => {
    let calls = 0;
    const port = await start({
      async handler(req, res) {
        calls++;
        await sleep(20);
        if (!req.signal.aborted) res.send('ok');
      },
    });
    const c = await connect(port);
    const N = 5000;
    const heap0 = heapMiB();
    const t0 = performance.now();
    let sent = 0;
    for (let i = 0; i < N && !c.closed; i += 100) {
      const batch: Buffer[] = [];
      for (let j = i; j < i + 100; j++)
        batch.push(headers(2 * j + 1, requestBlock('/')), rst(2 * j + 1, CANCEL));
      if (!(await c.write(Buffer.concat(batch)))) break;
      sent = i + 100;
    }
    const code = await goawayCode(c);
    const elapsed = performance.now() - t0;
    expect(code, c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_RAPID_RESET');
    // resetBurst (200) tokens, plus resetsPerSecond (100/s) refilled while the attack ran.
    expect(calls).toBeGreaterThanOrEqual(200);
    expect(calls).toBeLessThanOrEqual(200 + Math.ceil((elapsed * 100) / 1000) + 10);
    expect(sent).toBeGreaterThanOrEqual(4 * calls);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(heapMiB() - heap0).toBeLessThan(64);
    expect(await getStatus(port)).toBe(200);
    expect(server!.stats().rejected).toBeGreaterThanOrEqual(1);
  });

  it('CONTINUATION flood (CVE-2024-27316 class): a header block past maxHeaderBlockBytes ends in GOAWAY ENHANCE_YOUR_CALM', async () => {
    let calls = 0;
    const port = await start({
      handler(_req, res) {
        calls++;
        res.send('ok');
      },
    });
    const c = await connect(port);
    const heap0 = heapMiB();
    // HEADERS without END_HEADERS, then CONTINUATION frames of junk, endless but for the bound here.
    await c.write(frame(T.HEADERS, F.END_STREAM, 1, requestBlock('/')));
    const junk = Buffer.alloc(16_384, 0x61);
    let frames = 0;
    for (; frames < 256 && !c.closed && c.goaway() === null; frames++) {
      if (!(await c.write(frame(T.CONTINUATION, 0, 1, junk)))) break;
      if (frames % 8 === 7) await sleep(1);
    }
    expect(await goawayCode(c), c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_CONTINUATION_FLOOD');
    // 64 KiB of block is four such frames and a bit: the answer came long before the 4 MiB bound.
    expect(frames).toBeLessThan(256);
    expect(calls).toBe(0);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(heapMiB() - heap0).toBeLessThan(64);
    expect(await getStatus(port)).toBe(200);
  });

  it('a flood of empty CONTINUATION frames ends in GOAWAY ENHANCE_YOUR_CALM (maxEmptyFrames)', async () => {
    let calls = 0;
    const port = await start({
      handler(_req, res) {
        calls++;
        res.send('ok');
      },
    });
    const c = await connect(port);
    const empty = frame(T.CONTINUATION, 0, 1);
    const flood = Buffer.concat([
      frame(T.HEADERS, F.END_STREAM, 1, requestBlock('/')),
      ...Array(5000).fill(empty),
    ]);
    await c.write(flood);
    expect(await goawayCode(c), c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_EMPTY_FRAME_FLOOD');
    expect(calls).toBe(0);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(await getStatus(port)).toBe(200);
  });

  it('HPACK: a header list over maxHeaderListSize is answered 431 and the connection goes on', async () => {
    let calls = 0;
    const port = await start({
      http2: { limits: { maxHeaderListSize: 1024 } },
      handler(_req, res) {
        calls++;
        res.send('ok');
      },
    });
    const c = await connect(port);
    await c.write(headers(1, requestBlock('/', 'GET', [['x-big', 'a'.repeat(2000)]])));
    expect(await c.until(() => c.status(1) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(1)).toBe(431);
    await c.write(headers(3, requestBlock('/')));
    expect(await c.until(() => c.status(3) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(3)).toBe(200);
    expect(c.goaway()).toBeNull();
    expect(calls).toBe(1);
    expect(server!.stats().rejected).toBe(1);
  });

  it('HPACK dynamic table bomb: one large entry referenced thousands of times is answered 431, memory flat', async () => {
    let calls = 0;
    const port = await start({
      handler(_req, res) {
        calls++;
        res.send('ok');
      },
    });
    const c = await connect(port);
    // 4 KiB entry (fits the default 4,096-byte table), then 10,000 one-byte references to it: a
    // 14 KiB block that decodes to 40 MB of fields. 40 streams of it: 1.6 GB if decoded whole.
    const bomb = Buffer.concat([
      requestBlock('/'),
      literalIndexed('x-bomb', 'b'.repeat(4000)),
      Buffer.alloc(10_000, indexed(62)[0]!),
    ]);
    const STREAMS = 40;
    const heap0 = heapMiB();
    for (let i = 0; i < STREAMS; i++) await c.write(headers(2 * i + 1, bomb));
    const all = () => {
      for (let i = 0; i < STREAMS; i++) if (c.status(2 * i + 1) === undefined) return false;
      return true;
    };
    expect(await c.until(all, WAIT), c.describe()).toBe(true);
    for (let i = 0; i < STREAMS; i++) expect(c.status(2 * i + 1)).toBe(431);
    expect(heapMiB() - heap0).toBeLessThan(64);
    expect(calls).toBe(0);
    // The tables stayed in step: the same connection still serves.
    await c.write(headers(2 * STREAMS + 1, requestBlock('/')));
    expect(await c.until(() => c.status(2 * STREAMS + 1) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(2 * STREAMS + 1)).toBe(200);
    expect(c.goaway()).toBeNull();
    expect(await getStatus(port)).toBe(200);
  });

  it('HPACK: a table size update above our SETTINGS_HEADER_TABLE_SIZE ends in GOAWAY COMPRESSION_ERROR', async () => {
    let calls = 0;
    const port = await start({
      handler(_req, res) {
        calls++;
        res.send('ok');
      },
    });
    const c = await connect(port);
    await c.write(headers(1, Buffer.concat([tableSizeUpdate(8192), requestBlock('/')])));
    expect(await goawayCode(c), c.describe()).toBe(COMPRESSION_ERROR);
    expect(calls).toBe(0);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(await getStatus(port)).toBe(200);
  });

  it('SETTINGS flood ends in GOAWAY ENHANCE_YOUR_CALM (controlFrameBurst)', async () => {
    const port = await start({ handler: (_req, res) => res.send('ok') });
    const c = await connect(port);
    await c.write(Buffer.concat(Array(3000).fill(settings([[S.ENABLE_PUSH, 0]]))));
    expect(await goawayCode(c), c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_CONTROL_FLOOD');
    const acks = c.frames.filter((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0).length;
    expect(acks).toBeLessThanOrEqual(1000 + 10);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(await getStatus(port)).toBe(200);
  });

  it('PING flood from a client that never reads ends in GOAWAY ENHANCE_YOUR_CALM, memory flat', async () => {
    const port = await start({ handler: (_req, res) => res.send('ok') });
    const c = await connect(port, { paused: true });
    const heap0 = heapMiB();
    const t0 = performance.now();
    // 5,000 PINGs in one write (each asks for a 17-byte answer), then more, 1,000 a write, while the
    // server has not given its verdict: at most 50,000 (850 KB) and 2 s.
    const flood = (from: number, n: number) => {
      const batch: Buffer[] = [];
      for (let i = 0; i < n; i++) batch.push(ping(from + i));
      return Buffer.concat(batch);
    };
    let sent = 5000;
    await c.write(flood(0, sent));
    while (sent < 50_000 && !c.closed && performance.now() - t0 < 2000 && server!.stats().rejected === 0) {
      if (!(await c.write(flood(sent, 1000)))) break;
      sent += 1000;
      await sleep(1);
    }
    // The server's verdict, seen on its side (the client is not reading).
    for (let i = 0; i < WAIT / 10 && server!.stats().rejected === 0; i++) await sleep(10);
    expect(server!.stats().rejected).toBe(1);
    expect(heapMiB() - heap0).toBeLessThan(64);
    c.resume();
    expect(await goawayCode(c), c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_CONTROL_FLOOD');
    const acks = c.frames.filter((f) => f.type === T.PING && (f.flags & F.ACK) !== 0).length;
    expect(acks).toBeLessThanOrEqual(1000 + 2 * 200 + 10);
    expect(sent).toBeGreaterThanOrEqual(4 * acks);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(await getStatus(port)).toBe(200);
  });

  it('a flood of empty DATA frames on an open stream ends in GOAWAY ENHANCE_YOUR_CALM', async () => {
    let calls = 0;
    let failed = 0;
    const port = await start({
      async handler(req, res) {
        calls++;
        try {
          res.send(await req.text());
        } catch {
          failed++;
        }
      },
    });
    const c = await connect(port);
    const empty = frame(T.DATA, 0, 1);
    await c.write(
      Buffer.concat([headers(1, requestBlock('/up', 'POST'), false), ...Array(5000).fill(empty)]),
    );
    expect(await goawayCode(c), c.describe()).toBe(ENHANCE_YOUR_CALM);
    expect(c.goaway()!.debug).toBe('H2_EMPTY_FRAME_FLOOD');
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(calls).toBe(1);
    for (let i = 0; i < 100 && failed === 0; i++) await sleep(10);
    expect(failed, 'the handler body read failed').toBe(1);
    expect(await getStatus(port)).toBe(200);
  });

  it('zero window: a response the client never lets through is reset (CANCEL) by timeouts.send, its handler aborted', async () => {
    const BODY = 256 * MiB;
    let aborted = 0;
    let settled = 0;
    let produced = 0;
    const port = await start({
      timeouts: { send: 300 },
      async handler(req, res) {
        if (req.path !== '/big') {
          res.send('ok');
          return;
        }
        req.signal.addEventListener('abort', () => aborted++);
        res.header('content-length', String(BODY));
        async function* body(): AsyncGenerator<Uint8Array> {
          for (let left = BODY; left > 0; left -= 65_536) {
            produced += 65_536;
            yield Buffer.alloc(65_536, 0x7a);
          }
        }
        try {
          await res.stream(body());
        } catch {
          // the stream was cut
        }
        settled++;
      },
    });
    const c = await connect(port, { settings: [[S.INITIAL_WINDOW_SIZE, 0]] });
    const heap0 = heapMiB();
    await c.write(headers(1, requestBlock('/big')));
    expect(await c.until(() => c.resets().has(1), WAIT), c.describe()).toBe(true);
    expect(c.status(1)).toBe(200);
    expect(c.resets().get(1)).toBe(CANCEL);
    expect(c.frames.some((f) => f.type === T.DATA && f.stream === 1 && f.payload.length > 0)).toBe(false);
    for (let i = 0; i < 100 && (aborted === 0 || settled === 0); i++) await sleep(10);
    expect(aborted, 'req.signal fired').toBe(1);
    expect(settled, 'the handler returned').toBe(1);
    // streamHighWater (64 KiB) bounds what was produced ahead of the shut window.
    expect(produced).toBeLessThanOrEqual(4 * MiB);
    expect(heapMiB() - heap0).toBeLessThan(64);
    expect(c.goaway()).toBeNull();
    expect(await getStatus(port)).toBe(200);
  });

  it('streams past maxConcurrentStreams are refused with RST_STREAM REFUSED_STREAM', async () => {
    let calls = 0;
    const g = gate();
    const port = await start({
      http2: { limits: { maxConcurrentStreams: 4 } },
      async handler(_req, res) {
        calls++;
        await g.wait;
        res.send('ok');
      },
    });
    const c = await connect(port);
    try {
      const ids = [1, 3, 5, 7, 9, 11, 13];
      await c.write(Buffer.concat(ids.map((id) => headers(id, requestBlock('/')))));
      expect(await c.until(() => c.resets().size >= 3, WAIT), c.describe()).toBe(true);
      const resets = c.resets();
      expect([...resets.keys()].sort((a, b) => a - b)).toEqual([9, 11, 13]);
      for (const code of resets.values()) expect(code).toBe(REFUSED_STREAM);
      expect(calls).toBe(4);
    } finally {
      g.open();
    }
    const first = [1, 3, 5, 7];
    expect(await c.until(() => first.every((id) => c.status(id) !== undefined), WAIT), c.describe()).toBe(
      true,
    );
    for (const id of first) expect(c.status(id)).toBe(200);
    await c.write(headers(15, requestBlock('/')));
    expect(await c.until(() => c.status(15) !== undefined, WAIT), c.describe()).toBe(true);
    expect(c.status(15)).toBe(200);
    expect(c.goaway()).toBeNull();
  });

  it('DATA beyond the stream window is reset with FLOW_CONTROL_ERROR and the connection goes on', async () => {
    let calls = 0;
    let aborted = 0;
    const g = gate();
    const port = await start({
      http2: { limits: { initialWindowSize: 1024 } },
      async handler(req, res) {
        calls++;
        if (req.method === 'POST') {
          req.signal.addEventListener('abort', () => aborted++);
          await g.wait; // never reads: the window is not given back
          if (req.signal.aborted) return;
        }
        res.send('ok');
      },
    });
    const c = await connect(port);
    try {
      await c.write(headers(1, requestBlock('/up', 'POST'), false));
      await c.write(frame(T.DATA, F.END_STREAM, 1, Buffer.alloc(2048, 0x78)));
      expect(await c.until(() => c.resets().has(1), WAIT), c.describe()).toBe(true);
      expect(c.resets().get(1)).toBe(FLOW_CONTROL_ERROR);
      for (let i = 0; i < 100 && aborted === 0; i++) await sleep(10);
      expect(aborted, 'req.signal fired').toBe(1);
      await c.write(headers(3, requestBlock('/')));
      expect(await c.until(() => c.status(3) !== undefined, WAIT), c.describe()).toBe(true);
      expect(c.status(3)).toBe(200);
      expect(c.goaway()).toBeNull();
      expect(calls).toBe(2);
    } finally {
      g.open();
    }
    expect(await getStatus(port)).toBe(200);
  });

  it('SETTINGS never acknowledged: GOAWAY SETTINGS_TIMEOUT after settingsTimeout', async () => {
    const port = await start({
      http2: { limits: { settingsTimeout: 300 } },
      timeouts: { send: 400 }, // a sweep every 100 ms
      handler: (_req, res) => res.send('ok'),
    });
    const c = await connect(port, { ack: false });
    expect(await goawayCode(c), c.describe()).toBe(SETTINGS_TIMEOUT);
    expect(await c.waitClosed(WAIT)).toBe(true);
    expect(server!.stats().timedOut).toBe(1);
    expect(await getStatus(port)).toBe(200);
  });
});
