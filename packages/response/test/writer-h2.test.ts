import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type FieldSink, ResponseError, ResponseWriter } from '../src/index';

/** One thing the writer handed to the sink, in order. */
type Event =
  | { t: 'head'; status: number; fields: string[]; end: boolean }
  | { t: 'data'; bytes: string }
  | { t: 'trailers'; fields: string[] }
  | { t: 'end' };

/** A FieldSink recording every call; `full` makes writes report backpressure until `drain()`. */
class RecordingFieldSink implements FieldSink {
  events: Event[] = [];
  cork = (): void => {
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
  };
  uncork = (): void => {
    this.depth--;
  };
  depth = 0;
  maxDepth = 0;
  full = false;
  /** Cork depth at each write/writeHead/writeTrailers/end call, in order. */
  depths: number[] = [];
  private drains: Array<() => void> = [];
  writeHead(status: number, fields: string[], end: boolean): boolean {
    this.depths.push(this.depth);
    this.events.push({ t: 'head', status, fields: fields.slice(), end });
    return !this.full;
  }
  writeTrailers(fields: string[]): void {
    this.depths.push(this.depth);
    this.events.push({ t: 'trailers', fields: fields.slice() });
  }
  write(chunk: Uint8Array | string): boolean {
    this.depths.push(this.depth);
    const bytes = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    this.events.push({ t: 'data', bytes });
    return !this.full;
  }
  onDrain(listener: () => void): void {
    this.drains.push(listener);
  }
  end(): void {
    this.depths.push(this.depth);
    this.events.push({ t: 'end' });
  }
  drain(): void {
    this.full = false;
    const d = this.drains;
    this.drains = [];
    for (const f of d) f();
  }
  get pendingDrains(): number {
    return this.drains.length;
  }
  /** The final (non-1xx) head. */
  get finalHead(): Extract<Event, { t: 'head' }> {
    for (const e of this.events) if (e.t === 'head' && e.status >= 200) return e;
    throw new Error('no final head');
  }
  get body(): string {
    let s = '';
    for (const e of this.events) if (e.t === 'data') s += e.bytes;
    return s;
  }
  /** The event kinds in order, e.g. ['head', 'data', 'end']. */
  get kinds(): string[] {
    return this.events.map((e) => e.t);
  }
}

function make(opts: Partial<{ method: string; date: boolean; keepAlive: boolean }> = {}) {
  const sink = new RecordingFieldSink();
  const res = new ResponseWriter(sink, {
    method: opts.method ?? 'GET',
    versionMinor: 1,
    keepAlive: opts.keepAlive ?? true,
    date: opts.date ?? false,
    http2: true,
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

async function codeAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ResponseError) return e.code;
    throw e;
  }
  return undefined;
}

