// The load client of the upload scenarios (plain JS, so no loader runs in the process; run.ts pins it
// to core 1 with taskset). Streams `--uploads` POST `--path` requests of `--mib` MiB each over `--conns`
// keep-alive connections, one upload at a time per connection, and checks every answer
// (`{ "bytes": N, "sha256": "..." }`) against the body it sent. The body is a 1 MiB pseudo-random
// block written `--mib` times, each write waiting for 'drain' when the socket is full, so the client
// never holds more than that one block (each write of it waits until the last one was taken).
//
// Usage: node src/upload-client.mjs --port P [--path /upload] [--uploads 12] [--conns 4] [--mib 100]
//                                    [--timeout 180]
// Prints one line: RESULT {"uploads":n,"errors":n,"bytes":n,"seconds":s,"perUpload":[s,...],"cpuS":s,
// "firstError":...} (cpuS: the client's own user+system CPU time).
import { createHash } from 'node:crypto';
import net from 'node:net';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const port = Number(arg('port', '0'));
const path = arg('path', '/upload');
const uploads = Number(arg('uploads', '12'));
const conns = Math.max(1, Math.min(Number(arg('conns', '4')), uploads));
const mib = Number(arg('mib', '100'));
const timeoutS = Number(arg('timeout', '180'));
const host = '127.0.0.1';

// A fixed pseudo-random block (xorshift32), so the bytes do not compress and the hash is known.
const BLOCK = Buffer.allocUnsafe(1024 * 1024);
let x = 0x9e3779b9;
for (let i = 0; i < BLOCK.length; i += 4) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  BLOCK.writeUInt32LE(x >>> 0, i);
}
const BODY_BYTES = BLOCK.length * mib;
const expected = createHash('sha256');
for (let i = 0; i < mib; i++) expected.update(BLOCK);
const SHA256 = expected.digest('hex');
const HEAD = Buffer.from(
  `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`,
  'latin1',
);

let started = 0;
let done = 0;
let firstError = null;
const perUpload = [];
const sockets = new Set();

function fail(msg) {
  firstError ??= msg;
}

/** One keep-alive connection; resolves when it is closed. */
function open() {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, noDelay: true });
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    let waiter = null; // resolves with the parsed response, or an Error
    let closed = false;
    let attempted = false;
    let onDrain = null; // resumes the writer on 'drain' or 'close'
    const wakeWriter = () => {
      const w = onDrain;
      onDrain = null;
      w?.();
    };
    socket.on('drain', wakeWriter);
    const settle = (v) => {
      const w = waiter;
      waiter = null;
      w?.(v);
    };
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.latin1Slice(0, end);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + len) return;
      const status = Number(head.slice(9, 12));
      const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
      buf = buf.subarray(end + 4 + len);
      settle({ status, body, close: /\r\nconnection:\s*close/i.test(head) });
    });
    socket.on('error', (e) => settle(e));
    socket.on('close', () => {
      closed = true;
      sockets.delete(socket);
      settle(new Error('connection closed'));
      wakeWriter();
      if (!attempted && started < uploads) {
        // Never got to send (refused, reset): spend one upload on it, so a dead server ends the run.
        started++;
        fail('connection closed before an upload started');
      }
      resolve();
    });
    const response = new Promise((r) => (waiter = r));
    const drain = () => new Promise((r) => (onDrain = r));
    const run = async () => {
      let next = response;
      while (!closed && started < uploads) {
        started++;
        attempted = true;
        const t0 = process.hrtime.bigint();
        let early = null;
        next.then((v) => (early = v));
        socket.write(HEAD);
        for (let i = 0; i < mib && !closed && early === null; i++) {
          if (!socket.write(BLOCK)) await drain();
        }
        const res = await next;
        next = new Promise((r) => (waiter = r));
        if (res instanceof Error) {
          fail(`upload ${started}: ${res.message}`);
          break;
        }
        let ok = res.status === 200;
        if (ok) {
          try {
            const j = JSON.parse(res.body);
            ok = j.bytes === BODY_BYTES && j.sha256 === SHA256;
          } catch {
            ok = false;
          }
        }
        if (!ok) {
          fail(`upload ${started}: ${res.status} ${res.body.slice(0, 200)}`);
          break; // the server may not have read the body: start again on a new connection
        }
        done++;
        perUpload.push(Number(process.hrtime.bigint() - t0) / 1e9);
        if (res.close) break;
      }
    };
    // The last response is read whole, so destroying the socket loses nothing (and needs no FIN back).
    socket.once('connect', () =>
      run()
        .catch((e) => fail(String(e)))
        .finally(() => socket.destroy()),
    );
  });
}

const t0 = process.hrtime.bigint();
const timer = setTimeout(() => {
  fail(`timeout after ${timeoutS} s`);
  for (const s of sockets) s.destroy();
  started = uploads;
}, timeoutS * 1000);

async function worker() {
  // A failed upload closes its connection; the next one opens a new connection.
  while (started < uploads) await open();
}
await Promise.all(Array.from({ length: conns }, worker));
clearTimeout(timer);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
// Every planned upload that did not come back with the right count and hash is an error.
const cpu = process.cpuUsage();
const result = {
  uploads: done,
  errors: uploads - done,
  bytes: done * BODY_BYTES,
  seconds,
  perUpload,
  cpuS: (cpu.user + cpu.system) / 1e6,
  firstError,
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
