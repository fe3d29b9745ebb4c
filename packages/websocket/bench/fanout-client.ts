/**
 * One subscriber process of the fan-out benchmark (forked by `fanout.ts`, pinned to the client core).
 * Config comes in the first IPC message; it opens its share of the subscriber connections to
 * `/sub` (raw `node:net`, handshake written by hand), says 'ready' once every one is upgraded, then:
 * 'start' resets the counters, 'stop' reports `{ count, lost, hist }` and exits.
 *
 * Every message's payload starts with a stamp (`_fanout-common.ts`): its sequence number and the
 * publisher's send time on the machine-wide monotonic clock. Per delivery the process counts it,
 * puts `receive time - send time` in a latency histogram (the receive time is read once per socket
 * read) and credits the sequence number; once every connection of this process has a message, the
 * process's watermark passes it, and every `ackEvery` messages the watermark goes to the publisher
 * over IPC ({ t: 'wm', wm }). Lost or reordered messages are counted, never waited for.
 *
 * Reads go into one preallocated buffer per connection (`net.connect`'s `onread`), as in
 * `load-worker.ts`: the client core is shared by every client process and must stay cheap.
 */
import { connect, type Socket } from 'node:net';
import { clockOffset, HIST_BINS, histBin, readSeq, readTime, STAMP_LEN } from './_fanout-common';

interface SubscriberConfig {
  port: number;
  conns: number;
  /** The publisher's window: at most this many messages outstanding. */
  window: number;
  /** Report the watermark once it moved this many messages. */
  ackEvery: number;
}

/** Each connection's reused read buffer. */
const READ_BUFFER = 64 * 1024;
/** Handshakes in flight at once (keeps the server's accept backlog short). */
const CONNECT_BATCH = 50;

function run(cfg: SubscriberConfig): void {
  const offset = clockOffset();
  // slot counts per sequence number; the ring is larger than any window, so no slot is reused
  // before the watermark has passed it
  let ring = 1;
  while (ring < cfg.window * 4) ring <<= 1;
  const mask = ring - 1;
  const credits = new Uint32Array(ring);
  const hist = new Uint32Array(HIST_BINS);
  const sockets: Socket[] = [];
  let wm = 0;
  let reported = 0;
  let counting = false;
  let count = 0;
  let lost = 0;
  let lostWarmup = 0;
  let reordered = 0;
  let ready = 0;
  let opened = 0;
  const n = cfg.conns;

  const report = (): void => {
    while (credits[(wm + 1) & mask] === n) {
      credits[(wm + 1) & mask] = 0;
      wm++;
    }
    if (wm - reported >= cfg.ackEvery) {
      reported = wm;
      process.send!({ t: 'wm', wm });
    }
  };

  const open = (): void => {
    const sock = openOne();
    sockets.push(sock);
    opened++;
  };

  const openOne = (): Socket => {
    let handshaken = false;
    let head = '';
    let last = 0;
    // slow path state: a frame split over reads
    const hdr = Buffer.alloc(10);
    let hdrLen = 0;
    let need = 0;
    let pos = 0;
    const meta = Buffer.alloc(STAMP_LEN);
    let now = 0;

    const deliver = (seq: number, sent: number): void => {
      if (counting) {
        count++;
        hist[histBin(now - sent)]!++;
      }
      if (seq <= last) {
        reordered++;
        return;
      }
      if (seq > last + 1) {
        if (counting) lost += seq - last - 1;
        else lostWarmup += seq - last - 1;
      }
      for (let s = last + 1; s <= seq; s++) credits[s & mask]!++;
      last = seq;
    };

    const onChunk = (chunk: Buffer, len: number): void => {
      let p = 0;
      if (!handshaken) {
        head += chunk.toString('latin1', 0, len);
        const e = head.indexOf('\r\n\r\n');
        if (e < 0) return;
        if (!head.startsWith('HTTP/1.1 101')) {
          process.stderr.write(
            `fanout subscriber: handshake refused: ${head.slice(0, head.indexOf('\r\n'))}\n`,
          );
          process.exit(1);
        }
        handshaken = true;
        p = len - (head.length - e - 4);
        head = '';
        if (++ready === n) process.send!({ t: 'ready' });
        else if (opened < n) open();
      }
      now = performance.now() + offset;
      while (p < len) {
        if (hdrLen === 0 && need === 0 && p + 2 <= len && (chunk[p] === 0x81 || chunk[p] === 0x82)) {
          // fast path: a whole short frame in this read (0x81 / 0x82 = FIN + text / binary)
          const l7 = chunk[p + 1]!;
          if (l7 >= STAMP_LEN && l7 < 126 && p + 2 + l7 <= len) {
            deliver(readSeq(chunk, p + 2), readTime(chunk, p + 2));
            p += 2 + l7;
            continue;
          }
        }
        if (need > 0) {
          const k = Math.min(need, len - p);
          if (pos < STAMP_LEN) chunk.copy(meta, pos, p, p + Math.min(k, STAMP_LEN - pos));
          pos += k;
          need -= k;
          p += k;
          if (need === 0) deliver(readSeq(meta, 0), readTime(meta, 0));
          continue;
        }
        hdr[hdrLen++] = chunk[p++]!;
        if (hdrLen < 2) continue;
        const l7 = hdr[1]! & 0x7f;
        const hs = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
        if (hdrLen < hs) continue;
        need = l7 === 126 ? hdr.readUInt16BE(2) : l7 === 127 ? hdr.readUInt32BE(6) : l7;
        hdrLen = 0;
        pos = 0;
        if ((hdr[0] !== 0x81 && hdr[0] !== 0x82) || need < STAMP_LEN) {
          process.stderr.write(
            `fanout subscriber: unexpected frame (opcode ${hdr[0]! & 0x0f}, ${need} bytes)\n`,
          );
          process.exit(1);
        }
      }
      report();
    };

    const sock = connect({
      host: '127.0.0.1',
      port: cfg.port,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (nread: number, buf: Uint8Array): boolean => {
          onChunk(buf as Buffer, nread);
          return true;
        },
      },
    });
    sock.setNoDelay(true);
    sock.on('error', (err) => {
      process.stderr.write(`fanout subscriber: socket error: ${err.message}\n`);
      process.exit(1);
    });
    sock.on('close', () => {
      if (!stopping) {
        process.stderr.write('fanout subscriber: the server closed a subscriber connection\n');
        process.exit(1);
      }
    });
    sock.on('connect', () =>
      sock.write(
        'GET /sub HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    return sock;
  };

  let stopping = false;
  for (let i = 0; i < Math.min(CONNECT_BATCH, n); i++) open();

  process.on('message', (m: { t: string }) => {
    if (m.t === 'start') {
      counting = true;
      count = 0;
      lost = 0;
      hist.fill(0);
    } else if (m.t === 'stop') {
      counting = false;
      stopping = true;
      for (const s of sockets) s.destroy();
      const bins: number[] = [];
      for (let i = 0; i < HIST_BINS; i++) if (hist[i] !== 0) bins.push(i, hist[i]!);
      process.send!({ t: 'result', count, lost, lostWarmup, reordered, wm, hist: bins }, () =>
        process.exit(0),
      );
    }
  });
}

// the coordinator is gone: stop (every process of the benchmark stops by itself)
process.on('disconnect', () => process.exit(0));
process.once('message', (cfg: SubscriberConfig) => run(cfg));