/** Lets pending promise jobs and I/O callbacks run (no timers, no sleeps). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('http2 mode: send', () => {
  it('send(string): one head with content-type and content-length, the body, end, under one cork', () => {
    const { sink, res } = make();
    res.header('X-Request-ID', 'abc').send('hello');
    expect(sink.events).toEqual([
      {
        t: 'head',
        status: 200,
        fields: ['x-request-id', 'abc', 'content-type', 'text/plain; charset=utf-8', 'content-length', '5'],
        end: false,
      },
      { t: 'data', bytes: 'hello' },
      { t: 'end' },
    ]);
    expect(sink.depths).toEqual([1, 1, 1]);
    expect(sink.depth).toBe(0);
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(true);
    expect(res.bytesWritten).toBe(5);
  });

  it('send(string) counts UTF-8 bytes and hands the string over as given', () => {
    const { sink, res } = make();
    res.send('h\u00e9');
    expect(sink.finalHead.fields).toContain('3');
    expect(sink.events[1]).toEqual({ t: 'data', bytes: 'h\u00e9' });
  });

  it('send(bytes): octet-stream, the same Uint8Array passed through', () => {
    const sink = new RecordingFieldSink();
    const seen: Array<Uint8Array | string> = [];
    const write = sink.write.bind(sink);
    sink.write = (c) => {
      seen.push(c);
      return write(c);
    };
    const res = new ResponseWriter(sink, {
      method: 'GET',
      versionMinor: 1,
      keepAlive: true,
      date: false,
      http2: true,
    });
    const body = new Uint8Array([0, 1, 2, 255]);
    res.send(body);
    expect(sink.finalHead.fields).toEqual([
      'content-type',
      'application/octet-stream',
      'content-length',
      '4',
    ]);
    expect(seen).toEqual([body]);
    expect(seen[0]).toBe(body);
    expect(sink.body).toBe('\x00\x01\x02\xff');
  });

  it('send() empty: the head carries end (HEADERS + END_STREAM), no data, then end()', () => {
    const { sink, res } = make();
    res.send();
    expect(sink.events).toEqual([
      { t: 'head', status: 200, fields: ['content-length', '0'], end: true },
      { t: 'end' },
    ]);
  });

  it('end() before any write is send(): with a body and without', () => {
    const a = make();
    a.res.end('abc');
    expect(a.sink.kinds).toEqual(['head', 'data', 'end']);
    expect(a.sink.finalHead.end).toBe(false);
    expect(a.sink.finalHead.fields).toContain('content-length');
    const b = make();
    b.res.status(201).end();
    expect(b.sink.events).toEqual([
      { t: 'head', status: 201, fields: ['content-length', '0'], end: true },
      { t: 'end' },
    ]);
  });

  it('json(): application/json and its length', () => {
    const { sink, res } = make();
    res.json({ a: 1 });
    expect(sink.finalHead.fields).toEqual([
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      '7',
    ]);
    expect(sink.body).toBe('{"a":1}');
    expect(sink.kinds).toEqual(['head', 'data', 'end']);
  });

  it('a declared content-length must match send()', () => {
    const { sink, res } = make();
    res.header('Content-Length', '3');
    expect(code(() => res.send('abcd'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(sink.events).toEqual([]);
    expect(res.headersSent).toBe(false);
    res.send('abc');
    expect(sink.finalHead.fields).toEqual([
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      '3',
    ]);
  });

  it('reason phrases are ignored; a custom one is still validated', () => {
    const { sink, res } = make();
    expect(code(() => res.status(200, 'a\r\nb'))).toBe('ERR_INVALID_REASON');
    res.status(404, 'Gone Fishing').send('x');
    expect(sink.finalHead.status).toBe(404);
    expect(res.head).toBe(
      'HTTP/2 404\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 1\r\n\r\n',
    );
  });
});

describe('http2 mode: header fields', () => {
  it('names are lower-cased, multi-values joined with ", ", set-cookie one field each', () => {
    const { sink, res } = make();
    res
      .header('X-Mixed-Case', 'v')
      .header('Vary', ['Accept', 'Accept-Encoding'])
      .header('Set-Cookie', ['a=1', 'b=2'])
      .appendHeader('Set-Cookie', 'c=3')
      .send();
    expect(sink.finalHead.fields).toEqual([
      'x-mixed-case',
      'v',
      'vary',
      'Accept, Accept-Encoding',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'set-cookie',
      'c=3',
      'content-length',
      '0',
    ]);
  });

  it('connection-specific fields are dropped and Connection: close keeps keepAlive', () => {
    const { sink, res } = make();
    res
      .header('Connection', 'close')
      .header('Keep-Alive', 'timeout=5')
      .header('Proxy-Connection', 'keep-alive')
      .header('Transfer-Encoding', 'chunked')
      .header('Upgrade', 'h2c')
      .header('X-Kept', '1')
      .send('ok');
    expect(sink.finalHead.fields).toEqual([
      'x-kept',
      '1',
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      '2',
    ]);
    expect(res.keepAlive).toBe(true);
    // the writer still reports what the handler set
    expect(res.getHeader('connection')).toBe('close');
  });

  it('connection-specific fields are dropped from a streamed head too, without chunked framing', () => {
    const { sink, res } = make();
    res.header('Connection', 'keep-alive, Upgrade').header('Transfer-Encoding', 'chunked');
    res.write('a');
    res.end();
    expect(sink.finalHead.fields).toEqual([]);
    expect(sink.body).toBe('a');
  });

  it('date is added once, the cached IMF-fixdate value, unless the handler set one', () => {
    const { sink, res } = make({ date: true });
    res.send();
    const f = sink.finalHead.fields;
    expect(f.filter((x, i) => i % 2 === 0 && x === 'date')).toHaveLength(1);
    const value = f[f.indexOf('date') + 1]!;
    expect(value).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Math.abs(Date.parse(value) - Date.now())).toBeLessThan(60_000);
    const b = make({ date: true });
    b.res.header('Date', 'Sun, 06 Nov 1994 08:49:37 GMT').send();
    expect(b.sink.finalHead.fields).toEqual(['date', 'Sun, 06 Nov 1994 08:49:37 GMT', 'content-length', '0']);
  });

  it('obs-text values are handed over as Latin-1 strings', () => {
    const { sink, res } = make();
    res.header('X-Latin', 'caf\u00e9').send();
    expect(sink.finalHead.fields.slice(0, 2)).toEqual(['x-latin', 'caf\u00e9']);
  });

  it('status 101 throws ERR_INVALID_STATUS; other codes as over HTTP/1.1', () => {
    const { res } = make();
    expect(code(() => res.status(101))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(100))).toBe('ERR_INVALID_STATUS');
    expect(code(() => res.status(600))).toBe('ERR_INVALID_STATUS');
    expect(res.status(200).statusCode).toBe(200);
  });

  it('a ByteSink without writeHead is refused in http2 mode', () => {
    const plain = { write: () => true, cork() {}, uncork() {}, onDrain() {}, end() {} };
    expect(
      () => new ResponseWriter(plain, { method: 'GET', versionMinor: 1, keepAlive: true, http2: true }),
    ).toThrow(TypeError);
  });
});

describe('http2 mode: the head getter', () => {
  it('is null before the head and renders the fields as curl prints them', () => {
    const { res } = make();
    expect(res.head).toBeNull();
    res.header('X-A', '1').header('Set-Cookie', ['a=1', 'b=2']).send('hi');
    const text =
      'HTTP/2 200\r\nx-a: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n' +
      'content-type: text/plain; charset=utf-8\r\ncontent-length: 2\r\n\r\n';
    expect(res.head).toBe(text);
    expect(res.head).toBe(text); // rendered once, then kept
  });

  it('does not include interim heads', () => {
    const { res } = make();
    res.writeEarlyHints('</a.css>; rel=preload');
    expect(res.head).toBeNull();
    res.status(204).send();
    expect(res.head).toBe('HTTP/2 204\r\n\r\n');
  });
});

describe('http2 mode: streaming', () => {
  it('write + end: raw writes, no chunked framing, keepAlive stays true', () => {
    const { sink, res } = make();
    expect(res.write('ab')).toBe(true);
    expect(res.write(new Uint8Array([0x63]))).toBe(true);
    res.end('d');
    expect(sink.events).toEqual([
      { t: 'head', status: 200, fields: [], end: false },
      { t: 'data', bytes: 'ab' },
      { t: 'data', bytes: 'c' },
      { t: 'data', bytes: 'd' },
      { t: 'end' },
    ]);
    expect(sink.depths.slice(0, 2)).toEqual([1, 1]); // head and first chunk under one cork
    expect(res.keepAlive).toBe(true);
    expect(res.bytesWritten).toBe(4);
    expect(res.finished).toBe(true);
  });

  it('an empty write writes nothing but the head if not yet sent', () => {
    const { sink, res } = make();
    expect(res.write('')).toBe(true);
    expect(sink.events).toEqual([{ t: 'head', status: 200, fields: [], end: false }]);
    expect(res.write(new Uint8Array(0))).toBe(true);
    expect(sink.events).toHaveLength(1);
    res.end();
    expect(sink.kinds).toEqual(['head', 'end']);
  });

  it('write() reports the sink backpressure', () => {
    const { sink, res } = make();
    sink.full = true;
    expect(res.write('a')).toBe(false);
    expect(res.write('b')).toBe(false);
    sink.full = false;
    expect(res.write('c')).toBe(true);
  });

  it('a declared content-length: writing past it throws and writes nothing of that chunk', () => {
    const { sink, res } = make();
    res.header('Content-Length', 3);
    expect(code(() => res.write('abcd'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(sink.events).toEqual([]);
    res.write('ab');
    expect(code(() => res.write('cd'))).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    res.end('c');
    expect(sink.finalHead.fields).toEqual(['content-length', '3']);
    expect(sink.body).toBe('abc');
    expect(sink.kinds).toEqual(['head', 'data', 'data', 'end']);
    expect(res.keepAlive).toBe(true);
  });

  it('a declared content-length: ending short throws and cuts (keepAlive false, end called)', () => {
    const { sink, res } = make();
    res.header('Content-Length', '5');
    res.write('ab');
    expect(code(() => res.end())).toBe('ERR_CONTENT_LENGTH_MISMATCH');
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(sink.kinds).toEqual(['head', 'data', 'end']);
  });

  it('streams an async iterable with backpressure through onDrain', async () => {
    const { sink, res } = make();
    let pulled = 0;
    async function* gen() {
      for (let i = 0; i < 4; i++) {
        pulled++;
        yield `c${i}`;
      }
    }
    sink.full = true;
    const p = res.stream(gen());
    for (let i = 0; i < 5; i++) await settle();
    expect(pulled).toBe(1); // nothing more is pulled while the sink is full
    expect(sink.pendingDrains).toBe(1);
    expect(sink.body).toBe('c0');
    sink.full = false;
    sink.drain();
    await p;
    expect(pulled).toBe(4);
    expect(sink.body).toBe('c0c1c2c3');
    expect(sink.kinds).toEqual(['head', 'data', 'data', 'data', 'data', 'end']);
    expect(sink.finalHead.end).toBe(false);
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(true);
  });

  it('streams a Node Readable with backpressure', async () => {
    const { sink, res } = make();
    const src = Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')], {
      objectMode: true,
    });
    sink.full = true;
    const p = res.stream(src);
    for (let i = 0; i < 5; i++) await settle();
    expect(sink.body).toBe('ab');
    expect(sink.pendingDrains).toBe(1);
    sink.drain();
    await p;
    expect(sink.body).toBe('abcdef');
    expect(sink.kinds).toEqual(['head', 'data', 'data', 'data', 'end']);
  });

  it('streams a web ReadableStream with backpressure', async () => {
    const { sink, res } = make();
    let pulls = 0;
    const src = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          if (pulls > 3) controller.close();
          else controller.enqueue(new Uint8Array([0x60 + pulls]));
        },
      },
      { highWaterMark: 0 },
    );
    sink.full = true;
    const p = res.stream(src);
    for (let i = 0; i < 5; i++) await settle();
    expect(sink.body).toBe('a');
    expect(pulls).toBeLessThanOrEqual(2);
    sink.drain();
    await p;
    expect(sink.body).toBe('abc');
    expect(sink.events.at(-1)).toEqual({ t: 'end' });
  });

  it('an empty source ends with a head that carries end', async () => {
    const { sink, res } = make();
    await res.stream((async function* () {})());
    expect(sink.events).toEqual([
      { t: 'head', status: 200, fields: ['content-length', '0'], end: true },
      { t: 'end' },
    ]);
  });

  it('abort() during a stream: the source is released, the response cut, no trailers', async () => {
    const { sink, res } = make();
    let released = false;
    async function* gen() {
      try {
        yield 'a';
        yield 'b';
      } finally {
        released = true;
      }
    }
    res.addTrailers({ 'X-Checksum': 'x' });
    sink.full = true;
    const p = res.stream(gen());
    for (let i = 0; i < 5; i++) await settle();
    res.abort();
    expect(await codeAsync(p)).toBe('ERR_RESPONSE_ABORTED');
    expect(released).toBe(true);
    expect(res.finished).toBe(true);
    expect(res.keepAlive).toBe(false);
    expect(sink.kinds).toEqual(['head', 'data', 'end']);
  });

  it('abort() before anything: end() is called, nothing else', () => {
    const { sink, res } = make();
    res.abort();
    expect(sink.events).toEqual([{ t: 'end' }]);
    expect(res.keepAlive).toBe(false);
    expect(res.finished).toBe(true);
  });
});

describe('http2 mode: body-less responses', () => {
  it('HEAD: the GET length, no data, end on the head', () => {
    const { sink, res } = make({ method: 'HEAD' });
    res.send('hello');
    expect(sink.events).toEqual([
      {
        t: 'head',
        status: 200,
        fields: ['content-type', 'text/plain; charset=utf-8', 'content-length', '5'],
        end: true,
      },
      { t: 'end' },
    ]);
    expect(res.bytesWritten).toBe(0);
  });

  it('HEAD with a declared length and an empty send keeps the declared length', () => {
    const { sink, res } = make({ method: 'HEAD' });
    res.header('Content-Length', '42').send();
    expect(sink.finalHead).toEqual({ t: 'head', status: 200, fields: ['content-length', '42'], end: true });
  });

  it('HEAD streamed: the source is released unread, the head carries end', async () => {
    const { sink, res } = make({ method: 'HEAD' });
    let pulled = 0;
    async function* gen() {
      pulled++;
      yield 'x';
    }
    res.header('Content-Length', '1');
    await res.stream(gen());
    expect(pulled).toBe(0);
    expect(sink.events).toEqual([
      { t: 'head', status: 200, fields: ['content-length', '1'], end: true },
      { t: 'end' },
    ]);
  });

  it('HEAD drops trailers silently, as over HTTP/1.1', () => {
    const { sink, res } = make({ method: 'HEAD' });
    res.addTrailers({ 'X-T': '1' }).send('abc');
    expect(sink.kinds).toEqual(['head', 'end']);
    expect(sink.finalHead.end).toBe(true);
  });

  it('204: no content-type, no content-length, end on the head; write() writes nothing', () => {
    const a = make();
    a.res.status(204).send('ignored');
    expect(a.sink.events).toEqual([{ t: 'head', status: 204, fields: [], end: true }, { t: 'end' }]);
    const b = make();
    b.res.status(204);
    b.res.write('x');
    b.res.end();
    expect(b.sink.events).toEqual([{ t: 'head', status: 204, fields: [], end: true }, { t: 'end' }]);
  });

  it('304 keeps a declared content-length, sends no body', () => {
    const { sink, res } = make();
    res.status(304).header('ETag', '"a"').header('Content-Length', '10').send();
    expect(sink.events).toEqual([
      { t: 'head', status: 304, fields: ['etag', '"a"', 'content-length', '10'], end: true },
      { t: 'end' },
    ]);
  });

  it('204/304 refuse trailers, as over HTTP/1.1, before anything is written', () => {
    const a = make();
    a.res.status(204).addTrailers({ 'X-T': '1' });
    expect(code(() => a.res.send())).toBe('ERR_TRAILERS_UNSUPPORTED');
    expect(code(() => a.res.write('x'))).toBe('ERR_TRAILERS_UNSUPPORTED');
    expect(a.sink.events).toEqual([]);
    const b = make();
    b.res.status(304).addTrailers({ 'X-T': '1' });
    expect(code(() => b.res.end())).toBe('ERR_TRAILERS_UNSUPPORTED');
    expect(b.sink.events).toEqual([]);
  });
});

describe('http2 mode: trailers', () => {
  it('write + end: head, data, trailers (lower-case), end', () => {
    const { sink, res } = make();
    res.addTrailers({ 'X-Checksum': 'abc' });
    res.write('body');
    res.addTrailers({ 'Server-Timing': 'db;dur=5' });
    res.end();
    expect(sink.events).toEqual([
      { t: 'head', status: 200, fields: [], end: false },
      { t: 'data', bytes: 'body' },
      { t: 'trailers', fields: ['x-checksum', 'abc', 'server-timing', 'db;dur=5'] },
      { t: 'end' },
    ]);
  });

  it('are allowed with a declared content-length (HTTP/2 always allows trailers)', () => {
    const { sink, res } = make();
    res.header('Content-Length', 2);
    res.write('ab');
    res.addTrailers({ 'X-T': '1' });
    res.end();
    expect(sink.kinds).toEqual(['head', 'data', 'trailers', 'end']);
    expect(sink.finalHead.fields).toEqual(['content-length', '2']);
  });

  it('via send(): head (end false), body, trailers, end, under one cork', () => {
    const { sink, res } = make();
    res.addTrailers({ 'X-T': '1' }).send('hi');
    expect(sink.events).toEqual([
      {
        t: 'head',
        status: 200,
        fields: ['content-type', 'text/plain; charset=utf-8', 'content-length', '2'],
        end: false,
      },
      { t: 'data', bytes: 'hi' },
      { t: 'trailers', fields: ['x-t', '1'] },
      { t: 'end' },
    ]);
    expect(sink.depths).toEqual([1, 1, 1, 1]);
  });

  it('an empty body with trailers: the head does not carry end', () => {
    const a = make();
    a.res.addTrailers({ 'X-T': '1' }).send();
    expect(a.sink.events).toEqual([
      { t: 'head', status: 200, fields: ['content-length', '0'], end: false },
      { t: 'trailers', fields: ['x-t', '1'] },
      { t: 'end' },
    ]);
    const b = make();
    b.res.addTrailers({ 'X-T': '1' }).end();
    expect(b.sink.events).toEqual([
      { t: 'head', status: 200, fields: [], end: false },
      { t: 'trailers', fields: ['x-t', '1'] },
      { t: 'end' },
    ]);
  });

  it('a streamed body with trailers', async () => {
    const { sink, res } = make();
    res.addTrailers({ 'X-T': '1' });
    await res.stream(['a', 'b']);
    expect(sink.kinds).toEqual(['head', 'data', 'data', 'trailers', 'end']);
  });

  it('forbidden trailers are still refused; connection-specific ones are dropped', () => {
    const { sink, res } = make();
    expect(code(() => res.addTrailers({ 'Content-Length': '1' }))).toBe('ERR_FORBIDDEN_TRAILER');
    expect(code(() => res.addTrailers({ Connection: 'close' }))).toBe('ERR_FORBIDDEN_TRAILER');
    res.addTrailers({ 'Keep-Alive': 'x', 'X-T': '1' }).send('a');
    expect(sink.events[2]).toEqual({ t: 'trailers', fields: ['x-t', '1'] });
  });

  it('after the response ends: ERR_RESPONSE_FINISHED', () => {
    const { res } = make();
    res.send('a');
    expect(code(() => res.addTrailers({ 'X-T': '1' }))).toBe('ERR_RESPONSE_FINISHED');
  });
});

describe('http2 mode: interim heads', () => {
  it('100, 103 and 102 go as writeHead(code, fields, false) before the final head', () => {
    const { sink, res } = make();
    expect(res.writeContinue()).toBe(true);
    expect(res.writeEarlyHints(['</a.css>; rel=preload', '</b.js>; rel=preload'], { 'X-Hint': '1' })).toBe(
      true,
    );
    expect(res.writeInformational(102)).toBe(true);
    res.send('ok');
    expect(sink.events.slice(0, 3)).toEqual([
      { t: 'head', status: 100, fields: [], end: false },
      {
        t: 'head',
        status: 103,
        fields: ['link', '</a.css>; rel=preload, </b.js>; rel=preload', 'x-hint', '1'],
        end: false,
      },
      { t: 'head', status: 102, fields: [], end: false },
    ]);
    expect(sink.finalHead.status).toBe(200);
  });

  it('are sent whatever versionMinor says', () => {
    const sink = new RecordingFieldSink();
    const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 0, keepAlive: true, http2: true });
    expect(res.writeContinue()).toBe(true);
    expect(sink.events).toEqual([{ t: 'head', status: 100, fields: [], end: false }]);
  });

  it('drop connection-specific fields, validate the rest, and answer with the sink', () => {
    const { sink, res } = make();
    expect(code(() => res.writeInformational(103, { 'X-A': 'a\r\nb' }))).toBe('ERR_INVALID_HEADER_VALUE');
    expect(code(() => res.writeInformational(101))).toBe('ERR_INVALID_STATUS');
    expect(sink.events).toEqual([]);
    sink.full = true;
    expect(res.writeInformational(103, { Connection: 'x', Upgrade: 'y', Link: '</a>' })).toBe(false);
    expect(sink.events).toEqual([{ t: 'head', status: 103, fields: ['link', '</a>'], end: false }]);
  });

  it('after the final head: ERR_INVALID_INFORMATIONAL', () => {
    const { res } = make();
    res.write('a');
    expect(code(() => res.writeContinue())).toBe('ERR_INVALID_INFORMATIONAL');
  });
});
