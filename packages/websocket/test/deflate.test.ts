import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { ZlibLimiter } from '../src/_deflate';
import { startServer } from './_helpers';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('permessage-deflate limits', () => {
  it('the zlib limiter runs at most `concurrency` jobs, in FIFO order', () => {
    const lim = new ZlibLimiter(2);
    const started: number[] = [];
    let running = 0;
    let max = 0;
    const jobs = Array.from({ length: 6 }, (_, i) => () => {
      started.push(i);
      running++;
      max = Math.max(max, running);
    });
    for (const j of jobs) lim.run(j);
    expect(started).toEqual([0, 1]);
    for (let k = 0; k < 6; k++) {
      running--;
      lim.done();
    }
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(max).toBe(2);
  });

  it('a small compressed message that inflates past maxPayload closes 1009 (decompression bomb)', async () => {
    const s = await startServer({ perMessageDeflate: true, maxPayload: 64 * 1024 });
    cleanups.push(s.close);
    const c = new WS(`ws://127.0.0.1:${s.port}/`, { perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => c.terminate());
    await new Promise((r) => c.once('open', r));
    const closed = new Promise<number>((r) => c.once('close', r));
    c.send(Buffer.alloc(10 * 1024 * 1024)); // ~10 KiB on the wire, 10 MiB inflated
    expect(await closed).toBe(1009);
  });

  it('honours server_no_context_takeover and window bits 8 (sent uncompressed)', async () => {
    const s = await startServer({ perMessageDeflate: { threshold: 0 } });
    cleanups.push(s.close);
    s.wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    for (const [offer, expected] of [
      [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
      [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8'],
    ] as const) {
      const server = new Promise<{ extensions: string }>((r) => s.wss.once('connection', r));
      const c = new WS(`ws://127.0.0.1:${s.port}/`, { perMessageDeflate: { ...offer, threshold: 0 } });
      cleanups.push(() => c.terminate());
      await new Promise((r) => c.once('open', r));
      expect((await server).extensions).toBe(expected);
      for (let i = 0; i < 3; i++) {
        const got = new Promise<string>((r) => c.once('message', (d) => r(d.toString())));
        c.send(`message ${i} `.repeat(200));
        expect(await got).toBe(`message ${i} `.repeat(200));
      }
      c.close();
    }
  });

  it('empty messages in a row with context takeover stay decodable (the 0x00 block of RFC 7692 §7.2.3.6)', async () => {
    // regression: after a sync flush zlib emits nothing for an empty input; the peer still needs a
    // block header before its appended 00 00 FF FF tail
    const s = await startServer({ perMessageDeflate: { threshold: 0 } });
    cleanups.push(s.close);
    s.wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const c = new WS(`ws://127.0.0.1:${s.port}/`, { perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => c.terminate());
    await new Promise((r) => c.once('open', r));
    for (const m of ['', '', 'x', '', Buffer.alloc(0), 'é'.repeat(50), '']) {
      const got = new Promise<[string, boolean]>((r) => c.once('message', (d, b) => r([d.toString(), b])));
      c.send(m);
      expect(await got).toEqual([m.toString(), typeof m !== 'string']);
    }
    c.close();
  });
});
