import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as netConnect, type Socket } from 'node:net';
import { fromNodeRequest, fromNodeSocket, WebSocketServer, type WebSocketServerOptions } from '../src/index';

/** A node:http server whose 'upgrade' event hands the socket to a WebSocketServer (test only). */
export async function startServer(options: WebSocketServerOptions = {}): Promise<{
  port: number;
  wss: WebSocketServer;
  http: Server;
  close: () => Promise<void>;
}> {
  const wss = new WebSocketServer({ heartbeatInterval: 0, ...options });
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(fromNodeRequest(req), fromNodeSocket(socket as Socket), head);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    port,
    wss,
    http,
    close: async () => {
      await wss.close({ deadline: 200 });
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Raw TCP client: sends an upgrade request (with extra header lines) and collects every byte. */
export async function rawClient(
  port: number,
  extraHeaders = '',
): Promise<{
  socket: Socket;
  head: string;
  received: () => Buffer;
  waitClose: () => Promise<void>;
  waitBytes: (n: number) => Promise<Buffer>;
}> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
  let buf = Buffer.alloc(0);
  let closed = false;
  const waiters: Array<() => void> = [];
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (pred: () => boolean) => {
    for (let i = 0; i < 400 && !pred(); i++)
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 25);
      });
  };
  await waitFor(() => buf.indexOf('\r\n\r\n') >= 0 || closed);
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.toString('latin1', 0, end + 4);
  buf = buf.subarray(end + 4);
  return {
    socket,
    head,
    received: () => buf,
    waitClose: () => waitFor(() => closed),
    waitBytes: async (n) => {
      await waitFor(() => buf.length >= n || closed);
      return buf;
    },
  };
}

/** A masked client frame. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  fin = true,
  rsv = 0,
  mask = [0x37, 0xfa, 0x21, 0x3d],
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const len = data.length;
  const hdr: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  if (len < 126) hdr.push(0x80 | len);
  else if (len < 65536) hdr.push(0x80 | 126, len >> 8, len & 0xff);
  else
    hdr.push(
      0x80 | 127,
      0,
      0,
      0,
      0,
      (len >>> 24) & 0xff,
      (len >>> 16) & 0xff,
      (len >>> 8) & 0xff,
      len & 0xff,
    );
  hdr.push(...mask);
  const out = Buffer.concat([Buffer.from(hdr), data]);
  for (let i = 0; i < len; i++) out[hdr.length + i]! ^= mask[i & 3]!;
  return out;
}

/** Parses unmasked server frames from bytes: [{opcode, fin, rsv, payload}]. */
export function parseServerFrames(
  buf: Buffer,
): Array<{ opcode: number; fin: boolean; rsv: number; payload: Buffer }> {
  const out: Array<{ opcode: number; fin: boolean; rsv: number; payload: Buffer }> = [];
  let p = 0;
  while (p + 2 <= buf.length) {
    const b0 = buf[p]!;
    let len = buf[p + 1]! & 0x7f;
    let h = 2;
    if (len === 126) {
      if (p + 4 > buf.length) break;
      len = buf.readUInt16BE(p + 2);
      h = 4;
    } else if (len === 127) {
      if (p + 10 > buf.length) break;
      len = Number(buf.readBigUInt64BE(p + 2));
      h = 10;
    }
    if (p + h + len > buf.length) break;
    out.push({
      opcode: b0 & 0xf,
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      payload: buf.subarray(p + h, p + h + len),
    });
    p += h + len;
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
