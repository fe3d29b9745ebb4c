/**
 * Clients that go away: mid-download (a reset after the first bytes), by half-closing (FIN), or
 * after sending too much. Every unfinished response must release what it holds at once (files,
 * handlers), and none of it is a server error to log.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerOptions } from '../src/index';
import { type Fixture, fdsOn, sleep, startFixture } from './_child';
import { abortAfterFirstBytes, bounded, exchange } from './_clients';

const MiB = 1024 * 1024;

let dir = '';
let file = '';
let fixture: Fixture | null = null;
let server: Server | null = null;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'strata-reliability-')));
  file = join(dir, 'big.bin');
  writeFileSync(file, Buffer.alloc(8 * MiB, 98));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await fixture?.stop();
  fixture = null;
  await server?.close({ deadline: 200 });
  server = null;
});

async function start(options: ServerOptions): Promise<number> {
  server = createServer(options);
  return ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
}

/** 64 KiB views of one buffer, `total` bytes in all (nothing allocated per chunk). */
const BLOCK = Buffer.alloc(64 * 1024, 120);
async function* blocks(total: number): AsyncGenerator<Uint8Array> {
  for (let left = total; left > 0; left -= BLOCK.length)
    yield BLOCK.subarray(0, Math.min(left, BLOCK.length));
}

describe('aborted downloads', () => {
  it('1,000 static downloads reset after the first bytes: no descriptor left 1 s later, none closed by GC', async () => {
    fixture = await startFixture({ STATIC_DIR: dir });
    const f = fixture;
    const request = 'GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n';
    const t0 = Date.now();
    let most = 0;
    const seen = await bounded(1000, 50, async (i) => {
      const n = await abortAfterFirstBytes(f.port, request);
      if (i % 50 === 0) most = Math.max(most, fdsOn(f.pid, file));
      return n;
    });
    const took = Date.now() - t0;
    expect(seen.every((n) => n > 0)).toBe(true);
    await sleep(1000);
    const open = fdsOn(f.pid, file);
    // Now collect: a FileHandle left to the GC is closed there, with a DEP0137 warning on stderr.
    expect((await f.get<{ gc: boolean }>('/_gc')).gc).toBe(true);
    await sleep(200);
    await f.get('/_gc');
    await sleep(200);
    const c = await f.get('/_count');
    const warnings = f.stderr().match(/DEP0137|Closing file descriptor/g) ?? [];
    console.log(
      `[aborted static] 1000 downloads of 8 MiB reset after the first bytes (50 at a time) in ${took} ms; ` +
        `most descriptors of big.bin seen open during the run ${most}; 1 s after the last: ${open} open; ` +
        `after 2 forced GCs: ${warnings.length} DEP0137 lines; server counted aborted ${c.stats!.aborted}, ` +
        `requests ${c.stats!.requests}, responses ${c.stats!.responses}`,
    );
    expect.soft(open, 'descriptors of big.bin open 1 s after the last client').toBe(0);
    expect.soft(warnings, 'stderr: file handles closed by the garbage collector').toEqual([]);
    expect.soft(c.stats!.aborted, 'stats().aborted').toBeGreaterThanOrEqual(1000);
    expect.soft(f.stderr(), 'onError calls').not.toMatch(/ONERROR/);
  });
});

