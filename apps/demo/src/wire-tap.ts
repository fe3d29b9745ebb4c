/**
 * The wire inspector's view of incoming bytes. Per connection it keeps the bytes as they arrived
 * and runs them through its own `RequestParser` from `@strata/http-parser` (the same parser the
 * server runs, same defaults), pausing at the end of every message so each request gets exactly its
 * own bytes, the parser's events in order and its framing decision.
 *
 * The bytes come from a `ServerSocketObserver` (Node's `net.server.socket` diagnostics channel: the
 * demo adds a second `data` listener to each accepted TCP socket; it never reads, pauses or writes
 * in the transport's place). Requests are matched to their connection by remote address and port.
 * The observer runs only while the inspector records (see `recording.ts`): a second parse of every
 * byte is not free, and the demo must serve at the engine's speed when nobody is looking.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { ParseStatus, type RequestHead, RequestParser } from '@strata/http-parser';
import { acceptsUpgrade } from '@strata/server';

/** Raw bytes kept per message for display; the rest is counted, not kept. */
export const MAX_KEPT_BYTES = 16 * 1024;
/** Parser events kept per message (a long chunked upload would otherwise log thousands). */
const MAX_EVENTS = 40;
/** Messages remembered per connection that no handler has claimed yet. */
const MAX_UNCLAIMED = 32;

/** One request as it crossed the wire, filled in as bytes arrive. */
export interface WireMessage {
  /** Bytes of this message as received, decoded latin1 (at most {@link MAX_KEPT_BYTES}). */
  received: string;
  /** Total bytes of this message (head, framed body, trailers). */
  size: number;
  /** The parser's events, in order: head, body pieces, trailers, complete, or an error. */
  events: string[];
  /** The body framing the parser chose. */
  framing: string;
  complete: boolean;
  /** The parse error that ended the connection, as `CODE (status)`, or null. */
  error: { code: string; status: number; offset: number } | null;
}

function framingOf(head: RequestHead, upgrade: boolean): string {
  if (upgrade) return 'upgrade: the bytes after the head belong to the new protocol';
  if (head.chunked) return 'chunked (Transfer-Encoding)';
  if (head.contentLength >= 0) return `Content-Length: ${head.contentLength}`;
  return 'no body (neither Content-Length nor Transfer-Encoding)';
}

/** Mirrors one connection's request stream through a parser of its own. */
export class ConnectionTap {
  private readonly parser: RequestParser;
  private readonly messages: WireMessage[] = [];
  private current: WireMessage | null = null;
  private stopped = false;
  private bodyEvents = 0;
  /** The head of the message being parsed (needed when the parser stops at an upgrade). */
  private head: RequestHead | null = null;

  /**
   * @param upgradeProtocols the protocols the server's `onUpgrade` takes (its `upgradeProtocols`):
   *   an upgrade to anything else is declined there and served as HTTP/1.1, so the tap declines it
   *   too and goes on parsing (`curl --http2`'s `Upgrade: h2c`).
   */
  constructor(
    private readonly onRejected: (msg: WireMessage) => void = () => {},
    private readonly upgradeProtocols: readonly string[] = ['websocket'],
  ) {
    this.parser = new RequestParser(
      {
        onHead: (head) => {
          const msg = this.current ?? this.open(); // bytes of a split head may have opened it
          this.head = head;
          msg.framing = framingOf(head, head.upgrade);
          msg.events.push(
            `head ${head.method} ${head.target} HTTP/1.${head.versionMinor} (${head.rawHeaders.length / 2} fields, ` +
              `keep-alive ${head.keepAlive ? 'yes' : 'no'}${head.expectContinue ? ', expects 100-continue' : ''})`,
          );
          this.bodyEvents = 0;
        },
        onBody: (chunk) => {
          const msg = this.current;
          if (msg === null) return;
          if (++this.bodyEvents < MAX_EVENTS) msg.events.push(`body ${chunk.length} bytes`);
          else if (this.bodyEvents === MAX_EVENTS) msg.events.push('body ... (more pieces)');
        },
        onMessageComplete: (trailers) => {
          const msg = this.current;
          if (msg === null) return true;
          if (trailers !== null)
            msg.events.push(`trailers ${trailers.length / 2} (${trailersText(trailers)})`);
          msg.events.push('message complete');
          msg.complete = true;
          return true; // pause: `consumed` marks where this message's bytes end
        },
      },
      { maxBodyBytes: Number.MAX_SAFE_INTEGER },
    );
  }

  /** Feeds the bytes of one read (the view is only read during the call). */
  feed(chunk: Uint8Array): void {
    let view = chunk;
    while (view.length > 0 && !this.stopped) {
      const status = this.parser.execute(view);
      if (status === ParseStatus.OK) {
        if (this.parser.closed && this.current === null) {
          this.stopped = true; // bytes after a Connection: close request are never parsed
          return;
        }
        this.keep(view);
        return;
      }
      if (status === ParseStatus.ERROR) {
        const err = this.parser.error!;
        const msg = this.current ?? this.open();
        this.keep(view); // everything that arrived, up to and past the offending byte
        msg.error = { code: err.code, status: err.status, offset: err.offset };
        msg.events.push(
          `error ${err.code} at byte ${err.offset}: ${err.message} (answered ${err.status}, then close)`,
        );
        this.current = null;
        this.stopped = true;
        // A rejected request never reaches a handler: report it from here.
        const index = this.messages.indexOf(msg);
        if (index !== -1) this.messages.splice(index, 1);
        this.onRejected(msg);
        return;
      }
      const used = this.parser.consumed;
      this.keep(view.subarray(0, used));
      view = view.subarray(used);
      const last = this.current;
      if (status === ParseStatus.UPGRADE) {
        const head = this.head;
        if (head !== null && !acceptsUpgrade(head, this.upgradeProtocols) && this.parser.declineUpgrade()) {
          // The server ignores this Upgrade (RFC 9110 section 7.8) and answers as HTTP/1.1: the
          // message goes on (its body, if any) and so does the connection.
          if (last !== null) {
            last.events.push('upgrade declined: not a protocol the server takes, served as HTTP/1.1');
            last.framing = framingOf(head, false);
          }
          continue;
        }
        last?.events.push('upgrade: the parser stops, the connection changes protocol');
        this.stopped = true;
      }
      this.current = null; // PAUSED at the end of a message, or UPGRADE after a head
    }
  }

