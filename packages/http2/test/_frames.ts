/**
 * Test helpers for the HTTP/2 connection: client frames built as raw bytes (header blocks with
 * HpackEncoder), a driver that records every event of an {@link Http2ServerConnection} as a line of
 * text and reads the server's frames back (header blocks with HpackDecoder), and
 * {@link feedAllWays}, which runs one client byte sequence whole, byte by byte and split at every
 * point, each on a fresh connection, and checks that all of them give the same log and bytes.
 */
import { expect } from 'vitest';
import { type Http2ConnectionOptions, type Http2Handlers, Http2ServerConnection } from '../src/_connection';
import { CLIENT_PREFACE, Flag, FrameType } from '../src/_frames';
import { HpackDecoder, HpackEncoder } from '../src/_hpack';
import type { Http2Limits } from '../src/_limits';
import type { RequestHead } from '../src/_request';
import type { Http2Error } from '../src/errors';

export { CLIENT_PREFACE, Flag, FrameType };

const latin1 = new TextDecoder('latin1');

/** Bytes of a latin1 string. */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** The parts, end to end. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One frame: a 9-byte header (`reserved` sets the stream id's high bit) and the payload. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array = new Uint8Array(0),
  reserved = false,
): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const n = payload.length;
  out[0] = (n >>> 16) & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = n & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = ((stream >>> 24) & 0x7f) | (reserved ? 0x80 : 0);
  out[6] = (stream >>> 16) & 0xff;
  out[7] = (stream >>> 8) & 0xff;
  out[8] = stream & 0xff;
  out.set(payload, 9);
  return out;
}

/** A big-endian 32-bit value. */
export function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** A SETTINGS frame from `[id, value, ...]`. */
export function settings(pairs: number[] = []): Uint8Array {
  const p = new Uint8Array(pairs.length * 3);
  for (let i = 0; i < pairs.length; i += 2) {
    const at = i * 3;
    p[at] = (pairs[i]! >>> 8) & 0xff;
    p[at + 1] = pairs[i]! & 0xff;
    p.set(u32(pairs[i + 1]!), at + 2);
  }
  return frame(FrameType.SETTINGS, 0, 0, p);
}

/** SETTINGS with ACK. */
export function settingsAck(): Uint8Array {
  return frame(FrameType.SETTINGS, Flag.ACK, 0);
}

/** The client preface and an empty SETTINGS frame: what every connection starts with. */
export function preface(pairs: number[] = []): Uint8Array {
  return concat(CLIENT_PREFACE, settings(pairs));
}

/** A PING (8 bytes of `fill`, or `data`). */
export function ping(fill = 1, ack = false, data?: Uint8Array): Uint8Array {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, data ?? new Uint8Array(8).fill(fill));
}

/** WINDOW_UPDATE on `stream` by `inc`. */
export function windowUpdate(stream: number, inc: number): Uint8Array {
  return frame(FrameType.WINDOW_UPDATE, 0, stream, u32(inc));
}

/** RST_STREAM on `stream` with `code`. */
export function rstStream(stream: number, code: number): Uint8Array {
  return frame(FrameType.RST_STREAM, 0, stream, u32(code));
}

/** PRIORITY on `stream` depending on `dep`. */
export function priority(stream: number, dep: number, weight = 16): Uint8Array {
  return frame(FrameType.PRIORITY, 0, stream, concat(u32(dep), Uint8Array.of(weight)));
}

/** GOAWAY from the client. */
export function goaway(last: number, code: number): Uint8Array {
  return frame(FrameType.GOAWAY, 0, 0, concat(u32(last), u32(code)));
}

/** Options of a HEADERS frame. */
export interface HeadersOptions {
  end?: boolean;
  /** Default true. */
  endHeaders?: boolean;
  /** Pad length (PADDED flag set when given). */
  pad?: number;
  /** Priority fields: the stream depended on (PRIORITY flag set when given). */
  dependsOn?: number;
}

