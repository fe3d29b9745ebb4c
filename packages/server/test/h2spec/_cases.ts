/**
 * The conformance catalogue: one entry per check, grouped and numbered like h2spec's sections
 * (`generic/...`, `http2/<RFC 7540 section>/<n>`, `hpack/<RFC 7541 section>/<n>`) so results can be
 * compared with h2spec's, but each requirement is read from RFC 9113 and RFC 7541. Where RFC 9113
 * changed a rule that h2spec took from RFC 7540, the case follows RFC 9113 and says so in `note`.
 *
 * Outcomes, as h2spec accepts them:
 * - "connection error X": a GOAWAY carrying X, or the connection closing. A GOAWAY with another
 *   code followed by the close passes, as in h2spec, with a `warning` on the verdict.
 * - "stream error X": a RST_STREAM carrying X, or a connection error carrying X, or the close.
 * - "accepts": the positive answer named by the case (a response HEADERS, a PING ACK, ...).
 * Every wait lasts at most the client's timeout; a timeout fails the case.
 */
import {
  describe,
  ErrorCode,
  type Event,
  errorName,
  Flag,
  type Frame,
  FrameType,
  frameErrorCode,
  type H2Client,
  Setting,
} from './_client.ts';
import { encodeInteger, type Field, huffmanEncode, indexed } from './_hpack.ts';

/** The result of one case. */
export interface Verdict {
  pass: boolean;
  /** Set when the case could not apply to this server (h2spec's "skipped"). */
  skipped?: boolean;
  /** What the RFC requires, in short. */
  expected: string;
  /** What the server actually did. */
  observed: string;
  /** A pass that h2spec accepts but the RFC would not quite (a GOAWAY or RST_STREAM with another code before the close). */
  warning?: string;
}

/** One catalogue entry. */
export interface Case {
  /** `section-group/section/n`, e.g. `http2/6.5.3/1`. */
  id: string;
  /** The section's title. */
  section: string;
  /** What the case sends. */
  title: string;
  /** h2spec runs these only with its strict flag: a SHOULD, or an interpretation. */
  strict?: boolean;
  /** Where this case departs from h2spec, and why. */
  note?: string;
  run(client: H2Client): Promise<Verdict>;
}

// ---------------------------------------------------------------------------------------------
// Verification helpers. Each reads events until it can decide; the client's timeout bounds every
// wait and the loops are bounded too.

const MAX_EVENTS = 256;

function codesText(codes: number[]): string {
  return codes.map(errorName).join(' or ');
}

function ok(expected: string, observed: string): Verdict {
  return { pass: true, expected, observed };
}

function fail(expected: string, observed: string): Verdict {
  return { pass: false, expected, observed };
}

/**
 * Reads until a GOAWAY/RST_STREAM (when `rst`) carrying one of `codes` or the close (pass), or a
 * timeout (fail). Like h2spec, a frame with another code does not decide: the case still passes if
 * the connection then closes, but the verdict carries a `warning` naming the wrong code.
 */
async function errorOrClose(c: H2Client, codes: number[], rst: boolean, expected: string): Promise<Verdict> {
  let last = 'nothing';
  let wrong: string | undefined;
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind === 'closed') {
      const v = ok(expected, wrong ? `${wrong}, then connection closed` : 'connection closed');
      if (wrong) v.warning = `wrong error code: ${wrong}`;
      return v;
    }
    if (ev.kind === 'timeout') return fail(expected, `${describe(ev)}; last event: ${wrong ?? last}`);
    const t = ev.frame.type;
    if (t === FrameType.GOAWAY || (rst && t === FrameType.RST_STREAM)) {
      if (codes.includes(frameErrorCode(ev.frame))) return ok(expected, describe(ev));
      wrong ??= describe(ev);
    }
    last = describe(ev);
  }
  return fail(expected, 'too many events');
}

/** A connection error: GOAWAY with one of `codes`, or the connection closed. */
function connectionError(c: H2Client, ...codes: number[]): Promise<Verdict> {
  return errorOrClose(c, codes, false, `GOAWAY (${codesText(codes)}) or connection closed`);
}

/** A stream error: RST_STREAM or GOAWAY with one of `codes`, or the connection closed. */
function streamError(c: H2Client, ...codes: number[]): Promise<Verdict> {
  return errorOrClose(c, codes, true, `RST_STREAM or GOAWAY (${codesText(codes)}) or connection closed`);
}

/** The connection closes (frames before the close, a GOAWAY included, are fine). */
async function connectionClose(c: H2Client): Promise<Verdict> {
  const expected = 'connection closed';
  let last = 'nothing';
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind === 'closed') return ok(expected, last === 'nothing' ? 'closed' : `${last}, then closed`);
    if (ev.kind === 'timeout') return fail(expected, `${describe(ev)}; last event: ${last}`);
    last = describe(ev);
  }
  return fail(expected, 'too many events');
}

/**
 * Waits for the first frame of `type` (other frames are skipped) and judges it with `check`
 * (no check: any such frame passes).
 */
async function frameOfType(
  c: H2Client,
  type: number,
  expected: string,
  check?: (f: Frame) => boolean,
): Promise<Verdict> {
  let last = 'nothing';
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind !== 'frame') return fail(expected, `${describe(ev)}; last event: ${last}`);
    if (ev.frame.type === type) {
      return !check || check(ev.frame) ? ok(expected, describe(ev)) : fail(expected, describe(ev));
    }
    last = describe(ev);
  }
  return fail(expected, 'too many events');
}

/** A response HEADERS frame on `streamId`. */
function responseHeaders(c: H2Client, streamId = 1): Promise<Verdict> {
  return frameOfType(
    c,
    FrameType.HEADERS,
    `HEADERS frame on stream ${streamId}`,
    (f) => f.streamId === streamId,
  );
}

/** A DATA frame of exactly `length` octets. */
function dataOfLength(c: H2Client, length: number): Promise<Verdict> {
  return frameOfType(
    c,
    FrameType.DATA,
    `DATA frame with length ${length}`,
    (f) => f.payload.length === length,
  );
}

/** A PING frame with ACK and `data` as its payload. */
async function pingAck(c: H2Client, data: Buffer, orClose = false): Promise<Verdict> {
  const expected = `PING frame with ACK and the same payload${orClose ? ', or connection closed' : ''}`;
  let last = 'nothing';
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind === 'closed' && orClose) return ok(expected, 'connection closed');
    if (ev.kind !== 'frame') return fail(expected, `${describe(ev)}; last event: ${last}`);
    if (ev.frame.type === FrameType.PING) {
      const good = (ev.frame.flags & Flag.ACK) !== 0 && ev.frame.payload.equals(data);
      return good ? ok(expected, describe(ev)) : fail(expected, describe(ev));
    }
    last = describe(ev);
  }
  return fail(expected, 'too many events');
}

