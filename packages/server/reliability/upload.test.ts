/**
 * A 1 GiB upload to a handler that reads slower than the client sends. The body must stream with
 * backpressure (at most `limits.maxBodyBuffer` ahead of the handler, then the socket is not read),
 * so the server's peak memory is that of node:http running the same handler, not the upload's size.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, memoryOf, sleep, startFixture } from './_child';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.stop();
});

/** The body, produced as it is sent: one 256 KiB block yielded again and again (never held whole). */
function* body(total: number): Generator<Buffer> {
  const block = Buffer.alloc(256 * 1024, 117);
  for (let left = total; left > 0; left -= block.length)
    yield left >= block.length ? block : block.subarray(0, left);
}

/** POST `total` bytes from the generator with the socket's backpressure; resolves with the answer. */
function upload(port: number, total: number): Promise<{ answer: string; ms: number; waitedMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let waitedMs = 0;
    const sock = net.connect({ port, host: '127.0.0.1' });
    let answer = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      answer += d;
      if (/\r\n\r\n\{.*\}$/s.test(answer)) {
        sock.end();
        resolve({ answer, ms: performance.now() - t0, waitedMs });
      }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed before the answer: ${answer.slice(0, 200)}`)));
    sock.on('connect', async () => {
      sock.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`);
      for (const chunk of body(total)) {
        if (!sock.write(chunk)) {
          const w = performance.now();
          await new Promise((r) => sock.once('drain', r));
          waitedMs += performance.now() - w;
        }
        if (sock.destroyed) return;
      }
    });
  });
}

/** Upload to a fresh fixture of `kind`; returns its RSS before and VmHWM after, and the time. */
async function measure(kind: 'node' | 'strata') {
  const f = await startFixture({ SERVER: kind, PAUSE_EVERY: String(256 * 1024) });
  fixtures.push(f);
  // Warm the route with a small upload, then settle before the baseline.
  await upload(f.port, 4 * MiB);
  await f.get('/_gc');
  await sleep(100);
  const before = memoryOf(f.pid);
  const { answer, ms, waitedMs } = await upload(f.port, TOTAL);
  const after = memoryOf(f.pid);
  await f.stop();
  return { kind, before, after, ms, waitedMs, answer };
}

describe('a 1 GiB upload to a slow consumer', () => {
  it('peak RSS stays under node:http peak + 16 MB for the same handler', async () => {
    const node = await measure('node');
    const strata = await measure('strata');
    for (const r of [node, strata]) {
      console.log(
        `[1 GiB upload] ${r.kind.padEnd(6)}: ${(r.ms / 1000).toFixed(1)} s (${(TOTAL / MiB / (r.ms / 1000)).toFixed(0)} MiB/s, ` +
          `handler pauses 1 ms every 256 KiB; the client waited for drain ${((100 * r.waitedMs) / r.ms).toFixed(0)}% ` +
          `of it); RSS before ${r.before.rss.toFixed(1)} MB, ` +
          `VmHWM after ${r.after.hwm.toFixed(1)} MB (+${(r.after.hwm - r.before.rss).toFixed(1)} MB)`,
      );
    }
    console.log(
      `[1 GiB upload] strata peak - node:http peak = ${(strata.after.hwm - node.after.hwm).toFixed(1)} MB (bound 16 MB)`,
    );
    expect(node.answer).toMatch(new RegExp(`^HTTP/1\\.1 200 .*\\{"bytes":${TOTAL}\\}$`, 's'));
    expect(strata.answer).toMatch(new RegExp(`^HTTP/1\\.1 200 .*\\{"bytes":${TOTAL}\\}$`, 's'));
    // The premise: the handler is the bottleneck (unthrottled, 1 GiB crosses loopback in well under
    // a second), so node:http pushed back on the client most of the time.
    expect(node.waitedMs / node.ms).toBeGreaterThan(0.5);
    expect.soft(strata.ms, 'strata upload ms').toBeLessThan(20_000);
    expect.soft(strata.after.hwm, 'strata VmHWM, MB').toBeLessThan(node.after.hwm + 16);
  });
});
