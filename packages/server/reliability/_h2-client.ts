/**
 * A raw HTTP/2 client for hostile-client tests: it writes the preface and frames as bytes chosen by
 * the test (well-formed or not) and parses what the server sends back into frames. Request header
 * blocks are HPACK literals without Huffman coding, written by hand; response heads are decoded with
 * `@strata/http2`'s HPACK decoder, only to read `:status`.
 */
import net from 'node:net';
import { HpackDecoder } from '@strata/http2';

/** Frame types (RFC 9113 section 6). */
export const T = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. */
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** SETTINGS identifiers (RFC 9113 section 6.5.2). */
export const S = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The client connection preface (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame: 9-byte header fields and its payload. */
export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** A frame as bytes. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array = Buffer.alloc(0),
): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(stream & 0x7fffffff, 5);
  b.set(payload, 9);
  return b;
}

/** SETTINGS with `[id, value]` pairs. */
export function settings(pairs: readonly (readonly [number, number])[] = []): Buffer {
  const p = Buffer.alloc(6 * pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    p.writeUInt16BE(pairs[i]![0], 6 * i);
    p.writeUInt32BE(pairs[i]![1], 6 * i + 2);
  }
  return frame(T.SETTINGS, 0, 0, p);
}

/** RST_STREAM with `code`. */
export function rst(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(T.RST_STREAM, 0, stream, p);
}

/** PING with an 8-byte payload built from `n`. */
export function ping(n: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(n >>> 0, 4);
  return frame(T.PING, 0, 0, p);
}

/** WINDOW_UPDATE of `inc`. */
export function windowUpdate(stream: number, inc: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(inc, 0);
  return frame(T.WINDOW_UPDATE, 0, stream, p);
}

// ---- HPACK, by hand (RFC 7541) ------------------------------------------------------------------

/** An HPACK integer with an N-bit prefix, `first` holding the representation's high bits (section 5.1). */
export function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function str(s: string): number[] {
  const out = hpackInt(s.length, 7, 0x00); // H bit 0: no Huffman
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
  return out;
}

/** Literal field without indexing, new name (section 6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.from([0x00, ...str(name), ...str(value)]);
}

/** Literal field with incremental indexing, new name (section 6.2.1): it enters the dynamic table. */
export function literalIndexed(name: string, value: string): Buffer {
  return Buffer.from([0x40, ...str(name), ...str(value)]);
}

/** Indexed field (section 6.1): 1..61 static, 62.. dynamic (62 the newest). */
export function indexed(index: number): Buffer {
  return Buffer.from(hpackInt(index, 7, 0x80));
}

/** Dynamic table size update (section 6.3). */
export function tableSizeUpdate(size: number): Buffer {
  return Buffer.from(hpackInt(size, 5, 0x20));
}

/** A request head block: the four pseudo-headers then `extra` fields, all literals. */
export function requestBlock(path: string, method = 'GET', extra: readonly [string, string][] = []): Buffer {
  const parts = [
    literal(':method', method),
    literal(':scheme', 'http'),
    literal(':path', path),
    literal(':authority', 'localhost'),
  ];
  for (const [n, v] of extra) parts.push(literal(n, v));
  return Buffer.concat(parts);
}

/** HEADERS carrying a whole block (END_HEADERS), with END_STREAM unless `end` is false. */
export function headers(stream: number, block: Uint8Array, end = true): Buffer {
  return frame(T.HEADERS, F.END_HEADERS | (end ? F.END_STREAM : 0), stream, block);
}

// ---- the client -----------------------------------------------------------------------------------

/** Options of {@link H2Client.connect}. */
export interface H2ClientOptions {
  /** Our SETTINGS (sent after the preface). Default: none. */
  settings?: readonly (readonly [number, number])[];
  /** Acknowledge the server's SETTINGS (default true). */
  ack?: boolean;
  /** Do not read from the socket until `resume()` (the server's writes back up). */
  paused?: boolean;
}

/** A GOAWAY as received. */
export interface Goaway {
  last: number;
  code: number;
  debug: string;
}

/** One raw HTTP/2 connection to 127.0.0.1. */
export class H2Client {
  readonly sock: net.Socket;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Response heads decoded per stream (flat `[name, value, ...]`, the first head only). */
  readonly heads = new Map<number, string[]>();
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private readonly ack: boolean;
  private readonly decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  private block: Buffer[] | null = null;
  private blockStream = 0;
  private wake: (() => void) | null = null;

