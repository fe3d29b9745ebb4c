import { BlockList, createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import { type ConnectionOwner, type LocalAddress, publishOpen, SocketConnection } from './_connection';
import { openChannel } from './_diagnostics';
import { TransportError, TransportErrorCode } from './_errors';
import { isIPv4Text, isIPv6Text, type ProxyHeader, ProxyParseStatus, parseProxyHeader } from './_proxy';
import type {
  CloseOptions,
  ConnectionHandlers,
  Listener,
  ListenerAddress,
  ListenerStats,
  ListenOptions,
} from './_types';

/** Default graceful-close deadline in milliseconds. */
export const DEFAULT_CLOSE_DEADLINE = 10_000;
/** Default time a trusted peer has to send its PROXY header, in milliseconds. */
export const DEFAULT_PROXY_TIMEOUT = 10_000;

/** True where `net.Server.listen({ reusePort })` exists (Node 22.12+ / 23.1+, Linux or FreeBSD). */
export function reusePortSupported(): boolean {
  if (process.platform !== 'linux' && process.platform !== 'freebsd') return false;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function invalid(message: string): TransportError {
  return new TransportError(TransportErrorCode.INVALID_OPTION, message);
}

/** Trust rule for PROXY headers: addresses, CIDR ranges and the keyword `unix`. */
class TrustList {
  private readonly list = new BlockList();
  private unix = false;

  constructor(entries: string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry === 'unix') {
        this.unix = true;
        continue;
      }
      const slash = entry.indexOf('/');
      const addr = slash === -1 ? entry : entry.slice(0, slash);
      const family = isIPv4Text(addr) ? 'ipv4' : isIPv6Text(addr) ? 'ipv6' : null;
      if (family === null) throw invalid(`proxyProtocol.trusted: not an address or CIDR range: ${raw}`);
      if (slash === -1) {
        this.list.addAddress(addr, family);
        continue;
      }
      const bitsText = entry.slice(slash + 1);
      const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
      if (bits < 0 || bits > (family === 'ipv4' ? 32 : 128)) {
        throw invalid(`proxyProtocol.trusted: bad prefix length: ${raw}`);
      }
      this.list.addSubnet(addr, bits, family);
    }
  }

  trusts(address: string | undefined): boolean {
    if (address === undefined || address === '') return this.unix;
    if (address.startsWith('::ffff:')) {
      const v4 = address.slice(7);
      if (isIPv4Text(v4) && this.list.check(v4, 'ipv4')) return true;
    }
    return this.list.check(address, isIPv4Text(address) ? 'ipv4' : 'ipv6');
  }
}

/** Per-socket state while a trusted peer's PROXY header is being read. */
interface ProxyPending {
  buffered: Buffer | null;
}
const kProxy = Symbol('strata.proxy');
const kListener = Symbol('strata.listener');
type ProxySocket = Socket & { [kProxy]?: ProxyPending | undefined; [kListener]?: TransportListener };

/** `node:tls`, loaded by the first TLS listen: importing it costs about 1.4 MB of memory (ESM builds its namespace, root certificates included). */
type TlsModule = typeof import('node:tls');

class TransportListener implements Listener, ConnectionOwner {
  closing = false;
  private readonly server: Server;
  private readonly tlsServer: TlsServer | null;
  private readonly handlers: ConnectionHandlers;
  private readonly idleTimeout: number;
  private readonly trust: TrustList | null;
  private readonly proxyTimeout: number;
  private readonly lazyRemote: boolean;
  /**
   * Open connections: an intrusive doubly linked list through the connections themselves, not a
   * Set. A Set's table is rebuilt every few dozen adds and deletes, and V8 chains each replaced
   * table to its successor: under short connections every table survived the scavenge and was
   * promoted (garbage in old space, longer scavenges, a larger heap).
   */
  private firstOpen: SocketConnection | null = null;
  private openCount = 0;
  /** TCP sockets under a PROXY header in progress, or under TLS (handshaking or not): destroyed at a close's deadline. */
  private readonly raw = new Set<Socket>();
  private readonly proxyHeaders = new WeakMap<Socket, ProxyHeader>();
  private total = 0;
  private dropped = 0;
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  private closePromise: Promise<void> | null = null;
  private resolveClose: (() => void) | null = null;
  private serverClosed = false;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private boundAddress: ListenerAddress | null = null;
  /** The local end of every accepted socket, when bound to one TCP address (not a wildcard). */
  private local: LocalAddress | null = null;

