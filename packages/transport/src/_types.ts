import type { TlsOptions } from 'node:tls';
import type { ProxyHeader } from './_proxy';

/**
 * Callbacks a connection's owner provides. Every callback receives the connection first so one
 * handlers object can serve every connection (no per-connection closures).
 */
export interface ConnectionHandlers {
  /** The connection is established (after the TLS handshake and PROXY header, when configured). */
  onOpen?(conn: Connection): void;
  /**
   * Bytes arrived. `chunk` is a view that is valid ONLY during this call: the transport (or the
   * runtime) may reuse or poison its memory afterwards. Copy what you need to keep.
   */
  onData(conn: Connection, chunk: Uint8Array): void;
  /** The write queue went back under the high-water mark after a `write()` returned false. */
  onDrain?(conn: Connection): void;
  /**
   * The peer half-closed its side (FIN). The connection stays writable: the owner decides when to
   * `end()`. Without this handler the transport ends its own side once queued writes are flushed.
   */
  onEnd?(conn: Connection): void;
  /**
   * The idle timeout fired; the connection is still open and the owner decides what to do. Without
   * this handler the transport destroys the connection with `ERR_TRANSPORT_IDLE_TIMEOUT`.
   */
  onTimeout?(conn: Connection): void;
  /**
   * The listener started a graceful close. Called once per open connection, before idle ones are
   * ended, so the owner can mark the connection idle or plan to close it after its current work.
   */
  onClosing?(conn: Connection): void;
  /** The connection is fully closed. `error` is set when it closed because of an error. */
  onClose?(conn: Connection, error?: Error): void;
}

/** One bidirectional byte stream (a TCP, TLS or Unix socket, or one side of an in-memory pair). */
export interface Connection {
  /** Process-unique id, increasing. */
  readonly id: number;
  /**
   * Queue bytes for sending. Returns false when the queue is above its high-water mark: stop
   * writing and wait for `onDrain`. Writes after `end()`/`destroy()` are dropped and return false.
   * Inside `cork()` small writes (under 16 KiB) are copied at once; otherwise a `Uint8Array` is
   * queued by reference, as `socket.write` does: do not modify it after writing.
   */
  write(data: Uint8Array | string): boolean;
  /** Start a batch: writes until the matching `uncork()` leave in one buffer and one syscall. */
  cork(): void;
  /** End a batch (nested cork/uncork pairs count; the outermost uncork flushes). */
  uncork(): void;
  /** Flush queued bytes (and `data`, if given) then send FIN. */
  end(data?: Uint8Array | string): void;
  /** Close at once, dropping queued bytes. `error` is passed on to `onClose`. */
  destroy(error?: Error): void;
  /** Stop delivering `onData` (and reading from the kernel) until `resume()`. */
  pause(): void;
  /** Resume delivering `onData`. */
  resume(): void;
  /** Set the idle timeout in milliseconds (any read or write restarts it); 0 disables it. */
  setIdleTimeout(ms: number): void;
  /** Hand the connection to a new owner (for example after an HTTP Upgrade). `onOpen` is not called. */
  setHandlers(handlers: ConnectionHandlers): void;
  /** Bytes queued (including a pending cork batch) and not yet handed to the kernel. */
  readonly writableLength: number;
  /** The client's address (from the PROXY header when one was accepted); '' for Unix sockets. */
  readonly remoteAddress: string;
  /** The client's port (from the PROXY header when one was accepted); 0 for Unix sockets. */
  readonly remotePort: number;
  /** The local address the client connected to ('' for Unix sockets). */
  readonly localAddress: string;
  /** The local port (0 for Unix sockets). */
  readonly localPort: number;
  /** True for TLS connections. */
  readonly encrypted: boolean;
  /** The ALPN protocol agreed in the TLS handshake (`'h2'`, `'http/1.1'`); false when none or not TLS. */
  readonly alpnProtocol?: string | false;
  /** True once the connection is fully closed (after `onClose`). */
  readonly closed: boolean;
  /**
   * True when the transport never reuses or overwrites a chunk it handed to `onData`, so an owner
   * may keep a view of it after the call instead of copying it (Node's TCP and TLS sockets give
   * every read a fresh buffer). Absent or false: copy what you keep (the in-memory pair poisons
   * chunks after the call).
   */
  readonly stableChunks?: boolean;
  /**
   * Owner-maintained flag used by a graceful close: a connection marked idle (no work in flight)
   * is ended as soon as the close starts, or as soon as it becomes idle during the close. Default
   * false (a connection is assumed busy unless its owner says otherwise).
   */
  idle: boolean;
  /** The PROXY protocol header accepted for this connection, or null. */
  readonly proxy: ProxyHeader | null;
  /** One slot for the owner's per-connection state. */
  data: unknown;
}

