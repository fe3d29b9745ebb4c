/**
 * `pnpm --filter @strata/websocket bench:fanout`: publish/subscribe fan-out (issue #22). One
 * publisher, SUBSCRIBERS (1,000) subscriber connections on one topic, SIZE-byte (64) text messages.
 *
 * Servers, each in its own process(es), all on 127.0.0.1:
 * - `@strata/websocket`: `@strata/server` upgrades, `WebSocketServer.publish(topic, data)`;
 * - `@strata/websocket, 2 workers`: `runCluster` of `@strata/transport/cluster`, each worker a
 *   `new WebSocketServer({ pubsub: clusterPubSub() })` (skipped, loudly, while `clusterPubSub` is not
 *   exported);
 * - uWebSockets.js: `app.publish(topic, data)`.
 * See `fanout-server-strata.ts` and `fanout-server-uws.ts`; the servers are pinned to SERVER_CORE
 * (the cluster's primary and both workers to CLUSTER_CORES, by default the same single core).
 *
 * The publisher is a WebSocket client (this process, `/pub`): it sends each message to the server,
 * which publishes it to the topic, as a chat does. This measures the fan-out best of the choices: the
 * server's work per publish is one received 64-byte frame against SUBSCRIBERS sent ones (~0.1%), the
 * servers stay three lines of application code, the publisher can pace itself on what the
 * subscribers actually received (a timer inside the server cannot see that), and in the cluster the
 * publisher lands on one worker so half of the deliveries cross to the other worker, as in a real
 * deployment. Each payload carries a sequence number and the send time (the machine's monotonic
 * clock, shared by every process).
 *
 * Flow control: a window. At most WINDOW (32) messages are outstanding, where a message is done
 * once EVERY subscriber has received it: each subscriber process (`fanout-client.ts`, WORKERS of them
 * on CLIENT_CORE, sharing the connections) reports over IPC, every WINDOW/4 messages, the newest
 * message all its connections have received; the publisher sends as many new messages as the
 * slowest process's report allows, in one write. So the server never holds more than
 * WINDOW x SUBSCRIBERS messages, and the rate is the most the server (or the client core) sustains.
 * Keep WINDOW at 32 or less when comparing: uWebSockets.js coalesces at most 32 published messages
 * per subscriber per event-loop iteration (`messageIndices[32]` in its TopicTree.h) and beyond that
 * drains early: measured here, WINDOW=128 cost uWS ~5 µs per delivery instead of ~0.25.
 * RATE=N (messages/s) switches to a fixed offered rate, still capped by the window (the table then
 * says how much of the offered rate went out).
 *
 * Reported per server, median of ROUNDS rounds (order alternated per round), after 1 s of warm-up,
 * over SECONDS: deliveries/s (messages received by subscribers, = publishes x subscribers), server
 * CPU µs per delivery (user+sys of the server's processes from /proc, primary and workers summed),
 * latency from the publisher's write to the subscriber process's read (p50/p99, every delivery, in
 * a histogram of 10 µs bins; under the window it is mostly queueing: about WINDOW / publish rate),
 * peak RSS (VmHWM, summed over the server's processes) and the Strata rows' ratios to uWebSockets.js
 * from the same run. How busy the client core was is printed per server: near 100% means the
 * subscribers, not the server, set the pace, and then CPU per delivery is the fairer figure.
 *
 * Env: ROUNDS (3), SECONDS (4), SUBSCRIBERS (1000), SIZE (64, at least 16), WINDOW (32), RATE (0:
 * closed loop), BINARY (0), WORKERS (4 subscriber processes), SERVERS (`strata,cluster,uws`), SERVER_CORE (0),
 * CLUSTER_CORES (SERVER_CORE), CLIENT_CORE (1). Every process stops by itself: servers when their
 * stdin closes or after a lifetime, subscriber processes when their IPC channel closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockOffset, HIST_BINS, quantile, STAMP_LEN, writeStamp } from './_fanout-common';
import { coreTicks, cpuSeconds, peakRssMb } from './_proc';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 4);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const SIZE = Number(process.env.SIZE ?? 64);
/** BINARY=1: binary messages; default text (the payload is ASCII either way). */
const BINARY = process.env.BINARY === '1';
const WINDOW = Number(process.env.WINDOW ?? 32);
const RATE = Number(process.env.RATE ?? 0);
const WORKERS = Math.min(Number(process.env.WORKERS ?? 4), SUBSCRIBERS);
const SERVER_CORE = process.env.SERVER_CORE ?? '0';
const CLUSTER_CORES = process.env.CLUSTER_CORES ?? SERVER_CORE;
const CLIENT_CORE = process.env.CLIENT_CORE ?? '1';
const ACK_EVERY = Math.max(1, Math.floor(WINDOW / 4));
const WARMUP_MS = 1000;
/** No progress for this long while publishing: a server lost messages or a subscriber hangs. */
const STALL_MS = 5000;
const here = dirname(fileURLToPath(import.meta.url));