/** The end of the response on a stream: DATA or HEADERS with END_STREAM. */
async function streamEnd(c: H2Client): Promise<string | null> {
  let last = 'nothing';
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind !== 'frame') return `${describe(ev)} before the response ended; last event: ${last}`;
    const t = ev.frame.type;
    if ((t === FrameType.DATA || t === FrameType.HEADERS) && ev.frame.flags & Flag.END_STREAM) return null;
    last = describe(ev);
  }
  return 'too many events';
}

/** Waits for the next SETTINGS frame (normally the ACK of the one just sent). */
async function settingsFrame(c: H2Client): Promise<string | null> {
  const v = await frameOfType(c, FrameType.SETTINGS, 'SETTINGS frame');
  return v.pass ? null : v.observed;
}

// ---------------------------------------------------------------------------------------------
// Building blocks for requests.

const PING_DATA = Buffer.from('h2spec\0\0', 'latin1');
const ZERO_PING = Buffer.alloc(8);

/** `n` headers `x-dummy<i>` with a 4000-octet value, as h2spec's default dummies. */
function dummyHeaders(n: number): Field[] {
  const value = 'x'.repeat(4000);
  const out: Field[] = [];
  for (let i = 0; i < n; i++) out.push([`x-dummy${i}`, value]);
  return out;
}

/** The common request with `:method` replaced. */
function request(c: H2Client, method = 'GET', extra: Field[] = []): Buffer {
  return c.encode([...c.commonHeaders(method), ...extra]);
}

/** An unknown frame type (0x16 is not assigned) with an 8-octet payload on stream 0. */
function unknownFrame(c: H2Client): void {
  c.writeFrame(0x16, 0, 0, Buffer.alloc(8));
}

type Body = (c: H2Client) => Promise<Verdict>;

interface Spec {
  title: string;
  strict?: boolean;
  note?: string;
  /** Skip the handshake (cases about the preface itself). */
  raw?: boolean;
  run: Body;
}

const cases: Case[] = [];

/** Adds the cases of one section, numbered from 1 in order. */
function section(group: string, num: string, name: string, specs: Spec[]): void {
  specs.forEach((s, i) => {
    const run: Body = s.raw
      ? s.run
      : async (c) => {
          const err = await c.handshake();
          if (err) return fail('connection preface exchange', err);
          return s.run(c);
        };
    const entry: Case = { id: `${group}/${num}/${i + 1}`, section: name, title: s.title, run };
    if (s.strict) entry.strict = true;
    if (s.note) entry.note = s.note;
    cases.push(entry);
  });
}

/** Writes the common GET request on stream 1 (END_STREAM, END_HEADERS). */
function get1(c: H2Client): void {
  c.writeHeaders(1, request(c), { endStream: true });
}

/** Writes a POST head on stream 1 without END_STREAM. */
function post1(c: H2Client, extra: Field[] = []): void {
  c.writeHeaders(1, request(c, 'POST', extra), { endStream: false });
}

/** Sends the preface and our SETTINGS without waiting for anything. */
function sendPreface(c: H2Client): void {
  c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
  c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 65535]);
}

/** A header block made of the common request plus one extra representation, appended or prepended. */
function withRep(c: H2Client, rep: Buffer, before = false): Buffer {
  const base = request(c);
  return before ? Buffer.concat([rep, base]) : Buffer.concat([base, rep]);
}

/** A raw string literal (7-bit length prefix, no Huffman). */
function rawString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(encodeInteger(bytes.length, 7, 0x00)), bytes]);
}

/** A Huffman string literal. */
function huffString(s: string): Buffer {
  const bytes = huffmanEncode(s);
  return Buffer.concat([Buffer.from(encodeInteger(bytes.length, 7, 0x80)), bytes]);
}

/** A Huffman string literal from given octets (possibly invalid). */
function huffBytes(bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from(encodeInteger(bytes.length, 7, 0x80)), Buffer.from(bytes)]);
}

/** Static table index of `user-agent` (RFC 7541 Appendix A). */
const USER_AGENT = 58;

/** A literal representation: `kind` picks the first-octet pattern, name by index or new. */
function literalRep(kind: 'incremental' | 'without' | 'never', name: number | string, value: Buffer): Buffer {
  const prefix = kind === 'incremental' ? 6 : 4;
  const flags = kind === 'incremental' ? 0x40 : kind === 'never' ? 0x10 : 0x00;
  const head =
    typeof name === 'number'
      ? Buffer.from(encodeInteger(name, prefix, flags))
      : Buffer.concat([Buffer.from([flags]), rawString(name)]);
  return Buffer.concat([head, value]);
}

function literalHuffName(kind: 'incremental' | 'without' | 'never', name: string, value: Buffer): Buffer {
  const flags = kind === 'incremental' ? 0x40 : kind === 'never' ? 0x10 : 0x00;
  return Buffer.concat([Buffer.from([flags]), huffString(name), value]);
}

/** A case that sends one header block and expects a response HEADERS frame on stream 1. */
function acceptsBlock(title: string, block: (c: H2Client) => Buffer): Spec {
  return {
    title,
    run: async (c) => {
      c.writeHeaders(1, block(c), { endStream: true });
      return responseHeaders(c);
    },
  };
}

/** A case that sends one header block and expects a connection error COMPRESSION_ERROR. */
function compressionError(title: string, block: (c: H2Client) => Buffer): Spec {
  return {
    title,
    run: async (c) => {
      c.writeHeaders(1, block(c), { endStream: true });
      return connectionError(c, ErrorCode.COMPRESSION_ERROR);
    },
  };
}

/** A GET on stream 1 with `fields` instead of the common ones; expects a stream error PROTOCOL_ERROR. */
function malformed(title: string, fields: (c: H2Client) => Field[]): Spec {
  return {
    title,
    run: async (c) => {
      c.writeHeaders(1, c.encode(fields(c)), { endStream: true });
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// generic: the server accepts well-formed uses of each frame type and HPACK representation.

section('generic', '1', 'Starting HTTP/2', [
  {
    title: 'Sends a client connection preface',
    raw: true,
    run: async (c) => {
      sendPreface(c);
      const ev = await c.next();
      const expected = 'SETTINGS frame without ACK as the first frame';
      const good =
        ev.kind === 'frame' && ev.frame.type === FrameType.SETTINGS && !(ev.frame.flags & Flag.ACK);
      return good ? ok(expected, describe(ev)) : fail(expected, describe(ev));
    },
  },
]);

section('generic', '2', 'Streams and Multiplexing', [
  {
    title: 'Sends a PRIORITY frame on idle stream',
    run: async (c) => {
      c.writePriority(1, 0, false, 255);
      c.writePing(false, ZERO_PING);
      return pingAck(c, ZERO_PING);
    },
  },
  {
    title: 'Sends a WINDOW_UPDATE frame on half-closed (remote) stream',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 0]);
      get1(c);
      c.writeWindowUpdate(1, 1);
      return frameOfType(c, FrameType.DATA, 'DATA frame');
    },
  },
  {
    title: 'Sends a PRIORITY frame on half-closed (remote) stream',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 0]);
      get1(c);
      c.writePriority(1, 0, false, 255);
      c.writeWindowUpdate(1, 1);
      return frameOfType(c, FrameType.DATA, 'DATA frame');
    },
  },
  {
    title: 'Sends a RST_STREAM frame on half-closed (remote) stream',
    run: async (c) => {
      get1(c);
      c.writeRstStream(1, ErrorCode.CANCEL);
      c.writePing(false, ZERO_PING);
      return pingAck(c, ZERO_PING, true);
    },
  },
  {
    title: 'Sends a PRIORITY frame on closed stream',
    run: async (c) => {
      get1(c);
      const err = await streamEnd(c);
      if (err) return fail('the response to end the stream', err);
      c.writePriority(1, 0, false, 255);
      c.writePing(false, ZERO_PING);
      return pingAck(c, ZERO_PING);
    },
  },
]);

