/**
 * RFC 9113 section 8 request checks: `checkRequest`, `checkTrailers`, `validName` and `validValue`
 * alone, then every rejected shape through the connection from raw bytes (fed whole, byte by byte
 * and at every split point): the stream is refused with RST_STREAM PROTOCOL_ERROR, the handler never
 * sees it, and the next request on the connection is served.
 */
import { describe, expect, it } from 'vitest';
import { checkRequest, checkTrailers, type RequestHead, validName, validValue } from '../src/_request';
import { Client, feedAllWays, get } from './_frames';

const BASE = [':method', 'GET', ':scheme', 'https', ':authority', 'example.com', ':path', '/'];

/** Each rule: a header list and the reason it is malformed. */
const REJECTED: [string, string[], string][] = [
  ['duplicate :method', [...BASE, ':method', 'GET'], 'duplicate :method'],
  ['empty :method', [':method', '', ':scheme', 'https', ':path', '/'], 'invalid :method'],
  ['a :method with a space', [':method', 'G T', ':scheme', 'https', ':path', '/'], 'invalid :method'],
  ['a :method with a slash', [':method', 'GET/1', ':scheme', 'https', ':path', '/'], 'invalid :method'],
  ['duplicate :scheme', [...BASE, ':scheme', 'http'], 'duplicate :scheme'],
  ['empty :scheme', [':method', 'GET', ':scheme', '', ':path', '/'], 'invalid :scheme'],
  [
    'a :scheme with a control byte',
    [':method', 'GET', ':scheme', 'ht\x01tp', ':path', '/'],
    'invalid :scheme',
  ],
  ['duplicate :authority', [...BASE, ':authority', 'a'], 'duplicate :authority'],
  [
    'an :authority with a leading space',
    [':method', 'GET', ':scheme', 'https', ':authority', ' a', ':path', '/'],
    'invalid :authority',
  ],
  ['duplicate :path', [...BASE, ':path', '/x'], 'duplicate :path'],
  ['a :path with CR LF', [':method', 'GET', ':scheme', 'https', ':path', '/a\r\nb'], 'invalid :path'],
  ['a response pseudo-header', [...BASE, ':status', '200'], 'pseudo-header :status not allowed in a request'],
  ['an unknown pseudo-header', [...BASE, ':foo', 'x'], 'pseudo-header :foo not allowed in a request'],
  [
    'a :protocol (extended CONNECT is off)',
    [...BASE, ':protocol', 'websocket'],
    'pseudo-header :protocol not allowed in a request',
  ],
  [
    'a pseudo-header after a regular field',
    [':method', 'GET', 'accept', '*/*', ':scheme', 'https', ':path', '/'],
    'pseudo-header :scheme after a regular field',
  ],
  ['an uppercase field name', [...BASE, 'Accept', '*/*'], 'invalid field name "Accept"'],
  ['an empty field name', [...BASE, '', 'x'], 'invalid field name ""'],
  ['a field name with a space', [...BASE, 'x y', '1'], 'invalid field name "x y"'],
  ['a field name with a colon inside', [...BASE, 'x:y', '1'], 'invalid field name "x:y"'],
  ['a field name with a byte above 0x7f', [...BASE, 'x\xe9', '1'], 'invalid field name "x\xe9"'],
  ['a value with NUL', [...BASE, 'x-a', 'a\x00b'], 'invalid value of x-a'],
  ['a value with CR', [...BASE, 'x-a', 'a\rb'], 'invalid value of x-a'],
  ['a value with LF', [...BASE, 'x-a', 'a\nb'], 'invalid value of x-a'],
  ['a value with DEL', [...BASE, 'x-a', 'a\x7fb'], 'invalid value of x-a'],
  ['a value with a leading space', [...BASE, 'x-a', ' a'], 'invalid value of x-a'],
  ['a value with a trailing tab', [...BASE, 'x-a', 'a\t'], 'invalid value of x-a'],
  ['connection', [...BASE, 'connection', 'keep-alive'], 'connection-specific field connection'],
  ['keep-alive', [...BASE, 'keep-alive', 'timeout=5'], 'connection-specific field keep-alive'],
  ['proxy-connection', [...BASE, 'proxy-connection', 'close'], 'connection-specific field proxy-connection'],
  [
    'transfer-encoding',
    [...BASE, 'transfer-encoding', 'chunked'],
    'connection-specific field transfer-encoding',
  ],
  ['upgrade', [...BASE, 'upgrade', 'h2c'], 'connection-specific field upgrade'],
  ['te other than trailers', [...BASE, 'te', 'gzip'], 'te other than trailers'],
  ['te with trailers and more', [...BASE, 'te', 'trailers, deflate'], 'te other than trailers'],
  ['a content-length with a sign', [...BASE, 'content-length', '+5'], 'invalid content-length'],
  ['an empty content-length', [...BASE, 'content-length', ''], 'invalid content-length'],
  [
    'a content-length of 16 digits',
    [...BASE, 'content-length', '1234567890123456'],
    'invalid content-length',
  ],
  ['a content-length list', [...BASE, 'content-length', '5, 5'], 'invalid content-length'],
  [
    'two content-lengths that differ',
    [...BASE, 'content-length', '5', 'content-length', '6'],
    'invalid content-length',
  ],
  [
    'duplicate host',
    [':method', 'GET', ':scheme', 'https', ':path', '/', 'host', 'a', 'host', 'a'],
    'duplicate host',
  ],
  ['missing :method', [':scheme', 'https', ':path', '/'], 'missing :method'],
  ['missing :scheme', [':method', 'GET', ':path', '/'], 'missing :scheme'],
  ['missing :path', [':method', 'GET', ':scheme', 'https'], 'missing or empty :path'],
  ['empty :path', [':method', 'GET', ':scheme', 'https', ':path', ''], 'missing or empty :path'],
  [
    'a :path not starting with /',
    [':method', 'GET', ':scheme', 'https', ':path', 'index.html'],
    'invalid :path',
  ],
  ['an absolute-form :path', [':method', 'GET', ':scheme', 'https', ':path', 'https://a/'], 'invalid :path'],
  [
    '* for a method other than OPTIONS',
    [':method', 'GET', ':scheme', 'https', ':path', '*'],
    'invalid :path',
  ],
  [
    'CONNECT with :scheme',
    [':method', 'CONNECT', ':scheme', 'https', ':authority', 'a:443'],
    'CONNECT with :scheme or :path',
  ],
  [
    'CONNECT with :path',
    [':method', 'CONNECT', ':authority', 'a:443', ':path', '/'],
    'CONNECT with :scheme or :path',
  ],
  ['CONNECT without :authority', [':method', 'CONNECT'], 'CONNECT without :authority'],
  [
    'CONNECT with an empty :authority',
    [':method', 'CONNECT', ':authority', ''],
    'CONNECT without :authority',
  ],
  ['an :authority and a host that differ', [...BASE, 'host', 'other.example'], ':authority and host differ'],
  ['no pseudo-headers at all', ['accept', '*/*'], 'missing :method'],
];

