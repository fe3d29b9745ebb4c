/**
 * HTTP/2 in the inspector, over real sockets on a plain `@strata/server` app: requests from
 * `node:http2` (h2c by prior knowledge) and from raw frames written by hand, shown as the frames of
 * their stream (types, flags by name, lengths, decoded header lists, bytes), connection-level frames
 * per connection, secrets masked in the fields and the raw header blocks hidden, the bounds; and an
 * HTTP/1.1 request on the same server shown as before.
 */
import { hasSubscribers } from 'node:diagnostics_channel';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channels } from '../src/_recorder';
import {
  flagNames,
  hexDump,
  type InspectedConnection,
  type InspectedFrame,
  type InspectorEntry,
  MAX_STREAM_FRAMES,
} from '../src/index';
import { type App, finished, raw, startApp, until } from './_helpers';

let app: App | null = null;
let session: http2.ClientHttp2Session | null = null;
afterEach(async () => {
  if (session !== null) {
    const s = session;
    session = null;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await app?.close();
  app = null;
});

function connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders;
}

/** One request on `s`: a body (as one write) and trailers when given. */
function request(
  s: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
  trailers?: http2.OutgoingHttpHeaders,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const hasBody = body !== undefined;
    const req = s.request(headers, { endStream: !hasBody, waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    let tail: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      got = h;
    });
    req.on('trailers', (t) => {
      tail = t;
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () =>
      resolve({ status, headers: got, body: Buffer.concat(chunks).toString('latin1'), trailers: tail }),
    );
    req.on('error', reject);
    if (hasBody) req.end(body);
  });
}

/** The newest entry whose request line starts with `line`, once its response finished and its last frame went out. */
function settled(app: App, line: string): Promise<InspectorEntry> {
  return until(() =>
    app.inspector.entries().find((e) => {
      if (!`${e.request.method} ${e.request.target}`.startsWith(line) || e.response?.finished !== true)
        return false;
      const out = e.http2?.frames.filter((f) => f.direction === 'out') ?? [];
      return out.length > 0 && (out[out.length - 1]!.flags & 0x1) !== 0; // END_STREAM sent
    }),
  );
}

const frameLength = (bytes: string) =>
  (bytes.charCodeAt(0) << 16) | (bytes.charCodeAt(1) << 8) | bytes.charCodeAt(2);

/** Every kept frame's bytes agree with its type, flags, stream and length (its 9-byte header). */
function checkHeaders(frames: InspectedFrame[]): void {
  for (const f of frames) {
    if (f.bytes === null) continue;
    expect(frameLength(f.bytes)).toBe(f.length);
    expect(f.bytes.charCodeAt(3)).toBe(f.type);
    expect(f.bytes.charCodeAt(4)).toBe(f.flags);
    const id =
      ((f.bytes.charCodeAt(5) & 0x7f) << 24) |
      (f.bytes.charCodeAt(6) << 16) |
      (f.bytes.charCodeAt(7) << 8) |
      f.bytes.charCodeAt(8);
    expect(id).toBe(f.streamId);
    expect(f.bytes.length).toBe(Math.min(9 + f.length, 256));
    expect(f.flagNames).toBe(flagNames(f.type, f.flags));
  }
}

const brief = (frames: InspectedFrame[]) => frames.map((f) => `${f.direction} ${f.typeName} ${f.flagNames}`);

// ---- raw frames (RFC 9113 section 4.1), written by hand ----------------------------------------

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

function frame(type: number, flags: number, stream: number, payload: Uint8Array | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, p]);
}

/** An HPACK block of literal fields without indexing, new names (RFC 7541 section 6.2.2), no Huffman. */
function block(fields: [string, string][]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    out.push(
      0x00,
      name.length,
      ...Buffer.from(name, 'latin1'),
      value.length,
      ...Buffer.from(value, 'latin1'),
    );
  }
  return Buffer.from(out);
}

