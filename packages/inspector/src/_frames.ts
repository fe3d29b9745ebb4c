/**
 * HTTP/2 in the inspector: the frames `@strata/http2` publishes on `strata:http2:frame`, sorted by
 * connection and stream, their flags named, their header blocks masked. The inspector does not
 * decode HPACK itself (the engine publishes the decoded list on the frame that ends a block) and
 * never re-frames an HTTP/2 connection's bytes as HTTP/1.1: a connection is HTTP/2 once its first
 * bytes are the client preface (`PRI * HTTP/2.0`) or once a frame was published for it.
 *
 * Bounds, each named: {@link MAX_STREAM_FRAMES} frames per stream (and the entry's `maxEntryBytes`
 * of frame bytes), {@link MAX_CONNECTION_FRAMES} stream-0 frames per connection,
 * {@link MAX_TRACKED_STREAMS} streams followed per connection, {@link MAX_H2_CONNECTIONS}
 * connections listed.
 */
import type { InspectedConnection, InspectedFrame, InspectedStream, InspectorEntry } from './_types';
import { maskValue } from './_wire';

/** The channel `@strata/http2` publishes every frame on (subscribed by name: no import of it). */
export const HTTP2_FRAME_CHANNEL = 'strata:http2:frame';

/**
 * The message of `strata:http2:frame`, declared here (the inspector subscribes by name and imports
 * nothing of `@strata/http2`); it matches `Http2FrameMessage` there.
 */
export interface FrameMessage {
  connectionId: number;
  direction: 'in' | 'out';
  type: number;
  typeName: string;
  flags: number;
  streamId: number;
  length: number;
  /** The decoded header list (flat `[name, value, ...]`) on the frame ending a header block, else null. */
  fields: string[] | null;
  /** A copy of the frame's first bytes (header included), at most 256. */
  bytes: Uint8Array;
}

/** Frames kept per stream (the first ones; the rest counted in `framesTotal`). */
export const MAX_STREAM_FRAMES = 64;
/** Stream-0 frames kept per connection: the first half of them, and the latest half. */
export const MAX_CONNECTION_FRAMES = 64;
/** Streams of one connection followed at once; past it the oldest is forgotten (its entry keeps its frames). */
export const MAX_TRACKED_STREAMS = 128;
/** HTTP/2 connections listed by `connections()`, newest last; the oldest goes when a new one comes. */
export const MAX_H2_CONNECTIONS = 32;

const FRAME_HEADER = 9;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const END_STREAM = 0x1;

/** Flag bits by frame type (RFC 9113 section 6), as `[bit, name]` pairs. */
const FLAGS: readonly (readonly [number, string][])[] = [
  [
    [0x1, 'END_STREAM'],
    [0x8, 'PADDED'],
  ], // DATA
  [
    [0x1, 'END_STREAM'],
    [0x4, 'END_HEADERS'],
    [0x8, 'PADDED'],
    [0x20, 'PRIORITY'],
  ], // HEADERS
  [], // PRIORITY
  [], // RST_STREAM
  [[0x1, 'ACK']], // SETTINGS
  [
    [0x4, 'END_HEADERS'],
    [0x8, 'PADDED'],
  ], // PUSH_PROMISE
  [[0x1, 'ACK']], // PING
  [], // GOAWAY
  [], // WINDOW_UPDATE
  [[0x4, 'END_HEADERS']], // CONTINUATION
];

/** The flags of a frame of `type`, by name, joined with `|`; unknown bits as `0x..`; `''` for none. */
export function flagNames(type: number, flags: number): string {
  const known = type < FLAGS.length ? FLAGS[type]! : [];
  let out = '';
  let rest = flags;
  for (let i = 0; i < known.length; i++) {
    const [bit, name] = known[i]!;
    if ((flags & bit) === 0) continue;
    out += out === '' ? name : `|${name}`;
    rest &= ~bit;
  }
  if (rest !== 0) {
    const hex = `0x${rest.toString(16).padStart(2, '0')}`;
    out += out === '' ? hex : `|${hex}`;
  }
  return out;
}

/** `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, the client connection preface (RFC 9113 section 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** Bytes of the preface that tell it from any HTTP/1.1 request line (`PRI * HTTP/2.0`). */
const PREFACE_SIGN = 14;

/**
 * Whether `bytes[0, len)`, a connection's first bytes, are the HTTP/2 preface: 1 yes (its first 14
 * bytes match), 0 not yet known (too few bytes, all matching), -1 no.
 */
