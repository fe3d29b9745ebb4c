import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clearCookie,
  parseCookie,
  ResponseError,
  ResponseWriter,
  serializeCookie,
  setCookie,
  signCookie,
  unsignCookie,
} from '../src/index';
import { MemorySink } from './_sink';

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ResponseError ? e.code : 'other';
  }
  return undefined;
}

describe('serializeCookie', () => {
  it('writes every attribute in a fixed order', () => {
    expect(
      serializeCookie('sid', 'abc', {
        domain: 'example.com',
        path: '/app',
        expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
        maxAge: 3600,
        httpOnly: true,
        secure: true,
        sameSite: 'None',
        partitioned: true,
        priority: 'High',
      }),
    ).toBe(
      'sid=abc; Domain=example.com; Path=/app; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; HttpOnly; Secure; SameSite=None; Partitioned; Priority=High',
    );
    expect(serializeCookie('a', 'b')).toBe('a=b');
    expect(serializeCookie('a', 'hello world;x')).toBe('a=hello%20world%3Bx');
    expect(serializeCookie('a', '"quoted"', { encode: false })).toBe('a="quoted"');
  });

  it('refuses injection and invalid combinations', () => {
    for (const [name, value, opts] of [
      ['a\r\nb', 'v', {}],
      ['a b', 'v', {}],
      ['a;', 'v', {}],
      ['', 'v', {}],
      ['a', 'v\r\nSet-Cookie: x=y', { encode: false }],
      ['a', 'v;Path=/', { encode: false }],
      ['a', 'v', { path: '/\r\nX: 1' }],
      ['a', 'v', { path: '/;Domain=evil' }],
      ['a', 'v', { domain: 'evil.com\r\n' }],
      ['a', 'v', { domain: 'a;b' }],
      ['a', 'v', { sameSite: 'None' }],
      ['a', 'v', { partitioned: true }],
      ['a', 'v', { maxAge: 1.5 }],
      ['a', 'v', { expires: new Date('x') }],
      ['a', 'v', { sameSite: 'Loose' }],
    ] as const)
      expect(errCode(() => serializeCookie(name, value, opts as never))).toBe('ERR_INVALID_COOKIE');
  });

  it('setCookie appends separate Set-Cookie lines; clearCookie expires', () => {
    const sink = new MemorySink();
    const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
    setCookie(res, 'a', '1', { path: '/' });
    setCookie(res, 'b', '2');
    clearCookie(res, 'c', { path: '/' });
    res.end();
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\n' +
        'Set-Cookie: c=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('property: any string value round-trips through serialize + parse', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const line = serializeCookie('k', v);
        expect(/[\r\n\0;, ]/.test(line.slice(2))).toBe(false);
        expect(parseCookie(line).k).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseCookie', () => {
  it('parses pairs, first wins, quoted, decoded, tolerant', () => {
    const c = parseCookie('a=1; b="two"; a=3;  c = hello%20world ; bad; d=%E0%A4%A; e=');
    expect({ ...c }).toEqual({ a: '1', b: 'two', c: 'hello world', d: '%E0%A4%A', e: '' });
    expect(Object.getPrototypeOf(c)).toBeNull();
    expect({ ...parseCookie(undefined) }).toEqual({});
    expect(Object.getOwnPropertyDescriptor(parseCookie('__proto__=x'), '__proto__')?.value).toBe('x');
    expect(parseCookie('x=%41', { decode: false }).x).toBe('%41');
  });
});

describe('signed cookies', () => {
  it('sign, verify, rotate, reject tampering', () => {
    const signed = signCookie('user42', 'k1');
    expect(signed).toMatch(/^user42\.[A-Za-z0-9_-]{43}$/);
    expect(unsignCookie(signed, 'k1')).toBe('user42');
    expect(unsignCookie(signed, ['k2', 'k1'])).toBe('user42'); // rotation: old key still verifies
    expect(signCookie('user42', ['k2', 'k1'])).not.toBe(signed); // new key signs
    expect(unsignCookie(signed, 'k2')).toBe(false);
    expect(unsignCookie(signed.replace('user42', 'user43'), 'k1')).toBe(false);
    expect(unsignCookie(`${signed}x`, 'k1')).toBe(false);
    expect(unsignCookie('nodot', 'k1')).toBe(false);
    expect(unsignCookie('a.b.c', 'k1')).toBe(false);
    expect(unsignCookie(signCookie('a.b', Buffer.from('bin')), [Buffer.from('bin')])).toBe('a.b');
    expect(errCode(() => signCookie('x', []))).toBe('ERR_INVALID_COOKIE');
  });
});
