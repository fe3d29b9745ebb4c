import { describe, expect, it } from 'vitest';
import { bytes, type Outcome, req, run, runAll } from './_helpers';

const H = 'Host: example.com';

function heads(o: Outcome) {
  return o.events.filter((e) => e.type === 'head').map((e) => (e.type === 'head' ? e.head : null)!);
}

function ok(input: string, opts = {}): Outcome {
  const o = runAll(input, opts);
  expect(o.error).toBeNull();
  return o;
}

function err(input: string, code: string, status: number, opts = {}): Outcome {
  const o = runAll(input, opts);
  expect(o.error?.code).toBe(code);
  expect(o.error?.status).toBe(status);
  return o;
}

describe('request line', () => {
  it('parses origin-form with query', () => {
    const o = ok(req('GET /a/b?x=1&y=%20 HTTP/1.1', H, '', ''));
    const [h] = heads(o);
    expect(h).toMatchObject({
      method: 'GET',
      target: '/a/b?x=1&y=%20',
      versionMinor: 1,
      host: 'example.com',
    });
    expect(o.events.at(-1)).toEqual({ type: 'complete', trailers: null });
  });
  it('accepts any token method with origin-form', () => {
    const [h] = heads(ok(req('PROPFIND /dav HTTP/1.1', H, '', '')));
    expect(h?.method).toBe('PROPFIND');
  });
  it('absolute-form authority wins over Host', () => {
    const [h] = heads(ok(req('GET http://origin.test:8080/p?q HTTP/1.1', 'Host: other.test', '', '')));
    expect(h).toMatchObject({ host: 'origin.test:8080', target: 'http://origin.test:8080/p?q' });
  });
  it('absolute-form ended by a query', () => {
    const [h] = heads(ok(req('GET http://h.test?x=1 HTTP/1.1', H, '', '')));
    expect(h?.host).toBe('h.test');
  });
  it('rejects userinfo in absolute-form', () => {
    err(req('GET http://user@h.test/ HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
  });
  it('rejects http URI without host', () => {
    err(req('GET http:///x HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET http:x HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
  });
  it('authority-form for CONNECT, which upgrades', () => {
    const o = runAll(req('CONNECT proxy.test:443 HTTP/1.1', 'Host: proxy.test:443', '', 'TLSDATA'));
    expect(o.end).toBe('upgrade');
    const [h] = heads(o);
    expect(h).toMatchObject({
      method: 'CONNECT',
      target: 'proxy.test:443',
      host: 'proxy.test:443',
      upgrade: true,
    });
    expect(o.upgradeAt).toBe(req('CONNECT proxy.test:443 HTTP/1.1', 'Host: proxy.test:443', '', '').length);
  });
  it('CONNECT needs host:port', () => {
    err(req('CONNECT proxy.test HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('CONNECT /x HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('CONNECT h:80x HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
  });
  it('asterisk-form only for OPTIONS', () => {
    const [h] = heads(ok(req('OPTIONS * HTTP/1.1', H, '', '')));
    expect(h?.target).toBe('*');
    err(req('GET * HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('OPTIONS *x HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
  });
  it('HTTP/1.0 and HTTP/1.1 only; others 505', () => {
    expect(heads(ok(req('GET / HTTP/1.0', '', '')))[0]?.versionMinor).toBe(0);
    err(req('GET / HTTP/2.0', H, '', ''), 'HPE_HTTP_VERSION_NOT_SUPPORTED', 505);
    err(req('GET / HTTP/1.2', H, '', ''), 'HPE_HTTP_VERSION_NOT_SUPPORTED', 505);
    err(req('GET / HTTP/0.9', H, '', ''), 'HPE_HTTP_VERSION_NOT_SUPPORTED', 505);
  });
  it('versions are never parsed by prefix', () => {
    err(req('GET / HTTP/1.10', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET / HTTP/1.1x', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET / HTTP/1', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET / http/1.1', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET / HTTP/1.1 ', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET / HTTPS/1.1', H, '', ''), 'HPE_INVALID_VERSION', 400);
  });
  it('exactly one SP between parts', () => {
    err(req('GET  / HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET /  HTTP/1.1', H, '', ''), 'HPE_INVALID_VERSION', 400);
    err(req('GET\t/ HTTP/1.1', H, '', ''), 'HPE_INVALID_METHOD', 400);
    err(req(' GET / HTTP/1.1', H, '', ''), 'HPE_INVALID_METHOD', 400);
  });
  it('rejects CTLs, non-ASCII and fragments in the target', () => {
    err(req('GET /a\x01b HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET /a\x7fb HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET /caf\xe9 HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET /a#frag HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    err(req('GET a HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
  });
  it('bare CR and bare LF in the request line', () => {
    err(`GET / HTTP/1.1\n${H}\r\n\r\n`, 'HPE_CR_EXPECTED', 400);
    err(`GET / HTTP/1.1\rX${H}\r\n\r\n`, 'HPE_LF_EXPECTED', 400);
    err(`GET /\r HTTP/1.1\r\n${H}\r\n\r\n`, 'HPE_INVALID_URL', 400);
  });
  it('ignores empty lines before a request line, but not bare LF', () => {
    expect(heads(ok(`\r\n\r\n${req('GET / HTTP/1.1', H, '', '')}`))).toHaveLength(1);
    err(`\n${req('GET / HTTP/1.1', H, '', '')}`, 'HPE_INVALID_METHOD', 400);
  });
  it('error offset points at the offending byte', () => {
    const o = err(req('GET /a\x01b HTTP/1.1', H, '', ''), 'HPE_INVALID_URL', 400);
    expect(o.error?.offset).toBe(6);
  });
});

describe('field lines', () => {
  it('keeps order and case, trims OWS (SP/HTAB only)', () => {
    const [h] = heads(
      ok(req('GET / HTTP/1.1', H, 'X-A: \t one two \t', 'x-a:two', 'X-Empty:', 'X-Sp:   ', '', '')),
    );
    expect(h?.rawHeaders).toEqual([
      'Host',
      'example.com',
      'X-A',
      'one two',
      'x-a',
      'two',
      'X-Empty',
      '',
      'X-Sp',
      '',
    ]);
  });
  it('keeps obs-text (latin1) in values and does not trim \\xa0', () => {
    const [h] = heads(ok(req('GET / HTTP/1.1', H, 'X: \xa0caf\xe9\xa0', '', '')));
    expect(h?.rawHeaders[3]).toBe('\xa0caf\xe9\xa0');
  });
  it('rejects whitespace before the colon', () => {
    err(req('GET / HTTP/1.1', H, 'X-A : 1', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
    err(req('GET / HTTP/1.1', H, 'X-A\t: 1', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
  });
  it('rejects obs-fold and whitespace before the first field', () => {
    err(req('GET / HTTP/1.1', H, 'X-A: 1', ' folded', '', ''), 'HPE_OBS_FOLD', 400);
    err(req('GET / HTTP/1.1', '\tX-A: 1', H, '', ''), 'HPE_OBS_FOLD', 400);
  });
  it('rejects non-token names and empty names', () => {
    err(req('GET / HTTP/1.1', H, 'X(A): 1', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
    err(req('GET / HTTP/1.1', H, ': 1', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
    err(req('GET / HTTP/1.1', H, 'NoColon', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
    err(req('GET / HTTP/1.1', H, 'X\xe9: 1', '', ''), 'HPE_INVALID_HEADER_TOKEN', 400);
  });
  it('rejects NUL, CTLs, DEL, bare CR and bare LF in values', () => {
    err(req('GET / HTTP/1.1', H, 'X: a\x00b', '', ''), 'HPE_INVALID_HEADER_VALUE', 400);
    err(req('GET / HTTP/1.1', H, 'X: a\x0bb', '', ''), 'HPE_INVALID_HEADER_VALUE', 400);
    err(req('GET / HTTP/1.1', H, 'X: a\x7fb', '', ''), 'HPE_INVALID_HEADER_VALUE', 400);
    err(req('GET / HTTP/1.1', H, 'X: a\rb', '', ''), 'HPE_LF_EXPECTED', 400);
    err(`GET / HTTP/1.1\r\n${H}\r\nX: a\nb: c\r\n\r\n`, 'HPE_CR_EXPECTED', 400);
    err(`GET / HTTP/1.1\r\n${H}\r\n\n`, 'HPE_CR_EXPECTED', 400);
    err(`GET / HTTP/1.1\r\n${H}\r\n\rx`, 'HPE_LF_EXPECTED', 400);
  });
});

describe('targets and values of every length (byte by byte, and four bytes at a time)', () => {
  // A chunk under 64 bytes is scanned one byte at a time; a longer one four bytes at a time once 16
  // bytes are left. The lengths here cross both: a bad byte at every position of every length up to
  // 72 must be caught at its own offset, whatever its alignment, and a clean one must parse.
  const pad = (n: number): string => 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3).slice(0, n);
  it('request-target', () => {
    for (let n = 1; n <= 72; n++) {
      const clean = `/${pad(n - 1)}`;
      const o = run(bytes(req(`GET ${clean} HTTP/1.1`, H, '', '')));
      expect(o.error).toBeNull();
      expect(heads(o)[0]?.target).toBe(clean);
      for (let p = 1; p < n; p++) {
        for (const bad of ['\x01', '\x7f', '#', '\xe9', '\x80', '\r']) {
          const t = clean.slice(0, p) + bad + clean.slice(p + 1);
          const e = run(bytes(req(`GET ${t} HTTP/1.1`, H, '', '')));
          expect(e.error?.offset, `n=${n} p=${p} bad=${JSON.stringify(bad)}`).toBe(4 + p);
        }
      }
    }
  });
  it('field value', () => {
    for (let n = 1; n <= 72; n++) {
      const clean = pad(n);
      const o = run(bytes(req('GET / HTTP/1.1', H, `X-Long: ${clean}`, '', '')));
      expect(o.error).toBeNull();
      expect(heads(o)[0]?.rawHeaders[3]).toBe(clean);
      const at = 'GET / HTTP/1.1\r\n'.length + H.length + 2 + 'X-Long: '.length;
      for (let p = 1; p < n; p++) {
        for (const bad of ['\x00', '\x0b', '\x7f', '\n']) {
          const v = clean.slice(0, p) + bad + clean.slice(p + 1);
          const e = run(bytes(req('GET / HTTP/1.1', H, `X-Long: ${v}`, '', '')));
          expect(e.error?.offset, `n=${n} p=${p} bad=${JSON.stringify(bad)}`).toBe(at + p);
        }
        // HTAB and obs-text are value bytes: they pass through both scans
        const v = `${clean.slice(0, p)}\t\xe9${clean.slice(p + 2)}`;
        const g = run(bytes(req('GET / HTTP/1.1', H, `X-Long: ${v}`, '', '')));
        expect(g.error, `n=${n} p=${p}`).toBeNull();
        expect(heads(g)[0]?.rawHeaders[3]).toBe(v.replace(/[\t]+$/, ''));
      }
    }
  });
});

describe('Host', () => {
  it('is required once in HTTP/1.1', () => {
    err(req('GET / HTTP/1.1', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', H, 'host: b', '', ''), 'HPE_INVALID_HOST', 400);
  });
  it('is optional in HTTP/1.0 and host is null without it', () => {
    expect(heads(ok(req('GET / HTTP/1.0', '', '')))[0]?.host).toBeNull();
  });
  it('validates the authority syntax', () => {
    err(req('GET / HTTP/1.1', 'Host: a b', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', 'Host: a/b', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', 'Host: a:80x', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', 'Host: user@a', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', 'Host: [::1', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.1', 'Host: a%zz', '', ''), 'HPE_INVALID_HOST', 400);
    err(req('GET / HTTP/1.0', 'Host: a b', '', ''), 'HPE_INVALID_HOST', 400);
  });
  it('accepts names, IPv4, IPv6 literals, ports, and an empty value', () => {
    for (const v of [
      'a.example',
      'a.example:8080',
      '127.0.0.1:1',
      '[::1]:443',
      '[v1.fe80::a+en1]',
      'xn--bcher-kva.ch',
      '',
    ]) {
      expect(heads(ok(req('GET / HTTP/1.1', `Host: ${v}`, '', '')))[0]?.host).toBe(v);
    }
  });
  it('can be made optional (requireHost: false)', () => {
    expect(heads(ok(req('GET / HTTP/1.1', '', ''), { requireHost: false }))[0]?.host).toBeNull();
  });
});

describe('framing', () => {
  it('Content-Length body, with leading zeros', () => {
    const o = ok(req('POST / HTTP/1.1', H, 'Content-Length: 005', '', 'hello'));
    expect(heads(o)[0]?.contentLength).toBe(5);
    expect(o.events.slice(1)).toEqual([
      { type: 'body', data: 'hello' },
      { type: 'complete', trailers: null },
    ]);
  });
  it('Content-Length: 0 completes without body events', () => {
    const o = ok(req('POST / HTTP/1.1', H, 'Content-Length: 0', '', ''));
    expect(o.events.map((e) => e.type)).toEqual(['head', 'complete']);
  });
  it('no framing headers means no body', () => {
    const o = ok(req('POST / HTTP/1.1', H, '', 'GET / HTTP/1.1', H, '', ''));
    expect(heads(o).map((h) => h.method)).toEqual(['POST', 'GET']);
    expect(heads(o)[0]?.contentLength).toBe(-1);
  });
  it('rejects malformed and duplicate Content-Length', () => {
    for (const v of ['', '+5', '-1', '0x10', '1_0', '1 0', '5,5', '5, 5', '1e3', ' ', 'abc']) {
      err(
        req('POST / HTTP/1.1', H, `Content-Length: ${v}`, '', 'xxxxxxxxxxxx'),
        'HPE_INVALID_CONTENT_LENGTH',
        400,
      );
    }
    err(
      req('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 5', '', 'hello'),
      'HPE_INVALID_CONTENT_LENGTH',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Content-Length: 5', 'Content-Length: 6', '', 'hello!'),
      'HPE_INVALID_CONTENT_LENGTH',
      400,
    );
  });
  it('guards Content-Length overflow without Number()', () => {
    err(
      req('POST / HTTP/1.1', H, 'Content-Length: 9007199254740992', '', ''),
      'HPE_INVALID_CONTENT_LENGTH',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Content-Length: 100000000000000000000000', '', ''),
      'HPE_INVALID_CONTENT_LENGTH',
      400,
    );
    const o = runAll(req('POST / HTTP/1.1', H, 'Content-Length: 9007199254740991', '', ''), {
      maxBodyBytes: Infinity,
    });
    expect(heads(o)[0]?.contentLength).toBe(9007199254740991);
  });
  it('Content-Length with Transfer-Encoding is 400', () => {
    const o = err(
      req('POST / HTTP/1.1', H, 'Content-Length: 3', 'Transfer-Encoding: chunked', '', '0', '', ''),
      'HPE_UNEXPECTED_CONTENT_LENGTH',
      400,
    );
    expect(o.events).toHaveLength(0);
  });
  it('Transfer-Encoding in HTTP/1.0 is 400', () => {
    err(
      req('POST / HTTP/1.0', 'Transfer-Encoding: chunked', '', '0', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
  });
  it('coding lists: case-insensitive, empty elements ignored, chunked last', () => {
    for (const v of ['chunked', 'CHUNKED', 'Chunked', ', chunked', 'chunked,', ' , ,chunked , ']) {
      const o = ok(req('POST / HTTP/1.1', H, `Transfer-Encoding: ${v}`, '', '0', '', ''));
      expect(heads(o)[0]?.chunked).toBe(true);
    }
    const o = ok(
      req(
        'POST / HTTP/1.1',
        H,
        'Transfer-Encoding: ,',
        'Transfer-Encoding:',
        'Transfer-Encoding: chunked',
        '',
        '0',
        '',
        '',
      ),
    );
    expect(heads(o)[0]?.chunked).toBe(true);
  });
  it('chunked not last, or twice, is 400; unknown coding is 501', () => {
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, gzip', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked, chunked', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked;x=1', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
    err(req('POST / HTTP/1.1', H, 'Transfer-Encoding:', '', ''), 'HPE_INVALID_TRANSFER_ENCODING', 400);
    err(req('POST / HTTP/1.1', H, 'Transfer-Encoding: , ,', '', ''), 'HPE_INVALID_TRANSFER_ENCODING', 400);
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: "chunked"', '', ''),
      'HPE_INVALID_TRANSFER_ENCODING',
      400,
    );
    err(req('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip', '', ''), 'HPE_UNKNOWN_TRANSFER_ENCODING', 501);
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: gzip, chunked', '', ''),
      'HPE_UNKNOWN_TRANSFER_ENCODING',
      501,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunkedx', '', ''),
      'HPE_UNKNOWN_TRANSFER_ENCODING',
      501,
    );
  });
});

describe('chunked', () => {
  it('decodes chunks, extensions and trailers', () => {
    const o = ok(
      req(
        'POST / HTTP/1.1',
        H,
        'Transfer-Encoding: chunked',
        '',
        '5;a=b;c;d="x\\"y" ;e = f',
        'hello',
        'A',
        '0123456789',
        '0',
        'X-Sum: 1',
        'x-other:  two ',
        '',
        '',
      ),
    );
    expect(o.events.slice(1)).toEqual([
      { type: 'body', data: 'hello0123456789' },
      { type: 'complete', trailers: ['X-Sum', '1', 'x-other', 'two'] },
    ]);
  });
  it('hex sizes are case-insensitive, leading zeros allowed', () => {
    const o = ok(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0000a', '0123456789', '00', '', ''),
    );
    expect(o.events[1]).toEqual({ type: 'body', data: '0123456789' });
  });
  it('rejects malformed sizes', () => {
    for (const s of ['', 'x', '0x5', '+5', '-5', ' 5', '5 ', '5\t']) {
      err(
        req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', s, 'hello', '0', '', ''),
        'HPE_INVALID_CHUNK_SIZE',
        400,
      );
    }
  });
  it('guards chunk size overflow', () => {
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', 'fffffffffffffffffff', '', ''),
      'HPE_INVALID_CHUNK_SIZE',
      400,
    );
  });
  it('requires exact CRLF after size and data', () => {
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
      'HPE_CR_EXPECTED',
      400,
    );
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n`,
      'HPE_LF_EXPECTED',
      400,
    );
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n`,
      'HPE_CR_EXPECTED',
      400,
    );
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
      'HPE_CR_EXPECTED',
      400,
    );
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n`,
      'HPE_LF_EXPECTED',
      400,
    );
  });
  it('validates extension grammar', () => {
    for (const e of [';', ';=', ';a=', ';a="x', ';a b', ';a=b c', ';a=\x01', ';a="\x01"', ';@']) {
      err(
        req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', `5${e}`, 'hello', '0', '', ''),
        'HPE_INVALID_CHUNK_EXTENSION',
        400,
      );
    }
    err(
      `POST / HTTP/1.1\r\n${H}\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n`,
      'HPE_CR_EXPECTED',
      400,
    );
  });
  it('caps extension bytes', () => {
    const ext = `;a=${'b'.repeat(40)}`;
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', `5${ext}`, 'hello', '0', '', ''),
      'HPE_CHUNK_EXTENSIONS_OVERFLOW',
      400,
      { maxChunkExtensionBytes: 32 },
    );
    ok(req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', `5${ext}`, 'hello', '0', '', ''), {
      maxChunkExtensionBytes: 64,
    });
  });
  it('rejects framing and routing fields in trailers', () => {
    for (const t of [
      'Content-Length: 5',
      'Transfer-Encoding: chunked',
      'Host: evil',
      'Connection: close',
      'Upgrade: x',
    ]) {
      err(
        req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', t, '', ''),
        'HPE_INVALID_TRAILER',
        400,
      );
    }
  });
  it('validates trailer field lines like head field lines', () => {
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', 'X : 1', '', ''),
      'HPE_INVALID_HEADER_TOKEN',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', 'X: 1', ' fold', '', ''),
      'HPE_OBS_FOLD',
      400,
    );
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', 'X: \x00', '', ''),
      'HPE_INVALID_HEADER_VALUE',
      400,
    );
  });
});

describe('limits', () => {
  it('request line too long is 414', () => {
    err(req(`GET /${'a'.repeat(100)} HTTP/1.1`, H, '', ''), 'HPE_URI_TOO_LONG', 414, {
      maxRequestLineBytes: 64,
    });
    ok(req(`GET /${'a'.repeat(40)} HTTP/1.1`, H, '', ''), { maxRequestLineBytes: 64 });
  });
  it('request line exactly at the limit passes, one over fails', () => {
    const line = `GET /${'a'.repeat(10)} HTTP/1.1\r\n`;
    ok(`${line}${H}\r\n\r\n`, { maxRequestLineBytes: line.length });
    err(`${line}${H}\r\n\r\n`, 'HPE_URI_TOO_LONG', 414, { maxRequestLineBytes: line.length - 1 });
  });
  it('very long method is 501', () => {
    err(req(`${'A'.repeat(80)} / HTTP/1.1`, H, '', ''), 'HPE_METHOD_TOO_LONG', 501, {
      maxRequestLineBytes: 64,
    });
  });
  it('head too large is 431, exactly at the limit passes', () => {
    const input = req('GET / HTTP/1.1', H, `X: ${'v'.repeat(100)}`, '', '');
    ok(input, { maxHeadBytes: input.length });
    const o = err(input, 'HPE_HEADER_OVERFLOW', 431, { maxHeadBytes: input.length - 1 });
    expect(o.error?.offset).toBe(input.length - 1);
  });
  it('too many header fields is 431', () => {
    const fields = Array.from({ length: 5 }, (_, i) => `X-${i}: ${i}`);
    err(req('GET / HTTP/1.1', H, ...fields, '', ''), 'HPE_TOO_MANY_HEADERS', 431, { maxHeaders: 5 });
    ok(req('GET / HTTP/1.1', H, ...fields, '', ''), { maxHeaders: 6 });
  });
  it('body too large is 413 (Content-Length and chunked)', () => {
    err(req('POST / HTTP/1.1', H, 'Content-Length: 11', '', 'hello world'), 'HPE_BODY_TOO_LARGE', 413, {
      maxBodyBytes: 10,
    });
    const c = req(
      'POST / HTTP/1.1',
      H,
      'Transfer-Encoding: chunked',
      '',
      '6',
      'hello ',
      '5',
      'world',
      '0',
      '',
      '',
    );
    const o = err(c, 'HPE_BODY_TOO_LARGE', 413, { maxBodyBytes: 10 });
    expect(o.events.filter((e) => e.type === 'body')).toEqual([{ type: 'body', data: 'hello ' }]);
    ok(c, { maxBodyBytes: 11 });
  });
  it('trailers are capped by maxHeadBytes', () => {
    err(
      req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '0', `T: ${'x'.repeat(200)}`, '', ''),
      'HPE_HEADER_OVERFLOW',
      431,
      { maxHeadBytes: 100 },
    );
  });
});

describe('connection semantics', () => {
  it('keep-alive defaults by version', () => {
    expect(heads(ok(req('GET / HTTP/1.1', H, '', '')))[0]?.keepAlive).toBe(true);
    expect(heads(ok(req('GET / HTTP/1.0', '', '')))[0]?.keepAlive).toBe(false);
    expect(heads(ok(req('GET / HTTP/1.0', 'Connection: Keep-Alive', '', '')))[0]?.keepAlive).toBe(true);
    expect(heads(ok(req('GET / HTTP/1.1', H, 'Connection: foo, CLOSE', '', '')))[0]?.keepAlive).toBe(false);
    expect(heads(ok(req('GET / HTTP/1.0', 'Connection: keep-alive, close', '', '')))[0]?.keepAlive).toBe(
      false,
    );
    expect(heads(ok(req('GET / HTTP/1.1', H, 'Connection: closed', '', '')))[0]?.keepAlive).toBe(true);
  });
  it('Upgrade needs the Connection token, stops after the head', () => {
    const head = req('GET /ws HTTP/1.1', H, 'Connection: keep-alive, Upgrade', 'Upgrade: websocket', '', '');
    const o = runAll(`${head}\x81\x80frame`);
    expect(o.end).toBe('upgrade');
    expect(o.upgradeAt).toBe(head.length);
    expect(heads(o)[0]?.upgrade).toBe(true);
    expect(o.events.map((e) => e.type)).toEqual(['head']);
    const plain = ok(req('GET / HTTP/1.1', H, 'Upgrade: websocket', '', ''));
    expect(heads(plain)[0]?.upgrade).toBe(false);
    const h10 = ok(req('GET / HTTP/1.0', 'Connection: upgrade', 'Upgrade: websocket', '', ''));
    expect(heads(h10)[0]?.upgrade).toBe(false);
  });
  it('flags Expect: 100-continue (HTTP/1.1 only)', () => {
    expect(
      heads(ok(req('POST / HTTP/1.1', H, 'Expect: 100-Continue', 'Content-Length: 1', '', 'x')))[0]
        ?.expectContinue,
    ).toBe(true);
    expect(
      heads(ok(req('POST / HTTP/1.0', 'Expect: 100-continue', 'Content-Length: 1', '', 'x')))[0]
        ?.expectContinue,
    ).toBe(false);
    expect(heads(ok(req('POST / HTTP/1.1', H, 'Expect: 100-continuex', '', '')))[0]?.expectContinue).toBe(
      false,
    );
  });
  it('pipelining: several requests in one chunk', () => {
    const one = req('GET /x HTTP/1.1', H, '', '');
    const o = ok(one.repeat(5));
    expect(heads(o)).toHaveLength(5);
    expect(o.events.filter((e) => e.type === 'complete')).toHaveLength(5);
  });
  it('after Connection: close, later bytes are ignored, never parsed', () => {
    const o = ok(
      `${req('GET /a HTTP/1.1', H, 'Connection: close', '', '')}GET /smuggled HTTP/1.1\r\n${H}\r\n\r\n`,
    );
    expect(heads(o).map((h) => h.target)).toEqual(['/a']);
    expect(o.events.at(-1)?.type).toBe('complete');
  });
  it('after Connection: close, a following bad request does not stop the first answer', () => {
    const o = ok(`${req('GET /a HTTP/1.1', H, 'Connection: close', '', '')}\x00\x01garbage`);
    expect(heads(o)).toHaveLength(1);
    expect(o.events.at(-1)?.type).toBe('complete');
  });
});

describe('finish', () => {
  it('is OK between messages and an error inside one', () => {
    expect(runAll(req('GET / HTTP/1.1', H, '', ''), {}, true).end).toBe('ok');
    expect(runAll('', {}, true).end).toBe('ok');
    expect(runAll('GET / HTTP/1.1\r\n', {}, true).end).toBe('HPE_INVALID_EOF_STATE');
    expect(runAll(req('POST / HTTP/1.1', H, 'Content-Length: 5', '', 'hel'), {}, true).end).toBe(
      'HPE_INVALID_EOF_STATE',
    );
    expect(
      runAll(req('POST / HTTP/1.1', H, 'Transfer-Encoding: chunked', '', '5', 'hello', ''), {}, true).end,
    ).toBe('HPE_INVALID_EOF_STATE');
  });
});
