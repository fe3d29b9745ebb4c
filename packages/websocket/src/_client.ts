import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { fromNodeSocket } from './_connection';
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_MAX_PAYLOAD,
  WebSocketError,
  WebSocketErrorCode,
} from './_constants';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_THRESHOLD,
  type DeflateParams,
  formatDeflateParams,
  PerMessageDeflate,
  type PerMessageDeflateOptions,
  parseExtensions,
  readDeflateParams,
  ZlibLimiter,
} from './_deflate';
import { acceptKey, hasToken } from './_handshake';
import {
  DEFAULT_BACKPRESSURE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
} from './_sender';
import { WebSocket } from './_websocket';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Subprotocols to offer, in preference order. */
  protocols?: string[];
  /** Offer permessage-deflate (default false). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Largest accepted message in bytes. Default 16 MiB. */
  maxPayload?: number;
  /** ms for TCP connect + handshake. Default 10000. */
  handshakeTimeout?: number;
  /** ms to wait for the closing handshake. Default 5000. */
  closeTimeout?: number;
  /** Unsent bytes above which `send()` returns `BACKPRESSURE` and reading pauses. Default 64 KiB. */
  highWaterMark?: number;
  /** ms the socket may stay above `highWaterMark` before it is closed 1008. 0 disables. Default 30000. */
  backpressureTimeout?: number;
  /** Unsent bytes before the slow-client policy applies. Default 8 MiB. */
  maxBufferedAmount?: number;
  /** TLS options for wss: URLs (ca, servername, rejectUnauthorized, ...). */
  tls?: ConnectionOptions;
}

const MAX_RESPONSE_HEAD = 16 * 1024;
const clientLimiter = new ZlibLimiter(DEFAULT_CONCURRENCY);

/**
 * Opens a WebSocket connection to a `ws:` or `wss:` URL and resolves once the handshake is done.
 * Rejects with a {@link WebSocketError} (`WS_HANDSHAKE`, `WS_CONNECT`, `WS_TIMEOUT`).
 *
 * @example
 * const ws = await connect('ws://127.0.0.1:8080/chat', { protocols: ['chat'] });
 * ws.on('message', (m) => console.log(m));
 * ws.send('hello');
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    return Promise.reject(new WebSocketError(WebSocketErrorCode.URL, `unsupported URL scheme ${u.protocol}`));
  }
  const secure = u.protocol === 'wss:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port !== '' ? Number(u.port) : secure ? 443 : 80;
  const key = randomBytes(16).toString('base64');
  const pmd = options.perMessageDeflate;
  const deflateOpts: PerMessageDeflateOptions | null =
    pmd === true ? {} : pmd === false || pmd === undefined ? null : pmd;

  let req = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (options.protocols !== undefined && options.protocols.length > 0)
    req += `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
  if (deflateOpts !== null) {
    const offer: DeflateParams = {
      serverNoContextTakeover: deflateOpts.serverNoContextTakeover === true,
      clientNoContextTakeover: deflateOpts.clientNoContextTakeover === true,
      serverMaxWindowBits: deflateOpts.serverMaxWindowBits ?? 0,
      clientMaxWindowBits: deflateOpts.clientMaxWindowBits ?? -1,
    };
    req += `Sec-WebSocket-Extensions: ${formatDeflateParams(offer)}\r\n`;
  }
  if (options.headers !== undefined)
    for (const [k, v] of Object.entries(options.headers)) req += `${k}: ${v}\r\n`;
  req += '\r\n';

  return new Promise((resolve, reject) => {
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: host, ...options.tls })
      : netConnect({ host, port });
    let head: Buffer = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(
      () => finish(new WebSocketError(WebSocketErrorCode.TIMEOUT, 'handshake timed out')),
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    );
    const finish = (err: WebSocketError | null, ws?: WebSocket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (err !== null) {
        socket.destroy();
        reject(err);
      } else resolve(ws!);
    };
    const onError = (e: Error) => finish(new WebSocketError(WebSocketErrorCode.CONNECT, e.message));
    const onClose = () =>
      finish(new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'connection closed during the handshake'));
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD)
          finish(new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'response head too large'));
        return;
      }
      socket.pause();
      const rest = head.subarray(end + 4);
      let ws: WebSocket;
      try {
        const { protocol, extensions, deflate } = checkResponse(
          head.toString('latin1', 0, end),
          key,
          options.protocols ?? [],
          deflateOpts,
        );
        const pmdInstance =
          deflate !== null ? new PerMessageDeflate(deflate, false, deflateOpts!, clientLimiter) : null;
        ws = new WebSocket(
          fromNodeSocket(socket),
          false,
          {
            maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
            closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
            highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
            backpressureTimeout: options.backpressureTimeout ?? DEFAULT_BACKPRESSURE_TIMEOUT,
            maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
            slowClientPolicy: 'close',
          },
          protocol,
          extensions,
          pmdInstance,
          deflateOpts?.threshold ?? DEFAULT_THRESHOLD,
          null,
        );
      } catch (e) {
        finish(e instanceof WebSocketError ? e : new WebSocketError(WebSocketErrorCode.HANDSHAKE, String(e)));
        return;
      }
      finish(null, ws);
      // frames that followed the 101 in the same read are delivered after the caller attached listeners
      queueMicrotask(() => {
        if (rest.length > 0) ws.onData(rest);
        socket.resume();
      });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(req));
  });
}

function checkResponse(
  head: string,
  key: string,
  offered: string[],
  deflateOpts: PerMessageDeflateOptions | null,
): { protocol: string; extensions: string; deflate: DeflateParams | null } {
  const lines = head.split('\r\n');
  const status = lines[0] ?? '';
  if (!status.startsWith('HTTP/1.1 101 ')) {
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, `unexpected response: ${status}`);
  }
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c = line.indexOf(':');
    if (c <= 0) throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'malformed response header');
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  if (!hasToken(headers.get('upgrade'), 'websocket'))
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'missing Upgrade: websocket');
  if (!hasToken(headers.get('connection'), 'upgrade'))
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'missing Connection: upgrade');
  if (headers.get('sec-websocket-accept') !== acceptKey(key))
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'bad Sec-WebSocket-Accept');
  const protocol = headers.get('sec-websocket-protocol') ?? '';
  if (protocol !== '' && !offered.includes(protocol))
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'server chose a protocol not offered');
  if (protocol === '' && headers.has('sec-websocket-protocol'))
    throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'empty Sec-WebSocket-Protocol');
  const extHeader = headers.get('sec-websocket-extensions');
  let deflate: DeflateParams | null = null;
  if (extHeader !== undefined) {
    const exts = parseExtensions(extHeader);
    if (exts === null)
      throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'malformed Sec-WebSocket-Extensions');
    for (const [name, params] of exts) {
      if (name !== 'permessage-deflate' || deflateOpts === null || deflate !== null) {
        throw new WebSocketError(
          WebSocketErrorCode.HANDSHAKE,
          `server accepted an extension not offered: ${name}`,
        );
      }
      const p = readDeflateParams(params);
      if (p === null || p.clientMaxWindowBits === -1)
        throw new WebSocketError(WebSocketErrorCode.HANDSHAKE, 'invalid permessage-deflate response');
      deflate = p;
    }
  }
  return { protocol, extensions: extHeader ?? '', deflate };
}