section('generic', '3.1', 'DATA', [
  {
    title: 'Sends a DATA frame',
    run: async (c) => {
      post1(c);
      c.writeData(1, true, 'test');
      return responseHeaders(c);
    },
  },
  {
    title: 'Sends multiple DATA frames',
    run: async (c) => {
      post1(c);
      c.writeData(1, false, 'test');
      c.writeData(1, true, 'test');
      return responseHeaders(c);
    },
  },
  {
    title: 'Sends a DATA frame with padding',
    run: async (c) => {
      post1(c);
      c.writeData(1, true, 'test', Buffer.alloc(6));
      return responseHeaders(c);
    },
  },
]);

section('generic', '3.2', 'HEADERS', [
  acceptsBlock('Sends a HEADERS frame', (c) => request(c)),
  {
    title: 'Sends a HEADERS frame with padding',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: true, padLength: 8 });
      return responseHeaders(c);
    },
  },
  {
    title: 'Sends a HEADERS frame with priority',
    run: async (c) => {
      c.writeHeaders(1, request(c), {
        endStream: true,
        priority: { dependsOn: 0, exclusive: false, weight: 255 },
      });
      return responseHeaders(c);
    },
  },
]);

/** PRIORITY on `prioStream` with the given fields, then a GET on stream 1. */
function priorityThenGet(
  title: string,
  prioStream: number,
  dep: number,
  exclusive: boolean,
  weight: number,
): Spec {
  return {
    title,
    run: async (c) => {
      c.writePriority(prioStream, dep, exclusive, weight);
      get1(c);
      return responseHeaders(c);
    },
  };
}

section('generic', '3.3', 'PRIORITY', [
  priorityThenGet('Sends a PRIORITY frame with priority 1', 1, 0, false, 0),
  priorityThenGet('Sends a PRIORITY frame with priority 256', 1, 0, false, 255),
  priorityThenGet('Sends a PRIORITY frame with stream dependency', 3, 1, false, 0),
  priorityThenGet('Sends a PRIORITY frame with exclusive', 1, 0, true, 0),
  priorityThenGet(
    'Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID',
    3,
    0,
    false,
    255,
  ),
]);

section('generic', '3.4', 'RST_STREAM', [
  {
    title: 'Sends a RST_STREAM frame',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeRstStream(1, ErrorCode.CANCEL);
      c.writePing(false, ZERO_PING);
      return pingAck(c, ZERO_PING, true);
    },
  },
]);

section('generic', '3.5', 'SETTINGS', [
  {
    title: 'Sends a SETTINGS frame',
    run: async (c) => {
      c.writeSettings(
        [Setting.HEADER_TABLE_SIZE, 4096],
        [Setting.ENABLE_PUSH, 1],
        [Setting.MAX_CONCURRENT_STREAMS, 100],
        [Setting.INITIAL_WINDOW_SIZE, 65535],
        [Setting.MAX_FRAME_SIZE, 16384],
        [Setting.MAX_HEADER_LIST_SIZE, 100],
      );
      return frameOfType(c, FrameType.SETTINGS, 'SETTINGS frame with ACK', (f) => (f.flags & Flag.ACK) !== 0);
    },
  },
]);

section('generic', '3.7', 'PING', [
  {
    title: 'Sends a PING frame',
    run: async (c) => {
      c.writePing(false, PING_DATA);
      return pingAck(c, PING_DATA);
    },
  },
]);

section('generic', '3.8', 'GOAWAY', [
  {
    title: 'Sends a GOAWAY frame',
    note:
      'h2spec requires the server to close the connection. RFC 9113 section 6.8 does not: a GOAWAY from the ' +
      'client only stops new server-initiated streams. We send a PING after the GOAWAY and accept either its ACK ' +
      'or the close.',
    run: async (c) => {
      c.writeGoaway(0, ErrorCode.NO_ERROR, 'h2spec');
      c.writePing(false, PING_DATA);
      return pingAck(c, PING_DATA, true);
    },
  },
]);

