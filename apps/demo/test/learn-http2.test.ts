/**
 * The HTTP/2 chapter's walk-through, without sockets: the frames it draws are real HTTP/2. The
 * client's bytes (preface, SETTINGS, HEADERS) are fed to `@strata/http2`'s own server connection,
 * which must read the learner's request from them; the server frames the page draws must be the
 * bytes that connection writes for the same response.
 */
import { type Http2Handlers, Http2ServerConnection, type RequestHead } from '@strata/http2';
import { describe, expect, it } from 'vitest';
import { http2Walkthrough, type LearnRequest, learnRequest, MAX_FIELDS, MAX_VALUE } from '../src/learn-http2';

const BROWSER: LearnRequest = {
  ...learnRequest({
    method: 'GET',
    url: '/learn/http2?x=1',
    authority: '127.0.0.1:8080',
    tls: false,
    version: '1.1',
    rawHeaders: [
      'Host',
      '127.0.0.1:8080',
      'Connection',
      'keep-alive',
      'User-Agent',
      'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.0.0',
      'Accept',
      'text/html,*/*;q=0.8',
      'Cookie',
      'session=secret',
      'Accept-Language',
      'en-US,en;q=0.9',
    ],
    date: 'Mon, 07 Dec 2026 12:00:00 GMT',
  }),
  pageBytes: 40_000,
};

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A real server connection that records what it writes and the request heads it reads. */
function engine() {
  const out: Uint8Array[] = [];
  const heads: { id: number; head: RequestHead; fields: string[]; end: boolean }[] = [];
  const errors: unknown[] = [];
  const handlers: Http2Handlers = {
    write: (b) => out.push(b.slice()),
    onRequest: (id, head, end) => heads.push({ id, head, fields: head.fields.slice(head.fieldsStart), end }),
    onRequestData() {},
    onTrailers() {},
    onStreamClose() {},
    onStreamWritable() {},
    onError: (e) => errors.push(e),
  };
  const conn = new Http2ServerConnection(handlers, { clock: () => 0 });
  return { conn, out, heads, errors };
}

describe('learnRequest', () => {
  it('keeps the fields as sent, without Host, connection fields or secrets', () => {
    expect(BROWSER.fields).toEqual([
      'User-Agent',
      'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.0.0',
      'Accept',
      'text/html,*/*;q=0.8',
      'Accept-Language',
      'en-US,en;q=0.9',
    ]);
    expect(BROWSER.omitted).toBe(1); // the cookie
    expect(BROWSER.authority).toBe('127.0.0.1:8080');
  });

  it('is bounded: at most MAX_FIELDS fields, values cut at MAX_VALUE, wide characters as ?', () => {
    const raw: string[] = [];
    for (let i = 0; i < MAX_FIELDS + 10; i++) raw.push(`X-F${i}`, 'v');
    raw.push('X-Long', 'a'.repeat(MAX_VALUE * 4));
    const r = learnRequest({
      method: 'GET',
      url: '/',
      authority: 'h',
      tls: true,
      version: '2.0',
      rawHeaders: ['x-wide', 'caf\u00e9 \u2192', ...raw],
      date: 'd',
    });
    expect(r.fields.length).toBe(2 * MAX_FIELDS);
    expect(r.fields[1]).toBe('caf\u00e9 ?');
    expect(r.omitted).toBe(12); // 1 + 42 + 1 fields, 32 kept
    expect(r.scheme).toBe('https');
    const long = learnRequest({
      method: 'GET',
      url: '/',
      authority: 'h',
      tls: false,
      version: '1.1',
      rawHeaders: ['X-Long', 'a'.repeat(MAX_VALUE * 4)],
      date: 'd',
    });
    expect(long.fields[1]!.length).toBe(MAX_VALUE);
    expect(long.fields[1]!.endsWith('...')).toBe(true);
  });
});