/** Each: a header list that is accepted, and what the head must hold. */
const ACCEPTED: [string, string[], Partial<RequestHead>][] = [
  [
    'a plain GET',
    BASE,
    {
      method: 'GET',
      scheme: 'https',
      authority: 'example.com',
      path: '/',
      fieldsStart: 8,
      contentLength: -1,
    },
  ],
  [
    'pseudo-headers in any order',
    [':path', '/p', ':authority', 'a', ':scheme', 'http', ':method', 'POST'],
    { method: 'POST', scheme: 'http', authority: 'a', path: '/p' },
  ],
  [
    'a lower-case method token, kept as sent',
    [':method', 'purge', ':scheme', 'https', ':path', '/'],
    { method: 'purge' },
  ],
  [
    'an extension method with token characters',
    [':method', 'X-CUSTOM_1!', ':scheme', 'https', ':path', '/'],
    { method: 'X-CUSTOM_1!' },
  ],
  [
    'host without :authority',
    [':method', 'GET', ':scheme', 'https', ':path', '/', 'host', 'h.example'],
    { authority: '' },
  ],
  ['host equal to :authority', [...BASE, 'host', 'example.com'], { authority: 'example.com' }],
  ['OPTIONS *', [':method', 'OPTIONS', ':scheme', 'https', ':path', '*'], { path: '*' }],
  [
    'CONNECT with :authority only',
    [':method', 'CONNECT', ':authority', 'a:443'],
    { method: 'CONNECT', scheme: '', path: '', authority: 'a:443' },
  ],
  ['te: trailers', [...BASE, 'te', 'trailers'], { fieldsStart: 8 }],
  ['content-length', [...BASE, 'content-length', '42'], { contentLength: 42 }],
  ['content-length 0', [...BASE, 'content-length', '0'], { contentLength: 0 }],
  [
    'two equal content-lengths',
    [...BASE, 'content-length', '7', 'content-length', '7'],
    { contentLength: 7 },
  ],
  [
    'content-length of 15 digits',
    [...BASE, 'content-length', '999999999999999'],
    { contentLength: 999_999_999_999_999 },
  ],
  ['a value with an inner tab and space', [...BASE, 'x-a', 'a \tb'], {}],
  ['a value with obs-text bytes', [...BASE, 'x-a', 'caf\xe9'], {}],
  ['an empty value', [...BASE, 'x-a', ''], {}],
  ['every tchar in a name', [...BASE, "!#$%&'*+-.^_`|~09az", 'v'], {}],
  ['a scheme other than http(s)', [':method', 'GET', ':scheme', 'foo', ':path', '/'], { scheme: 'foo' }],
  ['a cookie split in several fields', [...BASE, 'cookie', 'a=1', 'cookie', 'b=2'], {}],
  [
    'an :authority with userinfo-like text (left to the application)',
    [...BASE.slice(0, 4), ':authority', 'u@h', ':path', '/'],
    { authority: 'u@h' },
  ],
];