/** A HEADERS frame carrying `block` (already HPACK-encoded). */
export function headersFrame(stream: number, block: Uint8Array, o: HeadersOptions = {}): Uint8Array {
  let flags = 0;
  if (o.end) flags |= Flag.END_STREAM;
  if (o.endHeaders !== false) flags |= Flag.END_HEADERS;
  const parts: Uint8Array[] = [];
  if (o.pad !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Uint8Array.of(o.pad));
  }
  if (o.dependsOn !== undefined) {
    flags |= Flag.PRIORITY;
    parts.push(u32(o.dependsOn), Uint8Array.of(15));
  }
  parts.push(block);
  if (o.pad !== undefined) parts.push(new Uint8Array(o.pad));
  return frame(FrameType.HEADERS, flags, stream, concat(...parts));
}

/** A CONTINUATION frame. */
export function continuation(stream: number, block: Uint8Array, endHeaders: boolean): Uint8Array {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, stream, block);
}

/** A DATA frame (`pad`: PADDED with that many zero bytes). */
export function data(stream: number, body: Uint8Array | string, end = false, pad?: number): Uint8Array {
  const b = typeof body === 'string' ? bytes(body) : body;
  let flags = end ? Flag.END_STREAM : 0;
  if (pad === undefined) return frame(FrameType.DATA, flags, stream, b);
  flags |= Flag.PADDED;
  return frame(FrameType.DATA, flags, stream, concat(Uint8Array.of(pad), b, new Uint8Array(pad)));
}

/** A GET request's header list. */
export function get(path = '/', extra: string[] = []): string[] {
  return [':method', 'GET', ':scheme', 'https', ':authority', 'example.com', ':path', path, ...extra];
}

/** A POST request's header list. */
export function post(path = '/', extra: string[] = []): string[] {
  return [':method', 'POST', ':scheme', 'https', ':authority', 'example.com', ':path', path, ...extra];
}

/**
 * A client's byte stream, built frame by frame with one HPACK encoder (its dynamic table carries
 * across requests, as a real client's does).
 */
export class Client {
  readonly encoder = new HpackEncoder();
  private readonly parts: Uint8Array[] = [];

  /** Appends raw bytes. */
  raw(...b: Uint8Array[]): this {
    this.parts.push(...b);
    return this;
  }
  /** The preface and SETTINGS. */
  preface(pairs: number[] = []): this {
    return this.raw(preface(pairs));
  }
  /** HPACK-encodes `fields`. */
  block(fields: string[]): Uint8Array {
    return this.encoder.encode(fields).slice();
  }
  /** A HEADERS frame with the block of `fields`. */
  headers(stream: number, fields: string[], o: HeadersOptions = {}): this {
    return this.raw(headersFrame(stream, this.block(fields), o));
  }
  /** A header block of `fields` split into HEADERS and CONTINUATION frames of `size` bytes. */
  split(stream: number, fields: string[], size: number, end = false): this {
    const b = this.block(fields);
    for (let off = 0; off < b.length || off === 0; off += size) {
      const piece = b.subarray(off, Math.min(b.length, off + size));
      const last = off + size >= b.length;
      if (off === 0) this.raw(headersFrame(stream, piece, { end, endHeaders: last }));
      else this.raw(continuation(stream, piece, last));
    }
    return this;
  }
  /** A DATA frame. */
  data(stream: number, body: Uint8Array | string, end = false, pad?: number): this {
    return this.raw(data(stream, body, end, pad));
  }
  /** Everything so far, as one array. */
  bytes(): Uint8Array {
    return concat(...this.parts);
  }
  /** Everything so far, and forgets it (the encoder keeps its state): for step-by-step tests. */
  take(): Uint8Array {
    const b = concat(...this.parts);
    this.parts.length = 0;
    return b;
  }
}

/** A frame the server wrote; `fields`: the decoded block on the frame that ends a header block. */
export interface OutFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Uint8Array;
  fields?: string[];
}

