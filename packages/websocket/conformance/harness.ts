/**
 * A TypeScript conformance harness reproducing the Autobahn|Testsuite "fuzzingclient" case catalogue
 * (sections 1-7, 9, 10, 12, 13). It plays the client with raw bytes (exact frames, chops and delays),
 * records what the server sends, and grades each case like Autobahn (OK / NON-STRICT / INFORMATIONAL /
 * FAILED), writing Autobahn's `index.json` shape.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

export type Behavior = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'FAILED';

/** One server-to-client event the harness records. */
export type Ev =
  | { type: 'message'; opcode: number; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'ping'; data: Buffer };

export interface Expect {
  /** Data events expected in order (messages and pongs). */
  events: Ev[];
  /** Extra events after the expected ones are tolerated (e.g. a pong after a failure). */
  extraAllowed?: boolean;
  /** 'normal': the harness closes with 1000 after the script and expects the echo;
   *  'fail': the server must fail the connection with one of `codes`. */
  close: 'normal' | 'fail';
  codes?: number[];
  /** The result is informational whatever happens (Autobahn does the same for these cases). */
  informational?: boolean;
}

export interface CaseDef {
  id: string;
  description: string;
  /** Sec-WebSocket-Extensions offer (sections 12, 13). */
  offer?: string;
  run(t: Tools): Promise<void>;
  expect: Expect;
}

export interface CaseResult {
  behavior: Behavior;
  behaviorClose: Behavior;
  duration: number;
  remoteCloseCode: number | null;
  reportfile: string;
  detail: string;
}

const MASK = [0x61, 0x2f, 0x9c, 0x04];

/** A masked client frame with exact control over every header bit. */
export function frame(
  opcode: number,
  payload: Uint8Array | string,
  opts: { fin?: boolean; rsv?: number } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const len = data.length;
  const fin = opts.fin ?? true;
  const hdr: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  if (len < 126) hdr.push(0x80 | len);
  else if (len < 65536) hdr.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    const hi = Math.floor(len / 2 ** 32);
    hdr.push(
      0x80 | 127,
      0,
      0,
      (hi >> 8) & 0xff,
      hi & 0xff,
      (len >>> 24) & 0xff,
      (len >>> 16) & 0xff,
      (len >>> 8) & 0xff,
      len & 0xff,
    );
  }
  hdr.push(...MASK);
  const out = Buffer.allocUnsafe(hdr.length + len);
  Buffer.from(hdr).copy(out);
  for (let i = 0; i < len; i++) out[hdr.length + i] = data[i]! ^ MASK[i & 3]!;
  return out;
}

/** What a case script can do. */
export class Tools {
  readonly events: Ev[] = [];
  closeCode: number | null = null;
  closeFrames = 0;
  tcpClosed = false;
  nonStrict = false;
  protocolViolation = '';
  extensions = '';
  private chunks: Buffer[] = [];
  private chunksLen = 0;
  private msgOpcode = 0;
  private msgCompressed = false;
  private msgParts: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private inflater: InflateRaw | null = null;
  private deflater: DeflateRaw | null = null;
  private inflateChain: Promise<void> = Promise.resolve();
  private deflateChain: Promise<unknown> = Promise.resolve();
  private clientNoContext = false;
  private serverNoContext = false;

  constructor(
    readonly socket: Socket,
    readonly scale: Scale,
  ) {}

