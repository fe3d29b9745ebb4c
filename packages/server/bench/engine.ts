/**
 * Engine cost per request without sockets: a connection that discards writes, fed one request per
 * read (keep-alive shape) and 16 per read (pipelined shape). Measures parser + engine + response
 * writer (no router: the server never imports it). End-to-end figures against node:http, fastify,
 * hono, Bun, uWS and a raw node:net ceiling come from `apps/bench` (`pnpm bench:http`).
 *
 * Usage: pnpm --filter @strata/server bench
 */
import type { Connection, ConnectionHandlers } from '@strata/transport';
import { createEngine } from '../src/_server';

class NullConnection {
  id = 1;
  data: unknown = null;
  idle = true;
  proxy = null;
  encrypted = false;
  remoteAddress = '127.0.0.1';
  remotePort = 5000;
  localAddress = '127.0.0.1';
  localPort = 80;
  closed = false;
  writableLength = 0;
  bytes = 0;
  write(d: Uint8Array | string): boolean {
    this.bytes += d.length;
    return true;
  }
  cork() {}
  uncork() {}
  end() {}
  destroy() {}
  pause() {}
  resume() {}
  setIdleTimeout() {}
  setHandlers(_h: ConnectionHandlers) {}
}

const HELLO = 'Hello, World!';
const engine = createEngine({
  handler(_req, res) {
    res.header('content-type', 'text/plain').send(HELLO);
  },
});
const conn = new NullConnection() as unknown as Connection & NullConnection;
engine.handlers.onOpen!(conn);
const one = Buffer.from('GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n', 'latin1');
const sixteen = Buffer.from(one.toString('latin1').repeat(16), 'latin1');

function run(chunk: Buffer, perChunk: number, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) engine.handlers.onData(conn, chunk);
  return Number(process.hrtime.bigint() - t0) / (n * perChunk);
}

for (let round = 0; round < 5; round++) {
  const a = run(one, 1, 200_000);
  const b = run(sixteen, 16, 20_000);
  console.log(`round ${round + 1}: 1/read ${a.toFixed(0)} ns/req   16/read ${b.toFixed(0)} ns/req`);
}
console.log(`bytes out ${conn.bytes}`);