/** Splits bytes into frames (the input must hold whole frames). */
export function readFrames(b: Uint8Array): OutFrame[] {
  const out: OutFrame[] = [];
  let at = 0;
  while (at < b.length) {
    if (b.length - at < 9) throw new Error(`partial frame header at ${at}`);
    const n = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    if (b.length - at - 9 < n) throw new Error(`partial frame at ${at}`);
    out.push({
      type: b[at + 3]!,
      flags: b[at + 4]!,
      stream: ((b[at + 5]! & 0x7f) << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!,
      payload: b.slice(at + 9, at + 9 + n),
    });
    at += 9 + n;
  }
  return out;
}

/** A big-endian 32-bit value read from `b` at `at`. */
export function read32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** One frame as a short line: `HEADERS 1 END_STREAM|END_HEADERS`, with RST/GOAWAY codes. */
export function describe(f: OutFrame): string {
  const names = [
    'DATA',
    'HEADERS',
    'PRIORITY',
    'RST_STREAM',
    'SETTINGS',
    'PUSH_PROMISE',
    'PING',
    'GOAWAY',
    'WINDOW_UPDATE',
    'CONTINUATION',
  ];
  let s = `${names[f.type] ?? f.type} ${f.stream}`;
  if (f.type === FrameType.RST_STREAM) s += ` code=${read32(f.payload, 0)}`;
  else if (f.type === FrameType.GOAWAY) s += ` last=${read32(f.payload, 0)} code=${read32(f.payload, 4)}`;
  else if (f.type === FrameType.WINDOW_UPDATE) s += ` +${read32(f.payload, 0)}`;
  else if (f.type === FrameType.DATA) s += ` len=${f.payload.length}`;
  else if (f.type === FrameType.PING) s += ` ${latin1.decode(f.payload)}`;
  if (f.type === FrameType.SETTINGS || f.type === FrameType.PING) {
    if (f.flags & Flag.ACK) s += ' ACK';
  } else {
    if (f.flags & Flag.END_STREAM && f.type !== FrameType.CONTINUATION) s += ' END_STREAM';
    if (f.flags & Flag.END_HEADERS && (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION))
      s += ' END_HEADERS';
  }
  if (f.fields) s += ` ${JSON.stringify(f.fields)}`;
  return s;
}

/** Options of a {@link Driver}. */
export interface DriverOptions {
  limits?: Partial<Http2Limits>;
  /** The connection's clock (default: a fixed 0, moved with `driver.now`). */
  clock?: () => number;
  /** Called after each event is logged, to answer requests. */
  onRequest?: (d: Driver, stream: number, head: RequestHead, end: boolean) => void;
  onRequestData?: (d: Driver, stream: number, data: Uint8Array, end: boolean) => void;
  onTrailers?: (d: Driver, stream: number) => void;
  onStreamClose?: (d: Driver, stream: number, error: Http2Error | null) => void;
  onStreamWritable?: (d: Driver, stream: number) => void;
  /** Log the request head's regular fields too (default true). */
  fields?: boolean;
  /** The connection's diagnostics id. */
  id?: number;
}

/** One connection with every event logged as a line and every byte written kept. */
export class Driver {
  readonly conn: Http2ServerConnection;
  readonly log: string[] = [];
  /** Every byte written, in order. */
  private written: Uint8Array[] = [];
  /** Bytes already returned by `frames()`. */
  private readAt = 0;
  /** The server's header blocks, decoded in order. */
  private readonly decoder = new HpackDecoder({ maxHeaderListSize: 1 << 30 });
  private pendingBlock: Uint8Array[] = [];
  /** The time the default clock reads. */
  now = 0;

  constructor(o: DriverOptions = {}) {
    const d = this;
    const handlers: Http2Handlers = {
      write(chunk) {
        d.written.push(chunk.slice());
      },
      onRequest(stream, head, end) {
        let line = `request ${stream} ${head.method} ${head.scheme} ${head.authority} ${head.path} cl=${head.contentLength} end=${end}`;
        if (o.fields !== false) line += ` ${JSON.stringify(head.fields.slice(head.fieldsStart))}`;
        d.log.push(line);
        o.onRequest?.(d, stream, head, end);
      },
      onRequestData(stream, chunk, end) {
        d.log.push(`data ${stream} ${JSON.stringify(latin1.decode(chunk))} end=${end}`);
        o.onRequestData?.(d, stream, chunk, end);
      },
      onTrailers(stream, fields) {
        d.log.push(`trailers ${stream} ${JSON.stringify(fields)}`);
        o.onTrailers?.(d, stream);
      },
      onStreamClose(stream, error) {
        d.log.push(`close ${stream} ${error === null ? 'ok' : `${error.code} ${error.errorCode}`}`);
        o.onStreamClose?.(d, stream, error);
      },
      onStreamWritable(stream) {
        d.log.push(`writable ${stream}`);
        o.onStreamWritable?.(d, stream);
      },
      onRefused(stream, error) {
        d.log.push(`refused ${stream} ${error.code} ${error.errorCode}`);
      },
      onGoaway(last, code) {
        d.log.push(`goaway ${last} ${code}`);
      },
      onError(error) {
        d.log.push(`error ${error.code} ${error.errorCode}`);
      },
    };
    const options: Http2ConnectionOptions = { clock: o.clock ?? (() => d.now) };
    if (o.limits) options.limits = o.limits;
    if (o.id !== undefined) options.id = o.id;
    this.conn = new Http2ServerConnection(handlers, options);
  }

  /** Feeds bytes (in the given chunks), then flushes. */
  send(...chunks: Uint8Array[]): this {
    for (const c of chunks) this.conn.receive(c);
    this.conn.flush();
    return this;
  }

  /** Every byte written so far. */
  output(): Uint8Array {
    return concat(...this.written);
  }

  /** The frames written since the last call, header blocks decoded. */
  frames(): OutFrame[] {
    const all = this.output();
    const fresh = readFrames(all.subarray(this.readAt));
    this.readAt = all.length;
    for (const f of fresh) {
      if (f.type !== FrameType.HEADERS && f.type !== FrameType.CONTINUATION) continue;
      this.pendingBlock.push(f.payload);
      if ((f.flags & Flag.END_HEADERS) === 0) continue;
      const list = this.decoder.decode(concat(...this.pendingBlock));
      this.pendingBlock = [];
      if (list !== null) f.fields = list;
    }
    return fresh;
  }

  /** `frames()` as lines (see {@link describe}). */
  lines(): string[] {
    return this.frames().map(describe);
  }
}

/** The frames every connection starts with: our SETTINGS and the connection WINDOW_UPDATE. */
export const START_LINES = ['SETTINGS 0', 'WINDOW_UPDATE 0 +983041'];

/** A driver past the preface: the client's SETTINGS sent and acknowledged, the start frames read. */
export function opened(o: DriverOptions = {}, pairs: number[] = []): Driver {
  const d = new Driver(o);
  d.send(preface(pairs), settingsAck());
  const lines = d.lines();
  // Our SETTINGS, the connection WINDOW_UPDATE when the window is above the default, the ACK.
  expect(lines[0]).toBe('SETTINGS 0');
  expect(lines.at(-1)).toBe('SETTINGS 0 ACK');
  expect(lines.length).toBe(o.limits?.connectionWindowSize === 65_535 ? 2 : 3);
  return d;
}

/** What one run produced. */
export interface RunResult {
  log: string[];
  out: string[];
  driver: Driver;
}

/** Options of {@link feedAllWays}. */
export interface FeedOptions extends DriverOptions {
  /** Called after all bytes were fed (and before the final flush), on every run alike. */
  after?: (d: Driver) => void;
  /**
   * Inputs longer than this are split at every frame boundary (and one byte either side) and at
   * 64 evenly spaced points instead of at every byte; byte-by-byte still runs. Default 4096.
   */
  maxSplitAll?: number;
}

function runChunks(input: Uint8Array, cuts: number[], o: FeedOptions): RunResult {
  const d = new Driver(o);
  let from = 0;
  for (const c of cuts) {
    d.conn.receive(input.slice(from, c));
    from = c;
  }
  d.conn.receive(input.slice(from));
  o.after?.(d);
  d.conn.flush();
  return { log: d.log, out: d.lines(), driver: d };
}

/** Frame boundaries of a client byte stream (after the 24-byte preface). */
function boundaries(input: Uint8Array): number[] {
  const out: number[] = [24];
  let at = 24;
  while (at + 9 <= input.length) {
    at += 9 + ((input[at]! << 16) | (input[at + 1]! << 8) | input[at + 2]!);
    out.push(at);
  }
  return out;
}

/**
 * Runs `input` on fresh connections whole, byte by byte, and cut in two at every split point;
 * every run must log the same events and write the same frames. Returns the whole run.
 */
export function feedAllWays(input: Uint8Array, o: FeedOptions = {}): RunResult {
  const whole = runChunks(input, [], o);
  const expected = { log: whole.log, out: whole.out };
  const bytewise: number[] = [];
  for (let i = 1; i < input.length; i++) bytewise.push(i);
  const b = runChunks(input, bytewise, o);
  expect({ log: b.log, out: b.out }, 'byte by byte').toEqual(expected);
  let points: number[];
  if (input.length <= (o.maxSplitAll ?? 4096)) points = bytewise;
  else {
    const set = new Set<number>();
    for (const at of boundaries(input)) for (const x of [at - 1, at, at + 1]) set.add(x);
    for (let i = 1; i < 64; i++) set.add(Math.floor((input.length * i) / 64));
    points = [...set].filter((x) => x > 0 && x < input.length).sort((x, y) => x - y);
  }
  for (const at of points) {
    const r = runChunks(input, [at], o);
    expect({ log: r.log, out: r.out }, `split at ${at}`).toEqual(expected);
  }
  return whole;
}

/** One step of a {@link feedScript}: client bytes, or calls on the driver (respond, sendData, timers). */
export type Step = Uint8Array | ((d: Driver) => void);

function runScript(
  steps: Step[],
  split: (k: number, bytes: Uint8Array) => number[],
  o: DriverOptions,
): string[] {
  const d = new Driver(o);
  const transcript: string[] = [];
  let logged = 0;
  const record = () => {
    d.conn.flush();
    for (; logged < d.log.length; logged++) transcript.push(d.log[logged]!);
    for (const l of d.lines()) transcript.push(`> ${l}`);
  };
  steps.forEach((step, k) => {
    if (typeof step === 'function') step(d);
    else {
      let from = 0;
      for (const c of split(k, step)) {
        d.conn.receive(step.slice(from, c));
        from = c;
      }
      d.conn.receive(step.slice(from));
    }
    record();
  });
  return transcript;
}

/**
 * Runs a script of client byte steps and driver calls on fresh connections: every byte step whole,
 * then every step byte by byte, then each byte step cut in two at every point (the others whole).
 * After each step the connection is flushed; the transcript is every event and (as `> FRAME`
 * lines) every frame written, in order, and must be the same for every run. Returns it.
 */
export function feedScript(steps: Step[], o: DriverOptions = {}): string[] {
  const whole = runScript(steps, () => [], o);
  const every = (b: Uint8Array) => Array.from({ length: Math.max(0, b.length - 1) }, (_, i) => i + 1);
  expect(
    runScript(steps, (_k, b) => every(b), o),
    'byte by byte',
  ).toEqual(whole);
  steps.forEach((step, k) => {
    if (typeof step === 'function') return;
    for (let at = 1; at < step.length; at++)
      expect(
        runScript(steps, (j) => (j === k ? [at] : []), o),
        `step ${k} split at ${at}`,
      ).toEqual(whole);
  });
  return whole;
}