  /** @internal */
  start(rest: Buffer): void {
    const ext = this.extensions.toLowerCase();
    this.clientNoContext = ext.includes('client_no_context_takeover');
    this.serverNoContext = ext.includes('server_no_context_takeover');
    if (ext.includes('permessage-deflate')) {
      this.inflater = createInflateRaw({ windowBits: 15 });
      const bitsMatch = /client_max_window_bits=(\d+)/.exec(ext);
      const bits = bitsMatch !== null ? Number(bitsMatch[1]) : 15;
      this.deflater = createDeflateRaw({ windowBits: bits === 8 ? 9 : bits, level: 6 });
    }
    this.socket.on('data', (c: Buffer) => this.onData(c));
    this.socket.on('close', () => {
      this.tcpClosed = true;
      this.wake();
    });
    if (rest.length > 0) this.onData(rest);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(c: Buffer): void {
    // chunks are only concatenated once a whole frame is there (16 MiB frames arrive in 256 reads)
    this.chunks.push(c);
    this.chunksLen += c.length;
    for (;;) {
      if (this.chunksLen < 2) break;
      if (this.chunks[0]!.length < 14 && this.chunks.length > 1) {
        this.chunks = [Buffer.concat(this.chunks)];
      }
      const b = this.chunks[0]!;
      const b0 = b[0]!;
      const b1 = b[1]!;
      let len = b1 & 0x7f;
      let h = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        h = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        h = 10;
      }
      if (b1 & 0x80) this.protocolViolation = 'server sent a masked frame';
      if (this.chunksLen < h + len) break;
      const all = this.chunks.length === 1 ? b : Buffer.concat(this.chunks);
      const payload = Buffer.from(all.subarray(h, h + len));
      const rest = all.subarray(h + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.chunksLen = rest.length;
      this.onFrame(b0, payload);
    }
    this.wake();
  }

  private onFrame(b0: number, payload: Buffer): void {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode === 0x8) {
      this.closeFrames++;
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      return;
    }
    if (opcode === 0x9) return void this.events.push({ type: 'ping', data: payload });
    if (opcode === 0xa) return void this.events.push({ type: 'pong', data: payload });
    if (opcode !== 0) {
      this.msgOpcode = opcode;
      this.msgCompressed = (b0 & 0x40) !== 0;
      this.msgParts = [];
    }
    this.msgParts.push(payload);
    if (!fin) return;
    const data = Buffer.concat(this.msgParts);
    const op = this.msgOpcode;
    const ev: Ev = { type: 'message', opcode: op, data };
    this.events.push(ev);
    if (this.msgCompressed) {
      const inf = this.inflater!;
      const reset = this.serverNoContext;
      // decompress in order; the event's data is replaced when done
      this.inflateChain = this.inflateChain.then(
        () =>
          new Promise<void>((resolve) => {
            const out: Buffer[] = [];
            const onOut = (d: Buffer) => out.push(d);
            inf.on('data', onOut);
            inf.write(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]));
            inf.flush(() => {
              inf.removeListener('data', onOut);
              ev.data = Buffer.concat(out);
              if (reset) inf.reset();
              resolve();
              this.wake();
            });
          }),
      );
    }
  }

  /** Writes bytes, optionally in chops of `chop` bytes (one write per chop, each flushed). */
  async send(bytes: Buffer, chop = 0, delayMs = 0): Promise<void> {
    if (this.tcpClosed) return;
    if (chop <= 0 || chop >= bytes.length) {
      this.socket.write(bytes);
      if (delayMs > 0) await sleep(delayMs);
      return;
    }
    for (let i = 0; i < bytes.length && !this.tcpClosed; i += chop) {
      await new Promise<void>((r) => this.socket.write(bytes.subarray(i, i + chop), () => r()));
      if (delayMs > 0) await sleep(delayMs);
    }
  }

  /** Sends a whole message; compressed (RSV1) when `compress`, split into frames of `fragment` bytes. */
  async message(
    opcode: number,
    data: Buffer,
    opts: { compress?: boolean; fragment?: number; chop?: number } = {},
  ): Promise<void> {
    let payload = data;
    if (opts.compress === true) {
      const def = this.deflater!;
      const reset = this.clientNoContext;
      payload = (await (this.deflateChain = this.deflateChain.then(
        () =>
          new Promise<Buffer>((resolve) => {
            const out: Buffer[] = [];
            const onOut = (d: Buffer) => out.push(d);
            def.on('data', onOut);
            def.write(data);
            def.flush(constants.Z_SYNC_FLUSH, () => {
              def.removeListener('data', onOut);
              const all = Buffer.concat(out);
              if (reset) def.reset();
              resolve(all.subarray(0, all.length - 4));
            });
          }),
      ))) as Buffer;
    }
    const frag = opts.fragment ?? 0;
    const rsv1 = opts.compress === true ? 4 : 0;
    if (frag <= 0 || frag >= payload.length) {
      await this.send(frame(opcode, payload, { rsv: rsv1 }), opts.chop ?? 0);
      return;
    }
    const frames: Buffer[] = [];
    for (let i = 0; i < payload.length; i += frag) {
      const last = i + frag >= payload.length;
      frames.push(
        frame(i === 0 ? opcode : 0, payload.subarray(i, i + frag), { fin: last, rsv: i === 0 ? rsv1 : 0 }),
      );
    }
    await this.send(Buffer.concat(frames), opts.chop ?? 0);
  }

  /** Resolves when `pred` holds, the TCP connection closed, or `ms` passed. */
  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!pred() && !this.tcpClosed && Date.now() < end) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.min(50, end - Date.now()));
      });
    }
    await this.inflateChain;
    return pred();
  }

  /** Waits until `n` messages arrived (round-trip cases). */
  async messages(n: number, ms = 10_000): Promise<void> {
    await this.until(() => this.events.filter((e) => e.type === 'message').length >= n, ms);
  }

  /** Waits for the server's close or TCP drop (used by fail-fast checks). */
  failedWithin(ms: number): Promise<boolean> {
    return this.until(() => this.closeFrames > 0 || this.tcpClosed, ms);
  }

  close(code = 1000, reason = ''): Promise<void> {
    const p = Buffer.alloc(2 + Buffer.byteLength(reason));
    p.writeUInt16BE(code, 0);
    p.write(reason, 2);
    return this.send(frame(0x8, p));
  }
}

