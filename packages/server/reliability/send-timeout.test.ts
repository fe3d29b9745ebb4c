/**
 * A client that asks for a large body and never reads it holds a handler, its source and a socket
 * for as long as the server lets it. `timeouts.send` cuts a response that makes no progress; a
 * client that reads slowly but steadily makes progress and must not be cut.
 *
 * What "progress" can mean here is set by the kernel: a full socket is reported writable again only
 * once about a third of its send buffer is free, and on loopback that buffer autotunes up to 4 MiB.
 * So a reader shows progress only after freeing ~1.3 MiB, and one reading less than that per
 * send-timeout period looks stalled (nginx's `send_timeout` has the same granularity). On a real
 * link a slow client keeps a small send buffer (it is sized from the bandwidth-delay product), so
 * its progress shows far sooner. The steady reader below frees ~1.3 MiB in about 0.4 s.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';
import { sleep } from './_child';
import { connectNeverReading } from './_clients';

const MiB = 1024 * 1024;
const SEND_TIMEOUT = 1000;

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

const BLOCK = Buffer.alloc(64 * 1024, 120);
async function* blocks(total: number): AsyncGenerator<Uint8Array> {
  for (let left = total; left > 0; left -= BLOCK.length)
    yield BLOCK.subarray(0, Math.min(left, BLOCK.length));
}

/** Watch a socket: bytes received, and when it ended or closed (ms since `t0`, NaN while open). */
function watch(sock: net.Socket, t0: number) {
  const w = { bytes: 0, endedAt: Number.NaN, closedAt: Number.NaN };
  sock.on('data', (d: Buffer) => (w.bytes += d.length));
  sock.once('end', () => (w.endedAt = performance.now() - t0));
  sock.once('close', () => (w.closedAt = performance.now() - t0));
  return w;
}

describe('send timeout', () => {
  it('a never-reading client is cut within timeouts.send (+ sweep); a slow steady reader is not', async () => {
    const BODY = 512 * MiB;
    server = createServer({
      timeouts: { send: SEND_TIMEOUT },
      async handler(_req, res) {
        res.header('Content-Length', String(BODY));
        await res.stream(blocks(BODY));
      },
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    const request = 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n';

    const stalled = await connectNeverReading(port);
    const steady = await connectNeverReading(port);
    const t0 = performance.now();
    stalled.write(request);
    steady.write(request);

    // The steady reader: 64 KiB every 20 ms, 3.2 MiB/s (it reads one socket read past the mark at most).
    const s = watch(steady, t0);
    let quota = 64 * 1024;
    let paced = true;
    steady.on('data', () => {
      if (paced && s.bytes >= quota) steady.pause();
    });
    steady.resume();
    const pace = setInterval(() => {
      quota += 64 * 1024;
      if (s.bytes < quota) steady.resume();
    }, 20);

    // Cuts are seen on the server (a client that does not read would not see a FIN): when
    // stats().timedOut went up, and the steady reader's bytes at that moment.
    const cuts: { at: number; steadyKiB: number }[] = [];
    while (performance.now() - t0 < 3500) {
      const n = server.stats().timedOut;
      while (cuts.length < n) cuts.push({ at: performance.now() - t0, steadyKiB: s.bytes / 1024 });
      await sleep(10);
    }
    clearInterval(pace);
    const st = server.stats();
    const cutAt = cuts.length > 0 ? cuts[0]!.at : Number.NaN;
    const steadyKiB = s.bytes / 1024;
    // Now both read at full speed: a connection the server cut ends short of the body (what was
    // in the kernel's buffers, then the close); a live one keeps receiving.
    const z = watch(stalled, t0);
    stalled.resume();
    paced = false;
    steady.resume();
    for (let i = 0; i < 50 && (Number.isNaN(z.closedAt) || Number.isNaN(s.closedAt)); i++) await sleep(20);
    console.log(
      `[send timeout ${SEND_TIMEOUT} ms] never-reading client cut ${cutAt.toFixed(0)} ms after its request ` +
        `(bound 2500 ms); it then read ${(z.bytes / MiB).toFixed(1)} MiB of ${BODY / MiB} MiB and ` +
        `${Number.isNaN(z.closedAt) ? 'saw no close' : 'saw the close'}; steady reader (64 KiB / 20 ms) read ` +
        `${steadyKiB.toFixed(0)} KiB in 3.5 s; stats timedOut ${st.timedOut}, connections ${st.connections}; ` +
        `cuts [ms after the requests, steady reader's KiB then]: ` +
        `${JSON.stringify(cuts.map((c) => [Math.round(c.at), Math.round(c.steadyKiB)]))}; reading freely after ` +
        `that, the steady reader got ${(s.bytes / MiB).toFixed(1)} MiB in all and ` +
        `${Number.isNaN(s.closedAt) ? 'is open' : 'saw the close (it had been cut)'}`,
    );
    expect.soft(cutAt, 'ms from the request to the cut').toBeLessThan(2500);
    expect.soft(cutAt, 'ms from the request to the cut').toBeGreaterThanOrEqual(0.75 * SEND_TIMEOUT);
    expect.soft(z.closedAt, 'the stalled client saw its connection close').not.toBeNaN();
    expect.soft(z.bytes, 'bytes the stalled client got').toBeLessThan(BODY);
    expect.soft(st.timedOut, 'stats().timedOut (the stalled client only)').toBe(1);
    expect.soft(s.closedAt, 'the steady reader was cut (ms of its close)').toBeNaN();
    steady.destroy();
    stalled.destroy();
  });
});
