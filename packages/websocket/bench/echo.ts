/**
 * `pnpm --filter @strata/websocket bench`: echo round trips, 100 connections, 32-byte text and
 * 64 KiB binary messages, with and without permessage-deflate; server @strata/websocket vs ws,
 * each in its own process pinned to core 0 (taskset), the same raw load client on core 1.
 * Env: ROUNDS (default 3), SECONDS (default 4), CONNS (default 100).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, deflateRawSync } from 'node:zlib';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNS = Number(process.env.CONNS ?? 100);
const here = dirname(fileURLToPath(import.meta.url));

interface Scenario {
  name: string;
  size: number;
  binary: boolean;
  deflate: boolean;
}
const allScenarios: Scenario[] = [
  { name: '32 B text', size: 32, binary: false, deflate: false },
  { name: '64 KiB binary', size: 65536, binary: true, deflate: false },
  { name: '32 B text, deflate', size: 32, binary: false, deflate: true },
  { name: '64 KiB binary, deflate', size: 65536, binary: true, deflate: true },
];

const only = process.env.SCENARIOS;
const scenarios = allScenarios.filter(
  (_, i) => only === undefined || only.split(',').includes(String(i + 1)),
);

function payloadFor(s: Scenario): Buffer {
  if (!s.binary) return Buffer.from('{"type":"chat","msg":"hi there"}'.slice(0, s.size).padEnd(s.size, '.'));
  // compressible but not trivial: JSON-ish records with varying numbers
  let txt = '';
  for (let i = 0; txt.length < s.size; i++)
    txt += `{"id":${i},"v":${(i * 7919) % 10007},"name":"item-${i}"},`;
  return Buffer.from(txt.slice(0, s.size));
}

/** The client frame: masked, compressed (RSV1, no context takeover) when `deflate`. */
function clientFrame(s: Scenario, payload: Buffer): Buffer {
  let data = payload;
  let rsv1 = 0;
  if (s.deflate && payload.length >= 1024) {
    const c = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH, level: 1 });
    data = c.subarray(0, c.length - 4);
    rsv1 = 0x40;
  }
  const len = data.length;
  const h =
    len < 126
      ? [0x80 | len]
      : len < 65536
        ? [0x80 | 126, len >> 8, len & 0xff]
        : [0x80 | 127, 0, 0, 0, 0, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
  const mask = [0x12, 0x34, 0x56, 0x78];
  const out = Buffer.concat([Buffer.from([0x80 | rsv1 | (s.binary ? 2 : 1), ...h, ...mask]), data]);
  for (let i = 0; i < len; i++) out[out.length - len + i]! ^= mask[i & 3]!;
  return out;
}

function startServer(impl: string, deflate: boolean): Promise<{ proc: ChildProcess; port: number }> {
  const tsx = join(here, '../../../node_modules/.bin/tsx');
  const proc = spawn(
    'taskset',
    ['-c', '0', tsx, join(here, 'server.ts'), impl, deflate ? 'deflate' : 'plain'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve({ proc, port: Number(d.toString().trim()) }));
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

/** user+sys CPU seconds of a process tree (taskset execs node, so it is usually one process). */
function cpuSeconds(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
      const kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const k of kids.split(/\s+/).filter(Boolean)) visit(Number(k));
    } catch {}
  };
  visit(pid);
  return total;
}

function peakRssMb(pid: number): number {
  // the tsx wrapper spawns node: take the largest VmHWM in the process tree
  let best = 0;
  const visit = (p: number) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+)/.exec(status);
      if (m) best = Math.max(best, Number(m[1]) / 1024);
      const kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const k of kids.split(/\s+/).filter(Boolean)) visit(Number(k));
    } catch {}
  };
  visit(pid);
  return best;
}

interface Result {
  /** server CPU microseconds per echoed message */
  cpuUs: number;
  msgs: number;
  mbps: number;
  p99: number;
  rss: number;
}

