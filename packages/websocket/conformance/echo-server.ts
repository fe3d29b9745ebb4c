/** The echo server the conformance harness and the benchmark drive (built on node:http's upgrade). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fromNodeRequest, fromNodeSocket, WebSocketServer, type WebSocketServerOptions } from '../src/index';

export async function startEchoServer(
  options: WebSocketServerOptions = {},
): Promise<{ port: number; close: () => Promise<void>; wss: WebSocketServer; http: Server }> {
  const wss = new WebSocketServer({
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: { threshold: 0 },
    heartbeatInterval: 0,
    closeTimeout: 2000,
    maxBufferedAmount: 128 * 1024 * 1024,
    ...options,
  });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const http = createServer((_req, res) => res.writeHead(426).end());
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(fromNodeRequest(req), fromNodeSocket(socket as Socket), head),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    port: (http.address() as AddressInfo).port,
    wss,
    http,
    close: async () => {
      await wss.close({ deadline: 500 });
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
