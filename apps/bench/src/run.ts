/**
 * HTTP server benchmark: wrk against Strata, node:http, fastify, hono, Bun, uWebSockets.js and a raw
 * node:net ceiling. Server pinned to core 0, wrk (1 thread) to core 1. Each competitor runs in its
 * own process; rounds interleave every server with node:http runs, and each run's ratio is taken
 * against the mean of the node:http runs just before and after it (the "sandwich"), median over
 * rounds, because this machine's speed drifts.
 *
 * `demo` is the demo app (`strata-demo serve`) started as a user starts it, with every route, the
 * live meter and the wire inspector in its default `watch` mode; it runs the GET scenarios only
 * (its `/echo` answers a JSON description of the request, not the body).
 *
 * Every Node server runs with `--expose-gc --import servers/_heap.mjs`: after each measured run the
 * runner asks it (SIGUSR2) for its live heap after two full GCs, the "live heap" column.
 *
 * The upload scenarios (`upload`, `upload-file`) use no wrk: `src/upload-client.mjs` (pinned to core
 * 1) streams `--uploads` POSTs of `--upload-mib` MiB over `--upload-conns` connections, and each server
 * reads the body as a stream, counts and hashes it (`upload-file` also awaits a write of each chunk to
 * /dev/null). They run node:http, Strata and fastify only, and get their own table: uploads/s, MiB/s,
 * server CPU s/GiB and peak RSS, each against node:http.
 *
 * Usage: tsx src/run.ts [--duration 5] [--rounds 3] [--warmup 1]
 *                       [--scenarios keepalive,pipelined,close,post,upload,upload-file]
 *                       [--servers raw,strata,demo,fastify,hono,bun,uws] [--no-readme]
 *                       (opt-in servers: strata-otel, Strata with @strata/otel and the SDK on;
 *                       strata-otel-sdk, the SDK registered without @strata/otel;
 *                       strata-otel-noop, @strata/otel with the API's no-op tracer and meter)
 *                       [--baseline DIR]  (adds "Strata baseline": the same server on DIR's build)
 *                       [--uploads 12] [--upload-conns 4] [--upload-mib 100]
 *
 * HTTP/2 (src/h2.ts, h2load instead of wrk, run only when named): `--scenarios h2-m1,h2-m16,h2-download`
 * (or `h2` for all three), servers node-h2-stream (the baseline), node-h2-compat, nginx-h2c,
 * strata-h1, strata-h2 (all of them unless `--servers` names some), [--downloads 4] [--download-mib 100].
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isH2Scenario, runH2 } from './h2';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ServerSpec {
  name: string;
  label: string;
  cmd: string[];
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Scenarios this server runs (default: all). */
  scenarios?: string[];
  /** Runs only when named in `--servers` (not part of the default set). */
  optIn?: boolean;
}

function bunBinary(): string | null {
  const p = join(ROOT, 'node_modules/bun/bin/bun.exe');
  return existsSync(p) ? p : null;
}

