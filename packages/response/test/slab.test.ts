import { describe, expect, it } from 'vitest';
import { type ByteSink, ResponseWriter } from '../src/index';

/**
 * A sink that keeps every chunk it is handed BY REFERENCE (no copy), as a socket's write queue does,
 * and records the order of cork / write / end / uncork calls.
 */
class RetainingSink implements ByteSink {
  chunks: (Uint8Array | string)[] = [];
  log: string[] = [];
  depth = 0;
  write(chunk: Uint8Array | string): boolean {
    this.chunks.push(chunk);
    this.log.push(`write@${this.depth}`);
    return true;
  }
  cork(): void {
    this.depth++;
    this.log.push('cork');
  }
  uncork(): void {
    this.depth--;
    this.log.push('uncork');
  }
  onDrain(): void {}
  end(): void {
    this.log.push(`end@${this.depth}`);
  }
  take(): Buffer {
    const out = Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    this.chunks = [];
    this.log = [];
    return out;
  }
}

/** The first response in `buf`: its head (latin1, terminator included) and a body of `len` bytes. */
function split(buf: Buffer, len: number): { head: string; body: Buffer } {
  const at = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (at < 0) throw new Error('no head terminator');
  return { head: buf.toString('latin1', 0, at + 4), body: buf.subarray(at + 4, at + 4 + len) };
}

function body(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

function sendBytes(sink: RetainingSink, b: Uint8Array, seed: number): void {
  new ResponseWriter(sink, { method: 'POST', versionMinor: 1, keepAlive: true, date: false })
    .header('x-seed', String(seed))
    .send(b);
}

// Around Node's Buffer pool limit (4 KiB), the transport pool's copy limit (16 KiB) and its 64 KiB slab.
const SIZES = [
  1, 7, 8, 9, 4000, 4095, 4096, 4097, 8192, 16_300, 16_383, 16_384, 16_385, 32_768, 65_000, 65_536, 70_000,
];

describe('send(bytes): head then body under one cork, nothing reused', () => {
  it('every response stays intact while all earlier ones are still held (slab rollover included)', () => {
    const sink = new RetainingSink();
    const sent: Buffer[] = [];
    // Enough responses to fill several 64 KiB slabs, every size several times in a row.
    for (let round = 0; round < 6; round++) {
      for (const size of SIZES) {
        const seed = round * 100 + size;
        const b = body(size, seed);
        sent.push(b);
        sendBytes(sink, b, seed);
      }
    }
    // Only now read what the sink kept: a later response must not have overwritten an earlier one.
    const all = Buffer.concat(
      sink.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c))),
    );
    let at = 0;
    for (let i = 0; i < sent.length; i++) {
      const { head, body: got } = split(all.subarray(at), sent[i]!.length);
      expect(head).toContain(`Content-Length: ${sent[i]!.length}\r\n`);
      expect(got.equals(sent[i]!)).toBe(true);
      at += head.length + sent[i]!.length;
    }
    expect(at).toBe(all.length);
  });

  it("a bytes body goes out as head then the caller's own bytes (no copy: the sink batches), corked", () => {
    const sink = new RetainingSink();
    for (const size of SIZES) {
      const b = body(size, size);
      sendBytes(sink, b, size);
      expect(sink.chunks).toHaveLength(2);
      expect(sink.chunks[1]).toBe(b);
      expect(sink.log).toEqual(['cork', 'cork', 'write@2', 'write@2', 'uncork', 'end@1', 'uncork']);
      expect(split(sink.take(), size).body.equals(b)).toBe(true);
    }
  });

  it('obs-text in a header (latin1 head) next to a binary body', () => {
    const sink = new RetainingSink();
    const b = body(5000, 3);
    new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false })
      .header('x-name', 'caf\u00e9')
      .send(b);
    const out = sink.take();
    const { head, body: got } = split(out, b.length);
    expect(head).toContain('x-name: caf\u00e9\r\n'); // split decodes the head as latin1: one byte 0xE9
    expect(got.equals(b)).toBe(true);
  });
});

describe('send(): one cork around the bytes and the end', () => {
  for (const [name, payload] of [
    ['string', 'hello'],
    ['small bytes', body(100, 1)],
    ['large bytes', body(40_000, 2)],
    ['empty', undefined],
  ] as const) {
    it(`${name}: the sink sees end while corked, then uncork`, () => {
      const sink = new RetainingSink();
      new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false }).send(
        payload,
      );
      expect(sink.log[0]).toBe('cork');
      expect(sink.log.at(-1)).toBe('uncork');
      expect(sink.log.at(-2)).toBe('end@1');
      expect(sink.depth).toBe(0);
      for (const e of sink.log) if (e.startsWith('write')) expect(e).not.toBe('write@0');
    });
  }

  it('HEAD: head only, still one cork', () => {
    const sink = new RetainingSink();
    new ResponseWriter(sink, { method: 'HEAD', versionMinor: 1, keepAlive: true, date: false }).send(
      body(10, 1),
    );
    expect(sink.log).toEqual(['cork', 'write@1', 'end@1', 'uncork']);
    expect(sink.take().toString('latin1')).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n',
    );
  });
});