const GET_HELLO: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/hello'],
  [':authority', 'raw.test'],
];

describe('HTTP/2 requests from node:http2 (h2c)', () => {
  it('a GET, a POST with a body and trailers, response trailers: frames per stream, decoded, masked', async () => {
    app = await startApp({ mode: 'on' });
    session = await connect(app.port);
    const get = await request(session, {
      ':method': 'GET',
      ':path': '/hello',
      authorization: 'Bearer h2-topsecret',
      cookie: 'sid=h2-hunter2',
      'x-trace': '42',
    });
    expect(get).toMatchObject({ status: 200, body: 'Hello, World!' });
    const post = await request(
      session,
      { ':method': 'POST', ':path': '/echo', 'content-type': 'text/plain' },
      'hello body',
      { 'x-t': '1' },
    );
    expect(post).toMatchObject({ status: 200, body: 'got 10' });
    const trail = await request(session, { ':method': 'GET', ':path': '/trail' });
    expect(trail).toMatchObject({ status: 200, body: 'part', trailers: { 'x-sum': '42' } });
    const login = await request(session, { ':method': 'GET', ':path': '/login' });
    expect(login.headers['set-cookie']).toEqual(['session=s3cr3t-session; HttpOnly']);

    // GET: one HEADERS in (END_STREAM|END_HEADERS), its answer HEADERS + DATA out.
    const g = await settled(app, 'GET /hello');
    expect(g.request).toMatchObject({
      method: 'GET',
      target: '/hello',
      version: '2.0',
      framing: 'http2',
      bytes: null,
      keepAlive: null,
      complete: true,
      unobserved: null,
    });
    expect(g.request.headers).toContainEqual(['x-trace', '42']);
    expect(g.request.headers).toContainEqual(['authorization', '*'.repeat('Bearer h2-topsecret'.length)]);
    expect(g.route).toEqual({ pattern: '/hello', status: 200, params: {} });
    const gs = g.http2!;
    expect(gs.streamId).toBe(1);
    expect(gs.framesTotal).toBe(gs.frames.length);
    expect(gs.frames.every((f) => f.streamId === 1)).toBe(true);
    checkHeaders(gs.frames);
    const [gIn, ...gOut] = gs.frames;
    expect(gIn).toMatchObject({
      direction: 'in',
      type: 1,
      typeName: 'HEADERS',
      flagNames: 'END_STREAM|END_HEADERS',
      bytes: null,
      hidden: 'masked', // it holds Authorization and Cookie: its HPACK bytes are not shown
    });
    expect(gIn!.fields!.slice(0, 2)).toEqual([
      [':method', 'GET'],
      [':path', '/hello'],
    ]);
    expect(gIn!.fields).toContainEqual(['authorization', '*'.repeat('Bearer h2-topsecret'.length)]);
    expect(gIn!.fields).toContainEqual(['cookie', '*'.repeat('sid=h2-hunter2'.length)]);
    expect(g.request.bytesTotal).toBe(9 + gIn!.length);
    expect(brief(gOut)).toEqual(['out HEADERS END_HEADERS', 'out DATA END_STREAM']);
    expect(gOut[0]!.fields![0]).toEqual([':status', '200']);
    expect(gOut[0]!.fields).toContainEqual(['content-type', 'text/plain']);
    expect(gOut[0]!.bytes).not.toBeNull();
    expect(gOut[0]!.hidden).toBeNull();
    expect(gOut[1]).toMatchObject({ length: 13, bytes: `${gOut[1]!.bytes!.slice(0, 9)}Hello, World!` });
    expect(g.response).toMatchObject({ status: 200, finished: true, canned: false });
    expect(g.response!.head).toMatch(/^HTTP\/2 200\r\n/);

    // POST: HEADERS, DATA, trailers in; request trailers; the DATA's bytes as sent.
    const p = await settled(app, 'POST /echo');
    const ps = p.http2!;
    expect(ps.streamId).toBe(3);
    checkHeaders(ps.frames);
    const pin = ps.frames.filter((f) => f.direction === 'in');
    expect(brief(pin)).toEqual(['in HEADERS END_HEADERS', 'in DATA ', 'in HEADERS END_STREAM|END_HEADERS']);
    expect(pin[0]!.hidden).toBeNull();
    expect(pin[0]!.bytes).not.toBeNull();
    expect(pin[0]!.fields).toContainEqual(['content-type', 'text/plain']);
    expect(pin[1]).toMatchObject({ length: 10, fields: null });
    expect(pin[1]!.bytes!.slice(9)).toBe('hello body');
    expect(pin[2]!.fields).toEqual([['x-t', '1']]);
    expect(p.request).toMatchObject({ framing: 'http2', complete: true, trailers: [['x-t', '1']] });
    expect(p.request.bytesTotal).toBe(pin.reduce((n, f) => n + 9 + f.length, 0));
    expect(p.response?.bodyBytesIn).toBe(10);
    // A WINDOW_UPDATE for the body read may go out on the stream: any out frame is one of these.
    const pout = ps.frames.filter((f) => f.direction === 'out' && f.typeName !== 'WINDOW_UPDATE');
    expect(brief(pout)).toEqual(['out HEADERS END_HEADERS', 'out DATA END_STREAM']);

    // Response trailers: a HEADERS frame out that ends the stream.
    const t = await settled(app, 'GET /trail');
    const tout = t.http2!.frames.filter((f) => f.direction === 'out');
    expect(brief(tout)).toEqual([
      'out HEADERS END_HEADERS',
      'out DATA ',
      'out HEADERS END_STREAM|END_HEADERS',
    ]);
    expect(tout[2]!.fields).toEqual([['x-sum', '42']]);

    // Set-Cookie masked in the response's decoded list; its header block's bytes hidden.
    const l = await settled(app, 'GET /login');
    const lHead = l.http2!.frames.find((f) => f.direction === 'out' && f.typeName === 'HEADERS')!;
    expect(lHead.fields).toContainEqual([
      'set-cookie',
      '*'.repeat('session=s3cr3t-session; HttpOnly'.length),
    ]);
    expect(lHead).toMatchObject({ bytes: null, hidden: 'masked' });
    expect(l.response!.head).toContain('set-cookie: ****');

    // The connection: SETTINGS both ways and their ACKs, on stream 0, in the connection's list.
    const conns = app.inspector.connections();
    expect(conns).toHaveLength(1);
    const c = conns[0]!;
    expect(c).toMatchObject({ connectionId: g.connectionId, protocol: 'h2', fromStart: true, open: true });
    expect(c.remote).toBe(g.remote);
    expect(c.frames.every((f) => f.streamId === 0)).toBe(true);
    const settings = brief(c.frames).filter((x) => x.includes('SETTINGS'));
    expect(settings).toEqual(
      expect.arrayContaining(['in SETTINGS ', 'out SETTINGS ', 'in SETTINGS ACK', 'out SETTINGS ACK']),
    );
    checkHeaders(c.frames);

    // The JSON says the same; no secret anywhere in it.
    const res = await fetch(`${app.url}/inspect/entries.json`);
    const text = await res.text();
    for (const secret of ['h2-topsecret', 'h2-hunter2', 's3cr3t']) expect(text).not.toContain(secret);
    const json = JSON.parse(text) as { entries: InspectorEntry[]; connections: InspectedConnection[] };
    expect(json.entries.find((x) => x.id === g.id)?.http2).toEqual(gs);
    expect(
      json.connections.find((x) => x.connectionId === c.connectionId)?.frames.length,
    ).toBeGreaterThanOrEqual(c.frames.length);
    // And the page: the frames table of the entry, the connection's frames.
    const html = await (await fetch(`${app.url}/inspect/entries.html`)).text();
    expect(html).toContain('<table class="frames">');
    expect(html).toContain('<td class="frame-flags">END_STREAM|END_HEADERS</td>');
    expect(html).toContain('[masked]');
    expect(html).toContain('data-conn="');
    for (const secret of ['h2-topsecret', 'h2-hunter2', 's3cr3t']) expect(html).not.toContain(secret);
  });

  it('an HTTP/1.1 request on the same server still shows its bytes, and no frames', async () => {
    app = await startApp({ mode: 'on' });
    session = await connect(app.port);
    await request(session, { ':method': 'GET', ':path': '/user/h2' });
    const request1 =
      'GET /user/ada HTTP/1.1\r\nHost: x\r\nAuthorization: Basic abc\r\nConnection: close\r\n\r\n';
    await raw(app.port, [request1]);
    const e = await finished(app.inspector, 'GET /user/ada');
    expect(e.request).toMatchObject({
      version: '1.1',
      framing: 'none',
      bytes: request1.replace('Basic abc', '*********'),
      bytesTotal: request1.length,
      complete: true,
    });
    expect(e.http2).toBeNull();
    expect(e.route).toEqual({ pattern: '/user/:name', status: 200, params: { name: 'ada' } });
    const h = await settled(app, 'GET /user/h2');
    expect(h.http2?.frames.length).toBeGreaterThan(0);
    expect(h.route?.params).toEqual({ name: 'h2' });
    // Only the HTTP/2 connection is listed as one.
    expect(app.inspector.connections().map((c) => c.connectionId)).toEqual([h.connectionId]);
  });

  it('subscribes to strata:http2:frame only while recording', async () => {
    app = await startApp(); // watch mode, nobody watching
    expect(hasSubscribers(Channels.HTTP2_FRAME)).toBe(false);
    session = await connect(app.port);
    await request(session, { ':method': 'GET', ':path': '/hello' });
    expect(app.inspector.entries()).toEqual([]);
    expect(app.inspector.connections()).toEqual([]);
    const release = app.inspector.watch();
    expect(hasSubscribers(Channels.HTTP2_FRAME)).toBe(true);
    // The connection was open before: its new streams are whole (the engine decodes HPACK), its
    // connection is listed as followed from the middle.
    await request(session, { ':method': 'GET', ':path': '/user/late' });
    const e = await settled(app, 'GET /user/late');
    expect(e.request.unobserved).toBeNull();
    expect(e.http2!.frames[0]).toMatchObject({ direction: 'in', typeName: 'HEADERS' });
    expect(e.http2!.frames[0]!.fields).toContainEqual([':path', '/user/late']);
    release();
    expect(hasSubscribers(Channels.HTTP2_FRAME)).toBe(false);
  });
});