section('generic', '3.9', 'WINDOW_UPDATE', [
  {
    title: 'Sends a WINDOW_UPDATE frame with stream ID 0',
    run: async (c) => {
      c.writeWindowUpdate(0, 1);
      c.writePing(false, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
  {
    title: 'Sends a WINDOW_UPDATE frame with stream ID 1',
    run: async (c) => {
      get1(c);
      c.writeWindowUpdate(1, 1);
      return responseHeaders(c);
    },
  },
]);

section('generic', '3.10', 'CONTINUATION', [
  {
    title: 'Sends a CONTINUATION frame',
    run: async (c) => {
      const block = request(c);
      c.writeHeaders(1, block.subarray(0, 5), { endStream: true, endHeaders: false });
      c.writeContinuation(1, true, block.subarray(5));
      return responseHeaders(c);
    },
  },
  {
    title: 'Sends multiple CONTINUATION frames',
    run: async (c) => {
      const block = request(c);
      c.writeHeaders(1, block.subarray(0, 5), { endStream: true, endHeaders: false });
      c.writeContinuation(1, false, block.subarray(5, 10));
      c.writeContinuation(1, true, block.subarray(10));
      return responseHeaders(c);
    },
  },
]);

section('generic', '4', 'HTTP Message Exchanges', [
  acceptsBlock('Sends a GET request', (c) => request(c)),
  acceptsBlock('Sends a HEAD request', (c) => request(c, 'HEAD')),
  {
    title: 'Sends a POST request',
    run: async (c) => {
      post1(c);
      c.writeData(1, true, 'test');
      return responseHeaders(c);
    },
  },
  {
    title: 'Sends a POST request with trailers',
    run: async (c) => {
      post1(c, [['trailer', 'x-test']]);
      c.writeData(1, false, 'test');
      c.writeHeaders(1, c.encode([['x-test', 'ok']]), { endStream: true });
      return responseHeaders(c);
    },
  },
]);

const H2SPEC = 'h2spec';
section('generic', '5', 'HPACK', [
  acceptsBlock('Sends a indexed header field representation', (c) => withRep(c, indexed(USER_AGENT))),
  acceptsBlock('Sends a literal header field with incremental indexing - indexed name', (c) =>
    withRep(c, literalRep('incremental', USER_AGENT, rawString(H2SPEC))),
  ),
  acceptsBlock(
    'Sends a literal header field with incremental indexing - indexed name (with Huffman coding)',
    (c) => withRep(c, literalRep('incremental', USER_AGENT, huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field with incremental indexing - new name', (c) =>
    withRep(c, literalRep('incremental', 'x-test', rawString(H2SPEC))),
  ),
  acceptsBlock(
    'Sends a literal header field with incremental indexing - new name (with Huffman coding)',
    (c) => withRep(c, literalHuffName('incremental', 'x-test', huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field without indexing - indexed name', (c) =>
    withRep(c, literalRep('without', USER_AGENT, rawString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field without indexing - indexed name (with Huffman coding)', (c) =>
    withRep(c, literalRep('without', USER_AGENT, huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field without indexing - new name', (c) =>
    withRep(c, literalRep('without', 'x-test', rawString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field without indexing - new name (huffman encoded)', (c) =>
    withRep(c, literalHuffName('without', 'x-test', huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field never indexed - indexed name', (c) =>
    withRep(c, literalRep('never', USER_AGENT, rawString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field never indexed - indexed name (huffman encoded)', (c) =>
    withRep(c, literalRep('never', USER_AGENT, huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field never indexed - new name', (c) =>
    withRep(c, literalRep('never', 'x-test', rawString(H2SPEC))),
  ),
  acceptsBlock('Sends a literal header field never indexed - new name (huffman encoded)', (c) =>
    withRep(c, literalHuffName('never', 'x-test', huffString(H2SPEC))),
  ),
  acceptsBlock('Sends a dynamic table size update', (c) =>
    withRep(c, Buffer.from(encodeInteger(0, 5, 0x20)), true),
  ),
  acceptsBlock('Sends multiple dynamic table size update', (c) =>
    withRep(c, Buffer.from([...encodeInteger(0, 5, 0x20), ...encodeInteger(4096, 5, 0x20)]), true),
  ),
]);

// ---------------------------------------------------------------------------------------------
// http2: RFC 9113 (section numbers as in RFC 7540, like h2spec).

section('http2', '3.5', 'HTTP/2 Connection Preface', [
  {
    title: 'Sends client connection preface',
    raw: true,
    run: async (c) => {
      sendPreface(c);
      return frameOfType(c, FrameType.SETTINGS, 'SETTINGS frame without ACK', (f) => !(f.flags & Flag.ACK));
    },
  },
  {
    title: 'Sends invalid connection preface',
    raw: true,
    run: async (c) => {
      c.send(Buffer.from('INVALID CONNECTION PREFACE\r\n\r\n', 'latin1'));
      return connectionClose(c);
    },
  },
]);

section('http2', '4.1', 'Frame Format', [
  {
    title: 'Sends a frame with unknown type',
    run: async (c) => {
      unknownFrame(c);
      c.writePing(false, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
  {
    title: 'Sends a frame with undefined flag',
    run: async (c) => {
      c.writeFrame(FrameType.PING, 0x16, 0, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
  {
    title: 'Sends a frame with reserved field bit',
    run: async (c) => {
      c.writeFrame(FrameType.PING, 0, 0x80000000, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
]);

/** Above this advertised SETTINGS_MAX_FRAME_SIZE the oversize-frame cases are skipped. */
const MAX_FRAME_PROBE = 65536;

/** A skip verdict when the server's frame limit is too large to exceed sensibly (2^24-1 cannot be exceeded at all). */
function tooBigFrame(c: H2Client, expected: string): Verdict | null {
  const max = c.maxFrameSize();
  if (max <= MAX_FRAME_PROBE) return null;
  return { pass: true, skipped: true, expected, observed: `skipped: SETTINGS_MAX_FRAME_SIZE is ${max}` };
}

section('http2', '4.2', 'Frame Size', [
  {
    title: 'Sends a DATA frame with 2^14 octets in length',
    note: 'The DATA payload is capped at the server-advertised initial window when that is smaller, so the case never breaks flow control.',
    run: async (c) => {
      post1(c);
      const window = c.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? 65535;
      c.writeData(1, true, Buffer.alloc(Math.min(c.maxFrameSize(), window), 0x78));
      return frameOfType(c, FrameType.HEADERS, 'HEADERS frame');
    },
  },
  {
    title: 'Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE',
    run: async (c) => {
      const tooBig = tooBigFrame(c, 'RST_STREAM or GOAWAY (FRAME_SIZE_ERROR) or connection closed');
      if (tooBig) return tooBig;
      post1(c);
      c.writeData(1, true, Buffer.alloc(c.maxFrameSize() + 1, 0x78));
      return streamError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
  {
    title: 'Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE',
    run: async (c) => {
      const tooBig = tooBigFrame(c, 'GOAWAY (FRAME_SIZE_ERROR) or connection closed');
      if (tooBig) return tooBig;
      const n = Math.ceil((c.maxFrameSize() + 1) / 4000) + 1;
      c.writeHeaders(1, request(c, 'GET', dummyHeaders(n)), { endStream: true });
      return connectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
]);

section('http2', '4.3', 'Header Compression and Decompression', [
  {
    title: 'Sends invalid header block fragment',
    run: async (c) => {
      // A literal with incremental indexing and a new name, cut off before the name's length.
      c.writeHeaders(1, Buffer.from([0x40]), { endStream: true });
      return connectionError(c, ErrorCode.COMPRESSION_ERROR);
    },
  },
  {
    title: 'Sends a PRIORITY frame while sending the header blocks',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false, endHeaders: false });
      c.writePriority(1, 0, false, 255);
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a HEADERS frame to another stream while sending the header blocks',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false, endHeaders: false });
      c.writeHeaders(3, request(c), { endStream: true });
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

const CLOSED_NOTE =
  'RFC 9113 section 5.1 relaxed this: a frame other than PRIORITY on a closed stream MAY be treated as a ' +
  'connection error STREAM_CLOSED, and the same section forbids sending anything but PRIORITY on a closed ' +
  'stream, so ignoring the frame is conformant too. h2spec (RFC 7540) requires the error. The case passes on ' +
  'an error STREAM_CLOSED, the close, or the frame being ignored (a PING sent after it is answered).';

/** How `closedStreamFrame` judges what follows the frame. */
interface ClosedOptions {
  /** The response on stream 1 already ended before the frame was sent. */
  ended: boolean;
  /** A HEADERS frame on stream 1 after the response ended fails (a request served on a closed stream). */
  noResponse: boolean;
  /** Ignoring the frame passes only once the response has ended (the stream was closed, not half-closed). */
  needEnd: boolean;
}

/**
 * After a frame sent on a stream that is (or may by then be) closed, RFC 9113 section 5.1: an
 * error STREAM_CLOSED (RST_STREAM or GOAWAY), the close, or nothing at all, shown by the PING sent
 * after it being answered. With `needEnd`, the stream is only half-closed (remote) unless the
 * server ended its response first, so the silent answer passes only after that end.
 */
async function closedStreamFrame(c: H2Client, opts: ClosedOptions): Promise<Verdict> {
  c.writePing(false, PING_DATA);
  const expected = opts.needEnd
    ? 'RST_STREAM or GOAWAY (STREAM_CLOSED) or connection closed; or, once the response has closed the stream, the frame ignored (PING answered)'
    : 'RST_STREAM or GOAWAY (STREAM_CLOSED), connection closed, or the frame ignored (PING answered)';
  let ended = opts.ended;
  let wrong: string | undefined;
  for (let i = 0; i < MAX_EVENTS; i++) {
    const ev = await c.next();
    if (ev.kind === 'closed') return ok(expected, 'connection closed');
    if (ev.kind === 'timeout') return fail(expected, `${describe(ev)}${wrong ? `; ${wrong}` : ''}`);
    const f = ev.frame;
    if (f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM) {
      if (frameErrorCode(f) === ErrorCode.STREAM_CLOSED) return ok(expected, describe(ev));
      wrong ??= describe(ev);
    } else if (f.streamId === 1 && (f.type === FrameType.HEADERS || f.type === FrameType.DATA)) {
      if (ended && opts.noResponse && f.type === FrameType.HEADERS) {
        return fail(expected, `a response on the closed stream: ${describe(ev)}`);
      }
      if (f.flags & Flag.END_STREAM) ended = true;
    } else if (f.type === FrameType.PING && f.flags & Flag.ACK && f.payload.equals(PING_DATA)) {
      if (opts.needEnd && !ended)
        return fail(expected, 'frame ignored while the stream was half-closed (remote)');
      const v = ok(expected, `frame ignored, PING answered${wrong ? ` (after ${wrong})` : ''}`);
      if (wrong) v.warning = `unexpected error code: ${wrong}`;
      return v;
    }
  }
  return fail(expected, 'too many events');
}

const AFTER_RST: ClosedOptions = { ended: false, noResponse: false, needEnd: false };
const AFTER_END: ClosedOptions = { ended: true, noResponse: true, needEnd: false };
const HALF_CLOSED: ClosedOptions = { ended: false, noResponse: true, needEnd: true };

const HALF_CLOSED_NOTE =
  'h2spec requires the error STREAM_CLOSED. A server that has already sent its whole response when it ' +
  'reads the frame holds a closed stream, where RFC 9113 section 5.1 allows ignoring it; so ignoring passes ' +
  'when the end of the response came first on the wire.';

/** A GET on stream 1 with END_STREAM, then the response read to its end. */
async function closedStream1(c: H2Client): Promise<string | null> {
  get1(c);
  return streamEnd(c);
}

section('http2', '5.1', 'Stream States', [
  {
    title: 'idle: Sends a DATA frame',
    run: async (c) => {
      c.writeData(1, true, 'test');
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'idle: Sends a RST_STREAM frame',
    run: async (c) => {
      c.writeRstStream(1, ErrorCode.CANCEL);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'idle: Sends a WINDOW_UPDATE frame',
    run: async (c) => {
      c.writeWindowUpdate(1, 100);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'idle: Sends a CONTINUATION frame',
    run: async (c) => {
      c.writeContinuation(1, true, request(c));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'half closed (remote): Sends a DATA frame',
    note: HALF_CLOSED_NOTE,
    run: async (c) => {
      get1(c);
      c.writeData(1, true, 'test');
      return closedStreamFrame(c, HALF_CLOSED);
    },
  },
  {
    title: 'half closed (remote): Sends a HEADERS frame',
    note: HALF_CLOSED_NOTE,
    run: async (c) => {
      get1(c);
      get1(c);
      return closedStreamFrame(c, HALF_CLOSED);
    },
  },
  {
    title: 'half closed (remote): Sends a CONTINUATION frame',
    run: async (c) => {
      get1(c);
      c.writeContinuation(1, true, request(c));
      return streamError(c, ErrorCode.STREAM_CLOSED, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'closed: Sends a DATA frame after sending RST_STREAM frame',
    note: CLOSED_NOTE,
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeRstStream(1, ErrorCode.CANCEL);
      c.writeData(1, true, 'test');
      return closedStreamFrame(c, AFTER_RST);
    },
  },
  {
    title: 'closed: Sends a HEADERS frame after sending RST_STREAM frame',
    note: CLOSED_NOTE,
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeRstStream(1, ErrorCode.CANCEL);
      get1(c);
      return closedStreamFrame(c, AFTER_RST);
    },
  },
  {
    title: 'closed: Sends a CONTINUATION frame after sending RST_STREAM frame',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeRstStream(1, ErrorCode.CANCEL);
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return streamError(c, ErrorCode.STREAM_CLOSED, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'closed: Sends a DATA frame',
    note: CLOSED_NOTE,
    run: async (c) => {
      const err = await closedStream1(c);
      if (err) return fail('the response to end the stream', err);
      c.writeData(1, true, 'test');
      return closedStreamFrame(c, AFTER_END);
    },
  },
  {
    title: 'closed: Sends a HEADERS frame',
    note: CLOSED_NOTE,
    run: async (c) => {
      const err = await closedStream1(c);
      if (err) return fail('the response to end the stream', err);
      get1(c);
      return closedStreamFrame(c, AFTER_END);
    },
  },
  {
    title: 'closed: Sends a CONTINUATION frame',
    run: async (c) => {
      const err = await closedStream1(c);
      if (err) return fail('the response to end the stream', err);
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.STREAM_CLOSED, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '5.1.1', 'Stream Identifiers', [
  {
    title: 'Sends even-numbered stream identifier',
    run: async (c) => {
      c.writeHeaders(2, request(c), { endStream: true });
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends stream identifier that is numerically smaller than previous',
    run: async (c) => {
      c.writeHeaders(5, request(c), { endStream: true });
      c.writeHeaders(3, request(c), { endStream: true });
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

/** Above this advertised limit the concurrency case is skipped (its loop stays bounded). */
const MAX_CONCURRENCY_PROBE = 1000;

section('http2', '5.1.2', 'Stream Concurrency', [
  {
    title: 'Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded',
    run: async (c) => {
      const max = c.serverSettings.get(Setting.MAX_CONCURRENT_STREAMS);
      const expected = 'RST_STREAM or GOAWAY (PROTOCOL_ERROR or REFUSED_STREAM)';
      if (max === undefined || max > MAX_CONCURRENCY_PROBE) {
        return {
          pass: true,
          skipped: true,
          expected,
          observed: `skipped: SETTINGS_MAX_CONCURRENT_STREAMS is ${max ?? 'not advertised (unlimited)'}`,
        };
      }
      // A zero window keeps every response open, so the streams stay concurrent.
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 0]);
      const block = request(c);
      for (let i = 0, id = 1; i <= max; i++, id += 2) c.writeHeaders(id, block, { endStream: true });
      return streamError(c, ErrorCode.PROTOCOL_ERROR, ErrorCode.REFUSED_STREAM);
    },
  },
]);

const PRIORITY_NOTE =
  'Kept as h2spec has it, from RFC 7540 section 5.3.1. RFC 9113 section 5.3 deprecates that priority ' +
  'scheme, so a server that ignores the dependency field entirely has a reading of RFC 9113 on its side.';

section('http2', '5.3.1', 'Stream Dependencies', [
  {
    title: 'Sends HEADERS frame that depends on itself',
    note: PRIORITY_NOTE,
    run: async (c) => {
      c.writeHeaders(1, request(c), {
        endStream: true,
        priority: { dependsOn: 1, exclusive: false, weight: 255 },
      });
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends PRIORITY frame that depend on itself',
    note: PRIORITY_NOTE,
    run: async (c) => {
      c.writePriority(1, 1, false, 255);
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

/** A PING on stream 3, which must be on stream 0 (RFC 9113 section 6.7). */
function invalidPing(c: H2Client): void {
  c.writeFrame(FrameType.PING, 0, 3, ZERO_PING);
}

section('http2', '5.4.1', 'Connection Error Handling', [
  {
    title: 'Sends an invalid PING frame for connection close',
    run: async (c) => {
      invalidPing(c);
      return connectionClose(c);
    },
  },
  {
    title: 'Sends an invalid PING frame to receive GOAWAY frame',
    strict: true,
    run: async (c) => {
      invalidPing(c);
      const expected = 'GOAWAY frame before the connection closes';
      let last = 'nothing';
      for (let i = 0; i < MAX_EVENTS; i++) {
        const ev: Event = await c.next();
        if (ev.kind !== 'frame') return fail(expected, `${describe(ev)}; last event: ${last}`);
        if (ev.frame.type === FrameType.GOAWAY) return ok(expected, describe(ev));
        last = describe(ev);
      }
      return fail(expected, 'too many events');
    },
  },
]);

section('http2', '5.5', 'Extending HTTP/2', [
  {
    title: 'Sends an unknown extension frame',
    run: async (c) => {
      unknownFrame(c);
      c.writePing(false, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
  {
    title: 'Sends an unknown extension frame in the middle of a header block',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: true, endHeaders: false });
      unknownFrame(c);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '6.1', 'DATA', [
  {
    title: 'Sends a DATA frame with 0x0 stream identifier',
    run: async (c) => {
      c.writeData(0, true, 'test');
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a DATA frame on the stream that is not in "open" or "half-closed (local)" state',
    note: HALF_CLOSED_NOTE,
    run: async (c) => {
      c.writeHeaders(1, request(c, 'POST'), { endStream: true });
      c.writeData(1, true, 'test');
      return closedStreamFrame(c, HALF_CLOSED);
    },
  },
  {
    title: 'Sends a DATA frame with invalid pad length',
    run: async (c) => {
      post1(c, [['content-length', '4']]);
      // Payload of 5 octets whose pad length (6) is longer than the rest of the payload.
      c.writeFrame(
        FrameType.DATA,
        Flag.PADDED | Flag.END_STREAM,
        1,
        Buffer.from([6, 0x54, 0x65, 0x73, 0x74]),
      );
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '6.2', 'HEADERS', [
  {
    title: 'Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false, endHeaders: false });
      c.writePriority(1, 0, false, 255);
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a HEADERS frame to another stream while sending a HEADERS frame',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false, endHeaders: false });
      c.writeHeaders(3, request(c), { endStream: true });
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a HEADERS frame with 0x0 stream identifier',
    run: async (c) => {
      c.writeHeaders(0, request(c), { endStream: true });
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a HEADERS frame with invalid pad length',
    run: async (c) => {
      const block = request(c);
      // PADDED HEADERS whose pad length is one more than what follows it.
      const payload = Buffer.concat([Buffer.from([block.length + 2]), block]);
      c.writeFrame(FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED, 1, payload);
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '6.3', 'PRIORITY', [
  {
    title: 'Sends a PRIORITY frame with 0x0 stream identifier',
    run: async (c) => {
      c.writePriority(0, 0, false, 255);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a PRIORITY frame with a length other than 5 octets',
    run: async (c) => {
      get1(c);
      c.writeFrame(FrameType.PRIORITY, 0, 1, Buffer.from([0x80, 0, 0, 1]));
      return streamError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
  {
    ...priorityThenGet(
      'Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID',
      3,
      0,
      false,
      255,
    ),
    strict: true,
  },
]);

section('http2', '6.4', 'RST_STREAM', [
  {
    title: 'Sends a RST_STREAM frame with 0x0 stream identifier',
    run: async (c) => {
      c.writeRstStream(0, ErrorCode.CANCEL);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a RST_STREAM frame on a idle stream',
    run: async (c) => {
      c.writeRstStream(1, ErrorCode.CANCEL);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a RST_STREAM frame with a length other than 4 octets',
    run: async (c) => {
      get1(c);
      c.writeFrame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0]));
      return streamError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
]);

section('http2', '6.5', 'SETTINGS', [
  {
    title: 'Sends a SETTINGS frame with ACK flag and payload',
    run: async (c) => {
      c.writeFrame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.from([0]));
      return connectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
  {
    title: 'Sends a SETTINGS frame with 0x1 stream identifier',
    run: async (c) => {
      c.writeFrame(FrameType.SETTINGS, 0, 1, Buffer.from([0, 3, 0, 0, 0, 0x64]));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a SETTINGS frame with a length other than a multiple of 6 octets',
    note: 'RFC 9113 section 6.5 names FRAME_SIZE_ERROR; PROTOCOL_ERROR is also accepted, as h2spec does.',
    run: async (c) => {
      c.writeFrame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 0x64, 0, 2]));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
]);

/** Sends one SETTINGS value and expects a connection error. */
function badSetting(title: string, id: number, value: number, code: number): Spec {
  return {
    title,
    run: async (c) => {
      c.writeSettings([id, value]);
      return connectionError(c, code);
    },
  };
}

section('http2', '6.5.2', 'Defined SETTINGS Parameters', [
  badSetting(
    'SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1',
    Setting.ENABLE_PUSH,
    2,
    ErrorCode.PROTOCOL_ERROR,
  ),
  badSetting(
    'SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size',
    Setting.INITIAL_WINDOW_SIZE,
    2 ** 31,
    ErrorCode.FLOW_CONTROL_ERROR,
  ),
  badSetting(
    'SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value',
    Setting.MAX_FRAME_SIZE,
    16383,
    ErrorCode.PROTOCOL_ERROR,
  ),
  badSetting(
    'SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size',
    Setting.MAX_FRAME_SIZE,
    2 ** 24,
    ErrorCode.PROTOCOL_ERROR,
  ),
  {
    title: 'Sends a SETTINGS frame with unknown identifier',
    run: async (c) => {
      c.writeSettings([0xff, 1]);
      c.writePing(false, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
]);

section('http2', '6.5.3', 'Settings Synchronization', [
  {
    title: 'Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 100], [Setting.INITIAL_WINDOW_SIZE, 1]);
      const err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      get1(c);
      return dataOfLength(c, 1);
    },
  },
  {
    title: 'Sends a SETTINGS frame without ACK flag',
    run: async (c) => {
      c.writeSettings([Setting.ENABLE_PUSH, 0]);
      return frameOfType(c, FrameType.SETTINGS, 'SETTINGS frame with ACK', (f) => (f.flags & Flag.ACK) !== 0);
    },
  },
]);

section('http2', '6.7', 'PING', [
  {
    title: 'Sends a PING frame',
    run: async (c) => {
      c.writePing(false, PING_DATA);
      return pingAck(c, PING_DATA);
    },
  },
  {
    title: 'Sends a PING frame with ACK',
    run: async (c) => {
      const unexpected = Buffer.from('invalid\0', 'latin1');
      c.writePing(true, unexpected);
      c.writePing(false, PING_DATA);
      // pingAck judges the first PING: an answer to our ACK (its payload) comes first and fails.
      return pingAck(c, PING_DATA);
    },
  },
  {
    title: 'Sends a PING frame with a stream identifier field value other than 0x0',
    run: async (c) => {
      c.writeFrame(FrameType.PING, 0, 1, ZERO_PING);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a PING frame with a length field value other than 8',
    note:
      'Sent on stream 0 and expecting FRAME_SIZE_ERROR (RFC 9113 section 6.7); some h2spec versions put it ' +
      'on stream 1 and expect PROTOCOL_ERROR, which mixes two faults in one frame.',
    run: async (c) => {
      c.writeFrame(FrameType.PING, 0, 0, Buffer.alloc(6));
      return connectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
]);

section('http2', '6.8', 'GOAWAY', [
  {
    title: 'Sends a GOAWAY frame with a stream identifier other than 0x0',
    run: async (c) => {
      c.writeFrame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

const MAX_WINDOW = 2 ** 31 - 1;

section('http2', '6.9', 'WINDOW_UPDATE', [
  {
    title: 'Sends a WINDOW_UPDATE frame with a flow control window increment of 0',
    run: async (c) => {
      c.writeWindowUpdate(0, 0);
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeWindowUpdate(1, 0);
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a WINDOW_UPDATE frame with a length other than 4 octets',
    run: async (c) => {
      c.writeFrame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 1]));
      return connectionError(c, ErrorCode.FRAME_SIZE_ERROR);
    },
  },
]);

section('http2', '6.9.1', 'The Flow-Control Window', [
  {
    title: 'Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 1]);
      const err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      get1(c);
      return dataOfLength(c, 1);
    },
  },
  {
    title: 'Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1',
    run: async (c) => {
      c.writeWindowUpdate(0, MAX_WINDOW);
      c.writeWindowUpdate(0, MAX_WINDOW);
      return frameOfType(
        c,
        FrameType.GOAWAY,
        'GOAWAY frame (FLOW_CONTROL_ERROR)',
        (f) => frameErrorCode(f) === ErrorCode.FLOW_CONTROL_ERROR,
      );
    },
  },
  {
    title:
      'Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: false });
      c.writeWindowUpdate(1, MAX_WINDOW);
      c.writeWindowUpdate(1, MAX_WINDOW);
      return frameOfType(
        c,
        FrameType.RST_STREAM,
        'RST_STREAM frame on stream 1 (FLOW_CONTROL_ERROR)',
        (f) => f.streamId === 1 && frameErrorCode(f) === ErrorCode.FLOW_CONTROL_ERROR,
      );
    },
  },
]);

section('http2', '6.9.2', 'Initial Flow-Control Window Size', [
  {
    title: 'Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 0]);
      let err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      get1(c);
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 1]);
      err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      return dataOfLength(c, 1);
    },
  },
  {
    title: 'Sends a SETTINGS frame for window size to be negative',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 3]);
      let err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      get1(c);
      const first = await frameOfType(c, FrameType.DATA, 'DATA frame');
      if (!first.pass) return first;
      // The window is now 0; the new initial size 2 makes it 2 - 3 = -1, and +2 brings it to 1.
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 2]);
      err = await settingsFrame(c);
      if (err) return fail('SETTINGS frame', err);
      c.writeWindowUpdate(1, 2);
      return dataOfLength(c, 1);
    },
  },
  {
    title: 'Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value',
    run: async (c) => {
      c.writeSettings([Setting.INITIAL_WINDOW_SIZE, 2 ** 31]);
      return connectionError(c, ErrorCode.FLOW_CONTROL_ERROR);
    },
  },
]);

section('http2', '6.10', 'CONTINUATION', [
  {
    title: 'Sends multiple CONTINUATION frames preceded by a HEADERS frame',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: true, endHeaders: false });
      c.writeContinuation(1, false, c.encode(dummyHeaders(1)));
      c.writeContinuation(1, true, c.encode([['x-dummy1', 'x'.repeat(4000)]]));
      return frameOfType(c, FrameType.HEADERS, 'HEADERS frame');
    },
  },
  {
    title: 'Sends a CONTINUATION frame followed by any frame other than CONTINUATION',
    run: async (c) => {
      c.writeHeaders(1, request(c, 'POST'), { endStream: false, endHeaders: false });
      c.writeContinuation(1, false, c.encode(dummyHeaders(1)));
      c.writeData(1, true, 'test');
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a CONTINUATION frame with 0x0 stream identifier',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: true, endHeaders: false });
      c.writeContinuation(0, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag',
    run: async (c) => {
      get1(c);
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag',
    run: async (c) => {
      c.writeHeaders(1, request(c), { endStream: true, endHeaders: false });
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      c.writeContinuation(1, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title: 'Sends a CONTINUATION frame preceded by a DATA frame',
    run: async (c) => {
      post1(c);
      c.writeData(1, true, 'test');
      c.writeContinuation(1, false, c.encode(dummyHeaders(1)));
      c.writeContinuation(0, true, c.encode(dummyHeaders(1)));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '7', 'Error Codes', [
  {
    title: 'Sends a GOAWAY frame with unknown error code',
    note:
      'An unknown code must not trigger special behaviour (RFC 9113 section 7): the connection stays usable ' +
      '(a PING is answered) or closes as after any GOAWAY.',
    run: async (c) => {
      c.writeGoaway(0, 0xff);
      c.writePing(false, PING_DATA);
      return pingAck(c, PING_DATA, true);
    },
  },
  {
    title: 'Sends a RST_STREAM frame with unknown error code',
    run: async (c) => {
      post1(c);
      c.writeRstStream(1, 0xff);
      c.writePing(false, ZERO_PING);
      return frameOfType(c, FrameType.PING, 'PING frame');
    },
  },
]);

section('http2', '8.1', 'HTTP Request/Response Exchange', [
  {
    title: 'Sends a second HEADERS frame without the END_STREAM flag',
    run: async (c) => {
      post1(c);
      c.writeData(1, false, 'test');
      c.writeHeaders(1, c.encode([['x-test', 'ok']]), { endStream: false });
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '8.1.2', 'HTTP Header Fields', [
  malformed('Sends a HEADERS frame that contains the header field name in uppercase letters', (c) => [
    ...c.commonHeaders(),
    ['X-TEST', 'ok'],
  ]),
]);

section('http2', '8.1.2.1', 'Pseudo-Header Fields', [
  malformed('Sends a HEADERS frame that contains a unknown pseudo-header field', (c) => [
    ...c.commonHeaders(),
    [':test', 'ok'],
  ]),
  malformed('Sends a HEADERS frame that contains the pseudo-header field defined for response', (c) => [
    ...c.commonHeaders(),
    [':status', '200'],
  ]),
  {
    title: 'Sends a HEADERS frame that contains a pseudo-header field as trailers',
    run: async (c) => {
      post1(c);
      c.writeData(1, false, 'test');
      c.writeHeaders(1, c.encode([[':method', 'POST']]), { endStream: true });
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  malformed(
    'Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field',
    (c) => [['x-test', 'ok'], ...c.commonHeaders()],
  ),
]);

section('http2', '8.1.2.2', 'Connection-Specific Header Fields', [
  malformed('Sends a HEADERS frame that contains the connection-specific header field', (c) => [
    ...c.commonHeaders(),
    ['connection', 'keep-alive'],
  ]),
  malformed(
    'Sends a HEADERS frame that contains the TE header field with any value other than "trailers"',
    (c) => [...c.commonHeaders(), ['trailers', 'test'], ['te', 'trailers, deflate']],
  ),
]);

/** The common fields without the one at `skip`. */
function without(c: H2Client, skip: number): Field[] {
  return c.commonHeaders().filter((_, i) => i !== skip);
}

/** The common fields with the pseudo-header at `dup` repeated at the end. */
function duplicated(c: H2Client, dup: number): Field[] {
  const fields = c.commonHeaders();
  return [...fields, fields[dup]!];
}

section('http2', '8.1.2.3', 'Request Pseudo-Header Fields', [
  malformed('Sends a HEADERS frame with empty ":path" pseudo-header field', (c) =>
    c.commonHeaders().map(([n, v]): Field => (n === ':path' ? [n, ''] : [n, v])),
  ),
  malformed('Sends a HEADERS frame that omits ":method" pseudo-header field', (c) => without(c, 0)),
  malformed('Sends a HEADERS frame that omits ":scheme" pseudo-header field', (c) => without(c, 1)),
  malformed('Sends a HEADERS frame that omits ":path" pseudo-header field', (c) => without(c, 2)),
  malformed('Sends a HEADERS frame with duplicated ":method" pseudo-header field', (c) => duplicated(c, 0)),
  malformed('Sends a HEADERS frame with duplicated ":scheme" pseudo-header field', (c) => duplicated(c, 1)),
  malformed('Sends a HEADERS frame with duplicated ":path" pseudo-header field', (c) => duplicated(c, 2)),
]);

section('http2', '8.1.2.6', 'Malformed Requests and Responses', [
  {
    title:
      'Sends a HEADERS frame with the "content-length" header field which does not equal the DATA frame payload length',
    run: async (c) => {
      post1(c, [['content-length', '1']]);
      c.writeData(1, true, 'test');
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
  {
    title:
      'Sends a HEADERS frame with the "content-length" header field which does not equal the sum of the multiple DATA frames payload length',
    run: async (c) => {
      post1(c, [['content-length', '1']]);
      c.writeData(1, false, 'test');
      c.writeData(1, true, 'test');
      return streamError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

section('http2', '8.2', 'Server Push', [
  {
    title: 'Sends a PUSH_PROMISE frame',
    run: async (c) => {
      c.writePushPromise(1, 3, request(c));
      return connectionError(c, ErrorCode.PROTOCOL_ERROR);
    },
  },
]);

// ---------------------------------------------------------------------------------------------
// hpack: RFC 7541 decoding errors, each a connection error COMPRESSION_ERROR (RFC 9113 section 4.3).

section('hpack', '2.3.3', 'Index Address Space', [
  compressionError('Sends a indexed header field representation with invalid index', (c) =>
    withRep(c, indexed(126)),
  ),
  compressionError('Sends a literal header field representation with invalid index', (c) =>
    withRep(c, literalRep('without', 70, rawString('test'))),
  ),
]);

section('hpack', '4.2', 'Maximum Table Size', [
  compressionError('Sends a dynamic table size update at the end of header block', (c) =>
    withRep(c, Buffer.from(encodeInteger(1, 5, 0x20))),
  ),
]);

section('hpack', '5.2', 'String Literal Representation', [
  // "test" in Huffman is 49 50 9f (4 bits of EOS padding); each case breaks that padding.
  compressionError(
    'Sends a Huffman-encoded string literal representation with padding longer than 7 bits',
    (c) => withRep(c, literalRep('without', 'x-test', huffBytes([0x49, 0x50, 0x9f, 0xff]))),
  ),
  compressionError('Sends a Huffman-encoded string literal representation padded by zero', (c) =>
    withRep(c, literalRep('without', 'x-test', huffBytes([0x49, 0x50, 0x90]))),
  ),
  compressionError('Sends a Huffman-encoded string literal representation containing the EOS symbol', (c) =>
    withRep(c, literalRep('without', 'x-test', huffBytes([0xff, 0xff, 0xff, 0xff]))),
  ),
]);

section('hpack', '6.1', 'Indexed Header Field Representation', [
  compressionError('Sends a indexed header field representation with index 0', (c) => withRep(c, indexed(0))),
]);

section('hpack', '6.3', 'Dynamic Table Size Update', [
  compressionError(
    'Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE',
    (c) => {
      const limit = c.serverSettings.get(Setting.HEADER_TABLE_SIZE) ?? 4096;
      return withRep(c, Buffer.from(encodeInteger(limit + 1, 5, 0x20)), true);
    },
  ),
]);

/** Every case, in catalogue order. */
export const CASES: readonly Case[] = cases;