describe('abort on FIN', () => {
  /** A handler that waits for its signal (or 400 ms), then answers `late`; the signal's times. */
  function waitingHandler(fired: number[], answered: boolean[]): ServerOptions['handler'] {
    return async (req, res) => {
      const signal = req.signal;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 400);
        signal.addEventListener('abort', () => {
          fired.push(performance.now());
          clearTimeout(timer);
          resolve();
        });
      });
      if (signal.aborted) return;
      answered.push(true);
      res.send('late');
    };
  }

  it('a FIN from the client fires req.signal within 50 ms; with allowHalfOpen the answer still arrives', async () => {
    const fired: number[] = [];
    const answered: boolean[] = [];
    const port = await start({ handler: waitingHandler(fired, answered) });
    const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    sock.on('error', () => {});
    let got = '';
    sock.on('data', (d) => (got += d.toString('latin1')));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100); // the handler is waiting
    const fin = performance.now();
    sock.end();
    await closed;
    const delay = fired.length > 0 ? fired[0]! - fin : Number.NaN;
    console.log(
      `[FIN] signal fired ${fired.length}x, ${delay.toFixed(1)} ms after the FIN (bound 50 ms); ` +
        `answered ${answered.length}; bytes back ${got.length}; stats aborted ${server!.stats().aborted}`,
    );
    expect(fired.length).toBe(1);
    expect(delay).toBeLessThan(50);
    expect(answered.length).toBe(0);
    expect(server!.stats().aborted).toBe(1);
    await server!.close({ deadline: 200 });

    const firedHalf: number[] = [];
    const answeredHalf: boolean[] = [];
    const port2 = await start({ handler: waitingHandler(firedHalf, answeredHalf), allowHalfOpen: true });
    const t0 = performance.now();
    const sock2 = net.connect({ port: port2, host: '127.0.0.1', noDelay: true });
    sock2.on('error', () => {});
    let got2 = '';
    sock2.on('data', (d) => (got2 += d.toString('latin1')));
    const closed2 = new Promise<void>((r) => sock2.once('close', () => r()));
    await new Promise((r) => sock2.once('connect', r));
    sock2.end('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n'); // request and FIN together
    await closed2;
    console.log(
      `[FIN, allowHalfOpen] signal fired ${firedHalf.length}x; answer after ${(performance.now() - t0).toFixed(0)} ms: ` +
        `${JSON.stringify(got2.split('\r\n')[0])} body ${JSON.stringify(got2.slice(got2.indexOf('\r\n\r\n') + 4))}`,
    );
    expect(firedHalf.length).toBe(0);
    expect(got2).toMatch(/^HTTP\/1\.1 200 /);
    expect(got2.endsWith('\r\n\r\nlate')).toBe(true);
  });
});

describe('log flooding', () => {
  it('200 clients gone mid-response and 50 oversized bodies: onError never called, aborted and rejected counted', async () => {
    const errors: unknown[] = [];
    const port = await start({
      limits: { maxBodyBytes: 1024 },
      onError: (e) => errors.push(e),
      async handler(req, res) {
        if (req.path === '/big') {
          res.header('Content-Length', String(64 * MiB));
          await res.stream(blocks(64 * MiB)); // no signal: the engine's abort must end it
          return;
        }
        if (req.path === '/big-signal') {
          await res.stream(blocks(64 * MiB), { signal: req.signal });
          return;
        }
        const body = await req.body();
        res.send(`got ${body.length}`);
      },
    });
    const t0 = Date.now();
    await bounded(200, 50, (i) =>
      abortAfterFirstBytes(port, `GET ${i % 2 === 0 ? '/big' : '/big-signal'} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    const body = Buffer.alloc(64 * 1024, 121);
    const chunk = `800\r\n${'z'.repeat(0x800)}\r\n`;
    const answers = await bounded(50, 10, (i) =>
      i % 2 === 0
        ? exchange(
            port,
            Buffer.concat([
              Buffer.from(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`),
              body,
            ]),
          )
        : exchange(
            port,
            `POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(32)}0\r\n\r\n`,
          ),
    );
    await sleep(200); // handlers' rejections settle
    const st = server!.stats();
    const status413 = answers.filter((a) => a.startsWith('HTTP/1.1 413 ')).length;
    console.log(
      `[log flood] 200 resets mid-response + 50 oversized bodies in ${Date.now() - t0} ms: onError called ` +
        `${errors.length}x; 413 answers ${status413}/50; stats aborted ${st.aborted}, rejected ${st.rejected}, ` +
        `timedOut ${st.timedOut}, errors ${st.errors}`,
    );
    expect.soft(errors.map(String), 'onError calls').toEqual([]);
    expect.soft(status413, '413 answers').toBe(50);
    expect.soft(st.aborted, 'stats().aborted').toBeGreaterThanOrEqual(200);
    expect.soft(st.rejected, 'stats().rejected').toBeGreaterThanOrEqual(50);
  });
});
