/**
 * @strata/websocket: RFC 6455 WebSocket server and client with RFC 7692 permessage-deflate.
 * Application layer: runs on any connection shaped like {@link WebSocketConnection}
 * (`@strata/transport`'s `Connection`, or a `node:net` socket via {@link fromNodeSocket}).
 * @packageDocumentation
 */
export { type ConnectOptions, connect } from './_client';
export {
  fromNodeRequest,
  fromNodeSocket,
  type WebSocketConnection,
  type WebSocketConnectionHandlers,
} from './_connection';
export {
  CloseCode,
  isValidCloseCode,
  Opcode,
  ReadyState,
  SendStatus,
  WebSocketError,
  WebSocketErrorCode,
} from './_constants';
export type { PerMessageDeflateOptions } from './_deflate';
export {
  WebSocketChannel,
  type WebSocketCloseMessage,
  type WebSocketErrorMessage,
  type WebSocketOpenMessage,
} from './_diagnostics';
export { acceptKey, type UpgradeRequest } from './_handshake';
export type { PubSubBackend, PubSubDeliver } from './_pubsub';
export {
  type PublishOptions,
  WebSocketServer,
  type WebSocketServerEvents,
  type WebSocketServerOptions,
} from './_server';
export { type SendOptions, type SlowClientPolicy, WebSocket, type WebSocketEvents } from './_websocket';