  private constructor(sock: net.Socket, ack: boolean) {
    this.sock = sock;
    this.ack = ack;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {}); // resets once the server closes: the frames tell the story
    sock.once('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Connect, then write the preface and our SETTINGS. */
  static connect(port: number, options: H2ClientOptions = {}): Promise<H2Client> {
    return new Promise((resolve, reject) => {
      const sock = new net.Socket();
      if (options.paused === true) sock.pause();
      const c = new H2Client(sock, options.ack !== false);
      sock.once('error', reject);
      sock.connect({ port, host: '127.0.0.1', noDelay: true }, () => {
        sock.off('error', reject);
        sock.write(Buffer.concat([PREFACE, settings(options.settings)]));
        resolve(c);
      });
    });
  }

  /** Write bytes; false once the socket is gone. Resolves after the kernel took them (or a drain). */
  async write(bytes: Uint8Array): Promise<boolean> {
    if (this.closed || this.sock.destroyed || this.sock.writableEnded) return false;
    if (this.sock.write(bytes)) return true;
    await new Promise<void>((r) => {
      const done = () => {
        this.sock.off('drain', done);
        this.sock.off('close', done);
        r();
      };
      this.sock.once('drain', done);
      this.sock.once('close', done);
    });
    return !this.closed;
  }

  /** Start reading (after `paused`). */
  resume(): void {
    this.sock.resume();
  }

  destroy(): void {
    this.sock.destroy();
  }

  /** The first GOAWAY received, or null. */
  goaway(): Goaway | null {
    for (const f of this.frames)
      if (f.type === T.GOAWAY)
        return {
          last: f.payload.readUInt32BE(0) & 0x7fffffff,
          code: f.payload.readUInt32BE(4),
          debug: f.payload.subarray(8).toString('latin1'),
        };
    return null;
  }

  /** RST_STREAM codes received per stream. */
  resets(): Map<number, number> {
    const m = new Map<number, number>();
    for (const f of this.frames) if (f.type === T.RST_STREAM) m.set(f.stream, f.payload.readUInt32BE(0));
    return m;
  }

  /** `:status` of the response head on `stream`, or undefined. */
  status(stream: number): number | undefined {
    const h = this.heads.get(stream);
    if (h === undefined) return undefined;
    for (let i = 0; i < h.length; i += 2) if (h[i] === ':status') return Number(h[i + 1]);
    return undefined;
  }

  /**
   * Waits until `done()` holds, the connection closes, or `timeoutMs` passes; returns whether
   * `done()` held.
   */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const t0 = performance.now();
    while (!done()) {
      const left = timeoutMs - (performance.now() - t0);
      if (this.closed || left <= 0) return done();
      await new Promise<void>((r) => {
        const timer = setTimeout(() => {
          this.wake = null;
          r();
        }, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          r();
        };
      });
    }
    return true;
  }

  /** Waits for the server to close the connection; returns whether it did within `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.closed, timeoutMs);
  }

  /** A short account of the frames received, for failure messages. */
  describe(): string {
    const names = ['DATA', 'HEADERS', 'PRIORITY', 'RST', 'SETTINGS', 'PUSH', 'PING', 'GOAWAY', 'WU', 'CONT'];
    const counts = new Map<string, number>();
    for (const f of this.frames) {
      const k = names[f.type] ?? `type${f.type}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const g = this.goaway();
    return `frames ${JSON.stringify([...counts])}, goaway ${g === null ? 'none' : `code 0x${g.code.toString(16)} ${g.debug}`}, closed ${this.closed}`;
  }

  private notify(): void {
    const w = this.wake;
    if (w !== null) w();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let pos = 0;
    const b = this.buf;
    while (b.length - pos >= 9) {
      const len = b.readUIntBE(pos, 3);
      if (b.length - pos < 9 + len) break;
      const f: Frame = {
        type: b[pos + 3]!,
        flags: b[pos + 4]!,
        stream: b.readUInt32BE(pos + 5) & 0x7fffffff,
        payload: Buffer.from(b.subarray(pos + 9, pos + 9 + len)),
      };
      pos += 9 + len;
      this.frames.push(f);
      this.onFrame(f);
    }
    this.buf = pos === b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(pos));
    this.notify();
  }

  private onFrame(f: Frame): void {
    if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0 && this.ack && !this.sock.destroyed)
      this.sock.write(frame(T.SETTINGS, F.ACK, 0));
    if (f.type === T.HEADERS) {
      // The server sends no padding or priority: the payload is the block fragment.
      this.block = [f.payload];
      this.blockStream = f.stream;
    } else if (f.type === T.CONTINUATION && this.block !== null) this.block.push(f.payload);
    else return;
    if ((f.flags & F.END_HEADERS) === 0) return;
    const fields = this.decoder.decode(Buffer.concat(this.block));
    this.block = null;
    if (fields !== null && !this.heads.has(this.blockStream)) this.heads.set(this.blockStream, fields);
  }
}

/** A fresh connection asks `GET path`; resolves with the response's `:status` (undefined: none in time). */
export async function getStatus(port: number, path = '/', timeoutMs = 3000): Promise<number | undefined> {
  const c = await H2Client.connect(port);
  try {
    await c.write(headers(1, requestBlock(path)));
    await c.until(() => c.status(1) !== undefined, timeoutMs);
    return c.status(1);
  } finally {
    c.destroy();
  }
}
