import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { cannedResponse, ResponseError, ResponseWriter, statusText } from '../src/index';
import { decodeChunked, MemorySink, split } from './_sink';

function make(
  opts: Partial<{ method: string; versionMinor: 0 | 1; keepAlive: boolean; date: boolean }> = {},
) {
  const sink = new MemorySink();
  const res = new ResponseWriter(sink, {
    method: opts.method ?? 'GET',
    versionMinor: opts.versionMinor ?? 1,
    keepAlive: opts.keepAlive ?? true,
    date: opts.date ?? false,
  });
  return { sink, res };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ResponseError) return e.code;
    throw e;
  }
  return undefined;
}

describe('status registry', () => {
  it('knows the IANA phrases', () => {
    expect(statusText(200)).toBe('OK');
    expect(statusText(413)).toBe('Content Too Large');
    expect(statusText(422)).toBe('Unprocessable Content');
    expect(statusText(103)).toBe('Early Hints');
    expect(statusText(308)).toBe('Permanent Redirect');
    expect(statusText(511)).toBe('Network Authentication Required');
    expect(statusText(299)).toBe('');
    expect(statusText(99)).toBe('');
    expect(statusText(600)).toBe('');
  });

  it('writes an unregistered code with an empty reason (SP kept)', () => {
    const { sink, res } = make();
    res.status(299).send();
    expect(sink.text).toBe('HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n');
  });

  it('validates codes and custom reasons', () => {
    const { sink, res } = make();
    expect(code(() => res.status(99))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(600))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(200.5))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(100))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(200, 'OK\r\nX-Evil: 1'))).toBe('ERR_INVALID_REASON');
    expect(code(() => res.status(200, 'a\nb'))).toBe('ERR_INVALID_REASON');
    expect(code(() => res.status(200, 'a\0b'))).toBe('ERR_INVALID_REASON');
    res.status(200, 'Fine\tThanks').send('x');
    expect(sink.text).toBe(
      'HTTP/1.1 200 Fine\tThanks\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n\r\nx',
    );
  });
});

