/**
 * One load-client process of the echo benchmark (forked by `echo.ts`, pinned to the client core).
 * Config comes in the first IPC message; it opens its share of the connections, then:
 * 'start' resets the counters, 'stop' reports `{ count, lat }` (lat = sampled round trips in ms).
 *
 * Per connection it keeps `inflight` messages outstanding: it writes `inflight` frames at once after
 * the handshake and, for every read, one write holding as many new frames as echoes just completed.
 * It parses only frame headers and skips payload bytes.
 *
 * Reads go into one preallocated buffer per connection (`net.connect`'s `onread`), so the client
 * allocates nothing per read and skips the stream machinery: on this 2-core box the client has one
 * core, and every microsecond it spends is a message per second neither server can show.
 * `CLIENT_READ=stream` restores plain `'data'` events (a fresh Buffer per read).
 */
import { connect, type Socket } from 'node:net';

interface WorkerConfig {
  port: number;
  conns: number;
  inflight: number;
  /** one complete masked client frame */
  frame: string;
  deflate: boolean;
  /** 'static': onread into a reused buffer (default); 'stream': 'data' events */
  read: 'static' | 'stream';
}

/** Size of each connection's reused read buffer (the most one read returns). */
const READ_BUFFER = 256 * 1024;

const LAT_SAMPLES = 20000;

function run(cfg: WorkerConfig): void {
  const frame = Buffer.from(cfg.frame, 'base64');
  const burst = Buffer.concat(Array.from({ length: cfg.inflight }, () => frame));
  const offer = cfg.deflate
    ? 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n'
    : '';
  const sockets: Socket[] = [];
  let counting = false;
  let count = 0;
  // reservoir of round-trip samples
  const lat = new Float64Array(LAT_SAMPLES);
  let latN = 0;
  let seen = 0;
  let ready = 0;

  for (let c = 0; c < cfg.conns; c++) {
    let handshaken = false;
    let head = Buffer.alloc(0);
    const hdr = Buffer.alloc(10);
    let hdrLen = 0;
    let skip = 0;
    // send times of outstanding messages (FIFO ring)
    const sent = new Float64Array(cfg.inflight);
    let sentHead = 0;
    let sentTail = 0;
    const sendN = (n: number) => {
      const now = performance.now();
      for (let i = 0; i < n; i++) {
        sent[sentTail] = now;
        sentTail = (sentTail + 1) % cfg.inflight;
      }
      sock.write(n === cfg.inflight ? burst : burst.subarray(0, n * frame.length));
    };
    let done = 0;
    const frameDone = () => {
      const t0 = sent[sentHead]!;
      sentHead = (sentHead + 1) % cfg.inflight;
      if (counting) {
        count++;
        const rt = performance.now() - t0;
        seen++;
        if (latN < LAT_SAMPLES) lat[latN++] = rt;
        else {
          const j = Math.floor(Math.random() * seen);
          if (j < LAT_SAMPLES) lat[j] = rt;
        }
      }
      done++;
    };
    const onChunk = (input: Buffer): void => {
      let chunk = input;
      let p = 0;
      if (!handshaken) {
        head = Buffer.concat([head, chunk]); // copies: `input` may be the reused read buffer
        const e = head.indexOf('\r\n\r\n');
        if (e < 0) return;
        handshaken = true;
        chunk = head.subarray(e + 4);
        if (++ready === cfg.conns) process.send!({ type: 'ready' });
        sendN(cfg.inflight);
      }
      const n = chunk.length;
      done = 0;
      while (p < n) {
        if (skip > 0) {
          const k = Math.min(skip, n - p);
          skip -= k;
          p += k;
          if (skip === 0) frameDone();
          continue;
        }
        hdr[hdrLen++] = chunk[p++]!;
        if (hdrLen < 2) continue;
        const l7 = hdr[1]! & 0x7f;
        const hs = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (hdrLen < hs) continue;
        const len = l7 === 126 ? hdr.readUInt16BE(2) : l7 === 127 ? hdr.readUInt32BE(6) : l7;
        hdrLen = 0;
        if (len === 0) frameDone();
        else skip = len;
      }
      if (done > 0) sendN(done);
    };
    const readBuf = cfg.read === 'static' ? Buffer.allocUnsafe(READ_BUFFER) : null;
    const sock =
      readBuf === null
        ? connect({ host: '127.0.0.1', port: cfg.port })
        : connect({
            host: '127.0.0.1',
            port: cfg.port,
            onread: {
              buffer: readBuf,
              callback: (nread: number, buf: Uint8Array): boolean => {
                onChunk((buf as Buffer).subarray(0, nread));
                return true;
              },
            },
          });
    if (readBuf === null) sock.on('data', onChunk);
    sock.setNoDelay(true);
    sockets.push(sock);
    sock.on('error', (err) => {
      process.stderr.write(`load worker socket error: ${err.message}\n`);
      process.exit(1);
    });
    sock.on('connect', () =>
      sock.write(
        `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`,
      ),
    );
  }

  process.on('message', (m: { type: string }) => {
    if (m.type === 'start') {
      counting = true;
      count = 0;
      latN = 0;
      seen = 0;
    } else if (m.type === 'stop') {
      counting = false;
      for (const s of sockets) s.destroy();
      process.send!({ type: 'result', count, lat: Array.from(lat.subarray(0, latN)) }, () => process.exit(0));
    }
  });
}

process.once('message', (cfg: WorkerConfig) => run(cfg));