if (!(SIZE >= STAMP_LEN && SIZE < 65536))
  throw new Error(`SIZE must be ${STAMP_LEN}..65535 (sequence number and send time)`);
if (!(WINDOW >= 1 && SUBSCRIBERS >= 1 && WORKERS >= 1)) throw new Error('WINDOW, SUBSCRIBERS, WORKERS >= 1');

type Impl = 'strata' | 'before' | 'cluster' | 'uws';
const NAMES: Record<Impl, string> = {
  strata: '@strata/websocket',
  before: '@strata/websocket (before)',
  cluster: '@strata/websocket, 2 workers',
  uws: 'uWebSockets.js 20.30',
};
const impls = (process.env.SERVERS ?? 'strata,cluster,uws')
  .split(',')
  .filter((s): s is Impl => s === 'strata' || s === 'cluster' || s === 'uws' || s === 'before');
/**
 * BASELINE=DIR adds a `before` row: DIR's own @strata/websocket (another checkout, e.g. a `git
 * worktree` of the previous release, with this file's `fanout-server-strata.ts` and
 * `_fanout-common.ts` copied into its `packages/websocket/bench/`), in one process.
 */
const BASELINE = process.env.BASELINE;
if (BASELINE !== undefined && !impls.includes('before')) impls.splice(1, 0, 'before');

/** Every server is told to exit after this (s): the whole run with margin. */
const LIFETIME = Math.ceil(SECONDS + 60);

interface Started {
  proc: ChildProcess;
  port: number;
}

class Skip extends Error {}

function startServer(impl: Impl): Promise<Started> {
  const file = impl === 'uws' ? 'fanout-server-uws.ts' : 'fanout-server-strata.ts';
  const args =
    impl === 'uws' ? [String(LIFETIME)] : [impl === 'cluster' ? 'cluster' : 'single', String(LIFETIME)];
  const cores = impl === 'cluster' ? CLUSTER_CORES : SERVER_CORE;
  // node itself (no tsx wrapper process): the pid is the server (the cluster's primary)
  const proc = spawn(
    'taskset',
    [
      '-c',
      cores,
      process.execPath,
      '--conditions=strata-source',
      '--import',
      'tsx',
      impl === 'before' ? join(BASELINE!, 'packages/websocket/bench', file) : join(here, file),
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const skip = /^SKIP (.*)$/m.exec(out);
      if (skip !== null) reject(new Skip(skip[1]));
      const m = /^port=(\d+)$/m.exec(out);
      if (m !== null) resolve({ proc, port: Number(m[1]) });
    });
    proc.once('exit', (c) => reject(new Error(`${impl} server exited with ${c} before serving`)));
  });
}

async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

interface SubResult {
  t: 'result';
  count: number;
  lost: number;
  lostWarmup: number;
  reordered: number;
  wm: number;
  hist: number[];
}

interface Result {
  deliveries: number;
  cpuUs: number;
  p50: number;
  p99: number;
  rss: number;
  clientBusy: number;
  /** publishes/s actually sent */
  publishRate: number;
  lost: number;
}

