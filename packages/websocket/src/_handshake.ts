import { createHash } from 'node:crypto';
import { WebSocketError, WebSocketErrorCode, WS_GUID } from './_constants';
import {
  acceptDeflateOffer,
  type DeflateParams,
  formatDeflateParams,
  type PerMessageDeflateOptions,
  parseExtensions,
  readDeflateParams,
} from './_deflate';

/**
 * The request fields the handshake needs. `@strata/server`'s `ServerRequest` satisfies it, and
 * {@link fromNodeRequest} adapts a `node:http` `IncomingMessage`.
 */
export interface UpgradeRequest {
  readonly method: string;
  /** '1.0' | '1.1' */
  readonly httpVersion: string;
  readonly url?: string;
  /** First value of a header (case-insensitive name), or undefined. */
  header(name: string): string | undefined;
  /** Flat [name, value, ...] in arrival order; used to join repeated headers. */
  readonly rawHeaders?: readonly string[];
}

/** Computes `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** True when `key` is base64 of exactly 16 bytes: 22 base64 chars then '=='. */
export function isValidKey(key: string): boolean {
  if (key.length !== 24 || key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false; // '='
  for (let i = 0; i < 22; i++) {
    const c = key.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || // 'A'..'Z'
      (c >= 0x61 && c <= 0x7a) || // 'a'..'z'
      (c >= 0x30 && c <= 0x39) || // '0'..'9'
      c === 0x2b || // '+'
      c === 0x2f; // '/'
    if (!ok) return false;
  }
  // the last char before '==' carries 2 bits of padding that must be zero: one of A Q g w
  const last = key.charCodeAt(21);
  return last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77;
}

/** All values of a header, joined with ', ' (RFC 7230 §3.2.2); undefined when absent. */
export function headerList(req: UpgradeRequest, name: string): string | undefined {
  const raw = req.rawHeaders;
  if (raw === undefined) return req.header(name);
  let out: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) {
      out = out === undefined ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
    }
  }
  return out;
}

function countHeader(req: UpgradeRequest, name: string): number {
  const raw = req.rawHeaders;
  if (raw === undefined) return req.header(name) === undefined ? 0 : 1;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

/** True when the comma-separated token list `value` contains `token` (case-insensitive). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) if (parts[i]!.trim().toLowerCase() === token) return true;
  return false;
}

/** Handshake settings (a subset of the server options). */
export interface HandshakeOptions {
  perMessageDeflate: PerMessageDeflateOptions | null;
  handleProtocols?: ((protocols: string[], req: UpgradeRequest) => string | false) | undefined;
  verifyOrigin?: ((origin: string | undefined, req: UpgradeRequest) => boolean) | undefined;
}

/** A successful negotiation. */
export interface HandshakeResult {
  key: string;
  protocol: string;
  deflate: DeflateParams | null;
  /** The complete 101 response bytes. */
  response: Buffer;
}

/**
 * Validates an upgrade request (RFC 6455 §4.2.1) and negotiates subprotocol and extensions.
 * Throws a {@link WebSocketError} with `status` (400, 403, 405, 426) and a stable `code`.
 */
export function negotiate(req: UpgradeRequest, opts: HandshakeOptions): HandshakeResult {
  if (req.method !== 'GET')
    throw new WebSocketError(WebSocketErrorCode.METHOD, 'WebSocket upgrade requires GET');
  if (req.httpVersion !== '1.1')
    throw new WebSocketError(WebSocketErrorCode.HTTP_VERSION, 'WebSocket upgrade requires HTTP/1.1');
  if (!hasToken(headerList(req, 'upgrade'), 'websocket')) {
    throw new WebSocketError(WebSocketErrorCode.UPGRADE_HEADER, 'missing "Upgrade: websocket"');
  }
  if (!hasToken(headerList(req, 'connection'), 'upgrade')) {
    throw new WebSocketError(WebSocketErrorCode.CONNECTION_HEADER, 'missing "Connection: upgrade"');
  }
  const version = req.header('sec-websocket-version');
  if (version === undefined || version.trim() !== '13' || countHeader(req, 'sec-websocket-version') !== 1) {
    throw new WebSocketError(
      WebSocketErrorCode.VERSION,
      'unsupported Sec-WebSocket-Version (13 is supported)',
    );
  }
  const key = req.header('sec-websocket-key')?.trim();
  if (key === undefined || !isValidKey(key) || countHeader(req, 'sec-websocket-key') !== 1) {
    throw new WebSocketError(WebSocketErrorCode.KEY, 'missing or invalid Sec-WebSocket-Key');
  }
  if (opts.verifyOrigin !== undefined && !opts.verifyOrigin(req.header('origin'), req)) {
    throw new WebSocketError(WebSocketErrorCode.ORIGIN, 'origin not allowed');
  }
  let protocol = '';
  const protoHeader = headerList(req, 'sec-websocket-protocol');
  if (protoHeader !== undefined) {
    const offered: string[] = [];
    for (const p of protoHeader.split(',')) {
      const t = p.trim();
      if (t === '' || offered.includes(t))
        throw new WebSocketError(WebSocketErrorCode.PROTOCOL, 'invalid Sec-WebSocket-Protocol');
      offered.push(t);
    }
    if (opts.handleProtocols !== undefined) {
      const chosen = opts.handleProtocols(offered, req);
      if (chosen !== false) {
        if (!offered.includes(chosen))
          throw new WebSocketError(
            WebSocketErrorCode.PROTOCOL_NOT_OFFERED,
            'handleProtocols chose a protocol not offered',
          );
        protocol = chosen;
      }
    }
  }
  let deflate: DeflateParams | null = null;
  const extHeader = headerList(req, 'sec-websocket-extensions');
  if (extHeader !== undefined) {
    const exts = parseExtensions(extHeader);
    if (exts === null)
      throw new WebSocketError(WebSocketErrorCode.EXTENSIONS, 'malformed Sec-WebSocket-Extensions');
    if (opts.perMessageDeflate !== null) {
      for (const [name, params] of exts) {
        if (name !== 'permessage-deflate') continue;
        const offer = readDeflateParams(params);
        if (offer === null) continue; // decline an offer we cannot accept (RFC 7692 §5)
        deflate = acceptDeflateOffer(offer, opts.perMessageDeflate);
        if (deflate !== null) break;
      }
    }
  }
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== '') head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (deflate !== null) head += `Sec-WebSocket-Extensions: ${formatDeflateParams(deflate)}\r\n`;
  head += '\r\n';
  return { key, protocol, deflate, response: Buffer.from(head, 'latin1') };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The error response for a refused handshake (Connection: close; a short text body). */
export function errorResponse(err: WebSocketError): Buffer {
  const body = `${err.message}\n`;
  let head = `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-WebSocket-Error: ${err.code}\r\n`;
  if (err.status === 426) head += 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n';
  if (err.status === 405) head += 'Allow: GET\r\n';
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}