  constructor(options: ListenOptions, handlers: ConnectionHandlers, tls: TlsModule | null) {
    this.handlers = handlers;
    this.idleTimeout = options.idleTimeout ?? 0;
    this.trust = options.proxyProtocol ? new TrustList(options.proxyProtocol.trusted) : null;
    this.proxyTimeout = options.proxyProtocol?.timeout ?? DEFAULT_PROXY_TIMEOUT;
    this.lazyRemote = options.lazyRemoteAddress === true;
    this.server = createServer({
      allowHalfOpen: true,
      noDelay: options.noDelay ?? true,
      keepAlive: options.keepAlive ?? false,
    });
    if (options.maxConnections !== undefined) this.server.maxConnections = options.maxConnections;
    this.server.on('drop', () => {
      this.dropped++;
    });
    if (options.tls && tls !== null) {
      const tlsServer = tls.createServer({ ...options.tls, allowHalfOpen: true });
      tlsServer.on('secureConnection', (socket: TLSSocket) => this.onSecureConnection(socket));
      tlsServer.on('tlsClientError', (_err: Error, socket: TLSSocket) => {
        socket.destroy();
      });
      this.tlsServer = tlsServer;
    } else {
      this.tlsServer = null;
    }
    this.server.on('connection', (socket: Socket) => this.onRawConnection(socket));
  }

  listen(options: ListenOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      const done = (): void => {
        this.server.off('error', onError);
        this.server.on('error', () => {
          /* accept errors (EMFILE...) are transient; Node keeps listening */
        });
        const a = this.server.address();
        if (typeof a === 'string') this.boundAddress = { path: a };
        else if (a !== null) {
          this.boundAddress = {
            host: a.address,
            port: a.port,
            family: a.family === 'IPv6' ? 'IPv6' : 'IPv4',
          };
          if (a.address !== '0.0.0.0' && a.address !== '::')
            this.local = { address: a.address, port: a.port };
        }
        resolve();
      };
      const backlog = options.backlog ?? 511;
      if (options.path !== undefined) {
        this.server.listen({ path: options.path, backlog }, done);
      } else {
        const port = options.port ?? 0;
        const listenOptions: Record<string, unknown> = { port, backlog, ipv6Only: options.ipv6Only ?? false };
        if (options.host !== undefined) listenOptions.host = options.host;
        if (options.reusePort && port !== 0 && reusePortSupported()) {
          listenOptions.reusePort = true;
          listenOptions.exclusive = true;
        }
        this.server.listen(listenOptions, done);
      }
    });
  }

  private onRawConnection(socket: Socket): void {
    if (this.trust?.trusts(socket.remoteAddress)) {
      this.trackRaw(socket);
      const s = socket as ProxySocket;
      s[kProxy] = { buffered: null };
      socket.on('data', onProxyData);
      socket.on('timeout', onProxyTimeout);
      socket.setTimeout(this.proxyTimeout);
      return;
    }
    this.accept(socket, null);
  }

  /** Keep sockets that have no connection yet (PROXY header, TLS) so a close can destroy them. */
  private trackRaw(socket: Socket): void {
    const s = socket as ProxySocket;
    if (s[kListener] !== undefined) return;
    s[kListener] = this;
    this.raw.add(socket);
    socket.on('error', noop);
    socket.once('close', onRawClose);
  }

  /** @internal */
  untrackRaw(socket: Socket): void {
    this.raw.delete(socket);
  }

  /** @internal called once a trusted peer's header is complete. */
  proxyDone(socket: Socket, header: ProxyHeader, rest: Buffer | null): void {
    socket.setTimeout(0);
    socket.off('data', onProxyData);
    socket.off('timeout', onProxyTimeout);
    socket.pause();
    if (rest !== null) socket.unshift(rest);
    this.accept(socket, header);
  }

  private accept(socket: Socket, header: ProxyHeader | null): void {
    if (this.tlsServer !== null) {
      // The TLS server wraps the raw socket (and reads any unshifted bytes first).
      this.trackRaw(socket);
      if (header !== null) this.proxyHeaders.set(socket, header);
      this.tlsServer.emit('connection', socket);
      return;
    }
    if (header !== null) {
      this.raw.delete(socket);
      socket.off('error', noop);
      socket.off('close', onRawClose);
    }
    const conn = this.open(socket, false, header);
    if (header !== null && !conn.paused && !conn.closed) socket.resume();
  }

  private onSecureConnection(socket: TLSSocket): void {
    // `_parent` is the TCP socket a server-side TLSSocket wraps (Node internal, stable since v0.11).
    const parent = (socket as TLSSocket & { _parent?: Socket })._parent;
    const header = parent ? (this.proxyHeaders.get(parent) ?? null) : null;
    this.open(socket, true, header);
  }

  private open(socket: Socket, encrypted: boolean, header: ProxyHeader | null): SocketConnection {
    const conn = new SocketConnection(
      socket,
      this.handlers,
      this,
      encrypted,
      header,
      this.idleTimeout,
      this.local,
      this.lazyRemote,
    );
    const first = this.firstOpen;
    if (first !== null) first.prevOpen = conn;
    conn.nextOpen = first;
    this.firstOpen = conn;
    this.openCount++;
    this.total++;
    if (openChannel.hasSubscribers) publishOpen(conn);
    conn.handlers.onOpen?.(conn);
    if (this.closing && !conn.closed) {
      conn.handlers.onClosing?.(conn);
      if (conn.idle) conn.end();
    }
    return conn;
  }

  connectionClosed(conn: SocketConnection): void {
    const prev = conn.prevOpen;
    const next = conn.nextOpen;
    if (prev !== null) prev.nextOpen = next;
    else if (this.firstOpen === conn) this.firstOpen = next;
    else return; // not in the list (already removed)
    if (next !== null) next.prevOpen = prev;
    conn.prevOpen = conn.nextOpen = null;
    this.openCount--;
    this.closedBytesIn += conn.socket.bytesRead;
    this.closedBytesOut += conn.socket.bytesWritten;
    if (this.closing) this.maybeClosed();
  }

  /** A copy of the open connections (safe to iterate while they close). */
  private openConnections(): SocketConnection[] {
    const out: SocketConnection[] = [];
    for (let c = this.firstOpen; c !== null; c = c.nextOpen) out.push(c);
    return out;
  }

  address(): ListenerAddress {
    if (this.boundAddress === null) throw invalid('listener is not bound');
    return this.boundAddress;
  }

  stats(): ListenerStats {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    for (let c = this.firstOpen; c !== null; c = c.nextOpen) {
      bytesIn += c.socket.bytesRead;
      bytesOut += c.socket.bytesWritten;
    }
    return { open: this.openCount, total: this.total, bytesIn, bytesOut, dropped: this.dropped };
  }

  close(options?: CloseOptions): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.closing = true;
    const deadline = options?.deadline ?? DEFAULT_CLOSE_DEADLINE;
    this.closePromise = new Promise<void>((resolve) => {
      this.resolveClose = resolve;
    });
    this.server.close(() => {
      this.serverClosed = true;
      this.maybeClosed();
    });
    for (const conn of this.openConnections()) {
      if (conn.closed) continue;
      conn.handlers.onClosing?.(conn);
      if (conn.idle && !conn.closed) conn.end();
    }
    if (deadline <= 0) this.destroyAll();
    else {
      this.deadlineTimer = setTimeout(() => this.destroyAll(), deadline);
      this.deadlineTimer.unref();
    }
    this.maybeClosed();
    return this.closePromise;
  }

  private destroyAll(): void {
    for (const conn of this.openConnections()) {
      conn.destroy(
        new TransportError(TransportErrorCode.CLOSE_DEADLINE, 'closed at the graceful-close deadline'),
      );
    }
    for (const s of this.raw) s.destroy();
  }

  private maybeClosed(): void {
    if (!this.serverClosed || this.openCount > 0 || this.resolveClose === null) return;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    const resolve = this.resolveClose;
    this.resolveClose = null;
    resolve();
  }
}