function uwsAvailable(): boolean {
  try {
    execFileSync(process.execPath, ['-e', "require('@trufflesuite/uws-js-unofficial')"], {
      cwd: ROOT,
      stdio: 'ignore',
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Node with the heap probe preloaded (see servers/_heap.mjs). */
const node = [process.execPath, '--expose-gc', '--import', './servers/_heap.mjs'];
const DEMO_CLI = join(ROOT, '..', 'demo', 'dist', 'cli.js');
const ALL: ServerSpec[] = [
  { name: 'raw', label: 'raw node:net (canned)', cmd: [...node, 'servers/raw.mjs'] },
  { name: 'strata', label: 'Strata (router + server)', cmd: [...node, 'servers/strata.mjs'] },
  {
    name: 'demo',
    label: 'strata-demo serve (as shipped)',
    cmd: [...node, DEMO_CLI, 'serve', '--host', '127.0.0.1', '--port', '0'],
    scenarios: ['keepalive', 'pipelined', 'close'],
  },
  { name: 'fastify', label: 'fastify 5', cmd: [...node, 'servers/fastify.mjs'] },
  { name: 'hono', label: 'hono + @hono/node-server', cmd: [...node, 'servers/hono.mjs'] },
  { name: 'bun', label: 'Bun.serve', cmd: [bunBinary() ?? 'bun', 'servers/bun.mjs'] },
  { name: 'uws', label: 'uWebSockets.js', cmd: [...node, 'servers/uws.mjs'] },
  {
    // servers/strata.mjs with @strata/otel and the OpenTelemetry SDK on: run it next to `strata`
    // (`--servers strata,strata-otel`) and subtract CPU µs/req for the cost of tracing every request.
    name: 'strata-otel',
    label: 'Strata + @strata/otel (SDK, every request traced)',
    cmd: [...node, 'servers/strata-otel.mjs'],
    scenarios: ['keepalive', 'pipelined', 'close', 'post'],
    optIn: true,
  },
  {
    // The same process with the SDK registered but Strata not instrumented: what the SDK's context
    // manager costs by itself (AsyncLocalStorage), apart from the spans and metrics.
    name: 'strata-otel-sdk',
    label: 'Strata + OpenTelemetry SDK registered, not instrumented',
    cmd: [...node, 'servers/strata-otel.mjs'],
    env: { BENCH_OTEL_INSTRUMENT: '0' },
    scenarios: ['keepalive', 'pipelined', 'close', 'post'],
    optIn: true,
  },
  {
    // @strata/otel with the API's no-op tracer and meter (context manager and propagator
    // registered): the integration's own cost, without the SDK's spans and metrics.
    name: 'strata-otel-noop',
    label: 'Strata + @strata/otel, no-op tracer and meter',
    cmd: [...node, 'servers/strata-otel.mjs'],
    env: { BENCH_OTEL_PROVIDERS: '0' },
    scenarios: ['keepalive', 'pipelined', 'close', 'post'],
    optIn: true,
  },
];
const BASE: ServerSpec = { name: 'node-http', label: 'node:http', cmd: [...node, 'servers/node-http.mjs'] };

/**
 * `--baseline DIR`: the same Strata bench server against another checkout's built packages (its
 * `packages/NAME/dist`), as one more server in the same run, so a change is measured before and
 * after side by side (`servers/_baseline.mjs` remaps the `@strata/*` imports).
 */
function baselineSpec(dir: string): ServerSpec {
  let rev = dir;
  try {
    rev = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the label names the folder
  }
  return {
    name: 'strata-baseline',
    label: `Strata baseline (${rev})`,
    cmd: [...node, '--import', './servers/_baseline.mjs', 'servers/strata.mjs'],
    env: { STRATA_BASELINE: dir },
  };
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

interface Scenario {
  name: string;
  label: string;
  /** wrk's arguments: the path, then extra flags (empty for the upload scenarios). */
  args: string[];
  /** Upload scenarios: the path the upload client POSTs its bodies to (no wrk). */
  upload?: string;
  /** Servers this scenario runs besides node:http (default: all). */
  servers?: string[];
}

/** Upload scenarios: measured uploads per run, concurrent connections, body size in MiB. */
const uploads = Number(arg('uploads', '12'));
const uploadConns = Number(arg('upload-conns', '4'));
const uploadMiB = Number(arg('upload-mib', '100'));
/** raw node:net has no body to stream and the others echo whole bodies: node:http, Strata, fastify. */
const UPLOAD_SERVERS = ['strata', 'strata-baseline', 'fastify'];

const SCENARIOS: Scenario[] = [
  { name: 'keepalive', label: 'keep-alive, 64 conns', args: ['/hello'] },
  {
    name: 'pipelined',
    label: 'pipelined x16, 64 conns',
    args: ['/hello', '-s', join(ROOT, 'lua/pipeline.lua')],
  },
  { name: 'close', label: 'Connection: close, 64 conns', args: ['/hello', '-H', 'Connection: close'] },
  {
    name: 'post',
    label: 'POST 4 KiB JSON echo, 64 conns',
    args: ['/echo', '-s', join(ROOT, 'lua/post.lua')],
  },
  {
    name: 'upload',
    label: `POST ${uploadMiB} MiB streamed + SHA-256, ${uploadConns} conns`,
    args: [],
    upload: '/upload',
    servers: UPLOAD_SERVERS,
  },
  {
    name: 'upload-file',
    label: `POST ${uploadMiB} MiB + SHA-256 + write to /dev/null, ${uploadConns} conns`,
    args: [],
    upload: '/upload-file',
    servers: UPLOAD_SERVERS,
  },
];

interface RunResult {
  rps: number;
  p99ms: number;
  rssMB: number;
  /** live JS heap after two full GCs once the load stopped, MB (NaN where the server has no probe) */
  heapMB: number;
  cpuUsPerReq: number;
  errors: number;
  /** share of the machine's CPU time the hypervisor gave to someone else during the run, in % */
  stealPct: number;
  /** Upload scenarios (NaN otherwise): body bytes per second in MiB, server CPU seconds per GiB. */
  mibPerSec: number;
  cpuSPerGiB: number;
  /**
   * Upload scenarios (NaN otherwise): CPU time every other process used during the run, in % of
   * the machine (its user+system time less the server's and the client's). The upload runs are
   * short and the cores are shared, so another job's test run shows here first.
   */
  otherPct: number;
}

const duration = Number(arg('duration', '5'));
const rounds = Number(arg('rounds', '3'));
const warmup = Number(arg('warmup', '1'));
const scenarioNames = arg('scenarios', SCENARIOS.map((s) => s.name).join(',')).split(',');
const serverNames = arg(
  'servers',
  ALL.filter((s) => s.optIn !== true)
    .map((s) => s.name)
    .join(','),
).split(',');
const writeReadme = !process.argv.includes('--no-readme');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function haveTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const TASKSET = haveTaskset();
const pin = (core: number, cmd: string[]) => (TASKSET ? ['taskset', '-c', String(core), ...cmd] : cmd);

interface Started {
  child: ChildProcess;
  port: number;
  /** Asks the heap probe for the live heap after a full GC, in bytes; null without a probe. */
  heap(): Promise<number | null>;
}

async function startServer(spec: ServerSpec, scenario: Scenario): Promise<Started> {
  const [bin, ...rest] = pin(0, spec.cmd);
  const child = spawn(bin!, rest, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // BENCH_SCENARIO: servers/strata.mjs lifts its body limit for the upload scenarios.
    env: { ...process.env, ...spec.env, PORT: '0', BENCH_SCENARIO: scenario.name },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let out = '';
  let heapWaiter: ((bytes: number) => void) | null = null;
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const h = /HEAP (\d+)\n/.exec(out);
    if (h && heapWaiter !== null) {
      out = out.slice(h.index + h[0].length);
      const w = heapWaiter;
      heapWaiter = null;
      w(Number(h[1]));
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${spec.name}: no READY within 15 s\n${err}`)), 15_000);
    const onData = (): void => {
      // The bench servers print READY PORT; the demo prints its `listening on http://HOST:PORT` line.
      const m = /READY (\d+)/.exec(out) ?? /^listening on https?:\/\/\S*:(\d+)\b/m.exec(out);
      if (m) {
        clearTimeout(t);
        child.stdout!.off('data', onData);
        out = '';
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${spec.name} exited with ${code}\n${err}`));
    });
  });
  const probed = spec.cmd[0] === process.execPath && spec.cmd.includes('--expose-gc');
  const heap = (): Promise<number | null> => {
    if (!probed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        heapWaiter = null;
        resolve(null);
      }, 5000);
      heapWaiter = (bytes) => {
        clearTimeout(t);
        resolve(bytes);
      };
      child.kill('SIGUSR2');
    });
  };
  return { child, port, heap };
}

function procStat(pid: number): { cpuTicks: number; hwmKB: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuTicks, hwmKB: m ? Number(m[1]) : 0 };
  } catch {
    return { cpuTicks: 0, hwmKB: 0 };
  }
}

/**
 * Steal and total jiffies of the whole machine (first line of /proc/stat). Steal is time a vCPU
 * wanted to run but the hypervisor ran another guest: the one kind of noise on this shared box that
 * the node:http sandwich cannot cancel, because it can hit one run and spare its neighbours.
 */
function machineStat(): { steal: number; total: number; busy: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    // user + nice + system: the time processes ran (irq and softirq are not charged to any of them)
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0);
    return { steal: f[7] ?? 0, total, busy };
  } catch {
    return { steal: 0, total: 0, busy: 0 };
  }
}

function wrk(port: number, scenario: Scenario, seconds: number): Promise<string> {
  const [path, ...extra] = scenario.args;
  const cmd = pin(1, [
    'wrk',
    '-t1',
    '-c64',
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    '5s',
    ...extra,
    `http://127.0.0.1:${port}${path}`,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

function parseWrk(out: string): { rps: number; p99ms: number; requests: number; errors: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const p99ms = p ? toMs(p[1]!, p[2]!) : Number.NaN;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  let errors = 0;
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (se) errors += Number(se[1]) + Number(se[3]) + Number(se[4]); // read errors are normal with Connection: close
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  return { rps, p99ms, requests, errors };
}

interface UploadOut {
  uploads: number;
  errors: number;
  bytes: number;
  seconds: number;
  /** the client's own user+system CPU time, s */
  cpuS: number;
  firstError: string | null;
}

/** Runs src/upload-client.mjs on core 1 for `count` uploads; it stops by itself (and is killed if not). */
function uploadClient(port: number, path: string, count: number): Promise<UploadOut> {
  const timeoutS = 180;
  const cmd = pin(1, [
    process.execPath,
    join(ROOT, 'src/upload-client.mjs'),
    '--port',
    String(port),
    '--path',
    path,
    '--uploads',
    String(count),
    '--conns',
    String(uploadConns),
    '--mib',
    String(uploadMiB),
    '--timeout',
    String(timeoutS),
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 20) * 1000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(kill);
      const m = /^RESULT (.*)$/m.exec(out);
      if (code === 0 && m) resolve(JSON.parse(m[1]!) as UploadOut);
      else reject(new Error(`upload client exited ${code}: ${out}`));
    });
  });
}

async function runUpload(spec: ServerSpec, scenario: Scenario, path: string): Promise<RunResult> {
  const { child, port } = await startServer(spec, scenario);
  try {
    // Warm-up: one upload per connection. Peak RSS (VmHWM) covers it too: the same load.
    if (warmup > 0) await uploadClient(port, path, uploadConns);
    const before = procStat(child.pid!);
    const m0 = machineStat();
    const r = await uploadClient(port, path, uploads);
    const m1 = machineStat();
    const after = procStat(child.pid!);
    if (r.firstError !== null)
      console.warn(`  ${spec.name}: ${r.errors} failed uploads, first: ${r.firstError}`);
    const stealPct = m1.total > m0.total ? (100 * (m1.steal - m0.steal)) / (m1.total - m0.total) : 0;
    const gib = r.bytes / 2 ** 30;
    const ticks = after.cpuTicks - before.cpuTicks;
    const cpuS = ticks / 100; // 100 ticks/s
    const other = m1.busy - m0.busy - ticks - r.cpuS * 100;
    const otherPct = m1.total > m0.total ? Math.max(0, (100 * other) / (m1.total - m0.total)) : 0;
    return {
      rps: r.uploads / r.seconds,
      p99ms: Number.NaN,
      rssMB: after.hwmKB / 1024,
      heapMB: Number.NaN,
      cpuUsPerReq: Number.NaN,
      errors: r.errors,
      stealPct,
      mibPerSec: r.bytes / 2 ** 20 / r.seconds,
      cpuSPerGiB: gib > 0 ? cpuS / gib : Number.NaN,
      otherPct,
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
    await sleep(200);
  }
}

async function runOne(spec: ServerSpec, scenario: Scenario): Promise<RunResult> {
  if (scenario.upload !== undefined) return runUpload(spec, scenario, scenario.upload);
  const { child, port, heap } = await startServer(spec, scenario);
  try {
    if (warmup > 0) await wrk(port, scenario, warmup);
    const before = procStat(child.pid!);
    const m0 = machineStat();
    const out = await wrk(port, scenario, duration);
    const m1 = machineStat();
    const after = procStat(child.pid!);
    const live = await heap();
    const stealPct = m1.total > m0.total ? (100 * (m1.steal - m0.steal)) / (m1.total - m0.total) : 0;
    const r = parseWrk(out);
    const ticks = after.cpuTicks - before.cpuTicks;
    const cpuUsPerReq = r.requests > 0 ? (ticks * 10_000) / r.requests : 0; // 100 ticks/s
    return {
      rps: r.rps,
      p99ms: r.p99ms,
      rssMB: after.hwmKB / 1024,
      heapMB: live === null ? Number.NaN : live / (1024 * 1024),
      cpuUsPerReq,
      errors: r.errors,
      stealPct,
      mibPerSec: Number.NaN,
      cpuSPerGiB: Number.NaN,
      otherPct: Number.NaN,
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
    await sleep(200);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Row {
  scenario: Scenario;
  server: ServerSpec;
  runs: RunResult[];
  ratios: number[];
}

async function main(): Promise<void> {
  const scenarios = SCENARIOS.filter((s) => scenarioNames.includes(s.name));
  const unknown = scenarioNames.filter((n) => !SCENARIOS.some((s) => s.name === n) && !isH2Scenario(n));
  if (unknown.length > 0) {
    console.error(
      `unknown scenario ${unknown.join(', ')}: one of ${SCENARIOS.map((s) => s.name).join(', ')}, h2-m1, h2-m16, h2-download, h2`,
    );
    process.exit(1);
  }
  const h2 = scenarioNames.filter(isH2Scenario);
  if (h2.length > 0) {
    await runH2(h2, {
      root: ROOT,
      argv: process.argv,
      duration,
      rounds,
      warmup,
      servers: process.argv.includes('--servers') ? serverNames : null,
      taskset: TASKSET,
      writeReadme,
      machineStat,
      markdownTable,
      updateReadme,
    });
    if (scenarios.length === 0) return;
  }
  if (scenarios.some((s) => s.upload === undefined)) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    } catch (e) {
      // wrk --version exits 1 but prints; only a missing binary throws ENOENT
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        console.error('wrk not found: apt-get install -y wrk');
        process.exit(1);
      }
    }
  }
  const baselineDir = arg('baseline', '');
  const candidates = baselineDir === '' ? ALL : [...ALL, baselineSpec(baselineDir)];
  if (baselineDir !== '' && !existsSync(join(baselineDir, 'packages', 'server', 'dist', 'index.js'))) {
    console.error(`--baseline ${baselineDir}: no built packages there (run its build first)`);
    process.exit(1);
  }
  if (baselineDir !== '' && !serverNames.includes('strata-baseline')) serverNames.push('strata-baseline');
  const wanted = candidates
    .filter((s) => serverNames.includes(s.name))
    .filter((s) => {
      let missing = '';
      if (s.name === 'bun' && bunBinary() === null) missing = 'binary not installed';
      if (s.name === 'uws' && !uwsAvailable()) missing = 'package does not load';
      if (s.name === 'demo' && !existsSync(DEMO_CLI)) missing = `${DEMO_CLI} not built`;
      if (missing !== '') console.warn(`skip ${s.name}: ${missing}`);
      return missing === '';
    });
  const wrkSetup = scenarios.some((s) => s.upload === undefined)
    ? `wrk -t1 -c64, ${duration}s per run (+${warmup}s warm-up), `
    : '';
  console.log(`${wrkSetup}${rounds} rounds, taskset ${TASKSET ? 'on' : 'OFF'}, node ${process.version}`);
  if (scenarios.some((s) => s.upload !== undefined)) console.log(uploadSetup());
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const servers = wanted.filter(
      (s) =>
        (s.scenarios === undefined || s.scenarios.includes(scenario.name)) &&
        (scenario.servers === undefined || scenario.servers.includes(s.name)),
    );
    const byServer = new Map<string, Row>();
    const baseRow: Row = { scenario, server: BASE, runs: [], ratios: [] };
    for (const s of servers) byServer.set(s.name, { scenario, server: s, runs: [], ratios: [] });
    for (let round = 0; round < rounds; round++) {
      // node:http, A, node:http, B, node:http, ... (rotated each round so no server always runs first)
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
      let prev = await runOne(BASE, scenario);
      baseRow.runs.push(prev);
      for (const s of order) {
        const r = await runOne(s, scenario);
        const next = await runOne(BASE, scenario);
        baseRow.runs.push(next);
        const row = byServer.get(s.name)!;
        row.runs.push(r);
        row.ratios.push(r.rps / ((prev.rps + next.rps) / 2));
        const vs = `${(r.rps / ((prev.rps + next.rps) / 2)).toFixed(2)}x node:http`;
        const errs = r.errors ? `  errors ${r.errors}` : '';
        console.log(
          scenario.upload !== undefined
            ? `  ${scenario.name} r${round + 1} ${s.name.padEnd(8)} ${r.rps.toFixed(2).padStart(6)} uploads/s  ${r.mibPerSec.toFixed(0)} MiB/s  ${vs}  CPU ${r.cpuSPerGiB.toFixed(2)} s/GiB (node:http ${prev.cpuSPerGiB.toFixed(2)}, ${next.cpuSPerGiB.toFixed(2)})  peak RSS ${r.rssMB.toFixed(0)} MB (node:http ${prev.rssMB.toFixed(0)}, ${next.rssMB.toFixed(0)})  steal ${r.stealPct.toFixed(1)}%  other ${r.otherPct.toFixed(0)}% (node:http ${prev.otherPct.toFixed(0)}, ${next.otherPct.toFixed(0)})${errs}`
            : `  ${scenario.name} r${round + 1} ${s.name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99ms.toFixed(2)} ms  ${vs}  steal ${r.stealPct.toFixed(1)}%${errs}`,
        );
        prev = next;
      }
    }
    baseRow.ratios = baseRow.runs.map(() => 1);
    rows.push(baseRow, ...byServer.values());
  }
  // The wrk scenarios and the upload scenarios measure different things: one table each, and each
  // README block is rewritten only by a run that measured its scenarios.
  const wrkRows = rows.filter((r) => r.scenario.upload === undefined);
  const uploadRows = rows.filter((r) => r.scenario.upload !== undefined);
  if (wrkRows.length > 0) {
    const table = render(wrkRows);
    const stealLine = stealSummary(wrkRows);
    console.log(`\n${table}\n\n${stealLine}`);
    if (writeReadme) {
      const stamp = `Measured ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, wrk -t1 -c64, ${duration}s runs, ${rounds} rounds. "vs raw node:net" = sandwich ratio / raw's sandwich ratio. ${stealLine}`;
      updateReadme('bench', stamp, table);
    }
  }
  if (uploadRows.length > 0) {
    const table = renderUpload(uploadRows);
    const other = uploadRows.flatMap((r) => r.runs.map((x) => x.otherPct));
    const stealLine = `${stealSummary(uploadRows)} Other processes' CPU during the measured runs: median ${fmt(median(other), 0)}%, max ${fmt(Math.max(...other), 0)}% of the machine (user+system time less the server's and the client's; a few % on a quiet machine).`;
    console.log(`\n${table}\n\n${stealLine}`);
    if (writeReadme) {
      const stamp = `Measured ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}. ${uploadSetup()}, ${rounds} rounds. ${stealLine}`;
      updateReadme('bench:upload', stamp, table);
    }
  }
}

function uploadSetup(): string {
  return `Upload client (src/upload-client.mjs, node:net): ${uploadConns} connections, ${uploadMiB} MiB bodies, ${uploads} uploads per run (+${warmup > 0 ? uploadConns : 0} warm-up)`;
}

function stealSummary(rows: Row[]): string {
  const steal = rows.flatMap((r) => r.runs.map((x) => x.stealPct));
  return `Hypervisor steal during the measured runs: median ${fmt(median(steal), 1)}%, max ${fmt(Math.max(...steal), 1)}% (CPU time the host gave to other guests; under 1% on a quiet host).`;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function render(rows: Row[]): string {
  const rawRps = new Map<string, number>();
  const rawRatio = new Map<string, number>();
  for (const r of rows) {
    if (r.server.name === 'raw') {
      rawRps.set(r.scenario.name, median(r.runs.map((x) => x.rps)));
      rawRatio.set(r.scenario.name, median(r.ratios));
    }
  }
  const header = [
    'scenario',
    'server',
    'req/s (median)',
    'vs node:http (sandwich)',
    'vs raw node:net',
    'p99 ms',
    'peak RSS MB',
    'live heap MB',
    'CPU µs/req',
    'errors',
  ];
  const body: string[][] = [];
  for (const r of rows) {
    const rps = median(r.runs.map((x) => x.rps));
    const ratio = median(r.ratios);
    const raw = rawRatio.get(r.scenario.name);
    const vsRaw = raw !== undefined ? ratio / raw : Number.NaN;
    body.push([
      r.scenario.label,
      r.server.label,
      fmt(rps),
      `${fmt(ratio, 2)}x`,
      `${fmt(vsRaw, 2)}x`,
      fmt(median(r.runs.map((x) => x.p99ms)), 2),
      fmt(median(r.runs.map((x) => x.rssMB)), 0),
      fmt(median(r.runs.map((x) => x.heapMB)), 2),
      fmt(median(r.runs.map((x) => x.cpuUsPerReq)), 1),
      String(r.runs.reduce((a, x) => a + x.errors, 0)),
    ]);
  }
  return markdownTable(header, body);
}

/**
 * The upload scenarios' table. uploads/s and MiB/s are medians over rounds, "vs node:http" the
 * median sandwich ratio of uploads/s; CPU s/GiB and peak RSS are medians, and their ratios divide by
 * node:http's median in the same scenario (neither drifts with the machine's speed the way a rate
 * does, so no sandwich).
 */
function renderUpload(rows: Row[]): string {
  const base = new Map<string, { cpu: number; rss: number }>();
  for (const r of rows) {
    if (r.server.name === BASE.name) {
      base.set(r.scenario.name, {
        cpu: median(r.runs.map((x) => x.cpuSPerGiB)),
        rss: median(r.runs.map((x) => x.rssMB)),
      });
    }
  }
  const header = [
    'scenario',
    'server',
    'uploads/s (median)',
    'MiB/s',
    'vs node:http (sandwich)',
    'CPU s/GiB',
    'CPU vs node:http',
    'peak RSS MB',
    'RSS vs node:http',
    'errors',
  ];
  const body: string[][] = [];
  for (const r of rows) {
    const b = base.get(r.scenario.name);
    const cpu = median(r.runs.map((x) => x.cpuSPerGiB));
    const rss = median(r.runs.map((x) => x.rssMB));
    body.push([
      r.scenario.label,
      r.server.label,
      fmt(median(r.runs.map((x) => x.rps)), 2),
      fmt(median(r.runs.map((x) => x.mibPerSec)), 0),
      `${fmt(median(r.ratios), 2)}x`,
      fmt(cpu, 2),
      `${fmt(b !== undefined ? cpu / b.cpu : Number.NaN, 2)}x`,
      fmt(rss, 0),
      `${fmt(b !== undefined ? rss / b.rss : Number.NaN, 2)}x`,
      String(r.runs.reduce((a, x) => a + x.errors, 0)),
    ]);
  }
  return markdownTable(header, body);
}

function markdownTable(header: string[], body: string[][]): string {
  // Laid out the way the repo's formatter (biome) lays out Markdown tables: text columns padded
  // right, number columns padded left, so the written README passes `biome check` as is.
  const width = header.map((h, i) => Math.max(3, h.length, ...body.map((row) => row[i]!.length)));
  const cell = (v: string, i: number) => (i < 2 ? v.padEnd(width[i]!) : v.padStart(width[i]!));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (i < 2 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  const lines = [line(header), rule, ...body.map(line)];
  return lines.join('\n');
}

/** Rewrites the README block between `<!-- NAME:start -->` and `<!-- NAME:end -->` (appended if absent). */
function updateReadme(name: string, stamp: string, table: string): void {
  const file = join(ROOT, 'README.md');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${stamp}\n\n${table}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# @strata/bench\n';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  text =
    a !== -1 && b !== -1
      ? text.slice(0, a) + block + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  console.log(`table written to ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
