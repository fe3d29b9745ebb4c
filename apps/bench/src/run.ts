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
 * Usage: tsx src/run.ts [--duration 5] [--rounds 3] [--warmup 1] [--scenarios keepalive,pipelined,close,post]
 *                       [--servers raw,strata,demo,fastify,hono,bun,uws] [--no-readme]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ServerSpec {
  name: string;
  label: string;
  cmd: string[];
  /** Scenarios this server runs (default: all). */
  scenarios?: string[];
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
];
const BASE: ServerSpec = { name: 'node-http', label: 'node:http', cmd: [...node, 'servers/node-http.mjs'] };

interface Scenario {
  name: string;
  label: string;
  args: string[];
}

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
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const duration = Number(arg('duration', '5'));
const rounds = Number(arg('rounds', '3'));
const warmup = Number(arg('warmup', '1'));
const scenarioNames = arg('scenarios', SCENARIOS.map((s) => s.name).join(',')).split(',');
const serverNames = arg('servers', ALL.map((s) => s.name).join(',')).split(',');
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

async function startServer(spec: ServerSpec): Promise<Started> {
  const [bin, ...rest] = pin(0, spec.cmd);
  const child = spawn(bin!, rest, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0' },
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
      const m = /READY (\d+)/.exec(out) ?? /^listening on https?:\/\/.*:(\d+)$/m.exec(out);
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
function machineStat(): { steal: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { steal: f[7] ?? 0, total };
  } catch {
    return { steal: 0, total: 0 };
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

async function runOne(spec: ServerSpec, scenario: Scenario): Promise<RunResult> {
  const { child, port, heap } = await startServer(spec);
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
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    // wrk --version exits 1 but prints; only a missing binary throws ENOENT
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('wrk not found: apt-get install -y wrk');
      process.exit(1);
    }
  }
  const wanted = ALL.filter((s) => serverNames.includes(s.name)).filter((s) => {
    let missing = '';
    if (s.name === 'bun' && bunBinary() === null) missing = 'binary not installed';
    if (s.name === 'uws' && !uwsAvailable()) missing = 'package does not load';
    if (s.name === 'demo' && !existsSync(DEMO_CLI)) missing = `${DEMO_CLI} not built`;
    if (missing !== '') console.warn(`skip ${s.name}: ${missing}`);
    return missing === '';
  });
  const scenarios = SCENARIOS.filter((s) => scenarioNames.includes(s.name));
  console.log(
    `wrk -t1 -c64, ${duration}s per run (+${warmup}s warm-up), ${rounds} rounds, taskset ${TASKSET ? 'on' : 'OFF'}, node ${process.version}`,
  );
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const servers = wanted.filter((s) => s.scenarios === undefined || s.scenarios.includes(scenario.name));
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
        console.log(
          `  ${scenario.name} r${round + 1} ${s.name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} req/s  p99 ${r.p99ms.toFixed(2)} ms  ${(r.rps / ((prev.rps + next.rps) / 2)).toFixed(2)}x node:http  steal ${r.stealPct.toFixed(1)}%${r.errors ? `  errors ${r.errors}` : ''}`,
        );
        prev = next;
      }
    }
    baseRow.ratios = baseRow.runs.map(() => 1);
    rows.push(baseRow, ...byServer.values());
  }
  const table = render(rows);
  const steal = rows.flatMap((r) => r.runs.map((x) => x.stealPct));
  const stealLine = `Hypervisor steal during the measured runs: median ${fmt(median(steal), 1)}%, max ${fmt(Math.max(...steal), 1)}% (CPU time the host gave to other guests; under 1% on a quiet host).`;
  console.log(`\n${table}\n\n${stealLine}`);
  if (writeReadme) updateReadme(table, stealLine);
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
  // Laid out the way the repo's formatter (biome) lays out Markdown tables: text columns padded
  // right, number columns padded left, so the written README passes `biome check` as is.
  const width = header.map((h, i) => Math.max(3, h.length, ...body.map((row) => row[i]!.length)));
  const cell = (v: string, i: number) => (i < 2 ? v.padEnd(width[i]!) : v.padStart(width[i]!));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (i < 2 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  const lines = [line(header), rule, ...body.map(line)];
  return lines.join('\n');
}

function updateReadme(table: string, stealLine: string): void {
  const file = join(ROOT, 'README.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const stamp = `Measured ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, wrk -t1 -c64, ${duration}s runs, ${rounds} rounds. "vs raw node:net" = sandwich ratio / raw's sandwich ratio. ${stealLine}`;
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