describe('HTTP/2 from raw frames', () => {
  /** Writes `bytes` on a new connection and resolves with what came back until `done(bytes)` or close. */
  function h2raw(port: number, bytes: Buffer, done: (got: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      const got: Buffer[] = [];
      const timer = setTimeout(() => sock.destroy(), 3000);
      sock.on('data', (d) => {
        got.push(d);
        if (done(Buffer.concat(got))) sock.end();
      });
      sock.on('error', (e) => {
        if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(got));
      });
      sock.on('connect', () => sock.write(bytes));
    });
  }
  /** Whether `got` holds a frame of `type` with `flag` set on stream `id`. */
  function has(got: Buffer, type: number, flag: number, id: number): boolean {
    for (let at = 0; at + 9 <= got.length; at += 9 + got.readUIntBE(at, 3))
      if (got[at + 3] === type && (got[at + 4]! & flag) === flag && got.readUInt32BE(at + 5) === id)
        return true;
    return false;
  }

  it('the preface makes it HTTP/2: the exact bytes sent, frame by frame; a body past the bounds', async () => {
    app = await startApp({ mode: 'on', maxEntryBytes: 200 });
    const headers = block([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/echo'],
      [':authority', 'raw.test'],
    ]);
    const pieces: Buffer[] = [Buffer.from(PREFACE, 'latin1'), frame(4, 0, 0, ''), frame(1, 0x4, 1, headers)];
    const n = MAX_STREAM_FRAMES + 6; // DATA frames of 5 bytes: more than a stream keeps
    for (let i = 0; i < n; i++)
      pieces.push(frame(0, i === n - 1 ? 0x1 : 0, 1, `d${String(i).padStart(3, '0')}.`));
    const got = await h2raw(app.port, Buffer.concat(pieces), (b) => has(b, 0, 0x1, 1));
    expect(has(got, 1, 0x4, 1)).toBe(true);
    // The frames kept are the first ones: the answer's are counted, not kept.
    const e = await until(() =>
      app!.inspector.entries().find((x) => x.response?.finished === true && x.http2!.framesTotal >= n + 3),
    );
    expect(e.response?.bodyBytesIn).toBe(5 * n);
    const s = e.http2!;
    expect(s.framesTotal).toBeGreaterThanOrEqual(n + 3); // n + 1 in, the answer out
    expect(s.frames).toHaveLength(MAX_STREAM_FRAMES);
    // The HEADERS frame exactly as sent (no secret in it), then DATA within maxEntryBytes.
    const sentHeaders = frame(1, 0x4, 1, headers).toString('latin1');
    expect(s.frames[0]).toMatchObject({ typeName: 'HEADERS', flagNames: 'END_HEADERS', bytes: sentHeaders });
    let kept = sentHeaders.length;
    for (let i = 1; i < s.frames.length; i++) {
      const f = s.frames[i]!;
      expect(f).toMatchObject({ direction: 'in', typeName: 'DATA', length: 5, streamId: 1 });
      const whole = frame(0, 0, 1, `d${String(i - 1).padStart(3, '0')}.`).toString('latin1');
      if (kept + whole.length <= 200) {
        expect(f.bytes).toBe(whole);
        kept += whole.length;
      } else if (kept < 200) {
        expect(f.bytes).toBe(whole.slice(0, 200 - kept)); // cut at the bound
        kept = 200;
      } else expect(f).toMatchObject({ bytes: null, hidden: 'over maxEntryBytes' });
    }
    expect(kept).toBe(200);
    expect(e.request.bytesTotal).toBe(sentHeaders.length + 14 * n);
    expect(e.request.complete).toBe(true);
    // Stream 0: our SETTINGS as sent, the server's.
    const c = app.inspector.connections()[0]!;
    expect(c.frames[0]).toMatchObject({ direction: 'in', typeName: 'SETTINGS', length: 0, flagNames: '' });
    expect(c.frames[0]!.bytes).toBe(frame(4, 0, 0, '').toString('latin1'));
  });

  it('a header block split over CONTINUATION frames with a secret: no raw bytes of any of its frames', async () => {
    app = await startApp({ mode: 'on' });
    const headers = block([...GET_HELLO, ['authorization', 'Bearer raw-topsecret'], ['x-a', 'b']]);
    const cut1 = 10;
    const cut2 = 30;
    const bytes = Buffer.concat([
      Buffer.from(PREFACE, 'latin1'),
      frame(4, 0, 0, ''),
      frame(1, 0x1, 1, headers.subarray(0, cut1)), // HEADERS, END_STREAM, no END_HEADERS
      frame(9, 0, 1, headers.subarray(cut1, cut2)), // CONTINUATION
      frame(9, 0x4, 1, headers.subarray(cut2)), // CONTINUATION, END_HEADERS
    ]);
    await h2raw(app.port, bytes, (b) => has(b, 0, 0x1, 1));
    const e = await settled(app, 'GET /hello');
    const fin = e.http2!.frames.filter((f) => f.direction === 'in');
    expect(brief(fin)).toEqual(['in HEADERS END_STREAM', 'in CONTINUATION ', 'in CONTINUATION END_HEADERS']);
    expect(fin.map((f) => f.length)).toEqual([cut1, cut2 - cut1, headers.length - cut2]);
    expect(fin.map((f) => f.hidden)).toEqual(['masked', 'masked', 'masked']);
    expect(fin.map((f) => f.bytes)).toEqual([null, null, null]);
    expect(fin.map((f) => f.fields === null)).toEqual([true, true, false]);
    expect(fin[2]!.fields).toContainEqual(['authorization', '*'.repeat('Bearer raw-topsecret'.length)]);
    expect(JSON.stringify(app.inspector.entries())).not.toContain('raw-topsecret');
  });

  it('a refused stream: an entry with the code, the decoded head and its RST_STREAM', async () => {
    app = await startApp({ mode: 'on' });
    const bad = block([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'raw.test'],
    ]); // no :path
    const bytes = Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(4, 0, 0, ''), frame(1, 0x5, 1, bad)]);
    await h2raw(app.port, bytes, (b) => has(b, 3, 0, 1));
    const e = await until(() =>
      app!.inspector
        .entries()
        .find((x) => x.refused !== null && x.http2?.frames.some((f) => f.typeName === 'RST_STREAM')),
    );
    expect(e.refused).toMatchObject({ status: 400, offset: -1 });
    expect(e.refused!.code).toMatch(/^H2_/);
    expect(e.refused!.reason).toMatch(/path/i);
    expect(e.request).toMatchObject({ method: 'GET', version: '2.0', framing: 'http2', bytes: null });
    expect(brief(e.http2!.frames)).toEqual(['in HEADERS END_STREAM|END_HEADERS', 'out RST_STREAM ']);
    const html = await (await fetch(`${app.url}/inspect/entries.html`)).text();
    expect(html).toContain('refused by the HTTP/2 engine: <b class="refused-code">H2_');

    // A connection error (HEADERS on an even stream id): an entry with no stream, GOAWAY on stream 0.
    const even = Buffer.concat([
      Buffer.from(PREFACE, 'latin1'),
      frame(4, 0, 0, ''),
      frame(1, 0x5, 2, block(GET_HELLO)),
    ]);
    await h2raw(app.port, even, (b) => has(b, 7, 0, 0));
    const g = await until(() => app!.inspector.entries().find((x) => x.refused !== null && x.http2 === null));
    expect(g.request).toMatchObject({ method: null, framing: 'http2', bytes: null });
    const conn = await until(() =>
      app!.inspector
        .connections()
        .find((c) => c.connectionId === g.connectionId && c.frames.some((f) => f.typeName === 'GOAWAY')),
    );
    expect(conn.frames.find((f) => f.typeName === 'GOAWAY')).toMatchObject({ direction: 'out', streamId: 0 });
  });
});

describe('frame helpers', () => {
  it('names flags per frame type, unknown bits in hex', () => {
    expect(flagNames(1, 0x25)).toBe('END_STREAM|END_HEADERS|PRIORITY');
    expect(flagNames(0, 0x9)).toBe('END_STREAM|PADDED');
    expect(flagNames(4, 0x1)).toBe('ACK');
    expect(flagNames(6, 0x0)).toBe('');
    expect(flagNames(8, 0x3)).toBe('0x03');
    expect(flagNames(9, 0x44)).toBe('END_HEADERS|0x40');
    expect(flagNames(0x20, 0x1)).toBe('0x01');
  });

  it('hex dumps bytes 16 a line with their printable characters', () => {
    const dump = hexDump('\x00\x00\x05\x00\x01\x00\x00\x00\x01hello\r\n');
    expect(dump).toBe('0000  00 00 05 00 01 00 00 00 01 68 65 6c 6c 6f 0d 0a  .........hello..\n');
    expect(hexDump('x'.repeat(17)).split('\n')[1]).toBe(`0010  78 ${'   '.repeat(15)} x`);
  });
});
