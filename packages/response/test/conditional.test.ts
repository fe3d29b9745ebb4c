import { describe, expect, it } from 'vitest';
import {
  etagFor,
  evaluateConditions,
  parseETagList,
  parseHttpDate,
  ResponseWriter,
  requestFrom,
  respondConditionally,
} from '../src/index';
import { MemorySink } from './_sink';

const LM = Date.UTC(2024, 0, 10, 12, 0, 0); // Wed, 10 Jan 2024 12:00:00 GMT
const BEFORE = 'Tue, 09 Jan 2024 12:00:00 GMT';
const SAME = 'Wed, 10 Jan 2024 12:00:00 GMT';
const AFTER = 'Thu, 11 Jan 2024 12:00:00 GMT';
const V = { etag: '"xyzzy"', lastModified: LM };
const W = { etag: 'W/"xyzzy"', lastModified: LM };

describe('entity tags and dates', () => {
  it('parses lists with commas inside tags, weak tags, and *', () => {
    expect(parseETagList('"a", W/"b,c" ,  "d"')).toEqual([
      { weak: false, tag: '"a"' },
      { weak: true, tag: '"b,c"' },
      { weak: false, tag: '"d"' },
    ]);
    expect(parseETagList('*')).toBe('*');
    expect(parseETagList('garbage, "ok"')).toEqual([{ weak: false, tag: '"ok"' }]);
  });
  it('parses the three HTTP-date forms (RFC 9110 section 5.6.7)', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
    expect(parseHttpDate('yesterday')).toBeNaN();
    expect(parseHttpDate('2024-01-01')).toBeNaN();
  });
  it('etagFor is stable and content-sensitive', () => {
    expect(etagFor('hello')).toBe(etagFor(Buffer.from('hello')));
    expect(etagFor('hello')).not.toBe(etagFor('hellp'));
    expect(etagFor('hello', true)).toMatch(/^W\/"5-/);
  });
});

// [method, headers, validators, expected] — RFC 9110 sections 13.1.1-13.1.4 and 13.2.2 order.
const table: Array<[string, Record<string, string>, typeof V, number]> = [
  ['GET', {}, V, 200],
  // If-None-Match: weak comparison; GET/HEAD → 304, others → 412
  ['GET', { 'If-None-Match': '"xyzzy"' }, V, 304],
  ['HEAD', { 'If-None-Match': '"xyzzy"' }, V, 304],
  ['GET', { 'If-None-Match': 'W/"xyzzy"' }, V, 304],
  ['GET', { 'If-None-Match': '"xyzzy"' }, W, 304],
  ['GET', { 'If-None-Match': '"a", "b", "xyzzy"' }, V, 304],
  ['GET', { 'If-None-Match': '"other"' }, V, 200],
  ['GET', { 'If-None-Match': '*' }, V, 304],
  ['PUT', { 'If-None-Match': '*' }, V, 412],
  ['POST', { 'If-None-Match': '"xyzzy"' }, V, 412],
  // If-Modified-Since: only GET/HEAD, ignored when If-None-Match present, invalid dates ignored
  ['GET', { 'If-Modified-Since': SAME }, V, 304],
  ['GET', { 'If-Modified-Since': AFTER }, V, 304],
  ['GET', { 'If-Modified-Since': BEFORE }, V, 200],
  ['GET', { 'If-Modified-Since': 'not a date' }, V, 200],
  ['POST', { 'If-Modified-Since': AFTER }, V, 200],
  ['GET', { 'If-None-Match': '"other"', 'If-Modified-Since': AFTER }, V, 200],
  // If-Match: strong comparison
  ['PUT', { 'If-Match': '"xyzzy"' }, V, 200],
  ['PUT', { 'If-Match': 'W/"xyzzy"' }, V, 412],
  ['PUT', { 'If-Match': '"xyzzy"' }, W, 412],
  ['PUT', { 'If-Match': '"a", "xyzzy"' }, V, 200],
  ['PUT', { 'If-Match': '"nope"' }, V, 412],
  ['PUT', { 'If-Match': '*' }, V, 200],
  ['DELETE', { 'If-Match': '"nope"' }, V, 412],
  ['GET', { 'If-Match': '"nope"' }, V, 412],
  // If-Unmodified-Since: ignored when If-Match present
  ['PUT', { 'If-Unmodified-Since': SAME }, V, 200],
  ['PUT', { 'If-Unmodified-Since': BEFORE }, V, 412],
  ['PUT', { 'If-Unmodified-Since': 'garbage' }, V, 200],
  ['PUT', { 'If-Match': '"xyzzy"', 'If-Unmodified-Since': BEFORE }, V, 200],
  // precedence: If-Match failure wins over If-None-Match
  ['GET', { 'If-Match': '"nope"', 'If-None-Match': '"xyzzy"' }, V, 412],
  ['GET', { 'If-Match': '"xyzzy"', 'If-None-Match': '"xyzzy"' }, V, 304],
];

describe('evaluateConditions (RFC 9110 table)', () => {
  for (const [method, headers, v, expected] of table)
    it(`${method} ${JSON.stringify(headers)} ${v.etag} → ${expected}`, () => {
      expect(evaluateConditions(requestFrom(method, headers), v)).toBe(expected);
    });
  it('no current representation: If-Match * fails, If-None-Match * passes', () => {
    expect(evaluateConditions(requestFrom('PUT', { 'If-Match': '*' }), {}, false)).toBe(412);
    expect(evaluateConditions(requestFrom('PUT', { 'If-None-Match': '*' }), {}, false)).toBe(200);
  });
});

describe('respondConditionally', () => {
  function run(method: string, headers: Record<string, string>) {
    const sink = new MemorySink();
    const res = new ResponseWriter(sink, { method, versionMinor: 1, keepAlive: true, date: false });
    res.header('Cache-Control', 'max-age=60');
    const done = respondConditionally(requestFrom(method, headers), res, V);
    if (!done) res.send('body');
    return sink.text;
  }
  it('304 keeps validators and cache headers, no body', () => {
    expect(run('GET', { 'if-none-match': '"xyzzy"' })).toBe(
      'HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=60\r\nETag: "xyzzy"\r\nLast-Modified: Wed, 10 Jan 2024 12:00:00 GMT\r\n\r\n',
    );
  });
  it('412 for a failed If-Match', () => {
    expect(run('PUT', { 'if-match': '"v0"' })).toMatch(
      /^HTTP\/1\.1 412 Precondition Failed\r\n[\s\S]*Content-Length: 0\r\n\r\n$/,
    );
  });
  it('200 otherwise', () => {
    expect(run('GET', {})).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nbody$/);
  });
});
