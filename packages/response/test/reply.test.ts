import { describe, expect, it } from 'vitest';
import {
  errorFormatFor,
  ResponseError,
  ResponseWriter,
  redirect,
  sendError,
  sendProblem,
} from '../src/index';
import { MemorySink } from './_sink';

function mk() {
  const sink = new MemorySink();
  const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
  return { sink, res };
}

describe('redirect', () => {
  it('writes Location and a short body', () => {
    const { sink, res } = mk();
    redirect(res, '/login?next=%2Fa', 303);
    expect(sink.text).toBe(
      'HTTP/1.1 303 See Other\r\nLocation: /login?next=%2Fa\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 42\r\n\r\nSee Other. Redirecting to /login?next=%2Fa',
    );
  });
  it('percent-encodes non-ASCII, keeps escapes', () => {
    const { sink, res } = mk();
    redirect(res, '/caf\u00e9 x/%41', 301);
    expect(sink.text).toContain('Location: /caf%C3%A9%20x/%41\r\n');
  });
  it('refuses injection and non-redirect statuses', () => {
    for (const loc of ['/a\r\nSet-Cookie: x=1', '/a\nb', '/a\0', ''])
      expect(() => redirect(mk().res, loc)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_LOCATION' }),
      );
    expect(() => redirect(mk().res, '/', 200 as 301)).toThrow(ResponseError);
  });
  for (const s of [301, 302, 303, 307, 308] as const)
    it(`${s}`, () => {
      const { sink, res } = mk();
      redirect(res, 'https://example.com/', s);
      expect(sink.text).toMatch(new RegExp(`^HTTP/1\\.1 ${s} `));
    });
});

describe('error bodies', () => {
  it('problem+json (RFC 9457)', () => {
    const { sink, res } = mk();
    sendProblem(res, { status: 403, detail: 'no credit', instance: '/acct/1', balance: 30 });
    const body = sink.text.split('\r\n\r\n')[1]!;
    expect(sink.text).toContain('HTTP/1.1 403 Forbidden\r\nContent-Type: application/problem+json\r\n');
    expect(JSON.parse(body)).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'no credit',
      instance: '/acct/1',
      balance: 30,
    });
  });
  it('text, html (escaped) and problem by Accept', () => {
    const a = mk();
    sendError(a.res, 404, { detail: 'no user' });
    expect(a.sink.text.endsWith('\r\n\r\nNot Found: no user')).toBe(true);
    const b = mk();
    sendError(b.res, 400, { format: 'html', detail: '<script>x</script>' });
    expect(b.sink.text).toContain('&#60;script&#62;');
    expect(b.sink.text).not.toContain('<script>');
    expect(errorFormatFor('application/problem+json')).toBe('problem');
    expect(errorFormatFor('text/html,*/*')).toBe('html');
    expect(errorFormatFor(undefined)).toBe('text');
    const c = mk();
    sendError(c.res, 500, { format: errorFormatFor('application/json') });
    expect(c.sink.text).toContain('application/problem+json');
  });
});
