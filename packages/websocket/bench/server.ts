/**
 * Echo server for the benchmark, one per process: `tsx bench/server.ts <strata|ws> <plain|deflate>`.
 * Both sit behind the same node:http 'upgrade' front; prints the port on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer as WSServer } from 'ws';
import { fromNodeRequest, fromNodeSocket, WebSocketServer } from '../src/index';

const [impl, mode] = process.argv.slice(2);
const deflate = mode === 'deflate';
const http = createServer((_q, r) => r.writeHead(426).end());

if (impl === 'ws') {
  const wss = new WSServer({
    noServer: true,
    maxPayload: 16 * 1024 * 1024,
    perMessageDeflate: deflate
      ? { threshold: 1024, zlibDeflateOptions: { level: 1 }, concurrencyLimit: 10 }
      : false,
  });
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
  );
} else {
  const wss = new WebSocketServer({
    maxPayload: 16 * 1024 * 1024,
    perMessageDeflate: deflate ? { threshold: 1024, level: 1, concurrency: 10 } : false,
  });
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(fromNodeRequest(req), fromNodeSocket(socket as Socket), head),
  );
}

process.on('SIGTERM', () => process.exit(0));
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(http.address() as AddressInfo).port}\n`);
});