function noop(): void {}

function onProxyData(this: ProxySocket, chunk: Buffer): void {
  const pending = this[kProxy]!;
  const listener = this[kListener]!;
  const input = pending.buffered === null ? chunk : Buffer.concat([pending.buffered, chunk]);
  const r = parseProxyHeader(input);
  if (r.status === ProxyParseStatus.INCOMPLETE) {
    pending.buffered = input === chunk ? Buffer.from(chunk) : input;
    return;
  }
  this[kProxy] = undefined;
  if (r.status === ProxyParseStatus.ERROR) {
    this.destroy(r.error);
    return;
  }
  listener.proxyDone(this, r.header, r.consumed < input.length ? input.subarray(r.consumed) : null);
}

function onProxyTimeout(this: ProxySocket): void {
  this.destroy(new TransportError(TransportErrorCode.PROXY_TIMEOUT, 'PROXY header not received in time'));
}

function onRawClose(this: ProxySocket): void {
  this[kListener]?.untrackRaw(this);
}

/**
 * Start listening and hand every accepted connection to `handlers`.
 *
 * @example
 * ```ts
 * const listener = await listen({ host: '127.0.0.1', port: 0 }, {
 *   onData(conn, chunk) { conn.write(chunk); }, // echo; `chunk` is valid only during the call
 * });
 * console.log(listener.address());
 * await listener.close({ deadline: 5000 });
 * ```
 */
export async function listen(options: ListenOptions, handlers: ConnectionHandlers): Promise<Listener> {
  validate(options, handlers);
  const tls = options.tls ? await import('node:tls') : null;
  const listener = new TransportListener(options, handlers, tls);
  await listener.listen(options);
  return listener;
}

function validate(options: ListenOptions, handlers: ConnectionHandlers): void {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  if (handlers === null || typeof handlers !== 'object' || typeof handlers.onData !== 'function') {
    throw invalid('handlers.onData must be a function');
  }
  if (options.path !== undefined) {
    if (typeof options.path !== 'string' || options.path === '')
      throw invalid('path must be a non-empty string');
    if (options.port !== undefined || options.host !== undefined)
      throw invalid('path excludes host and port');
  }
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw invalid('port must be an integer 0..65535');
  }
  for (const key of ['idleTimeout', 'maxConnections', 'backlog'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw invalid(`${key} must be a non-negative integer`);
  }
  if (options.proxyProtocol !== undefined && !Array.isArray(options.proxyProtocol.trusted)) {
    throw invalid('proxyProtocol.trusted must be an array');
  }
}