describe('http2Walkthrough', () => {
  const w = http2Walkthrough(BROWSER);

  it('(a) HTTP/1.1: request line, Host, the fields, the empty line; bytes counted with CR LF', () => {
    const text = w.http1Lines.map((l) => `${l}\r\n`).join('');
    expect(text).toBe(
      'GET /learn/http2?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n' +
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.0.0\r\n' +
        'Accept: text/html,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n',
    );
    expect(w.http1Bytes).toBe(Buffer.byteLength(text, 'latin1'));
  });

  it('(b) the HEADERS frame: 9-byte header (length, HEADERS, END_STREAM|END_HEADERS, stream 1), then HPACK', () => {
    const h = w.headers.bytes;
    const len = w.block.length;
    expect([...h.subarray(0, 9)]).toEqual([len >> 16, (len >> 8) & 0xff, len & 0xff, 0x01, 0x05, 0, 0, 0, 1]);
    expect([...h.subarray(9)]).toEqual([...w.block]);
    expect(w.block[0]).toBe(0x82); // :method GET, static entry 2
    expect(w.block[1]).toBe(0x86); // :scheme http, static entry 6
    expect(w.decoded).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':authority',
      '127.0.0.1:8080',
      ':path',
      '/learn/http2?x=1',
      'user-agent',
      'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.0.0',
      'accept',
      'text/html,*/*;q=0.8',
      'accept-language',
      'en-US,en;q=0.9',
    ]);
    expect(concat(w.requestFields.map((f) => f.bytes))).toEqual(w.block);
    expect(w.requestFields[2]!.how).toContain('incremental indexing');
    expect(w.requestFields[2]!.how).toContain('Huffman');
  });

  it('HPACK: smaller than HTTP/1.1, Huffman helps, and the same request again is one byte per field', () => {
    expect(w.block.length).toBeLessThan(w.http1Bytes);
    expect(w.block.length).toBeLessThan(w.blockWithoutHuffman);
    expect(w.again.length).toBeLessThan(w.block.length);
    expect(w.again.length).toBe(w.h2Fields.length / 2); // every field indexed: one octet each
    expect([...w.again.bytes.subarray(0, 9)]).toEqual([0, 0, w.again.length, 0x01, 0x05, 0, 0, 0, 3]);
    expect(w.againFields[2]!.how).toContain('dynamic table entry');
  });

  it("the client's bytes are real HTTP/2: @strata/http2's server connection reads the learner's request", () => {
    const e = engine();
    e.conn.receive(concat([w.preface, w.clientSettings.bytes, w.headers.bytes, w.again.bytes]));
    e.conn.flush();
    expect(e.errors).toEqual([]);
    expect(
      e.heads.map((h) => [h.id, h.head.method, h.head.scheme, h.head.authority, h.head.path, h.end]),
    ).toEqual([
      [1, 'GET', 'http', '127.0.0.1:8080', '/learn/http2?x=1', true],
      [3, 'GET', 'http', '127.0.0.1:8080', '/learn/http2?x=1', true],
    ]);
    expect(e.heads[0]!.fields).toEqual(w.decoded.slice(8));
    expect(e.heads[1]!.fields).toEqual(w.decoded.slice(8));
  });

  it("the server's frames are the bytes @strata/http2's connection writes for this response", () => {
    const e = engine();
    e.conn.receive(concat([w.preface, w.clientSettings.bytes, w.headers.bytes]));
    e.conn.flush();
    const fields = w.responseFields.slice(1).flatMap((f) => [f.name, f.value]);
    e.conn.respond(1, 200, fields, false);
    e.conn.sendData(1, new Uint8Array(BROWSER.pageBytes), true);
    e.conn.flush();
    const wire = concat(e.out);
    // SETTINGS, WINDOW_UPDATE, SETTINGS ACK, HEADERS: byte for byte.
    const control = w.server.filter((f) => f.type !== 0x0);
    const head = concat(control.map((f) => f.bytes));
    expect([...wire.subarray(0, head.length)]).toEqual([...head]);
    // Then DATA frames: the same headers, each followed by its payload.
    const data = w.server.filter((f) => f.type === 0x0);
    let at = head.length;
    for (const f of data) {
      expect([...wire.subarray(at, at + 9)], f.label).toEqual([...f.bytes]);
      at += 9 + f.length;
    }
    expect(at).toBe(wire.length);
    expect(data.reduce((n, f) => n + f.length, 0)).toBe(BROWSER.pageBytes);
    expect(data.map((f) => f.flags)).toEqual([0, 0, 1]); // 16384 + 16384 + 7232, END_STREAM on the last
  });
});