/** Size limits: `full` reproduces Autobahn's sizes and counts; `reduced` caps them for CI. */
export interface Scale {
  name: 'full' | 'reduced';
  /** Largest message in sections 9 and 12/13. */
  maxSize: number;
  /** Message count for the 1000-message cases. */
  count: number;
  /** Extra wait for delayed sends and fail checks (ms). */
  wait: number;
}

export const FULL: Scale = { name: 'full', maxSize: Number.POSITIVE_INFINITY, count: 1000, wait: 1000 };
export const REDUCED: Scale = { name: 'reduced', maxSize: 64 * 1024, count: 8, wait: 150 };

const KEY = 'x3JJHMbDL1EzLkh9GBhXDw==';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs one case against `host:port` and grades it. */
export async function runCase(
  c: CaseDef,
  host: string,
  port: number,
  scale: Scale,
  agent: string,
): Promise<CaseResult> {
  const started = Date.now();
  const socket = netConnect({ host, port });
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const reportfile = `${agent.toLowerCase()}_case_${c.id.replaceAll('.', '_')}.json`;
  const failed = (detail: string): CaseResult => ({
    behavior: 'FAILED',
    behaviorClose: 'FAILED',
    duration: Date.now() - started,
    remoteCloseCode: null,
    reportfile,
    detail,
  });
  try {
    await new Promise<void>((r, j) => {
      socket.once('connect', r);
      socket.once('error', j);
    });
  } catch (e) {
    return failed(`connect: ${String(e)}`);
  }
  socket.write(
    `GET /runCase?case=${c.id}&agent=${agent} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${c.offer !== undefined ? `Sec-WebSocket-Extensions: ${c.offer}\r\n` : ''}\r\n`,
  );
  const head = await new Promise<Buffer | null>((resolve) => {
    let acc = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      if (acc.indexOf('\r\n\r\n') >= 0) {
        socket.removeListener('data', onData);
        resolve(acc);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(null));
    setTimeout(() => resolve(null), 5000);
  });
  if (head === null) {
    socket.destroy();
    return failed('no handshake response');
  }
  const end = head.indexOf('\r\n\r\n');
  const text = head.toString('latin1', 0, end);
  if (!text.startsWith('HTTP/1.1 101')) {
    socket.destroy();
    return failed(`handshake: ${text.split('\r\n')[0]}`);
  }
  const t = new Tools(socket, scale);
  t.extensions = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(text)?.[1] ?? '';
  if (c.offer !== undefined && t.extensions === '') {
    socket.destroy();
    return failed('permessage-deflate offer declined');
  }
  t.start(head.subarray(end + 4));
  await c.run(t);
  const ex = c.expect;
  if (ex.close === 'normal') {
    // let the echoes arrive, then close normally
    await t.until(
      () => matches(t.events, ex.events, true) !== 'short' || t.closeFrames > 0,
      scale.name === 'full' ? 60_000 : 10_000,
    );
    if (t.closeFrames === 0) await t.close(1000);
  }
  await t.until(() => t.tcpClosed, 3000 + scale.wait);
  await t.until(() => false, 0); // drain pending inflates
  socket.destroy();
  const duration = Date.now() - started;

  let behavior: Behavior = 'OK';
  let detail = '';
  const m = matches(t.events, ex.events, ex.extraAllowed === true);
  if (m !== 'ok') {
    behavior = 'FAILED';
    detail = `events ${m}: got ${describe(t.events)}; expected ${describe(ex.events)}`;
  } else if (t.nonStrict) {
    behavior = 'NON-STRICT';
    detail = 'did not fail fast';
  }
  if (t.protocolViolation !== '') {
    behavior = 'FAILED';
    detail = t.protocolViolation;
  }
  const codes = ex.codes ?? (ex.close === 'normal' ? [1000] : [1002]);
  let behaviorClose: Behavior = 'OK';
  if (t.closeCode === null || !codes.includes(t.closeCode) || !t.tcpClosed) {
    behaviorClose = 'FAILED';
    detail += ` close: code ${t.closeCode} (expected ${codes.join('|')}), tcp closed by server: ${t.tcpClosed}`;
  }
  if (ex.informational === true) {
    behavior = 'INFORMATIONAL';
    behaviorClose = 'INFORMATIONAL';
  }
  return {
    behavior,
    behaviorClose,
    duration,
    remoteCloseCode: t.closeCode,
    reportfile,
    detail: detail.trim(),
  };
}

