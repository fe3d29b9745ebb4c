/**
 * A client that pipelines thousands of requests in one write and never reads what comes back.
 * Each request is cheap to send (~45 bytes) and expensive to answer (a MiB buffer, an open file):
 * without a bound the server starts every handler found in the read and holds every answer.
 * The engine must start at most `limits.maxPipelined` (16) and stop reading until they finish.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Count, type Fixture, fdsOn, memoryOf, sleep, startFixture } from './_child';
import { connectNeverReading, pipelined } from './_clients';

/** The bound under test: `limits.maxPipelined`'s default, which the fixture server keeps. */
const MAX_PIPELINED = 16;
const MiB = 1024 * 1024;

let dir = '';
let file = '';
let fixture: Fixture | null = null;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'strata-reliability-')));
  file = join(dir, 'big.bin');
  writeFileSync(file, Buffer.alloc(4 * MiB, 97));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await fixture?.stop();
  fixture = null;
});

/** Poll `/_count` until `started` holds still for 500 ms (or `maxMs` passes); returns the last one. */
async function settle(f: Fixture, maxMs: number, sample: () => void): Promise<Count> {
  const until = Date.now() + maxMs;
  let last = await f.get('/_count');
  let stillSince = Date.now();
  while (Date.now() < until) {
    await sleep(100);
    sample();
    const c = await f.get('/_count');
    if (c.started !== last.started) stillSince = Date.now();
    last = c;
    if (Date.now() - stillSince >= 500) break;
  }
  return last;
}

describe('pipelined amplification', () => {
  it('110 KB of pipelined GET /stream?size=1MiB, never read: <= maxPipelined handlers, RSS < baseline + 64 MB', async () => {
    fixture = await startFixture({});
    const f = fixture;
    // Warm up the route (code loaded and compiled, one MiB answered and read), then the baseline.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`http://127.0.0.1:${f.port}/stream?size=${MiB}`);
      expect((await r.arrayBuffer()).byteLength).toBe(MiB);
    }
    await f.get('/_gc');
    await sleep(100);
    const baseline = memoryOf(f.pid).rss;

    const sock = await connectNeverReading(f.port);
    const { data, count } = pipelined(`GET /stream?size=${MiB} HTTP/1.1\r\nHost: x\r\n\r\n`, 110_000);
    const t0 = Date.now();
    sock.write(data);
    let peakRss = baseline;
    const c = await settle(f, 4000, () => {
      peakRss = Math.max(peakRss, memoryOf(f.pid).rss);
    });
    const m = memoryOf(f.pid);
    peakRss = Math.max(peakRss, m.rss);
    console.log(
      `[pipelined /stream] ${count} requests in ${data.length} bytes, never read; after ${Date.now() - t0} ms: ` +
        `handlers started ${c.started - 2}, most running at once ${c.maxInFlight} (bound ${MAX_PIPELINED}), ` +
        `most responses unfinished at once ${c.maxUnfinished}, in flight now ${c.inFlight}; ` +
        `RSS baseline ${baseline.toFixed(1)} MB, peak sampled ${peakRss.toFixed(1)} MB, VmHWM ${m.hwm.toFixed(1)} MB ` +
        `(+${(m.hwm - baseline).toFixed(1)} MB, bound +64 MB)`,
    );
    // Soft: every bound is checked and reported, even when an earlier one fails.
    expect.soft(c.maxUnfinished, 'responses unfinished at once').toBeLessThanOrEqual(MAX_PIPELINED);
    expect
      .soft(c.maxInFlight, 'handlers running (promise not settled) at once')
      .toBeLessThanOrEqual(MAX_PIPELINED);
    expect.soft(m.hwm - baseline, 'VmHWM above the baseline, MB').toBeLessThan(64);

    // The client goes away: every handler still waiting is aborted and finishes.
    sock.destroy();
    let after = await f.get('/_count');
    for (let i = 0; i < 40 && after.inFlight > 0; i++) {
      await sleep(50);
      after = await f.get('/_count');
    }
    console.log(
      `[pipelined /stream] after the client left: in flight ${after.inFlight}, aborted ${after.stats?.aborted}`,
    );
    expect(after.inFlight).toBe(0);
    expect(after.stats!.aborted).toBeGreaterThan(0);
  });

  it('pipelined GET /static/big.bin, never read: <= maxPipelined descriptors of the file open at once', async () => {
    fixture = await startFixture({ STATIC_DIR: dir });
    const f = fixture;
    const r = await fetch(`http://127.0.0.1:${f.port}/static/big.bin`);
    expect((await r.arrayBuffer()).byteLength).toBe(4 * MiB);
    expect(fdsOn(f.pid, file)).toBe(0);

    const sock = await connectNeverReading(f.port);
    const { data, count } = pipelined('GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n', 110_000);
    const t0 = Date.now();
    sock.write(data);
    let most = 0;
    let samples = 0;
    while (Date.now() - t0 < 1500) {
      most = Math.max(most, fdsOn(f.pid, file));
      samples++;
      await sleep(20);
    }
    const c = await f.get('/_count');
    console.log(
      `[pipelined /static] ${count} requests in ${data.length} bytes, never read: most descriptors of big.bin ` +
        `open at once ${most} over ${samples} samples in 1.5 s (bound ${MAX_PIPELINED}); requests parsed ${c.stats!.requests - 2}`,
    );
    expect(most).toBeGreaterThan(0); // the attack did reach the file
    expect(most).toBeLessThanOrEqual(MAX_PIPELINED);

    sock.destroy();
    let open = fdsOn(f.pid, file);
    for (let i = 0; i < 20 && open > 0; i++) {
      await sleep(50);
      open = fdsOn(f.pid, file);
    }
    console.log(`[pipelined /static] after the client left: ${open} descriptors of big.bin open`);
    expect(open).toBe(0);
  });
});