describe('checkRequest', () => {
  for (const [name, list, why] of REJECTED)
    it(`rejects ${name}`, () => {
      expect(checkRequest(list)).toBe(why);
    });
  for (const [name, list, head] of ACCEPTED)
    it(`accepts ${name}`, () => {
      const r = checkRequest(list);
      expect(typeof r).toBe('object');
      expect(r).toMatchObject(head);
      const h = r as RequestHead;
      expect(h.fields).toBe(list);
      // Every field from fieldsStart on is a regular one.
      for (let i = h.fieldsStart; i < list.length; i += 2) expect(list[i]!.startsWith(':')).toBe(false);
    });
});

describe('checkTrailers', () => {
  it('accepts regular fields and an empty list', () => {
    expect(checkTrailers(['x-sum', 'abc', 'grpc-status', '0'])).toBe(null);
    expect(checkTrailers([])).toBe(null);
  });
  it('rejects pseudo-headers, bad names, bad values and connection-specific fields', () => {
    expect(checkTrailers([':status', '200'])).toBe('pseudo-header :status in trailers');
    expect(checkTrailers(['X-A', '1'])).toBe('invalid field name "X-A"');
    expect(checkTrailers(['x-a', '1\n'])).toBe('invalid value of x-a');
    expect(checkTrailers(['transfer-encoding', 'chunked'])).toBe(
      'connection-specific field transfer-encoding',
    );
  });
});

describe('validName and validValue', () => {
  it('names: lower-case tokens only', () => {
    expect(validName('content-type')).toBe(true);
    expect(validName('')).toBe(false);
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      const token = /[!#$%&'*+\-.^_`|~0-9a-z]/.test(ch);
      expect(validName(`a${ch}`), `0x${c.toString(16)}`).toBe(token);
    }
  });
  it('values: no control byte but HTAB, no DEL, no leading or trailing whitespace', () => {
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      const ok = c === 0x09 || (c >= 0x20 && c !== 0x7f);
      expect(validValue(`a${ch}b`), `0x${c.toString(16)}`).toBe(ok);
    }
    expect(validValue('')).toBe(true);
    expect(validValue(' a')).toBe(false);
    expect(validValue('a ')).toBe(false);
    expect(validValue('\ta')).toBe(false);
    expect(validValue('a\t')).toBe(false);
  });
});

describe('through the connection, from raw bytes', () => {
  for (const [name, list] of REJECTED)
    it(`${name}: RST_STREAM PROTOCOL_ERROR, the next request is served`, () => {
      const c = new Client()
        .preface()
        .headers(1, list, { end: true })
        .headers(3, get('/next'), { end: true });
      const r = feedAllWays(c.bytes(), { onRequest: (d, id) => d.conn.respond(id, 204, [], true) });
      expect(r.log).toEqual([
        'refused 1 H2_MALFORMED_REQUEST 1',
        'request 3 GET https example.com /next cl=-1 end=true []',
        'close 3 ok',
      ]);
      expect(r.out.slice(3)).toEqual([
        'RST_STREAM 1 code=1',
        'HEADERS 3 END_STREAM END_HEADERS [":status","204"]',
      ]);
    });

  for (const [name, list, head] of ACCEPTED)
    it(`${name}: onRequest`, () => {
      const end = !(head.contentLength !== undefined && head.contentLength > 0);
      const c = new Client().preface().headers(1, list, { end });
      let got = null as RequestHead | null;
      const r = feedAllWays(c.bytes(), {
        onRequest: (_d, _id, h) => {
          got = { ...h, fields: h.fields.slice() };
        },
      });
      expect(r.log).toHaveLength(1);
      expect(r.log[0]).toMatch(/^request 1 /);
      expect(got).toMatchObject({ ...head, fields: list });
    });

  it('the rejected request is not counted as opened', () => {
    const r = feedAllWays(
      new Client()
        .preface()
        .headers(1, [...BASE, 'upgrade', 'h2c'], { end: true })
        .bytes(),
    );
    expect(r.driver.conn.streamsOpened).toBe(0);
    expect(r.driver.conn.activeStreams).toBe(0);
  });
});
