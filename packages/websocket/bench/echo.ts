/**
 * `pnpm --filter @strata/websocket bench`: echo round trips over 100 connections, 32-byte text and
 * 64 KiB binary messages, with and without permessage-deflate, small messages with 1 and with 16
 * messages in flight per connection; server @strata/websocket vs ws, each in its own process pinned
 * to core 0 (taskset), the same load client (WORKERS processes, `load-worker.ts`) pinned to core 1.
 * Env: ROUNDS (default 3), SECONDS (default 4), CONNS (100), WORKERS (2), PIPELINE (16),
 * SCENARIOS (e.g. `1,3`), CLIENT_READ (`static`, the default, or `stream`), SERVER_NODE_FLAGS (e.g. `--cpu-prof`), BENCH_GC=1 (GC summary per server),
 * SERVER_STDOUT=1 (forward server stdout, e.g. for `--trace-gc`), BASELINE=DIR (also run the
 * @strata/websocket server of another checkout, built and installed, e.g. a `git worktree` of the
 * previous release: a before/after row in the same run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, deflateRawSync } from 'node:zlib';
import { coreTicks, cpuSeconds, peakRssMb } from './_proc';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNS = Number(process.env.CONNS ?? 100);
/** Load-client processes (all pinned to CLIENT_CORE) sharing the connections. */
const WORKERS = Number(process.env.WORKERS ?? 2);
/** Messages outstanding per connection in the pipelined small-message scenarios. */
const PIPELINE = Number(process.env.PIPELINE ?? 16);
const SERVER_CORE = process.env.SERVER_CORE ?? '0';
const CLIENT_CORE = process.env.CLIENT_CORE ?? '1';
/** How the load client reads: 'static' (onread into a reused buffer) or 'stream' ('data' events). */
const CLIENT_READ = process.env.CLIENT_READ === 'stream' ? 'stream' : 'static';
const here = dirname(fileURLToPath(import.meta.url));
/** Another checkout whose @strata/websocket runs as the 'before' row (same run, same load). */
const BASELINE = process.env.BASELINE;
const IMPLS = BASELINE === undefined ? ['strata', 'ws'] : ['strata', 'before', 'ws'];
const LABEL: Record<string, string> = {
  strata: '@strata/websocket',
  before: '@strata/websocket (before)',
  ws: 'ws 8.18.3',
};

