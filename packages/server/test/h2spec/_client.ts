/**
 * A raw-socket HTTP/2 client for the conformance catalogue: it connects over TCP (h2c with prior
 * knowledge) or TLS (ALPN `h2`), writes any bytes or frames it is told to, legal or not, and reads
 * the server's frames one event at a time, each wait bounded by a timeout.
 *
 * It never answers anything by itself except the SETTINGS exchange of `handshake()`, and it keeps
 * the server's HPACK dynamic table in step by decoding every header block it receives.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeHeaders, type Field, HpackDecodeError, HpackDecoder } from './_hpack.ts';

/** Frame types (RFC 9113 section 6). */
export const FrameType = {
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

/** Flags (RFC 9113 section 6). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS identifiers (RFC 9113 section 6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Error codes (RFC 9113 section 7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const ERROR_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;
const TYPE_NAMES = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** The name of an error code, or its hex value when unknown. */
export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** The client connection preface (RFC 9113 section 3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame read from the server. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** For HEADERS (with its CONTINUATIONs): the decoded fields, or the decoding error. */
  fields?: Field[];
  hpackError?: string;
}

/** What one wait produced: a frame, the connection closing, or nothing within the timeout. */
export type Event = { kind: 'frame'; frame: Frame } | { kind: 'closed' } | { kind: 'timeout' };

/** Where to connect. */
export interface Target {
  host: string;
  port: number;
  tls?: boolean;
  path?: string;
}

/** The error code carried by a RST_STREAM or GOAWAY frame. */
export function frameErrorCode(frame: Frame): number {
  if (frame.type === FrameType.RST_STREAM) return frame.payload.readUInt32BE(0);
  if (frame.type === FrameType.GOAWAY) return frame.payload.readUInt32BE(4);
  return -1;
}

/** A one-line description of an event, for verdicts. */
export function describe(ev: Event): string {
  if (ev.kind === 'closed') return 'connection closed';
  if (ev.kind === 'timeout') return 'timeout (nothing received)';
  const f = ev.frame;
  const name = TYPE_NAMES[f.type] ?? `UNKNOWN(0x${f.type.toString(16)})`;
  let extra = '';
  if (f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY) {
    extra = ` error=${errorName(frameErrorCode(f))}`;
  } else if (f.type === FrameType.HEADERS) {
    const status = f.fields?.find(([n]) => n === ':status');
    extra = status ? ` :status=${status[1]}` : f.hpackError ? ` (hpack: ${f.hpackError})` : '';
  }
  return `${name} frame (length=${f.payload.length}, flags=0x${f.flags.toString(16).padStart(2, '0')}, stream=${f.streamId}${extra})`;
}

/** Builds one frame: 9-octet header plus payload (RFC 9113 section 4.1). */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)) {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** Options of a HEADERS frame. */
export interface HeadersOptions {
  endStream?: boolean;
  endHeaders?: boolean;
  /** Pad length (adds the PADDED flag and that many zero octets). */
  padLength?: number;
  /** Priority fields (adds the PRIORITY flag). */
  priority?: { dependsOn: number; exclusive: boolean; weight: number };
}

/** One connection to the server under test. */
export class H2Client {
  /** The server's SETTINGS values, as received during `handshake()`. */
  readonly serverSettings = new Map<number, number>();
  /** Whether the connection has ended (read side closed, reset, or timed out). */
  closed = false;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queue: Event[] = [];
  private wake: (() => void) | null = null;
  private readonly decoder = new HpackDecoder();
  /** A HEADERS frame waiting for its CONTINUATIONs. */
  private pendingBlock: { frame: Frame; parts: Buffer[] } | null = null;

  private constructor(
    private readonly socket: net.Socket,
    /** How long one wait for the next event lasts. */
    readonly timeoutMs: number,
    readonly target: Target,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const end = () => this.push({ kind: 'closed' });
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** Connects (TCP or TLS with ALPN h2) within `timeoutMs`. */
  static connect(target: Target, timeoutMs: number): Promise<H2Client> {
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${target.host}:${target.port} timed out`));
      }, timeoutMs * 3);
      const done = () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        if (target.tls && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
          socket.destroy();
          reject(new Error('the server did not select h2 with ALPN'));
          return;
        }
        resolve(new H2Client(socket, timeoutMs, target));
      };
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      if (target.tls) {
        socket = tls.connect({
          host: target.host,
          port: target.port,
          ALPNProtocols: ['h2'],
          rejectUnauthorized: false,
          servername: net.isIP(target.host) ? undefined : target.host,
        });
        socket.once('secureConnect', done);
      } else {
        socket = net.connect(target.port, target.host);
        socket.once('connect', done);
      }
      socket.setNoDelay(true);
      socket.once('error', fail);
    });
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }

  private push(ev: Event): void {
    if (this.closedQueued) return;
    if (ev.kind === 'closed') this.closedQueued = true;
    this.queue.push(ev);
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  private closedQueued = false;

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 9) return;
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) return;
      const f: Frame = {
        type: this.buffer[3]!,
        flags: this.buffer[4]!,
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buffer.subarray(9, 9 + length)),
      };
      this.buffer = this.buffer.subarray(9 + length);
      this.track(f);
      this.push({ kind: 'frame', frame: f });
    }
  }

  /** Decodes header blocks as they complete, so the dynamic table follows the server's. */
  private track(f: Frame): void {
    if (f.type === FrameType.HEADERS) {
      let p = f.payload;
      let pad = 0;
      if (f.flags & Flag.PADDED) {
        pad = p[0] ?? 0;
        p = p.subarray(1);
      }
      if (f.flags & Flag.PRIORITY) p = p.subarray(5);
      p = p.subarray(0, Math.max(0, p.length - pad));
      this.pendingBlock = { frame: f, parts: [p] };
      if (f.flags & Flag.END_HEADERS) this.finishBlock();
    } else if (f.type === FrameType.CONTINUATION && this.pendingBlock) {
      this.pendingBlock.parts.push(f.payload);
      if (f.flags & Flag.END_HEADERS) this.finishBlock();
    }
  }

  private finishBlock(): void {
    const pending = this.pendingBlock!;
    this.pendingBlock = null;
    try {
      pending.frame.fields = this.decoder.decode(Buffer.concat(pending.parts));
    } catch (err) {
      pending.frame.hpackError = err instanceof HpackDecodeError ? err.message : String(err);
    }
  }

  /**
   * The next event: a frame, 'closed', or 'timeout' when nothing came within `timeoutMs`. Like
   * h2spec, a timeout ends the conversation: every later call answers 'timeout' at once.
   */
  async next(): Promise<Event> {
    const queued = this.queue.shift();
    if (queued) {
      if (queued.kind === 'closed') {
        this.closed = true;
        this.queue.unshift(queued);
      }
      return queued;
    }
    if (this.closed) return { kind: 'timeout' };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, this.timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.queue.length === 0) {
      this.closed = true;
      return { kind: 'timeout' };
    }
    return this.next();
  }

  /** Writes raw bytes (errors on a closed socket are ignored: the reads report the close). */
  send(bytes: Uint8Array): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    // Everything a case writes in one go leaves in one segment, so the server reads the frames
    // together, whatever the scheduling: this keeps races out of the verdicts.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }
  private corked = false;

  /** Writes one frame. */
  writeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): void {
    this.send(frame(type, flags, streamId, payload));
  }

  /** Writes a SETTINGS frame with the given (id, value) pairs. */
  writeSettings(...settings: [id: number, value: number][]): void {
    const p = Buffer.alloc(6 * settings.length);
    settings.forEach(([id, value], i) => {
      p.writeUInt16BE(id, i * 6);
      p.writeUInt32BE(value >>> 0, i * 6 + 2);
    });
    this.writeFrame(FrameType.SETTINGS, 0, 0, p);
  }

  /** Writes a SETTINGS frame with ACK. */
  writeSettingsAck(): void {
    this.writeFrame(FrameType.SETTINGS, Flag.ACK, 0);
  }

  /** Writes a PING frame with an 8-octet payload. */
  writePing(ack: boolean, data: Uint8Array): void {
    const p = Buffer.alloc(8);
    p.set(data.subarray(0, 8));
    this.writeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, p);
  }

  /** Writes a HEADERS frame carrying `block`. */
  writeHeaders(streamId: number, block: Uint8Array, opts: HeadersOptions = {}): void {
    let flags = 0;
    if (opts.endStream) flags |= Flag.END_STREAM;
    if (opts.endHeaders ?? true) flags |= Flag.END_HEADERS;
    const parts: Uint8Array[] = [];
    if (opts.padLength !== undefined) {
      flags |= Flag.PADDED;
      parts.push(Buffer.from([opts.padLength]));
    }
    if (opts.priority) {
      flags |= Flag.PRIORITY;
      const p = Buffer.alloc(5);
      p.writeUInt32BE(((opts.priority.exclusive ? 0x80000000 : 0) | opts.priority.dependsOn) >>> 0, 0);
      p[4] = opts.priority.weight;
      parts.push(p);
    }
    parts.push(block);
    if (opts.padLength !== undefined) parts.push(Buffer.alloc(opts.padLength));
    this.writeFrame(FrameType.HEADERS, flags, streamId, Buffer.concat(parts));
  }

  /** Writes a CONTINUATION frame. */
  writeContinuation(streamId: number, endHeaders: boolean, block: Uint8Array): void {
    this.writeFrame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, block);
  }

  /** Writes a DATA frame, optionally padded. */
  writeData(streamId: number, endStream: boolean, data: Uint8Array | string, padding?: Uint8Array): void {
    const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let flags = endStream ? Flag.END_STREAM : 0;
    let payload: Uint8Array = body;
    if (padding) {
      flags |= Flag.PADDED;
      payload = Buffer.concat([Buffer.from([padding.length]), body, padding]);
    }
    this.writeFrame(FrameType.DATA, flags, streamId, payload);
  }

  /** Writes a PRIORITY frame. */
  writePriority(streamId: number, dependsOn: number, exclusive: boolean, weight: number): void {
    const p = Buffer.alloc(5);
    p.writeUInt32BE(((exclusive ? 0x80000000 : 0) | dependsOn) >>> 0, 0);
    p[4] = weight;
    this.writeFrame(FrameType.PRIORITY, 0, streamId, p);
  }

  /** Writes a RST_STREAM frame. */
  writeRstStream(streamId: number, code: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code >>> 0, 0);
    this.writeFrame(FrameType.RST_STREAM, 0, streamId, p);
  }

  /** Writes a GOAWAY frame. */
  writeGoaway(lastStreamId: number, code: number, debug = ''): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(lastStreamId >>> 0, 0);
    p.writeUInt32BE(code >>> 0, 4);
    this.writeFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([p, Buffer.from(debug, 'latin1')]));
  }

  /** Writes a WINDOW_UPDATE frame. */
  writeWindowUpdate(streamId: number, increment: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(increment >>> 0, 0);
    this.writeFrame(FrameType.WINDOW_UPDATE, 0, streamId, p);
  }

  /** Writes a PUSH_PROMISE frame (which a client must never send). */
  writePushPromise(streamId: number, promisedId: number, block: Uint8Array): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(promisedId >>> 0, 0);
    this.writeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, streamId, Buffer.concat([p, block]));
  }

  /** The request pseudo-header fields every case starts from (GET, the target's scheme and path). */
  commonHeaders(method = 'GET'): Field[] {
    const defaultPort = this.target.tls ? 443 : 80;
    const authority =
      this.target.port === defaultPort ? this.target.host : `${this.target.host}:${this.target.port}`;
    return [
      [':method', method],
      [':scheme', this.target.tls ? 'https' : 'http'],
      [':path', this.target.path ?? '/'],
      [':authority', authority],
    ];
  }

  /** Encodes fields with the catalogue's encoder (literals without indexing). */
  encode(fields: readonly Field[]): Buffer {
    return encodeHeaders(fields);
  }

  /** The server's SETTINGS_MAX_FRAME_SIZE, or the default 16384. */
  maxFrameSize(): number {
    return this.serverSettings.get(Setting.MAX_FRAME_SIZE) ?? 16384;
  }

  /**
   * The connection preface both ways: our preface and SETTINGS (INITIAL_WINDOW_SIZE 65535), then
   * reads until the server's SETTINGS (acknowledged) and the ACK of ours have both arrived.
   * Returns null on success, or what went wrong.
   */
  async handshake(): Promise<string | null> {
    this.send(PREFACE);
    this.writeSettings([Setting.INITIAL_WINDOW_SIZE, 65535]);
    let gotSettings = false;
    let gotAck = false;
    for (let i = 0; i < 64 && !(gotSettings && gotAck); i++) {
      const ev = await this.next();
      if (ev.kind !== 'frame') return `handshake failed: ${describe(ev)}`;
      const f = ev.frame;
      if (f.type !== FrameType.SETTINGS) continue;
      if (f.flags & Flag.ACK) {
        gotAck = true;
      } else {
        gotSettings = true;
        for (let o = 0; o + 6 <= f.payload.length; o += 6) {
          this.serverSettings.set(f.payload.readUInt16BE(o), f.payload.readUInt32BE(o + 2));
        }
        this.writeSettingsAck();
      }
    }
    return gotSettings && gotAck ? null : 'handshake failed: no SETTINGS exchange';
  }
}