describe('golden responses', () => {
  it('200 text with headers, case preserved', () => {
    const { sink, res } = make();
    res.header('X-Request-ID', 'abc').header('cache-control', 'no-store').send('hello');
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nX-Request-ID: abc\r\ncache-control: no-store\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello',
    );
    expect(sink.ended).toBe(1);
    expect(sink.writes).toBe(1);
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(true);
  });

  it('UTF-8 body length in bytes', () => {
    const { sink, res } = make();
    res.send('héllo €');
    const { head, body } = split(sink.bytes);
    expect(head).toContain('Content-Length: 10\r\n');
    expect(body.toString('utf8')).toBe('héllo €');
  });

  it("keeps the caller's valid Content-Length digits as written (leading zeros, RFC 9110 section 8.6)", () => {
    const sent = make();
    sent.res.header('Content-Length', '00011').send('hello world');
    expect(split(sent.sink.bytes).head).toContain('Content-Length: 00011\r\n');
    const streamed = make();
    streamed.res.header('Content-Length', '0005');
    streamed.res.write('he');
    streamed.res.end('llo');
    expect(split(streamed.sink.bytes).head).toContain('Content-Length: 0005\r\n');
    expect(split(streamed.sink.bytes).body.toString()).toBe('hello');
    const head = make({ method: 'HEAD' });
    head.res.header('Content-Length', '007').end();
    expect(head.sink.text).toContain('Content-Length: 007\r\n');
  });

  it('bytes body', () => {
    const { sink, res } = make();
    res.send(new Uint8Array([0, 1, 2, 255]));
    expect(sink.bytes).toEqual(
      Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n'),
        Buffer.from([0, 1, 2, 255]),
      ]),
    );
  });

  it('large bytes body goes out as head + body under one cork', () => {
    const { sink, res } = make();
    const big = Buffer.alloc(100_000, 7);
    res.send(big);
    expect(sink.writes).toBe(2);
    expect(sink.corked).toBe(0);
    expect(split(sink.bytes).body.equals(big)).toBe(true);
  });

  it('JSON', () => {
    const { sink, res } = make();
    res.status(201).json({ a: 1, b: 'é' });
    expect(sink.bytes.toString('utf8')).toBe(
      'HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 16\r\n\r\n{"a":1,"b":"é"}',
    );
    const { res: r2 } = make();
    expect(code(() => r2.json(undefined))).toBe('ERR_INVALID_BODY');
  });

  it('empty end()', () => {
    const { sink, res } = make();
    res.status(404).end();
    expect(sink.text).toBe('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });

  it('multi-valued headers join; Set-Cookie never joined', () => {
    const { sink, res } = make();
    res
      .header('Vary', ['Accept', 'Accept-Encoding'])
      .header('Set-Cookie', ['a=1', 'b=2; Path=/'])
      .appendHeader('set-cookie', 'c=3')
      .appendHeader('Vary', 'Origin')
      .end();
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nVary: Accept, Accept-Encoding, Origin\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\n' +
        'Set-Cookie: c=3\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('header replace keeps position, takes the new case; remove and get', () => {
    const { sink, res } = make();
    res.header('x-a', '1').header('X-B', '2').header('X-A', '3');
    expect(res.getHeader('x-A')).toBe('3');
    expect(res.hasHeader('x-b')).toBe(true);
    expect(res.getHeaderNames()).toEqual(['X-A', 'X-B']);
    expect(res.removeHeader('x-b')).toBe(true);
    expect(res.removeHeader('x-b')).toBe(false);
    res.header('X-N', 42).end();
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nX-A: 3\r\nX-N: 42\r\nContent-Length: 0\r\n\r\n');
  });

  it('obs-text in a value is written as latin1 octets', () => {
    const { sink, res } = make();
    res.header('X-L', 'caf\u00e9').send('ok');
    expect(sink.bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]))).toBe(true);
    expect(split(sink.bytes).body.toString()).toBe('ok');
  });

  it('Date header: IMF-fixdate, cached, user Date wins', () => {
    const { sink, res } = make({ date: true });
    res.end();
    const m = /\r\nDate: ([^\r]+)\r\n/.exec(sink.text);
    expect(m).not.toBeNull();
    expect(m![1]).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
    );
    expect(Math.abs(Date.parse(m![1]!) - Date.now())).toBeLessThan(2000);
    const b = make({ date: true });
    b.res.header('Date', 'Thu, 01 Jan 1970 00:00:00 GMT').end();
    expect(b.sink.text.match(/Date:/g)?.length).toBe(1);
    expect(b.sink.text).toContain('Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n');
  });

  it('Date is refreshed at the second boundary, not before (fake clock, fresh module)', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 0, 500) });
    try {
      // A fresh copy of the module, so its Date cache and its timer live on the fake clock.
      vi.resetModules();
      const fresh = await import('../src/index');
      const date = () => {
        const sink = new MemorySink();
        new fresh.ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: true }).end();
        return /Date: ([^\r]+)/.exec(sink.text)![1]!;
      };
      expect(date()).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
      vi.advanceTimersByTime(499);
      expect(date()).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
      vi.advanceTimersByTime(1);
      expect(date()).toBe('Thu, 01 Jan 2026 00:00:01 GMT');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Connection and keep-alive', () => {
  it('HTTP/1.1 keep-alive: no Connection header', () => {
    const { sink, res } = make();
    res.end();
    expect(sink.text).not.toContain('Connection');
  });
  it('HTTP/1.1 close decision: Connection: close', () => {
    const { sink, res } = make({ keepAlive: false });
    res.end('x');
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx',
    );
    expect(res.keepAlive).toBe(false);
  });
  it('HTTP/1.0 keep-alive: Connection: keep-alive', () => {
    const { sink, res } = make({ versionMinor: 0 });
    res.end();
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n');
  });
  it('a handler-set Connection: close turns keep-alive off', () => {
    const { sink, res } = make();
    res.header('Connection', 'close').end();
    expect(res.keepAlive).toBe(false);
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  it('101 keeps the handler Connection header', () => {
    const { sink, res } = make();
    res.status(101).header('Upgrade', 'websocket').header('Connection', 'Upgrade').end();
    expect(sink.text).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
  });
});