  /** The oldest message no handler has claimed yet (the server calls handlers in request order). */
  take(): WireMessage | null {
    return this.messages.shift() ?? null;
  }

  private open(): WireMessage {
    const msg: WireMessage = { received: '', size: 0, events: [], framing: '', complete: false, error: null };
    this.current = msg;
    this.messages.push(msg);
    if (this.messages.length > MAX_UNCLAIMED) this.messages.shift();
    return msg;
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const msg = this.current ?? this.open();
    const room = MAX_KEPT_BYTES - msg.received.length;
    if (room > 0) {
      const part = bytes.length <= room ? bytes : bytes.subarray(0, room);
      msg.received += Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('latin1');
    }
    msg.size += bytes.length;
  }
}

function trailersText(trailers: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < trailers.length; i += 2) parts.push(`${trailers[i]}: ${trailers[i + 1]}`);
  return parts.join(', ');
}

/** Every observed connection of this process, by `address|port` of the peer. */
export class WireTap {
  private readonly taps = new Map<string, ConnectionTap>();

  /** @param upgradeProtocols the server's `upgradeProtocols` (see {@link ConnectionTap}). */
  constructor(
    private readonly upgradeProtocols: readonly string[],
    private readonly onRejected: (msg: WireMessage, remote: string) => void = () => {},
  ) {}

  /** Starts mirroring a connection. */
  attach(remoteAddress: string, remotePort: number): ConnectionTap {
    const key = `${remoteAddress}|${remotePort}`;
    const tap = new ConnectionTap(
      (msg) => this.onRejected(msg, `${remoteAddress}:${remotePort}`),
      this.upgradeProtocols,
    );
    this.taps.set(key, tap);
    return tap;
  }

  detach(remoteAddress: string, remotePort: number, tap: ConnectionTap): void {
    const key = `${remoteAddress}|${remotePort}`;
    if (this.taps.get(key) === tap) this.taps.delete(key);
  }

  /** Whether the connection from this peer is observed. */
  has(remoteAddress: string, remotePort: number): boolean {
    return this.taps.has(`${remoteAddress}|${remotePort}`);
  }

  /** The next unclaimed message of the connection from this peer, or null when not observed. */
  take(remoteAddress: string, remotePort: number): WireMessage | null {
    return this.taps.get(`${remoteAddress}|${remotePort}`)?.take() ?? null;
  }

  get connections(): number {
    return this.taps.size;
  }
}

/** One observed socket: what {@link ServerSocketObserver.stop} removes again. */
interface Observed {
  socket: Socket;
  conn: ConnectionTap;
  address: string;
  port: number;
  onData: (chunk: Buffer) => void;
  onClose: () => void;
}

/**
 * Feeds a {@link WireTap} with the bytes of every TCP connection accepted on one local port of this
 * process, between {@link start} and {@link stop}. While stopped it costs nothing: it is not
 * subscribed to the `net.server.socket` channel (so Node publishes nothing) and no socket carries
 * its listener. A connection is observed from its first byte or not at all (the mirror parser
 * cannot join a stream in the middle), so connections accepted before `start` stay unobserved.
 * TLS connections are never observed (their bytes are ciphertext at this level).
 */
export class ServerSocketObserver {
  private readonly observed = new Set<Observed>();
  private started = false;
  private readonly onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    if (socket.localPort !== this.localPort()) return;
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) return;
    const conn = this.tap.attach(address, port);
    const record: Observed = {
      socket,
      conn,
      address,
      port,
      onData: (chunk) => conn.feed(chunk),
      onClose: () => this.forget(record),
    };
    this.observed.add(record);
    // First in line: the tap must have parsed a chunk before the transport hands it to the server,
    // which calls the handler (and so `take`) synchronously for a complete head.
    socket.prependListener('data', record.onData);
    socket.once('close', record.onClose);
  };

  constructor(
    private readonly tap: WireTap,
    private readonly localPort: () => number,
  ) {}

  /** True between {@link start} and {@link stop}. */
  get active(): boolean {
    return this.started;
  }

  /** Connections observed now. */
  get size(): number {
    return this.observed.size;
  }

  /** Observes every connection accepted from now on. */
  start(): void {
    if (this.started) return;
    this.started = true;
    subscribe('net.server.socket', this.onSocket);
  }

  /** Stops observing: unsubscribes and takes the listener off every observed socket. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    unsubscribe('net.server.socket', this.onSocket);
    for (const record of this.observed) {
      record.socket.removeListener('data', record.onData);
      record.socket.removeListener('close', record.onClose);
      this.forget(record);
    }
  }

  private forget(record: Observed): void {
    this.observed.delete(record);
    this.tap.detach(record.address, record.port, record.conn);
  }
}
