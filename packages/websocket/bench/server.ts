/**
 * Echo server for the benchmark, one per process: `tsx bench/server.ts <strata|ws> <plain|deflate>`.
 * Both sit behind the same node:http 'upgrade' front; prints the port on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
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

// BENCH_GC=1: print a GC summary (count and ms by kind) to stderr when stopped
const gc = new Map<number, [number, number]>();
if (process.env.BENCH_GC === '1') {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind: number } }).detail?.kind ?? 0;
      const g = gc.get(kind) ?? [0, 0];
      g[0]++;
      g[1] += e.duration;
      gc.set(kind, g);
    }
  }).observe({ entryTypes: ['gc'] });
}
process.on('SIGTERM', () => {
  if (gc.size > 0) {
    const names: Record<number, string> = {
      1: 'scavenge',
      2: 'minor-mc',
      4: 'mark-compact',
      8: 'incremental',
      16: 'weak-cb',
    };
    const parts = [...gc].map(([k, [n, ms]]) => `${names[k] ?? k}: ${n} x, ${ms.toFixed(0)} ms`);
    process.stderr.write(`[${impl} ${mode}] gc ${parts.join('; ')}\n`);
  }
  process.exit(0);
});
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port=${(http.address() as AddressInfo).port}\n`);
});
