/**
 * Request bodies and slow clients, against the built CLI over real sockets: `POST /upload` hashes a
 * body of any size as it streams (curl, fetch with a streamed body), `--max-upload` answers 413, a
 * client that stops reading is cut after `--send-timeout`, and `curl -x` (absolute-form target) and
 * `curl --http2` (`Upgrade: h2c`, declined) reach their routes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, type Demo, splitResponse, startDemo } from './_harness';

/** Default limits (1 GiB uploads, 30 s send timeout). */
let demo: Demo;
/** `--max-upload 1000 --send-timeout 500`. */
let tight: Demo;
/** `--inspector on`: the wire tap mirrors every connection. */
let recorded: Demo;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-upload-'));
  [demo, tight, recorded] = await Promise.all([
    startDemo(['serve', '--port', '0']),
    startDemo(['serve', '--port', '0', '--max-upload', '1000', '--send-timeout', '500']),
    startDemo(['serve', '--port', '0', '--inspector', 'on']),
  ]);
});
afterAll(async () => {
  await Promise.all([demo?.stop(), tight?.stop(), recorded?.stop()]);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * POSTs `total` bytes to `/upload` with fetch, the body a `ReadableStream` (so it goes chunked, as
 * it is produced), and hashes the same bytes here. Every 256 KiB piece differs from the others.
 */
async function streamUpload(
  d: Demo,
  total: number,
): Promise<{ status: number; answer: unknown; expected: { bytes: number; sha256: string } }> {
  const piece = 256 * 1024;
  const hash = createHash('sha256');
  let sent = 0;
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const size = Math.min(piece, total - sent);
      const chunk = new Uint8Array(size).fill(n++ & 0xff);
      chunk[0] = (sent >>> 8) & 0xff;
      hash.update(chunk);
      sent += size;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(`${d.url}/upload`, {
    method: 'POST',
    body,
    duplex: 'half',
    headers: { 'content-type': 'application/octet-stream' },
    signal: AbortSignal.timeout(15_000),
  } as RequestInit);
  const answer: unknown = await res.json();
  return { status: res.status, answer, expected: { bytes: total, sha256: hash.digest('hex') } };
}

/** The dashboard's client-fault figures of a demo process. */
async function faults(d: Demo): Promise<{ aborted: number; timedOut: number; rejected: number }> {
  const html = await (await fetch(`${d.url}/dashboard`)).text();
  const figure = (id: string): number => {
    const m = new RegExp(`id="${id}">(\\d+)<`).exec(html);
    if (m === null) throw new Error(`no ${id} on /dashboard`);
    return Number(m[1]);
  };
  return { aborted: figure('aborted'), timedOut: figure('timedOut'), rejected: figure('rejected') };
}

describe('POST /upload', () => {
  it('curl --data-binary @file: the bytes and the SHA-256 of the file', async () => {
    const file = join(dir, 'random.bin');
    const data = randomBytes(3 * 1024 * 1024 + 12_345); // over 1 MiB: curl sends Expect: 100-continue
    writeFileSync(file, data);
    const r = await curl(['-i', '--data-binary', `@${file}`, `${demo.url}/upload`], 15_000);
    expect(r.code, r.stderr).toBe(0);
    const res = splitResponse(r.stdout);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(res.body.toString('utf8'))).toEqual({ bytes: data.length, sha256: sha256(data) });
  });

  it('a 50 MB body streamed by fetch (a ReadableStream, sent chunked) gives the right digest', async () => {
    const { status, answer, expected } = await streamUpload(demo, 50_000_000);
    expect(status).toBe(200);
    expect(answer).toEqual(expected);
    expect(demo.stderr()).not.toContain('handler error');
  }, 20_000);

  it('a 200 MB upload is never held: the peak RSS grows by far less than the body', async () => {
    // Hashed chunks are garbage until the next GC, so a first upload may raise the peak by some
    // 50 MB whatever its size; a server that held the body would grow by at least its 200 MB.
    const total = 200_000_000;
    const before = peakRss(demo.child.pid!);
    const { status, answer, expected } = await streamUpload(demo, total);
    expect(status).toBe(200);
    expect(answer).toEqual(expected);
    const grown = peakRss(demo.child.pid!) - before;
    expect(grown, `peak RSS grew by ${grown} bytes`).toBeLessThan(total * 0.6);
  }, 20_000);

  it('--max-upload 1000: 1000 bytes pass, 2000 bytes get 413 (declared or chunked), never a 500', async () => {
    const exact = randomBytes(1000);
    const over = randomBytes(2000);
    writeFileSync(join(dir, 'exact.bin'), exact);
    writeFileSync(join(dir, 'over.bin'), over);
    const ok = await curl(['--data-binary', `@${join(dir, 'exact.bin')}`, `${tight.url}/upload`]);
    expect(JSON.parse(ok.stdout.toString('utf8'))).toEqual({ bytes: 1000, sha256: sha256(exact) });

    const big = await curl(['-i', '--data-binary', `@${join(dir, 'over.bin')}`, `${tight.url}/upload`]);
    expect(big.code, big.stderr).toBe(0);
    expect(splitResponse(big.stdout).status).toBe(413);

    // Chunked: no length to refuse up front; the limit is hit while the body streams.
    const chunked = await new Promise<string>((resolve, reject) => {
      const socket = connect(tight.port, '127.0.0.1');
      const got: Buffer[] = [];
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer to the chunked upload')));
      socket.on('data', (c) => got.push(c));
      socket.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
      socket.on('error', (e) =>
        got.length > 0 ? resolve(Buffer.concat(got).toString('latin1')) : reject(e),
      );
      socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 4; i++) socket.write(`1f4\r\n${'u'.repeat(500)}\r\n`);
      socket.write('0\r\n\r\n');
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);

    const counted = await faults(tight);
    expect(counted.rejected).toBeGreaterThanOrEqual(2);
    expect(tight.stderr()).not.toContain('handler error');
  });

  it('GET /upload is a page with a file input, its script and what SHA-256 proves', async () => {
    const res = await fetch(`${demo.url}/upload`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain('<input type="file"');
    expect(page).toContain("fetch('/upload'");
    expect(page).toContain('SHA-256');
    expect(page).toMatch(/Largest upload: <b id="limit" data-bytes="1073741824">1 GiB<\/b>/);
    const tightPage = await (await fetch(`${tight.url}/upload`)).text();
    expect(tightPage).toContain('data-bytes="1000">1000 bytes</b>');
  });
});

describe('--send-timeout', () => {
  it('closes the connection of a client that never reads its download within ~2 s', async () => {
    const size = 1024 * 1024 * 1024; // far more than the socket buffers hold
    const before = (await faults(tight)).timedOut;
    const socket = connect(tight.port, '127.0.0.1');
    socket.pause(); // never read: the kernel buffers fill, the server's writes stop being taken
    let received = 0;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const start = Date.now();
      socket.write(`GET /download/${size} HTTP/1.1\r\nHost: x\r\n\r\n`);

      // The server counts the cut (send timeout 500 ms, checked every 125 ms) while we still read nothing.
      let timedOut = before;
      while (timedOut <= before && Date.now() - start < 2500) {
        await new Promise((r) => setTimeout(r, 100));
        timedOut = (await faults(tight)).timedOut;
      }
      const cutAfter = Date.now() - start;
      expect(timedOut, `no send timeout counted after ${cutAfter} ms`).toBeGreaterThan(before);
      expect(cutAfter).toBeLessThan(2500);

      // Reading now gives only what the socket buffers held, then the close: the download was cut.
      socket.on('data', (c: Buffer) => {
        received += c.length;
      });
      socket.resume();
      const gone = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ]);
      expect(gone, `socket still open after ${received} bytes`).toBe(true);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(size / 8);
    } finally {
      socket.destroy(); // also when an assertion failed: the server must not wait for it at exit
    }
    expect(tight.stderr()).not.toContain('handler error');
  });
});