function evEqual(a: Ev, b: Ev): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'message' && b.type === 'message' && a.opcode !== b.opcode) return false;
  return a.data.equals(b.data);
}

/** 'ok' | 'short' (fewer than expected so far) | 'mismatch' | 'extra' */
function matches(got: Ev[], want: Ev[], extraAllowed: boolean): 'ok' | 'short' | 'mismatch' | 'extra' {
  // pings sent by the server (heartbeat) are not part of any expectation
  const g = got.filter((e) => e.type !== 'ping');
  for (let i = 0; i < want.length; i++) {
    if (i >= g.length) return 'short';
    if (!evEqual(g[i]!, want[i]!)) return 'mismatch';
  }
  if (g.length > want.length && !extraAllowed) return 'extra';
  return 'ok';
}

function describe(evs: Ev[]): string {
  const s = evs
    .slice(0, 6)
    .map((e) => `${e.type}${e.type === 'message' ? `(${e.opcode})` : ''}[${e.data.length}]`)
    .join(' ');
  return evs.length > 6 ? `${s} ... (${evs.length})` : s || '(none)';
}

/** Runs cases sequentially; returns Autobahn's index.json object. */
export async function runAll(
  cases: CaseDef[],
  host: string,
  port: number,
  scale: Scale,
  agent: string,
): Promise<Record<string, Record<string, CaseResult>>> {
  const results: Record<string, CaseResult> = {};
  for (const c of cases) results[c.id] = await runCase(c, host, port, scale, agent);
  return { [agent]: results };
}