interface Scenario {
  name: string;
  size: number;
  binary: boolean;
  deflate: boolean;
  /** messages outstanding per connection */
  inflight: number;
}
const allScenarios: Scenario[] = [
  { name: '32 B text, 1 in flight', size: 32, binary: false, deflate: false, inflight: 1 },
  { name: `32 B text, ${PIPELINE} in flight`, size: 32, binary: false, deflate: false, inflight: PIPELINE },
  { name: '64 KiB binary', size: 65536, binary: true, deflate: false, inflight: 1 },
  { name: '32 B text, deflate, 1 in flight', size: 32, binary: false, deflate: true, inflight: 1 },
  {
    name: `32 B text, deflate, ${PIPELINE} in flight`,
    size: 32,
    binary: false,
    deflate: true,
    inflight: PIPELINE,
  },
  { name: '64 KiB binary, deflate', size: 65536, binary: true, deflate: true, inflight: 1 },
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
  // node itself (not the tsx wrapper) so the server is one process; SERVER_NODE_FLAGS e.g. --cpu-prof
  const flags = (process.env.SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(
    'taskset',
    [
      '-c',
      SERVER_CORE,
      process.execPath,
      ...flags,
      '--import',
      'tsx',
      impl === 'before' ? join(BASELINE!, 'packages/websocket/bench/server.ts') : join(here, 'server.ts'),
      impl === 'before' ? 'strata' : impl,
      deflate ? 'deflate' : 'plain',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    // the server prints `port=N`; anything else (e.g. --trace-gc output) goes to stderr on request
    let port = 0;
    let pending = '';
    proc.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /^port=(\d+)$/.exec(line);
        if (m !== null && port === 0) {
          port = Number(m[1]);
          resolve({ proc, port });
        } else if (process.env.SERVER_STDOUT === '1') process.stderr.write(`${line}\n`);
      }
    });
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

interface Result {
  /** server CPU microseconds per echoed message */
  cpuUs: number;
  msgs: number;
  mbps: number;
  p99: number;
  rss: number;
  /** busy fraction of the client core during the measured window (all processes on it) */
  clientBusy: number;
}

interface WorkerResult {
  type: 'result';
  count: number;
  lat: number[];
}

/** Forks WORKERS load processes on the client core, sharing CONNS connections. */
async function runLoad(port: number, s: Scenario, serverPid: number): Promise<Result> {
  const payload = payloadFor(s);
  const frame = clientFrame(s, payload).toString('base64');
  const workers: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const conns = Math.floor(CONNS / WORKERS) + (w < CONNS % WORKERS ? 1 : 0);
    const child = spawn(
      'taskset',
      ['-c', CLIENT_CORE, process.execPath, '--import', 'tsx', join(here, 'load-worker.ts')],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    workers.push(child);
    ready.push(
      new Promise<void>((resolve, reject) => {
        child.on('message', (m: { type: string }) => {
          if (m.type === 'ready') resolve();
        });
        child.once('exit', (c) => reject(new Error(`load worker exited ${c}`)));
      }),
    );
    child.send({ port, conns, inflight: s.inflight, frame, deflate: s.deflate, read: CLIENT_READ });
  }
  await Promise.all(ready);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  for (const w of workers) w.send({ type: 'start' });
  const t0 = performance.now();
  const cpu0 = cpuSeconds(serverPid);
  const core0 = coreTicks(CLIENT_CORE);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu1 = cpuSeconds(serverPid);
  const core1 = coreTicks(CLIENT_CORE);
  const secs = (performance.now() - t0) / 1000;
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<WorkerResult>((resolve) => {
          w.on('message', (m: WorkerResult) => {
            if (m.type === 'result') resolve(m);
          });
          w.send({ type: 'stop' });
        }),
    ),
  );
  await Promise.all(workers.map((w) => (w.exitCode === null ? new Promise((r) => w.once('exit', r)) : null)));
  let count = 0;
  const lat: number[] = [];
  for (const r of results) {
    count += r.count;
    for (const x of r.lat) lat.push(x);
  }
  lat.sort((a, b) => a - b);
  return {
    cpuUs: ((cpu1 - cpu0) * 1e6) / Math.max(1, count),
    msgs: count / secs,
    mbps: (count * payload.length * 2) / secs / 1e6,
    p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN,
    rss: 0,
    clientBusy: (core1[0] - core0[0]) / Math.max(1, core1[1] - core0[1]),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// the coordinating process only waits; keep it off the server core too
try {
  spawn('taskset', ['-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
} catch {}

const rows: string[] = [];
console.log(
  `echo benchmark: ${CONNS} connections over ${WORKERS} client processes (core ${CLIENT_CORE}, ${CLIENT_READ} reads), server on core ${SERVER_CORE}, ${SECONDS}s per run, ${ROUNDS} rounds (median), Node ${process.version}`,
);
for (const s of scenarios) {
  const per: Record<string, Result[]> = { strata: [], before: [], ws: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // every server takes every place in the order in turn (the first run after a switch is often
    // slower): use a multiple of the number of servers as ROUNDS
    const k = r % IMPLS.length;
    for (const impl of [...IMPLS.slice(k), ...IMPLS.slice(0, k)]) {
      const { proc, port } = await startServer(impl, s.deflate);
      const res = await runLoad(port, s, proc.pid!);
      res.rss = peakRssMb(proc.pid!, 'max');
      proc.kill();
      await new Promise((r2) => proc.once('exit', r2));
      per[impl]!.push(res);
    }
  }
  const m = (impl: string, k: keyof Result) => median(per[impl]!.map((x) => x[k]));
  for (const impl of IMPLS) {
    const ratio = m(impl, 'msgs') / m('ws', 'msgs');
    const cpuRatio = m('ws', 'cpuUs') / m(impl, 'cpuUs');
    rows.push(
      `| ${s.name} | ${LABEL[impl]} | ${Math.round(m(impl, 'msgs')).toLocaleString('en-US')} | ${m(impl, 'mbps').toFixed(1)} | ${m(impl, 'p99').toFixed(2)} | ${m(impl, 'cpuUs').toFixed(1)} | ${m(impl, 'rss').toFixed(0)} | ${ratio.toFixed(2)}x | ${cpuRatio.toFixed(2)}x |`,
    );
  }
  console.log(
    `${s.name}: strata ${Math.round(m('strata', 'msgs'))} msg/s ${m('strata', 'cpuUs').toFixed(1)} µs CPU/msg, client core ${(m('strata', 'clientBusy') * 100).toFixed(0)}% busy; ws ${Math.round(m('ws', 'msgs'))} msg/s ${m('ws', 'cpuUs').toFixed(1)} µs CPU/msg, client core ${(m('ws', 'clientBusy') * 100).toFixed(0)}% busy`,
  );
}
console.log(
  '\n| scenario | server | messages/s | MB/s (both ways) | p99 ms | server CPU µs/msg | peak RSS MB | msg/s vs ws | CPU/msg vs ws |\n|---|---|---:|---:|---:|---:|---:|---:|---:|',
);
console.log(rows.join('\n'));