describe('requests that reach /hello through other doors', () => {
  for (const which of ['plain', 'recorded'] as const) {
    it(`curl -x (absolute-form target) and curl --http2 (Upgrade: h2c) get 200 (${which})`, async () => {
      const d = which === 'plain' ? demo : recorded;
      const proxied = await curl(['-i', '-x', `http://127.0.0.1:${d.port}`, 'http://127.0.0.1/hello']);
      expect(proxied.code, proxied.stderr).toBe(0);
      const p = splitResponse(proxied.stdout);
      expect(p.status).toBe(200);
      expect(p.body.toString('utf8')).toBe('Hello, World!');

      const withQuery = await curl(['-x', `http://127.0.0.1:${d.port}`, 'http://127.0.0.1/user/ada?x=1']);
      expect(withQuery.stdout.toString('utf8')).toContain('Hello, ada!');

      // Twice on one connection: the declined upgrade leaves it an HTTP/1.1 keep-alive connection.
      const h2 = await curl([
        '-i',
        '--http2',
        `${d.url}/hello`,
        `${d.url}/hello`,
        '-w',
        '%{http_version} %{num_connects}\n',
      ]);
      expect(h2.code, h2.stderr).toBe(0);
      const text = h2.stdout.toString('latin1');
      expect(text.match(/^HTTP\/1\.1 200 OK\r$/gm)).toHaveLength(2);
      expect(text.match(/Hello, World!1\.1 [01]\n/g)).toHaveLength(2);
      expect(text).toContain('Hello, World!1.1 0\n'); // the second request reused the connection
      expect(text).not.toMatch(/101 Switching/);

      if (which === 'recorded') {
        const log = (await (await fetch(`${d.url}/inspect.json`)).json()) as {
          entries: { received: string | null; parserEvents: string[]; route: { pattern: string | null } }[];
        };
        const hello = log.entries.filter((e) => e.route.pattern === '/hello');
        expect(hello.some((e) => e.received?.startsWith('GET http://127.0.0.1/hello HTTP/1.1\r\n'))).toBe(
          true,
        );
        const h2c = hello.filter((e) => e.received?.includes('Upgrade: h2c'));
        expect(h2c.length).toBeGreaterThanOrEqual(1);
        expect(h2c[0]!.parserEvents.some((ev) => ev.startsWith('upgrade declined'))).toBe(true);
        expect(log.entries.some((e) => e.route.pattern === '/user/:name')).toBe(true);
      }
      expect(d.stderr()).toBe('');
    });
  }
});
