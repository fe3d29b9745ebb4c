import { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { negotiateEncoding, ResponseWriter, requestFrom, sendCompressed } from '../src/index';
import { decodeChunked, MemorySink, split } from './_sink';

describe('negotiateEncoding (RFC 9110 section 12.5.3)', () => {
  const cases: Array<[string | undefined, string | null]> = [
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['gzip, br', 'br'], // tie → server preference
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['br;q=0, gzip;q=0.1', 'gzip'],
    ['deflate', 'deflate'],
    ['x-gzip', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['identity', 'identity'],
    ['identity;q=1, gzip;q=0.5', 'identity'],
    ['compress', 'identity'],
    ['gzip;q=0', 'identity'],
    ['*;q=0', null],
    ['identity;q=0', null],
    ['identity;q=0, gzip;q=0.2', 'gzip'],
    ['GZIP;Q=0.7', 'gzip'],
    ['gzip;q=2', 'identity'], // invalid qvalue: member ignored
  ];
  for (const [h, want] of cases)
    it(`${JSON.stringify(h)} → ${want}`, () => expect(negotiateEncoding(h)).toBe(want));
  it('honours the supported list', () => expect(negotiateEncoding('br, gzip', ['gzip'])).toBe('gzip'));
});

const text = 'The quick brown fox jumps over the lazy dog. '.repeat(200);

async function run(
  headers: Record<string, string>,
  body: string | Uint8Array | Readable,
  setup: (res: ResponseWriter) => void = (res) => res.header('Content-Type', 'text/plain; charset=utf-8'),
  method = 'GET',
) {
  const sink = new MemorySink();
  const res = new ResponseWriter(sink, { method, versionMinor: 1, keepAlive: true, date: false });
  setup(res);
  await sendCompressed(requestFrom(method, headers), res, body);
  return split(sink.bytes);
}

describe('sendCompressed', () => {
  it('gzip, br and deflate round-trip, chunked, Vary added', async () => {
    for (const [enc, dec] of [
      ['gzip', gunzipSync],
      ['br', brotliDecompressSync],
      ['deflate', inflateSync],
    ] as const) {
      const { head, body } = await run({ 'Accept-Encoding': enc }, text);
      expect(head).toContain(`Content-Encoding: ${enc}\r\n`);
      expect(head).toContain('Vary: Accept-Encoding\r\n');
      expect(head).toContain('Transfer-Encoding: chunked\r\n');
      expect(head).not.toContain('Content-Length');
      const raw = decodeChunked(body).body;
      expect(raw.length).toBeLessThan(text.length / 5);
      expect(dec(raw).toString()).toBe(text);
    }
  });
  it('streams a Readable through the coder', async () => {
    const { head, body } = await run({ 'Accept-Encoding': 'gzip' }, Readable.from([text, text]));
    expect(head).toContain('Content-Encoding: gzip');
    expect(gunzipSync(decodeChunked(body).body).toString()).toBe(text + text);
  });
  it('below the threshold, not accepted, or not compressible: identity', async () => {
    const small = await run({ 'Accept-Encoding': 'gzip' }, 'tiny');
    expect(small.head).not.toContain('Content-Encoding');
    expect(small.head).toContain('Vary: Accept-Encoding');
    expect(small.body.toString()).toBe('tiny');
    const none = await run({}, text);
    expect(none.head).not.toContain('Content-Encoding');
    expect(none.head).toContain('Content-Length: 9000');
    const png = await run({ 'Accept-Encoding': 'gzip' }, text, (res) =>
      res.header('Content-Type', 'image/png'),
    );
    expect(png.head).not.toContain('Content-Encoding');
    expect(png.head).not.toContain('Vary');
  });
  it('never re-encodes an encoded body or compresses a range', async () => {
    const enc = await run({ 'Accept-Encoding': 'gzip' }, text, (res) =>
      res.header('Content-Type', 'text/plain').header('Content-Encoding', 'br'),
    );
    expect(enc.head).toContain('Content-Encoding: br\r\n');
    expect(enc.body.toString()).toBe(text);
    const part = await run({ 'Accept-Encoding': 'gzip' }, text.slice(0, 2000), (res) =>
      res.status(206).header('Content-Type', 'text/plain').header('Content-Range', 'bytes 0-1999/9000'),
    );
    expect(part.head).not.toContain('Content-Encoding');
  });
  it('a strong ETag becomes weak; an existing Vary is extended once', async () => {
    const { head } = await run({ 'Accept-Encoding': 'gzip' }, text, (res) =>
      res.header('Content-Type', 'text/html').header('ETag', '"abc"').header('Vary', 'Origin'),
    );
    expect(head).toContain('ETag: W/"abc"\r\n');
    expect(head).toContain('Vary: Origin, Accept-Encoding\r\n');
  });
  it('HEAD is not encoded', async () => {
    const { head, body } = await run({ 'Accept-Encoding': 'gzip' }, text, undefined, 'HEAD');
    expect(head).toContain('Content-Length: 9000');
    expect(body.length).toBe(0);
  });
});

describe('sendCompressed abort', () => {
  it('aborting mid-stream destroys the source behind the coder', async () => {
    const sink = new MemorySink();
    sink.full = true; // never drains: the writer waits until aborted
    const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
    res.header('Content-Type', 'text/plain');
    let destroyed = false;
    const src = new Readable({
      read() {
        this.push(Buffer.from(Math.random().toString(36).repeat(2000)));
      },
      destroy(e, cb) {
        destroyed = true;
        cb(e);
      },
    });
    const p = sendCompressed(requestFrom('GET', { 'Accept-Encoding': 'gzip' }), res, src);
    await new Promise((r) => setTimeout(r, 30));
    res.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
    await new Promise((r) => setTimeout(r, 10));
    expect(destroyed).toBe(true);
    expect(res.keepAlive).toBe(false);
  });
});
