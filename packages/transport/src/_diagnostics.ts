/**
 * The transport's `node:diagnostics_channel` channels. A channel nobody subscribes to costs one
 * property read (`hasSubscribers`) where it would publish; its message is built only when someone
 * listens. Subscribers run synchronously, inside the transport's own event handler: keep them short,
 * and never throw (a throwing subscriber is reported by Node on `process` 'uncaughtException', the
 * connection carries on).
 */
import { channel } from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import type { Connection } from './_types';

/** Channel names, one per event (`strata:transport:*`). */
export const TransportChannel = {
  /** A connection was accepted (after the PROXY header and the TLS handshake, if any). */
  OPEN: 'strata:transport:connection.open',
  /** A connection closed (its socket's last event). */
  CLOSE: 'strata:transport:connection.close',
  /** Bytes arrived on a connection, before anything parsed them. */
  DATA: 'strata:transport:connection.data',
} as const;

/** TLS facts of an encrypted connection. */
export interface TlsDetails {
  /** Negotiated protocol version (`'TLSv1.3'`), or null. */
  protocol: string | null;
  /** Negotiated cipher suite name (`'TLS_AES_256_GCM_SHA384'`), or null. */
  cipher: string | null;
  /** The ALPN protocol selected (`'http/1.1'`), or null when none was. */
  alpnProtocol: string | null;
  /** The SNI server name the client asked for, or null. */
  servername: string | null;
}

/** The message of `strata:transport:connection.open`. */
export interface ConnectionOpenMessage {
  connection: Connection;
  /** The connection's `id` (unique in the process). */
  id: number;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  encrypted: boolean;
  /** TLS details when `encrypted`, else null. */
  tls: TlsDetails | null;
}

/** The message of `strata:transport:connection.close`. */
export interface ConnectionCloseMessage {
  connection: Connection;
  id: number;
  remoteAddress: string;
  remotePort: number;
  /** Bytes read from and written to the socket over the connection's life (TLS: plaintext bytes). */
  bytesRead: number;
  bytesWritten: number;
  /** Milliseconds from accept to close. */
  durationMs: number;
  /** What closed it, when something went wrong (a socket error, a timeout, a `destroy(error)`). */
  error: Error | undefined;
}

/**
 * The message of `strata:transport:connection.data`: the bytes exactly as read. `chunk` is a view
 * valid only during the call (the transport may hand it to a parser that keeps views of it, but
 * a subscriber must copy what it keeps).
 */
export interface ConnectionDataMessage {
  connection: Connection;
  id: number;
  chunk: Uint8Array;
}

/** @internal */
export const openChannel = channel(TransportChannel.OPEN);
/** @internal */
export const closeChannel = channel(TransportChannel.CLOSE);
/** @internal */
export const dataChannel = channel(TransportChannel.DATA);

/** @internal The TLS details of an encrypted socket. */
export function tlsDetails(socket: TLSSocket): TlsDetails {
  const cipher = socket.getCipher?.();
  const alpn = socket.alpnProtocol;
  const sni = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    protocol: socket.getProtocol?.() ?? null,
    cipher: cipher ? cipher.name : null,
    alpnProtocol: typeof alpn === 'string' ? alpn : null,
    servername: typeof sni === 'string' ? sni : null,
  };
}