describe('header injection is refused, nothing written', () => {
  const bad = [
    'a\r\nX-Evil: 1',
    'a\nb',
    'a\rb',
    'a\0b',
    '\r\n\r\nHTTP/1.1 200 OK',
    'a\x7fb',
    'a\x01b',
    'snow\u2603',
  ];
  for (const v of bad)
    it(`value ${JSON.stringify(v)}`, () => {
      const { sink, res } = make();
      expect(code(() => res.header('X-A', v))).toBe('ERR_INVALID_HEADER_VALUE');
      expect(code(() => res.header('X-A', ['ok', v]))).toBe('ERR_INVALID_HEADER_VALUE');
      expect(code(() => res.appendHeader('Set-Cookie', v))).toBe('ERR_INVALID_HEADER_VALUE');
      expect(res.hasHeader('X-A')).toBe(false);
      expect(sink.writes).toBe(0);
    });
  const badNames = ['', 'X A', 'X:A', 'X\r\nA', 'X\0', 'é', 'X(A)', 'X\tA'];
  for (const n of badNames)
    it(`name ${JSON.stringify(n)}`, () => {
      const { sink, res } = make();
      expect(code(() => res.header(n, 'v'))).toBe('ERR_INVALID_HEADER_NAME');
      expect(sink.writes).toBe(0);
    });

  it('property: any accepted header adds exactly one line and no CR/LF/NUL', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 30 }), (name, value) => {
        const { sink, res } = make();
        let accepted = true;
        try {
          res.header(name, value);
        } catch (e) {
          accepted = false;
          expect(e).toBeInstanceOf(ResponseError);
        }
        res.end();
        const head = split(sink.bytes).head;
        const lines = head.split('\r\n');
        expect(lines.length).toBe(accepted && name.toLowerCase() !== 'content-length' ? 5 : 4);
        expect(/[\r\n\0]/.test(lines.join(''))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('only chunked Transfer-Encoding may be set; bad Content-Length refused', () => {
    const { res } = make();
    expect(code(() => res.header('Transfer-Encoding', 'gzip, chunked'))).toBe(
      'ERR_INVALID_TRANSFER_ENCODING',
    );
    expect(code(() => res.header('Content-Length', '-1'))).toBe('ERR_INVALID_CONTENT_LENGTH');
    expect(code(() => res.header('Content-Length', '1,1'))).toBe('ERR_INVALID_CONTENT_LENGTH');
    expect(code(() => res.header('Content-Length', '0x10'))).toBe('ERR_INVALID_CONTENT_LENGTH');
    expect(code(() => res.header('Content-Length', ' 5'))).toBe('ERR_INVALID_CONTENT_LENGTH');
  });

  it('headers cannot change after the head is sent', () => {
    const { res } = make();
    res.write('x');
    expect(code(() => res.header('X', 'y'))).toBe('ERR_HEADERS_SENT');
    expect(code(() => res.status(500))).toBe('ERR_HEADERS_SENT');
    expect(code(() => res.send('y'))).toBe('ERR_HEADERS_SENT');
    res.end();
    expect(code(() => res.write('z'))).toBe('ERR_RESPONSE_FINISHED');
    res.end(); // second end is a no-op
  });
});

describe('framing', () => {
  it('HTTP/1.1 stream is chunked', () => {
    const { sink, res } = make();
    res.header('Content-Type', 'text/plain');
    expect(res.write('hello')).toBe(true);
    res.write(Buffer.from(' world!'));
    res.write(''); // a zero-length write must not end the body
    res.end();
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n',
    );
  });

  it('chunked with trailers', () => {
    const { sink, res } = make();
    res.header('Trailer', 'Server-Timing');
    res.addTrailers({ 'Server-Timing': 'db;dur=53' });
    res.write('abc');
    res.end('de');
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nTrailer: Server-Timing\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '3\r\nabc\r\n2\r\nde\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n',
    );
  });

  it('trailers force chunked framing even for end()', () => {
    const { sink, res } = make();
    res.addTrailers({ 'X-Sum': '1' });
    res.end('ab');
    expect(split(sink.bytes).head).toContain('Transfer-Encoding: chunked');
    expect(decodeChunked(split(sink.bytes).body)).toEqual({
      body: Buffer.from('ab'),
      trailers: ['X-Sum: 1'],
      rest: 0,
    });
  });

  it('trailers refused where they cannot be sent', () => {
    const a = make({ versionMinor: 0 });
    a.res.addTrailers({ 'X-T': '1' });
    expect(code(() => a.res.write('x'))).toBe('ERR_TRAILERS_UNSUPPORTED');
    expect(a.sink.writes).toBe(0);
    const b = make();
    b.res.header('Content-Length', '1').write('x');
    expect(code(() => b.res.addTrailers({ 'X-T': '1' }))).toBe('ERR_TRAILERS_UNSUPPORTED');
    const c = make();
    expect(code(() => c.res.addTrailers({ 'Content-Length': '1' }))).toBe('ERR_FORBIDDEN_TRAILER');
    expect(code(() => c.res.addTrailers({ 'X-T': 'a\r\nb' }))).toBe('ERR_INVALID_HEADER_VALUE');
  });

  it('declared Content-Length streams identity', () => {
    const { sink, res } = make();
    res.header('Content-Length', '6');
    res.write('abc');
    res.end('def');
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef');
    expect(res.keepAlive).toBe(true);
  });

  it('writing past the declared length is an error and writes nothing of the chunk', () => {
    const { sink, res } = make();
    res.header('Content-Length', '4');
    expect(code(() => res.write('hello'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(sink.writes).toBe(0);
    res.write('hel');
    expect(code(() => res.write('lo'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    res.end('l');
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell');
  });

  it('ending short of the declared length is an error and forces close', () => {
    const { sink, res } = make();
    res.header('Content-Length', '10');
    res.write('abc');
    expect(code(() => res.end())).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(sink.ended).toBe(1);
  });

  it('send() with a conflicting declared length is refused before writing', () => {
    const { sink, res } = make();
    res.header('Content-Length', '3');
    expect(code(() => res.send('hello'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(sink.writes).toBe(0);
    res.send('abc');
    expect(sink.text).toBe(
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nabc'.replace(
        'Content-Length: 3\r\nContent-Type: text/plain; charset=utf-8\r\n',
        'Content-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n',
      ),
    );
  });

  it('HTTP/1.0 stream without length is close-delimited', () => {
    const { sink, res } = make({ versionMinor: 0, keepAlive: true });
    res.write('abc');
    res.end('def');
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabcdef');
    expect(res.keepAlive).toBe(false);
  });

  it('HTTP/1.0 with a known length keeps alive', () => {
    const { sink, res } = make({ versionMinor: 0, keepAlive: true });
    res.header('Content-Length', '3').write('abc');
    res.end();
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc');
    expect(res.keepAlive).toBe(true);
  });

  it('property: chunked framing round-trips any chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 })), { maxLength: 20 }),
        (chunks) => {
          const { sink, res } = make();
          for (const c of chunks) res.write(c);
          res.end();
          const { head, body } = split(sink.bytes);
          if (chunks.length === 0) {
            expect(head).toContain('Content-Length: 0\r\n');
            return;
          }
          const expected = Buffer.concat(
            chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))),
          );
          const d = decodeChunked(body);
          expect(d.body.equals(expected)).toBe(true);
          expect(d.rest).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects non-byte chunks', () => {
    const { res } = make();
    expect(code(() => res.write(42 as unknown as string))).toBe('ERR_INVALID_BODY');
  });
});

describe('no body for HEAD, 1xx, 204, 304', () => {
  it('HEAD send keeps the GET headers, writes no body', () => {
    const get = make();
    get.res.header('ETag', '"x"').send('hello world');
    const head = make({ method: 'HEAD' });
    head.res.header('ETag', '"x"').send('hello world');
    expect(head.sink.text).toBe(split(get.sink.bytes).head);
    expect(head.sink.text).toContain('Content-Length: 11\r\n');
    expect(head.res.bytesWritten).toBe(0);
  });

  it('HEAD with a declared length and end()', () => {
    const { sink, res } = make({ method: 'HEAD' });
    res.header('Content-Length', '1234').header('Content-Type', 'image/png').end();
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1234\r\n\r\n');
  });

  it('HEAD stream writes the head only, no chunked framing', () => {
    const { sink, res } = make({ method: 'HEAD' });
    res.write('abc');
    res.write('def');
    res.end();
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\n\r\n');
    expect(res.keepAlive).toBe(true);
  });

  it('204 never has Content-Length, Transfer-Encoding or a body', () => {
    const { sink, res } = make();
    res.status(204).header('Content-Length', '5').send('hello');
    expect(sink.text).toBe('HTTP/1.1 204 No Content\r\n\r\n');
    const b = make();
    b.res.status(204);
    b.res.write('x');
    b.res.end();
    expect(b.sink.text).toBe('HTTP/1.1 204 No Content\r\n\r\n');
  });

  it('304 writes no body, keeps validators and a declared length', () => {
    const { sink, res } = make();
    res.status(304).header('ETag', '"v1"').header('Content-Length', '100').end();
    expect(sink.text).toBe('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 100\r\n\r\n');
    const b = make();
    b.res.status(304).send('ignored');
    expect(b.sink.text).toBe('HTTP/1.1 304 Not Modified\r\n\r\n');
  });

  it('100 Continue and 103 Early Hints precede the final response', () => {
    const { sink, res } = make();
    expect(res.writeContinue()).toBe(true);
    expect(res.writeEarlyHints(['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'])).toBe(
      true,
    );
    res.send('ok');
    expect(sink.text).toBe(
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(code(() => res.writeContinue())).toBe('ERR_INVALID_INFORMATIONAL');
  });

  it('1xx is never sent to HTTP/1.0, and bad hints are refused', () => {
    const { sink, res } = make({ versionMinor: 0 });
    expect(res.writeContinue()).toBe(false);
    expect(sink.writes).toBe(0);
    const b = make();
    expect(code(() => b.res.writeEarlyHints('</x>\r\nSet-Cookie: a=b'))).toBe('ERR_INVALID_HEADER_VALUE');
    expect(code(() => b.res.writeInformational(101))).toBe('ERR_INVALID_STATUS');
    expect(b.sink.writes).toBe(0);
  });
});

describe('canned responses', () => {
  it('pre-serialised, Connection: close, cached per second', () => {
    const a = cannedResponse(400);
    expect(cannedResponse(400)).toBe(a);
    const text = Buffer.from(a).toString('latin1');
    expect(text).toMatch(
      /^HTTP\/1\.1 400 Bad Request\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Length: 11\r\nDate: [^\r]+ GMT\r\nConnection: close\r\n\r\nBad Request$/,
    );
    expect(Buffer.from(cannedResponse(599)).toString('latin1')).toContain('HTTP/1.1 599 \r\n');
    expect(Buffer.from(cannedResponse(599)).toString('latin1')).toMatch(/\r\n\r\n599$/);
    expect(code(() => cannedResponse(200))).toBe('ERR_INVALID_STATUS');
  });
});

describe('streaming with backpressure', () => {
  it('Node Readable: stops when full, resumes on drain', async () => {
    const { sink, res } = make();
    sink.full = true;
    let pulled = 0;
    const src = new Readable({
      highWaterMark: 1,
      read() {
        pulled++;
        this.push(pulled <= 5 ? `c${pulled}` : null);
      },
    });
    const p = res.stream(src);
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.pendingDrains).toBe(1);
    const pulledWhileFull = pulled;
    expect(pulledWhileFull).toBeLessThanOrEqual(3);
    for (let i = 0; i < 10 && !res.finished; i++) {
      sink.drain();
      sink.full = true;
      await new Promise((r) => setTimeout(r, 5));
    }
    await p;
    expect(decodeChunked(split(sink.bytes).body).body.toString()).toBe('c1c2c3c4c5');
  });

  it('Web ReadableStream and async generator', async () => {
    const a = make();
    const enc = new TextEncoder();
    await a.res.stream(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode('ab'));
          c.enqueue(enc.encode('cd'));
          c.close();
        },
      }),
    );
    expect(decodeChunked(split(a.sink.bytes).body).body.toString()).toBe('abcd');
    const b = make({ versionMinor: 0 });
    await b.res.stream(
      (async function* () {
        yield 'x';
        yield new Uint8Array([0x79]);
      })(),
    );
    expect(b.sink.text).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxy');
    const c = make();
    await c.res.stream(['s', 'y', 'n', 'c']);
    expect(decodeChunked(split(c.sink.bytes).body).body.toString()).toBe('sync');
    const d = make();
    await d.res.stream('whole');
    expect(d.sink.text).toContain('Content-Length: 5');
  });

  it('abort while waiting on drain cancels the source and cuts the response', async () => {
    const { sink, res } = make();
    sink.full = true;
    let destroyed = false;
    const src = new Readable({
      read() {
        this.push('data');
      },
      destroy(err, cb) {
        destroyed = true;
        cb(err);
      },
    });
    const ac = new AbortController();
    const p = res.stream(src, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
    expect(destroyed).toBe(true);
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(sink.ended).toBe(1);
    expect(sink.text.endsWith('0\r\n\r\n')).toBe(false);
  });

  it('abort while the source is pending cancels a web stream', async () => {
    const { res } = make();
    let cancelled = false;
    const src = new ReadableStream<Uint8Array>({
      pull() {
        return new Promise(() => {});
      },
      cancel() {
        cancelled = true;
      },
    });
    const p = res.stream(src);
    await new Promise((r) => setTimeout(r, 10));
    res.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_RESPONSE_ABORTED' });
    expect(cancelled).toBe(true);
  });

  it('exposes the serialised head exactly as written, for inspectors', () => {
    const { sink, res } = make();
    expect(res.head).toBeNull();
    res.status(201).header('X-Thing', 'a').send('hello');
    const { head, body } = split(sink.bytes);
    expect(res.head).toBe(head);
    expect(body.toString()).toBe('hello');
  });

  it('a source error before the head leaves the writer usable', async () => {
    const { sink, res } = make();
    await expect(
      res.stream(
        (async function* () {
          yield* [];
          throw new Error('boom');
        })(),
      ),
    ).rejects.toThrow('boom');
    expect(res.headersSent).toBe(false);
    res.status(500).send('oops');
    expect(sink.text).toContain('500 Internal Server Error');
  });

  it('a source error after the head cuts the response (no last chunk)', async () => {
    const { sink, res } = make();
    await expect(
      res.stream(
        (async function* () {
          yield 'partial';
          throw new Error('boom');
        })(),
      ),
    ).rejects.toThrow('boom');
    expect(res.keepAlive).toBe(false);
    expect(res.finished).toBe(true);
    expect(sink.text.endsWith('0\r\n\r\n')).toBe(false);
  });

  it('abort() on an idle unfinished response cuts it', () => {
    const { sink, res } = make();
    res.write('x');
    res.abort();
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(sink.ended).toBe(1);
  });
});

describe('stream edge cases', () => {
  it('HEAD does not pull the source, writes the streaming head only', async () => {
    const { sink, res } = make({ method: 'HEAD' });
    let pulled = 0;
    let destroyed = false;
    const src = new Readable({
      read() {
        pulled++;
        this.push('x');
      },
      destroy(e, cb) {
        destroyed = true;
        cb(e);
      },
    });
    res.header('Content-Type', 'text/plain');
    await res.stream(src);
    expect(sink.text).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
    expect(pulled).toBe(0);
    expect(destroyed).toBe(true);
    expect(res.keepAlive).toBe(true);
  });

  it('a Content-Length overrun while streaming closes the source and cuts the response', async () => {
    const { res } = make();
    let destroyed = false;
    const src = new Readable({
      read() {
        this.push('0123456789');
      },
      destroy(e, cb) {
        destroyed = true;
        cb(e);
      },
    });
    res.header('Content-Length', '15');
    await expect(res.stream(src)).rejects.toMatchObject({ code: 'ERR_CONTENT_LENGTH_MISMATCH' });
    expect(destroyed).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(res.finished).toBe(true);
  });

  it('a bad chunk type from a web stream cancels it', async () => {
    const { res } = make();
    let cancelled = false;
    const src = new ReadableStream({
      pull(c) {
        c.enqueue(42 as unknown as Uint8Array);
      },
      cancel() {
        cancelled = true;
      },
    });
    await expect(res.stream(src)).rejects.toMatchObject({ code: 'ERR_INVALID_BODY' });
    expect(cancelled).toBe(true);
  });
});

describe('identity body at every split point', () => {
  it('writing a body in any pieces under its Content-Length gives the bytes of send()', () => {
    const body = Buffer.from('The quick brown fox jumps over the lazy dog \u00e9\u20ac');
    const whole = make();
    whole.res.header('Content-Type', 'text/plain').send(body);
    // every single split point
    for (let cut = 0; cut <= body.length; cut++) {
      const { sink, res } = make();
      res.header('Content-Type', 'text/plain').header('Content-Length', String(body.length));
      res.write(body.subarray(0, cut));
      res.end(body.subarray(cut));
      expect(sink.bytes.equals(whole.sink.bytes)).toBe(true);
    }
    // byte by byte
    const { sink, res } = make();
    res.header('Content-Type', 'text/plain').header('Content-Length', String(body.length));
    for (let i = 0; i < body.length; i++) res.write(body.subarray(i, i + 1));
    res.end();
    expect(sink.bytes.equals(whole.sink.bytes)).toBe(true);
  });
});
