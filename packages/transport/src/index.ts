/**
 * `@strata/transport`: TCP, TLS and Unix-socket listeners and the `Connection` every upper layer
 * writes to. Knows nothing of HTTP.
 *
 * @example
 * ```ts
 * import { listen } from '@strata/transport';
 *
 * const listener = await listen({ host: '127.0.0.1', port: 8080, idleTimeout: 30_000 }, {
 *   onOpen(conn) { conn.idle = true; },
 *   onData(conn, chunk) { conn.write(chunk); }, // `chunk` is valid only during this call
 * });
 * process.once('SIGTERM', () => listener.close({ deadline: 5_000 }));
 * ```
 *
 * @packageDocumentation
 */
export type { SocketConnection } from './_connection';
export {
  type ConnectionCloseMessage,
  type ConnectionDataMessage,
  type ConnectionOpenMessage,
  type TlsDetails,
  TransportChannel,
} from './_diagnostics';
export { TransportError, TransportErrorCode, type TransportErrorCodeValue } from './_errors';
export { DEFAULT_CLOSE_DEADLINE, DEFAULT_PROXY_TIMEOUT, listen, reusePortSupported } from './_listener';
export { copyToPool, POOL_COPY_LIMIT, POOL_SLAB_SIZE } from './_pool';
export {
  PROXY_V1_MAX_LENGTH,
  type ProxyFamily,
  type ProxyHeader,
  type ProxyParseResult,
  ProxyParseStatus,
  type ProxyTlv,
  parseProxyHeader,
} from './_proxy';
export type {
  CloseOptions,
  Connection,
  ConnectionHandlers,
  Listener,
  ListenerAddress,
  ListenerStats,
  ListenOptions,
  ProxyProtocolOptions,
  TlsListenOptions,
} from './_types';