export function prefaceState(bytes: Uint8Array, len: number): -1 | 0 | 1 {
  const n = Math.min(len, PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== PREFACE[i]) return -1;
  return n >= PREFACE_SIGN ? 1 : 0;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** One stream of an HTTP/2 connection, while the inspector follows it. */
export class H2Stream {
  readonly data: InspectedStream;
  /** Frame bytes kept (against `maxEntryBytes`). */
  kept = 0;
  /** The entry of its request, once its handler started (or once refused); null before. */
  entry: InspectorEntry | null = null;
  /** The inspector's own request: its frames are not kept. */
  ignored = false;
  /** The client ended its side (a frame in with END_STREAM). */
  ended = false;
  /** Bytes the client sent on it (frame headers included). */
  bytesIn = 0;
  /** The decoded request header list (masked), once its first header block ended. */
  head: [string, string][] | null = null;
  /** The request has been given to an entry (or refused). */
  claimed = false;
  constructor(id: number) {
    this.data = { streamId: id, frames: [], framesTotal: 0 };
  }
}

/** A frame whose header block has not ended: its bytes wait for the decoded list to say if they may be shown. */
interface Held {
  frame: InspectedFrame;
  raw: Uint8Array;
  stream: H2Stream | null;
}

/** One HTTP/2 connection the inspector follows. */
export class H2Conn {
  readonly info: InspectedConnection;
  readonly streams = new Map<number, H2Stream>();
  /** Frames of a header block not ended yet, per direction (in, out). */
  private readonly heldIn: Held[] = [];
  private readonly heldOut: Held[] = [];

  constructor(
    id: number,
    remote: string,
    fromStart: boolean,
    private readonly mask: ReadonlySet<string>,
    private readonly maxEntryBytes: number,
  ) {
    this.info = {
      connectionId: id,
      remote,
      protocol: 'h2',
      fromStart,
      open: true,
      frames: [],
      framesTotal: 0,
    };
  }

  /** Takes one frame; returns the entry it changed (null when none). */
  frame(m: FrameMessage): InspectorEntry | null {
    const type = m.type;
    const blockFrame = type === HEADERS || type === CONTINUATION;
    const blockEnd = blockFrame && (m.flags & END_HEADERS) !== 0;
    const frame: InspectedFrame = {
      direction: m.direction,
      type,
      typeName: m.typeName,
      flags: m.flags,
      flagNames: flagNames(type, m.flags),
      streamId: m.streamId,
      length: m.length,
      fields: null,
      bytes: null,
      hidden: blockFrame ? 'block not ended' : null,
    };
    let masked = false;
    if (blockEnd && m.fields !== null) {
      const f = m.fields;
      const list: [string, string][] = [];
      for (let i = 0; i + 1 < f.length; i += 2) {
        const name = f[i]!;
        const value = maskValue(name, f[i + 1]!, this.mask);
        if (value !== f[i + 1]) masked = true;
        list.push([name, value]);
      }
      frame.fields = list;
    }

    const id = m.streamId;
    if (id === 0) {
      this.connectionFrame(frame, m.bytes);
      return null;
    }
    let s = this.streams.get(id);
    if (s === undefined) {
      s = new H2Stream(id);
      this.streams.set(id, s);
      if (this.streams.size > MAX_TRACKED_STREAMS) {
        const oldest = this.streams.keys().next().value as number;
        this.streams.delete(oldest);
      }
    }
    if (m.direction === 'in') {
      s.bytesIn += FRAME_HEADER + m.length;
      if ((m.flags & END_STREAM) !== 0 && (type === HEADERS || type === 0)) s.ended = true; // DATA = 0
    }
    if (!s.ignored) {
      const data = s.data;
      data.framesTotal++;
      if (data.frames.length < MAX_STREAM_FRAMES) data.frames.push(frame);
    }

    // The bytes: at once for a frame outside a header block; at the block's end for a block.
    const held = m.direction === 'in' ? this.heldIn : this.heldOut;
    if (!blockFrame) this.show(frame, m.bytes, s);
    else if (!blockEnd) held.push({ frame, raw: m.bytes, stream: s });
    else {
      const hide = masked ? 'masked' : m.fields === null ? 'not decoded' : null;
      for (let i = 0; i < held.length; i++) {
        const h = held[i]!;
        if (hide !== null) h.frame.hidden = hide;
        else this.show(h.frame, h.raw, h.stream);
      }
      held.length = 0;
      if (hide !== null) frame.hidden = hide;
      else this.show(frame, m.bytes, s);
      // A request head: the first block the client sends on a stream.
      if (m.direction === 'in' && s.head === null && frame.fields !== null) s.head = frame.fields;
    }

    const e = s.entry;
    if (e !== null && m.direction === 'in') {
      e.request.bytesTotal = s.bytesIn;
      if (s.ended) e.request.complete = true;
    }
    return e;
  }

  /** Forgets the streams (the connection closed, or recording stopped). */
  close(): void {
    this.info.open = false;
    this.streams.clear();
    this.heldIn.length = 0;
    this.heldOut.length = 0;
  }

  /** Gives `frame` its bytes, within the stream's share of `maxEntryBytes` (null: a connection frame). */
  private show(frame: InspectedFrame, raw: Uint8Array, s: H2Stream | null): void {
    frame.hidden = null;
    if (s === null) {
      frame.bytes = latin1(raw);
      return;
    }
    const room = this.maxEntryBytes - s.kept;
    if (room <= 0) {
      frame.hidden = 'over maxEntryBytes';
      return;
    }
    const n = Math.min(room, raw.length);
    frame.bytes = latin1(n === raw.length ? raw : raw.subarray(0, n));
    s.kept += n;
  }

  private connectionFrame(frame: InspectedFrame, raw: Uint8Array): void {
    const info = this.info;
    info.framesTotal++;
    this.show(frame, raw, null);
    const frames = info.frames;
    // The first half stays (the SETTINGS exchange); past the bound the latest half is a ring.
    if (frames.length >= MAX_CONNECTION_FRAMES) frames.splice(MAX_CONNECTION_FRAMES / 2, 1);
    frames.push(frame);
  }
}

/** A copy of a stream's frames for `entries()` (plain data, safe to JSON). */
export function copyStream(s: InspectedStream): InspectedStream {
  return { streamId: s.streamId, frames: s.frames.map(copyFrame), framesTotal: s.framesTotal };
}

/** A copy of a connection for `connections()`. */
export function copyConnection(c: InspectedConnection): InspectedConnection {
  return { ...c, frames: c.frames.map(copyFrame) };
}

function copyFrame(f: InspectedFrame): InspectedFrame {
  return { ...f, fields: f.fields === null ? null : f.fields.map((h) => [h[0], h[1]]) };
}