const offset = clockOffset();
const now = (): number => performance.now() + offset;

/** The publisher's connection: a raw client that sends masked binary frames (mask key 0). */
function openPublisher(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    let head = '';
    let open = false;
    sock.on('data', (d: Buffer) => {
      if (open) return; // the server sends the publisher nothing; ignore whatever comes
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      if (!head.startsWith('HTTP/1.1 101'))
        return reject(new Error(`publisher refused: ${head.split('\r\n')[0]}`));
      open = true;
      resolve(sock);
    });
    sock.on('error', reject);
    sock.on('connect', () =>
      sock.write(
        'GET /pub HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
  });
}

/** One client frame: FIN + text (or binary), masked with key 0 (the payload goes as it is), stamp filled in later. */
const OP = BINARY ? 0x82 : 0x81;
const HEADER =
  SIZE < 126 ? [OP, 0x80 | SIZE, 0, 0, 0, 0] : [OP, 0x80 | 126, SIZE >> 8, SIZE & 0xff, 0, 0, 0, 0];
const FRAME_LEN = HEADER.length + SIZE;
const TEMPLATE = Buffer.concat(
  Array.from({ length: WINDOW }, () => Buffer.concat([Buffer.from(HEADER), Buffer.alloc(SIZE, 0x2e)])),
);

