import { describe, expect, it } from 'vitest';
import { parseRange, ResponseWriter, rangeFor, requestFrom, sendRanged } from '../src/index';
import { MemorySink, split } from './_sink';

describe('parseRange (RFC 9110 section 14.1.2 examples, 10000-byte representation)', () => {
  const cases: Array<[string, unknown]> = [
    ['bytes=0-499', [[0, 499]]],
    ['bytes=500-999', [[500, 999]]],
    ['bytes=-500', [[9500, 9999]]],
    ['bytes=9500-', [[9500, 9999]]],
    [
      'bytes=0-0,-1',
      [
        [0, 0],
        [9999, 9999],
      ],
    ],
    [
      'bytes= 0-999, 4500-5499, -1000',
      [
        [0, 999],
        [4500, 5499],
        [9000, 9999],
      ],
    ],
    ['bytes=500-600,601-999', [[500, 999]]], // adjacent: coalesced
    ['bytes=500-700,601-999', [[500, 999]]], // overlapping: coalesced
    ['bytes=0-20000', [[0, 9999]]], // last-pos clamped
    ['bytes=-20000', [[0, 9999]]],
    ['BYTES=0-1', [[0, 1]]],
    ['bytes=10000-', 'unsatisfiable'],
    ['bytes=10000-10001, 20000-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=10000-,0-1', [[0, 1]]], // unsatisfiable members dropped
    ['bytes=5-4', 'none'], // invalid: last < first → ignore Range
    ['bytes=a-b', 'none'],
    ['bytes=1-2-3', 'none'],
    ['bytes=+1-2', 'none'],
    ['bytes=0x10-', 'none'],
    ['bytes=', 'none'],
    ['items=0-5', 'none'],
    ['bytes 0-5', 'none'],
  ];
  for (const [h, want] of cases)
    it(h, () => {
      const r = parseRange(h, 10000);
      if (typeof want === 'string') expect(r.type).toBe(want);
      else {
        expect(r.type).toBe('ranges');
        if (r.type === 'ranges') expect(r.ranges.map((x) => [x.start, x.end])).toEqual(want);
      }
    });
  it('empty representation: every range unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0).type).toBe('unsatisfiable');
    expect(parseRange('bytes=-5', 0).type).toBe('unsatisfiable');
  });
  it('too many ranges → Range ignored', () => {
    const many = `bytes=${Array.from({ length: 20 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;
    expect(parseRange(many, 10000).type).toBe('none');
    expect(parseRange(many, 10000, { maxRanges: 50 }).type).toBe('ranges');
  });
});

describe('If-Range and method rules', () => {
  const v = { etag: '"abc"', lastModified: Date.UTC(2024, 0, 10, 12, 0, 0) };
  const get = (h: Record<string, string>) =>
    rangeFor(requestFrom('GET', { Range: 'bytes=0-1', ...h }), 100, v).type;
  it('matching strong ETag / exact date keeps the range', () => {
    expect(get({ 'If-Range': '"abc"' })).toBe('ranges');
    expect(get({ 'If-Range': 'Wed, 10 Jan 2024 12:00:00 GMT' })).toBe('ranges');
  });
  it('a mismatch, weak tag or other date sends the whole representation', () => {
    expect(get({ 'If-Range': '"old"' })).toBe('none');
    expect(get({ 'If-Range': 'W/"abc"' })).toBe('none');
    expect(get({ 'If-Range': 'Thu, 11 Jan 2024 12:00:00 GMT' })).toBe('none');
    expect(get({ 'If-Range': 'junk' })).toBe('none');
  });
  it('Range is ignored for methods other than GET', () => {
    expect(rangeFor(requestFrom('HEAD', { Range: 'bytes=0-1' }), 100).type).toBe('none');
    expect(rangeFor(requestFrom('POST', { Range: 'bytes=0-1' }), 100).type).toBe('none');
  });
});

describe('sendRanged', () => {
  const body = 'abcdefghijklmnopqrstuvwxyz';
  function run(headers: Record<string, string>) {
    const sink = new MemorySink();
    const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
    res.header('Content-Type', 'text/plain');
    sendRanged(requestFrom('GET', headers), res, body);
    return sink;
  }
  it('200 without Range', () => {
    expect(run({}).text).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nAccept-Ranges: bytes\r\nContent-Length: 26\r\n\r\n' +
        body,
    );
  });
  it('206 single range', () => {
    expect(run({ Range: 'bytes=2-4' }).text).toBe(
      'HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nAccept-Ranges: bytes\r\nContent-Range: bytes 2-4/26\r\nContent-Length: 3\r\n\r\ncde',
    );
  });
  it('416 unsatisfiable', () => {
    expect(run({ Range: 'bytes=30-' }).text).toBe(
      'HTTP/1.1 416 Range Not Satisfiable\r\nAccept-Ranges: bytes\r\nContent-Range: bytes */26\r\nContent-Length: 0\r\n\r\n',
    );
  });
  it('206 multipart/byteranges with an exact Content-Length', () => {
    const sink = run({ Range: 'bytes=0-1, -2' });
    const { head, body: b } = split(sink.bytes);
    const boundary = /boundary=(\S+)\r\n/.exec(head)![1]!;
    expect(head).toContain(`Content-Type: multipart/byteranges; boundary=${boundary}\r\n`);
    expect(Number(/Content-Length: (\d+)/.exec(head)![1])).toBe(b.length);
    expect(b.toString()).toBe(
      `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/26\r\n\r\nab` +
        `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 24-25/26\r\n\r\nyz` +
        `\r\n--${boundary}--\r\n`,
    );
  });
});