async function runLoad(port: number, s: Scenario, serverPid: number): Promise<Result> {
  const payload = payloadFor(s);
  const frame = clientFrame(s, payload);
  const offer = s.deflate
    ? 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n'
    : '';
  const sockets: Socket[] = [];
  let counting = false;
  let count = 0;
  const lat: number[] = [];
  await Promise.all(
    Array.from(
      { length: CONNS },
      () =>
        new Promise<void>((resolve, reject) => {
          const sock = connect({ host: '127.0.0.1', port });
          sock.setNoDelay(true);
          sockets.push(sock);
          let handshaken = false;
          let head = Buffer.alloc(0);
          // streaming frame counter: only header bytes are buffered; payload bytes are skipped
          const hdr = Buffer.alloc(10);
          let hdrLen = 0;
          let skip = 0;
          let sentAt = 0;
          const send = () => {
            sentAt = performance.now();
            sock.write(frame);
          };
          const frameDone = () => {
            if (counting) {
              count++;
              lat.push(performance.now() - sentAt);
            }
            send();
          };
          sock.on('error', reject);
          sock.on('connect', () =>
            sock.write(
              `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`,
            ),
          );
          sock.on('data', (chunk: Buffer) => {
            let p = 0;
            if (!handshaken) {
              head = Buffer.concat([head, chunk]);
              const e = head.indexOf('\r\n\r\n');
              if (e < 0) return;
              handshaken = true;
              chunk = head.subarray(e + 4);
              resolve();
              send();
            }
            const n = chunk.length;
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
          });
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  counting = true;
  const t0 = performance.now();
  const cpu0 = cpuSeconds(serverPid);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting = false;
  const cpu1 = cpuSeconds(serverPid);
  const secs = (performance.now() - t0) / 1000;
  for (const s2 of sockets) s2.destroy();
  lat.sort((a, b) => a - b);
  return {
    cpuUs: ((cpu1 - cpu0) * 1e6) / Math.max(1, count),
    msgs: count / secs,
    mbps: (count * payload.length * 2) / secs / 1e6,
    p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN,
    rss: 0,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// the load client itself runs on core 1
try {
  spawn('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
} catch {}

const rows: string[] = [];
console.log(
  `echo benchmark: ${CONNS} connections, ${SECONDS}s per run, ${ROUNDS} rounds (median), Node ${process.version}`,
);
for (const s of scenarios) {
  const per: Record<string, Result[]> = { strata: [], ws: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const impl of r % 2 === 0 ? ['strata', 'ws'] : ['ws', 'strata']) {
      const { proc, port } = await startServer(impl, s.deflate);
      const res = await runLoad(port, s, proc.pid!);
      res.rss = peakRssMb(proc.pid!);
      proc.kill();
      await new Promise((r2) => proc.once('exit', r2));
      per[impl]!.push(res);
    }
  }
  const m = (impl: string, k: keyof Result) => median(per[impl]!.map((x) => x[k]));
  for (const impl of ['strata', 'ws']) {
    const ratio = m(impl, 'msgs') / m('ws', 'msgs');
    const cpuRatio = m('ws', 'cpuUs') / m(impl, 'cpuUs');
    rows.push(
      `| ${s.name} | ${impl === 'strata' ? '@strata/websocket' : 'ws 8.18.3'} | ${Math.round(m(impl, 'msgs')).toLocaleString('en-US')} | ${m(impl, 'mbps').toFixed(1)} | ${m(impl, 'p99').toFixed(2)} | ${m(impl, 'cpuUs').toFixed(1)} | ${m(impl, 'rss').toFixed(0)} | ${ratio.toFixed(2)}x | ${cpuRatio.toFixed(2)}x |`,
    );
  }
  console.log(
    `${s.name}: strata ${Math.round(m('strata', 'msgs'))} msg/s ${m('strata', 'cpuUs').toFixed(1)} µs CPU/msg; ws ${Math.round(m('ws', 'msgs'))} msg/s ${m('ws', 'cpuUs').toFixed(1)} µs CPU/msg`,
  );
}
console.log(
  '\n| scenario | server | messages/s | MB/s (both ways) | p99 ms | server CPU µs/msg | peak RSS MB | msg/s vs ws | CPU/msg vs ws |\n|---|---|---:|---:|---:|---:|---:|---:|---:|',
);
console.log(rows.join('\n'));
