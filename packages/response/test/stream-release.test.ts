// A stream never leaks its source. When a response is aborted (the client went away) or already over,
// whatever `stream()` was handed (a file stream, a coder over one, the multipart generator) must be
// released at once, not when the GC gets to it (Node's DEP0137 "Closing file descriptor N on garbage
// collection"). Checked on real files: the entries of /proc/self/fd that point to the file are
// counted before, while the response is stuck, and within 200 ms of the abort, with no GC.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ByteSink, ResponseWriter, requestFrom, serveStatic } from '../src/index';

/**
 * A sink that accepts `room` bytes, then answers every write with false and never drains: the writer
 * waits for a drain that does not come, as with a client that stopped reading.
 */
class StuckSink implements ByteSink {
  bytes = 0;
  drainWaits = 0;
  ended = 0;
  constructor(private readonly room = 0) {}
  write(chunk: Uint8Array | string): boolean {
    this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return this.bytes < this.room;
  }
  cork(): void {}
  uncork(): void {}
  onDrain(): void {
    this.drainWaits++;
  }
  end(): void {
    this.ended++;
  }
}

const MiB = 1024 * 1024;
let dir: string;
let root: string;
/** Real paths (as /proc/self/fd links show them) of the files served. */
let TXT: string;
let BIN: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-release-'));
  root = join(dir, 'public');
  mkdirSync(root);
  // Text that compresses only about 2x, so the coder keeps pulling from the file while stuck.
  let seed = 1;
  const lines: string[] = [];
  let n = 0;
  while (n < 4 * MiB) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const line = `${n.toString(36)} ${seed.toString(16)} ${(seed ^ (seed >>> 7)).toString(36)}\n`;
    lines.push(line);
    n += line.length;
  }
  writeFileSync(join(root, 'big.txt'), lines.join(''));
  const bin = Buffer.alloc(4 * MiB);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 31 + (i >>> 9)) & 0xff;
  writeFileSync(join(root, 'big.bin'), bin);
  TXT = realpathSync(join(root, 'big.txt'));
  BIN = realpathSync(join(root, 'big.bin'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How many of this process's file descriptors point to `file`. */
function openCount(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // the fd of readdir itself, already gone
    }
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `file` is open `want` times or `ms` have passed (measured from the call); the count. */
async function settlesTo(file: string, want: number, ms = 200): Promise<number> {
  const end = Date.now() + ms;
  let n = openCount(file);
  while (n !== want && Date.now() < end) {
    await sleep(5);
    n = openCount(file);
  }
  return n;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(2);
  }
}

type Case = {
  name: string;
  file: () => string;
  path: string;
  headers: Record<string, string>;
  compress: boolean;
};
const CASES: Case[] = [
  { name: 'plain', file: () => BIN, path: '/big.bin', headers: {}, compress: false },
  {
    name: 'compressed (gzip pipeline)',
    file: () => TXT,
    path: '/big.txt',
    headers: { 'Accept-Encoding': 'gzip' },
    compress: true,
  },
  {
    name: 'multipart byteranges (shared FileHandle, autoClose: false)',
    file: () => BIN,
    path: '/big.bin',
    headers: { Range: 'bytes=0-99,100000-3999999' },
    compress: false,
  },
];

function setup(c: Case, room = 0) {
  const sink = new StuckSink(room);
  const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
  const req = Object.assign(requestFrom('GET', c.headers), { path: c.path });
  const serve = serveStatic(root, { compress: c.compress });
  return { sink, res, req, serve };
}

describe('serveStatic: abort releases the file', () => {
  for (const c of CASES) {
    it(`${c.name}: abort after open/stat, before the stream starts`, async () => {
      const file = c.file();
      const before = openCount(file);
      const { res, req, serve } = setup(c);
      // The abort lands while serveStatic holds the open file and is setting the headers (as when the
      // connection closes during its awaited open/stat): stream() then finds the response over.
      let during = -1;
      const header = res.header.bind(res);
      res.header = (name, value) => {
        if (name === 'ETag' && during < 0) {
          during = openCount(file);
          res.abort();
        }
        return header(name, value);
      };
      // serveStatic rejects as soon as stream() refuses the finished response: count from there.
      await expect(serve(req, res)).rejects.toMatchObject({ code: 'ERR_RESPONSE_FINISHED' });
      expect(during).toBe(before + 1);
      expect(await settlesTo(file, before)).toBe(before);
      expect(res.finished).toBe(true);
      expect(res.keepAlive).toBe(false);
    });

    it(`${c.name}: abort while waiting for drain`, async () => {
      const file = c.file();
      const before = openCount(file);
      // 150 KB of room: the multipart answer is inside its second part's file stream when it sticks.
      const { sink, res, req, serve } = setup(c, 150_000);
      const p = serve(req, res);
      await until(() => sink.drainWaits > 0);
      expect(openCount(file)).toBe(before + 1);
      const rejected = expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
      res.abort();
      expect(await settlesTo(file, before)).toBe(before);
      await rejected;
      expect(sink.ended).toBe(1);
      expect(res.keepAlive).toBe(false);
    });
  }

  it('abort before the file is even opened', async () => {
    const before = openCount(BIN);
    const { res, req, serve } = setup(CASES[0]!);
    const p = serve(req, res);
    res.abort(); // serveStatic is awaiting realpath/open
    await expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_FINISHED' });
    expect(await settlesTo(BIN, before)).toBe(before);
  });
});

describe('ResponseWriter.stream releases a source it will never pump', () => {
  function writer(sink: ByteSink = new StuckSink()) {
    return new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
  }

  it('a file stream handed to an aborted response is destroyed (fd closed)', async () => {
    const before = openCount(BIN);
    const fh = await open(BIN, 'r');
    const rs = fh.createReadStream();
    expect(openCount(BIN)).toBe(before + 1);
    const res = writer();
    res.abort();
    await expect(res.stream(rs)).rejects.toMatchObject({ code: 'ERR_RESPONSE_FINISHED' });
    expect(rs.destroyed).toBe(true);
    expect(await settlesTo(BIN, before)).toBe(before);
  });

  it('a file stream handed to a finished response is destroyed (fd closed)', async () => {
    const before = openCount(BIN);
    const fh = await open(BIN, 'r');
    const rs = fh.createReadStream();
    const res = writer();
    res.end('done');
    await expect(res.stream(rs)).rejects.toMatchObject({ code: 'ERR_RESPONSE_FINISHED' });
    expect(await settlesTo(BIN, before)).toBe(before);
  });

  it('a web stream is cancelled, an async iterator returned, a generator closed', async () => {
    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    let returned = false;
    const iterable: AsyncIterable<string> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: 'x' }),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    let closed = false;
    const gen = (function* () {
      try {
        yield 'a';
        yield 'b';
      } finally {
        closed = true;
      }
    })();
    gen.next(); // started: its finally must run
    for (const src of [web, iterable, gen]) {
      const res = writer();
      res.abort();
      await expect(res.stream(src)).rejects.toMatchObject({ code: 'ERR_RESPONSE_FINISHED' });
    }
    await sleep(0);
    expect(cancelled).toBe(true);
    expect(returned).toBe(true);
    expect(closed).toBe(true);
  });

  it('an already-aborted signal destroys a file stream that was never read (fd closed)', async () => {
    const before = openCount(BIN);
    const fh = await open(BIN, 'r');
    const rs = fh.createReadStream();
    const ac = new AbortController();
    ac.abort();
    await expect(writer().stream(rs, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ERR_RESPONSE_ABORTED',
    });
    expect(rs.destroyed).toBe(true);
    expect(await settlesTo(BIN, before)).toBe(before);
  });

  it('abort while a Node source has nothing to read yet destroys it and rejects at once', async () => {
    let destroyed = false;
    const src = new Readable({
      read() {}, // an upstream that has gone quiet
      destroy(err, cb) {
        destroyed = true;
        cb(err);
      },
    });
    const res = writer();
    const p = res.stream(src);
    await sleep(10);
    res.abort();
    const t = Date.now();
    await expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
    expect(Date.now() - t).toBeLessThan(200);
    expect(destroyed).toBe(true);
    expect(res.finished).toBe(true);
  });

  it('abort while waiting for drain destroys a file stream (fd closed)', async () => {
    const before = openCount(BIN);
    const sink = new StuckSink();
    const res = writer(sink);
    const fh = await open(BIN, 'r');
    const p = res.stream(fh.createReadStream());
    await until(() => sink.drainWaits > 0);
    expect(openCount(BIN)).toBe(before + 1);
    const rejected = expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
    res.abort();
    expect(await settlesTo(BIN, before)).toBe(before);
    await rejected;
  });
});