/** Counters of a listener. Bytes are Node's own counters of each connection's socket. */
export interface ListenerStats {
  /** Connections open now. */
  open: number;
  /** Connections opened since the listener started. */
  total: number;
  /** Bytes received, all connections together. */
  bytesIn: number;
  /** Bytes sent, all connections together. */
  bytesOut: number;
  /** Connections refused because `maxConnections` was reached. */
  dropped: number;
}

/** The address a listener is bound to. */
export type ListenerAddress = { host: string; port: number; family: 'IPv4' | 'IPv6' } | { path: string };

/** Options of `Listener.close()`. */
export interface CloseOptions {
  /**
   * Milliseconds to let busy connections finish before they are destroyed with
   * `ERR_TRANSPORT_CLOSE_DEADLINE`. 0 destroys every connection at once. Default 10 000.
   */
  deadline?: number;
}

/** A bound, accepting listener. */
export interface Listener {
  /** Where the listener is bound (the real port when `port: 0` was asked). */
  address(): ListenerAddress;
  /**
   * Graceful close: stop accepting, end idle connections (see `Connection.idle`), let busy ones
   * finish, destroy what remains at the deadline. Resolves once every connection is closed.
   * Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Current counters. */
  stats(): ListenerStats;
  /** True once `close()` was called. */
  readonly closing: boolean;
}

/** PROXY protocol settings (opt-in). */
export interface ProxyProtocolOptions {
  /**
   * Peers allowed to send a PROXY header: IPv4/IPv6 addresses, CIDR ranges (`10.0.0.0/8`,
   * `fd00::/8`) and `unix` for Unix-socket peers. A trusted peer MUST send a valid header; other
   * peers are served as ordinary connections and their bytes are not inspected.
   */
  trusted: string[];
  /** Milliseconds a trusted peer has to complete its header. Default 10 000. */
  timeout?: number;
}

/** TLS settings: any `node:tls` server option (`cert`, `key`, `SNICallback`, `ALPNProtocols`, `ticketKeys`, ...). */
export type TlsListenOptions = Omit<TlsOptions, 'allowHalfOpen' | 'pauseOnConnect'>;

/** Options of `listen()`. */
export interface ListenOptions {
  /** Interface to bind. Default: Node's default (all interfaces, dual-stack `::` where available). */
  host?: string;
  /** TCP port; 0 picks a free port (read it back with `address()`). Default 0. */
  port?: number;
  /** Unix socket path (instead of host/port). */
  path?: string;
  /** Serve TLS with these `node:tls` options. */
  tls?: TlsListenOptions;
  /** Kernel accept backlog. Default 511. */
  backlog?: number;
  /** Refuse connections beyond this many open ones (counted in `stats().dropped`). Default: no limit. */
  maxConnections?: number;
  /** Idle timeout in ms applied to every new connection (owners can change it). Default 0 (none). */
  idleTimeout?: number;
  /** Disable Nagle's algorithm on accepted sockets. Default true. */
  noDelay?: boolean;
  /** TCP keep-alive probes on accepted sockets. Default false. */
  keepAlive?: boolean;
  /** Accept PROXY protocol v1/v2 headers from these trusted peers. Default: off. */
  proxyProtocol?: ProxyProtocolOptions;
  /** Only bind IPv6 (no dual-stack) when `host` is an IPv6 address. Default false. */
  ipv6Only?: boolean;
  /**
   * Bind with SO_REUSEPORT (Node 22.12+/23.1+ on Linux/FreeBSD) so each cluster worker owns its own
   * accept queue. Ignored where unsupported and for `port: 0`. Default false.
   */
  reusePort?: boolean;
  /**
   * Read each connection's `remoteAddress`/`remotePort` when first asked instead of at accept.
   * Saves a `getpeername` syscall (and the address object Node builds) per connection that never
   * asks, a visible share of a short connection's cost. The price: a connection whose address was
   * never read before its socket closed reports `''`/0 afterwards (`destroy()` reads it first).
   * Addresses from an accepted PROXY header are always known. Default false (read at accept).
   */
  lazyRemoteAddress?: boolean;
}