async function runOne(impl: Impl): Promise<Result> {
  const { proc, port } = await startServer(impl);
  const subs: ChildProcess[] = [];
  let publisher: Socket | null = null;
  let stallTimer: NodeJS.Timeout | null = null;
  let rateTimer: NodeJS.Timeout | null = null;
  try {
    const wms = new Array<number>(WORKERS).fill(0);
    let minWm = 0;
    let seq = 0;
    let lastProgress = performance.now();
    let publishing = false;
    let onProgress = (): void => {};
    const ready: Promise<void>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const conns = Math.floor(SUBSCRIBERS / WORKERS) + (w < SUBSCRIBERS % WORKERS ? 1 : 0);
      const child = spawn(
        'taskset',
        ['-c', CLIENT_CORE, process.execPath, '--import', 'tsx', join(here, 'fanout-client.ts')],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      );
      subs.push(child);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('message', (m: { t: string; wm?: number }) => {
            if (m.t === 'wm') {
              wms[w] = m.wm!;
              let min = wms[0]!;
              for (let i = 1; i < WORKERS; i++) if (wms[i]! < min) min = wms[i]!;
              if (min > minWm) {
                minWm = min;
                lastProgress = performance.now();
                onProgress();
              }
            } else if (m.t === 'ready') resolve();
          });
          child.once('exit', (c) => reject(new Error(`subscriber process exited with ${c}`)));
        }),
      );
      child.send({ port, conns, window: WINDOW, ackEvery: ACK_EVERY });
    }
    await Promise.all(ready);
    const pub = await openPublisher(port);
    publisher = pub;

    // the publisher: fill the window (closed loop), or up to the offered rate (RATE)
    let allowed = Number.POSITIVE_INFINITY;
    const publish = (): void => {
      if (!publishing) return;
      const room = Math.min(minWm + WINDOW, allowed) - seq;
      if (room <= 0) return;
      const out = Buffer.allocUnsafe(room * FRAME_LEN);
      TEMPLATE.copy(out, 0, 0, room * FRAME_LEN);
      const t = now();
      for (let i = 0, p = HEADER.length; i < room; i++, p += FRAME_LEN) writeStamp(out, p, ++seq, t);
      pub.write(out);
    };
    onProgress = publish;
    publishing = true;
    let rateStart = 0;
    let rateBase = 0;
    if (RATE > 0) {
      rateStart = performance.now();
      allowed = 0;
      rateTimer = setInterval(() => {
        allowed = rateBase + Math.floor(((performance.now() - rateStart) * RATE) / 1000);
        publish();
      }, 1);
    }
    publish();
    let lastWm = -1;
    let stalled = false;
    stallTimer = setInterval(() => {
      if (minWm === lastWm) stalled = true;
      lastWm = minWm;
    }, STALL_MS);

    await new Promise((r) => setTimeout(r, WARMUP_MS));
    for (const s of subs) s.send({ t: 'start' });
    const seq0 = seq;
    if (RATE > 0) {
      rateBase = seq;
      rateStart = performance.now();
    }
    const t0 = performance.now();
    const cpu0 = cpuSeconds(proc.pid!);
    const core0 = coreTicks(CLIENT_CORE);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu1 = cpuSeconds(proc.pid!);
    const core1 = coreTicks(CLIENT_CORE);
    const secs = (performance.now() - t0) / 1000;
    const published = seq - seq0;
    const rss = peakRssMb(proc.pid!, 'sum');
    publishing = false;
    const results = await Promise.all(
      subs.map(
        (s) =>
          new Promise<SubResult>((resolve, reject) => {
            s.on('message', (m: SubResult) => {
              if (m.t === 'result') resolve(m);
            });
            s.once('exit', (c) => reject(new Error(`${NAMES[impl]}: a subscriber process exited with ${c}`)));
            if (s.connected) s.send({ t: 'stop' });
          }),
      ),
    );
    const hist = new Float64Array(HIST_BINS);
    let count = 0;
    let lost = 0;
    let lostWarmup = 0;
    let reordered = 0;
    for (const r of results) {
      count += r.count;
      lost += r.lost;
      lostWarmup += r.lostWarmup;
      reordered += r.reordered;
      for (let i = 0; i < r.hist.length; i += 2) hist[r.hist[i]!]! += r.hist[i + 1]!;
    }
    if (stalled || count === 0 || performance.now() - lastProgress > 2000)
      throw new Error(
        `${NAMES[impl]}: no progress for ${STALL_MS / 1000} s (window watermark ${minWm}, published ${seq}): a server lost messages or a subscriber hangs`,
      );
    if (lost > 0 || lostWarmup > 0 || reordered > 0)
      console.log(
        `WARNING ${NAMES[impl]}: ${lost} messages lost while measuring, ${lostWarmup} during warm-up, ${reordered} out of order`,
      );
    return {
      deliveries: count / secs,
      cpuUs: ((cpu1 - cpu0) * 1e6) / Math.max(1, count),
      p50: quantile(hist, count, 0.5),
      p99: quantile(hist, count, 0.99),
      rss,
      clientBusy: (core1[0] - core0[0]) / Math.max(1, core1[1] - core0[1]),
      publishRate: published / secs,
      lost,
    };
  } finally {
    if (stallTimer !== null) clearInterval(stallTimer);
    if (rateTimer !== null) clearInterval(rateTimer);
    publisher?.destroy();
    for (const s of subs) if (s.exitCode === null) s.kill();
    await stopServer(proc);
    await Promise.all(
      subs.map((s) =>
        s.exitCode === null && s.signalCode === null ? new Promise((r) => s.once('exit', r)) : null,
      ),
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// the coordinator (and publisher) runs on the client core, off the server core
try {
  spawn('taskset', ['-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
} catch {}
// bounded in time whatever happens: a run that hangs is stopped (the children stop with it)
const budget = (ROUNDS * impls.length * (SECONDS + 30) + 60) * 1000;
setTimeout(() => {
  console.error(`fanout: over the time budget (${budget / 1000} s), stopping`);
  process.exit(2);
}, budget).unref();

const mode =
  RATE > 0
    ? `offered ${RATE.toLocaleString('en-US')} msg/s (window ${WINDOW})`
    : `closed loop, window ${WINDOW}`;
console.log(
  `fan-out benchmark: 1 publisher, ${SUBSCRIBERS} subscribers over ${WORKERS} client processes (core ${CLIENT_CORE}, with the publisher), ${SIZE}-byte ${BINARY ? 'binary' : 'text'} messages, ${mode}; server on core ${SERVER_CORE} (2-worker cluster on core(s) ${CLUSTER_CORES}); ${SECONDS}s per run after ${WARMUP_MS / 1000}s warm-up, ${ROUNDS} rounds (median), Node ${process.version}`,
);
if (impls.includes('cluster') && CLUSTER_CORES.split(',').length < 2 && !CLUSTER_CORES.includes('-')) {
  console.log(
    `NOTE: the 2-worker cluster runs on ONE core (${CLUSTER_CORES}) with its primary: both workers share it, so that row shows what the cross-worker pub/sub costs, not what a second core gains. On this 2-core machine the other core runs the clients; with more cores set CLUSTER_CORES=0,1 CLIENT_CORE=2.`,
  );
}
const per: Partial<Record<Impl, Result[]>> = {};
const skipped: Partial<Record<Impl, string>> = {};
let failures = 0;
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? impls : [...impls].reverse();
  for (const impl of order) {
    if (skipped[impl] !== undefined) continue;
    try {
      const res = await runOne(impl);
      (per[impl] ??= []).push(res);
      console.log(
        `round ${r + 1} ${NAMES[impl]}: ${Math.round(res.deliveries).toLocaleString('en-US')} deliveries/s (${Math.round(res.publishRate).toLocaleString('en-US')} publishes/s), ${res.cpuUs.toFixed(3)} µs CPU/delivery, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, peak RSS ${res.rss.toFixed(0)} MB, client core ${(res.clientBusy * 100).toFixed(0)}% busy`,
      );
    } catch (e) {
      // a row that cannot run (not built yet, or failing) is reported and left out; the others go on
      const failed = !(e instanceof Skip);
      if (failed) failures++;
      skipped[impl] = `${failed ? 'FAILED: ' : ''}${e instanceof Error ? e.message : String(e)}`;
      console.log(
        `\n!!! ${failed ? 'FAILED' : 'SKIPPED'} ${NAMES[impl]}: ${skipped[impl]}. It is left out of the remaining rounds. !!!\n`,
      );
    }
  }
}

const m = (impl: Impl, k: keyof Result) => median(per[impl]!.map((x) => x[k]));
const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `\n| server | deliveries/s | publishes/s | server CPU µs/delivery | p50 ms | p99 ms | peak RSS MB | deliveries/s vs uWS | CPU/delivery vs uWS |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
);
for (const impl of impls) {
  if (per[impl] === undefined) {
    console.log(`| ${NAMES[impl]} | left out: ${skipped[impl]} | | | | | | | |`);
    continue;
  }
  const hasUws = per.uws !== undefined;
  const rate = hasUws ? `${(m(impl, 'deliveries') / m('uws', 'deliveries')).toFixed(2)}x` : 'n/a';
  const cpu = hasUws ? `${(m('uws', 'cpuUs') / m(impl, 'cpuUs')).toFixed(2)}x` : 'n/a';
  console.log(
    `| ${NAMES[impl]} | ${fmtInt(m(impl, 'deliveries'))} | ${fmtInt(m(impl, 'publishRate'))} | ${m(impl, 'cpuUs').toFixed(3)} | ${m(impl, 'p50').toFixed(2)} | ${m(impl, 'p99').toFixed(2)} | ${m(impl, 'rss').toFixed(0)} | ${rate} | ${cpu} |`,
  );
}
console.log(
  '\nRatios: deliveries/s ours ÷ uWS; CPU per delivery uWS ÷ ours (higher = we use less). Latency: publisher write to subscriber read, every delivery.',
);
for (const impl of impls) {
  if (per[impl] === undefined) continue;
  console.log(`${NAMES[impl]}: client core ${(m(impl, 'clientBusy') * 100).toFixed(0)}% busy (median)`);
}
if (Object.keys(skipped).length > 0)
  console.log(
    `\n!!! Rows left out: ${Object.entries(skipped)
      .map(([k, v]) => `${NAMES[k as Impl]} (${v})`)
      .join('; ')} !!!`,
  );
process.exit(failures > 0 ? 1 : 0);
