/**
 * HTTP/2 scenarios of the benchmark runner (src/run.ts calls `runH2`): h2load against node:http2
 * (its `stream` API, the baseline, and its `(req, res)` compatibility API), nginx with
 * `listen ... http2`, Strata's HTTP/1.1 server (`h2load --h1`) and Strata's h2c. Everything is
 * cleartext, HTTP/2 by prior knowledge (h2c, no TLS, no Upgrade).
 *
 * As for wrk: every server in its own process pinned to core 0, h2load (`-t 1`, one thread) pinned
 * to core 1; rounds interleave every server with baseline runs (`node-h2-stream, A, node-h2-stream,
 * B, ...`, rotated each round) and a run's rate is divided by the mean of the baseline runs just
 * before and after it (the sandwich), median over rounds. Server CPU is the server process's
 * user+system time (`/proc/<pid>/stat`) over the measured run: per request for `h2-m1` and
 * `h2-m16`, per GiB for `h2-download`, and divided by the baseline's median in the same scenario.
 * One h2load thread tops out near 50k req/s here, far below the fastest servers: CPU per request
 * is the figure to compare.
 *
 * A server that fails (exits, never prints READY, or gets no 2xx answer: a server without h2c
 * answers the HTTP/2 preface as a bad HTTP/1.1 request) is reported as failed, with the reason,
 * in the run's log and under the table; the other servers still run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One HTTP/2 benchmark server (a file under servers/, run by node). */
export interface H2Server {
  name: string;
  label: string;
  /** The server's file, relative to the bench root. */
  file: string;
  /** The file for `h2-download` where it differs (servers/strata.mjs has no /download). */
  downloadFile?: string;
  /** Measured with `h2load --h1` (HTTP/1.1; `-m` is then the pipelining depth). */
  h1?: boolean;
}

/** One h2load scenario: a request rate (`-D` seconds per run) or a number of big downloads (`-n`). */
export interface H2Scenario {
  name: string;
  label: string;
  kind: 'rate' | 'download';
  /** h2load `-c`: connections. */
  clients: number;
  /** h2load `-m`: concurrent streams per connection. */
  streams: number;
  path: string;
}

/** The baseline: every ratio of the HTTP/2 tables is taken against it. */
export const H2_BASE: H2Server = {
  name: 'node-h2-stream',
  label: 'node:http2 (stream API)',
  file: 'servers/node-h2-stream.mjs',
};

/** The servers the HTTP/2 scenarios compare with the baseline, in the order reported. */
export const H2_SERVERS: readonly H2Server[] = [
  { name: 'node-h2-compat', label: 'node:http2 (compat API)', file: 'servers/node-h2-compat.mjs' },
  { name: 'nginx-h2c', label: 'nginx (listen http2, h2c)', file: 'servers/nginx-h2c.mjs' },
  {
    name: 'strata-h1',
    label: 'Strata HTTP/1.1 (h2load --h1)',
    file: 'servers/strata.mjs',
    downloadFile: 'servers/strata-h2.mjs',
    h1: true,
  },
  { name: 'strata-h2', label: 'Strata h2c (@strata/server)', file: 'servers/strata-h2.mjs' },
];

/** `h2-m1`, `h2-m16`, `h2-download`; `--scenarios h2` names all three. */
export const H2_SCENARIOS: readonly H2Scenario[] = [
  {
    name: 'h2-m1',
    label: 'h2c GET, 64 conns x 1 stream',
    kind: 'rate',
    clients: 64,
    streams: 1,
    path: '/hello',
  },
  {
    name: 'h2-m16',
    label: 'h2c GET, 64 conns x 16 streams',
    kind: 'rate',
    clients: 64,
    streams: 16,
    path: '/hello',
  },
  {
    name: 'h2-download',
    label: 'h2c download, 1 conn x 1 stream',
    kind: 'download',
    clients: 1,
    streams: 1,
    path: '/download',
  },
];

/** Whether `name` is one of the HTTP/2 scenarios, or `h2` (all of them). */
export function isH2Scenario(name: string): boolean {
  return name === 'h2' || H2_SCENARIOS.some((s) => s.name === name);
}

/** What the runner hands over: its settings and the helpers it shares. */
export interface H2Options {
  /** The bench folder (apps/bench): servers run from there. */
  root: string;
  /** The command line, for the HTTP/2 flags (`--downloads`, `--download-mib`). */
  argv: readonly string[];
  duration: number;
  rounds: number;
  warmup: number;
  /** Names from `--servers`; null (or none of the HTTP/2 servers named) runs them all. */
  servers: readonly string[] | null;
  taskset: boolean;
  writeReadme: boolean;
  machineStat(): { steal: number; total: number; busy: number };
  markdownTable(header: string[], body: string[][]): string;
  updateReadme(name: string, stamp: string, table: string): void;
}

/** One measured run; `failed` holds the reason when the server gave no usable answer. */
interface H2Run {
  failed: string | null;
  rps: number;
  cpuUsPerReq: number;
  mibPerSec: number;
  cpuSPerGiB: number;
  meanMs: number;
  rssMB: number;
  errors: number;
  stealPct: number;
}

interface H2Row {
  scenario: H2Scenario;
  server: H2Server;
  runs: H2Run[];
  ratios: number[];
}

/** h2load's summary, as printed at the end of a run. */
export interface H2loadSummary {
  /** `Application protocol: h2c` (or `http/1.1`); null when no session was made. */
  protocol: string | null;
  seconds: number;
  rps: number;
  total: number;
  started: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
  status2xx: number;
  statusOther: number;
  /** Response body bytes received (the `data` of the traffic line). */
  dataBytes: number;
  /** Mean `time for request`, ms. */
  meanMs: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Parses h2load's summary lines (nghttp2 1.52's layout). */
export function parseH2load(out: string): H2loadSummary {
  const fin = /finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req\/s/.exec(out);
  const req =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  const st = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\s/.exec(out);
  return {
    protocol: /Application protocol: (\S+)/.exec(out)?.[1] ?? null,
    seconds: fin ? (Number(fin[1]) * UNIT_MS[fin[2]!]!) / 1000 : Number.NaN,
    rps: fin ? Number(fin[3]) : Number.NaN,
    total: req ? Number(req[1]) : 0,
    started: req ? Number(req[2]) : 0,
    done: req ? Number(req[3]) : 0,
    succeeded: req ? Number(req[4]) : 0,
    failed: req ? Number(req[5]) : 0,
    errored: req ? Number(req[6]) : 0,
    timeout: req ? Number(req[7]) : 0,
    status2xx: st ? Number(st[1]) : 0,
    statusOther: st ? Number(st[2]) + Number(st[3]) + Number(st[4]) : 0,
    dataBytes: Number(/\((\d+)\) data/.exec(out)?.[1] ?? 0),
    meanMs: mean ? Number(mean[1]) * UNIT_MS[mean[2]!]! : Number.NaN,
  };
}

function flag(argv: readonly string[], name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i !== -1 && i + 1 < argv.length ? argv[i + 1]! : def;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** A ratio as `1.23x`, or `n/a`. */
function times(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a';
}

/** utime + stime (clock ticks, 100 per second) and peak RSS (kB) of one process. */
function procStat(pid: number): { cpuTicks: number; hwmKB: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuTicks, hwmKB: m ? Number(m[1]) : 0 };
  } catch {
    return { cpuTicks: Number.NaN, hwmKB: Number.NaN };
  }
}

/** The first line of the text that says most about a failure (stderr's last lines). */
function reasonOf(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.slice(0, 3).join(' / ').slice(0, 300);
}

interface H2Started {
  child: ChildProcess;
  port: number;
  /** The process that serves: the server itself, or the one it names with `PID <pid>` (nginx). */
  pid: number;
  stop(): Promise<void>;
}

/** Process groups of the servers now running, killed if the runner exits while one is up. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

export class H2Bench {
  readonly scenarios: H2Scenario[];
  readonly servers: H2Server[];
  readonly downloads: number;
  readonly downloadBytes: number;
  readonly h2loadVersion: string;

  constructor(
    scenarioNames: readonly string[],
    private readonly o: H2Options,
  ) {
    const all = scenarioNames.includes('h2');
    this.scenarios = H2_SCENARIOS.filter((s) => all || scenarioNames.includes(s.name));
    const named = o.servers === null ? [] : H2_SERVERS.filter((s) => o.servers!.includes(s.name));
    this.servers = named.length > 0 ? named : [...H2_SERVERS];
    this.downloads = Math.max(1, Number(flag(o.argv, 'downloads', '4')));
    this.downloadBytes = Math.round(Number(flag(o.argv, 'download-mib', '100')) * 1024 * 1024);
    this.h2loadVersion = h2loadVersion();
  }

  private pin(core: number, cmd: string[]): string[] {
    return this.o.taskset ? ['taskset', '-c', String(core), ...cmd] : cmd;
  }

  /** Starts a server in a process group of its own and waits for its READY line. */
  private async start(server: H2Server, scenario: H2Scenario): Promise<H2Started> {
    const file = scenario.kind === 'download' && server.downloadFile ? server.downloadFile : server.file;
    const [bin, ...rest] = this.pin(0, [process.execPath, file]);
    const child = spawn(bin!, rest, {
      cwd: this.o.root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: '0',
        BENCH_SCENARIO: scenario.name,
        BENCH_DOWNLOAD_BYTES: String(this.downloadBytes),
      },
    });
    const pgid = child.pid;
    if (pgid !== undefined) live.add(pgid);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(3000)]);
      }
      if (pgid !== undefined) {
        try {
          process.kill(-pgid, 'SIGKILL'); // whatever the server started and left behind
        } catch {
          // the group is gone
        }
        live.delete(pgid);
      }
      await Promise.race([exited, sleep(1000)]);
      await sleep(200);
    };
    let out = '';
    try {
      const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no READY within 15 s\n${err}`)), 15_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /READY (\d+)/.exec(out);
          if (m) {
            clearTimeout(t);
            const p = /PID (\d+)/.exec(out);
            resolve({ port: Number(m[1]), pid: p ? Number(p[1]) : child.pid! });
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(t);
          reject(new Error(`exited (${signal ?? code}) before READY\n${err}`));
        });
        child.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
      });
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      return { child, port: ready.port, pid: ready.pid, stop };
    } catch (e) {
      await stop();
      throw e;
    }
  }

  /** h2load on core 1: `-D seconds` for a rate scenario, `-n count` for downloads. */
  private h2load(server: H2Server, scenario: H2Scenario, port: number, amount: number): Promise<string> {
    const cmd = this.pin(1, [
      'h2load',
      '-t1',
      `-c${scenario.clients}`,
      `-m${scenario.streams}`,
      // A connection that gets nothing for 10 s (a server that does not speak h2c) times out.
      '-N10',
      ...(server.h1 ? ['--h1'] : []),
      ...(scenario.kind === 'rate' ? ['-D', String(amount)] : ['-n', String(amount)]),
      `http://127.0.0.1:${port}${scenario.path}`,
    ]);
    const limitMs = (scenario.kind === 'rate' ? amount + 30 : 60 + amount * 30) * 1000;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      const kill = setTimeout(() => child.kill('SIGKILL'), limitMs);
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.once('error', (e) => {
        clearTimeout(kill);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(kill);
        if (code === 0) resolve(out);
        else
          reject(
            new Error(
              `h2load ended (${signal ?? code}) after ${limitMs / 1000} s at most: ${out.slice(-500)}`,
            ),
          );
      });
    });
  }

  /** Why a run's answer is unusable, or null: no session, or no 2xx response at all. */
  private failure(server: H2Server, s: H2loadSummary): string | null {
    if (s.protocol === null) return `no ${server.h1 ? 'HTTP/1.1' : 'h2c'} session: h2load could not connect`;
    if (s.done === 0 && !server.h1)
      return `no HTTP/2 response to ${s.started} requests: the server did not answer the h2c preface (no h2c support?)`;
    if (s.status2xx === 0)
      return `no 2xx response (${s.succeeded} succeeded, ${s.failed} failed, ${s.errored} errored, ${s.timeout} timed out, ${s.statusOther} non-2xx)`;
    return null;
  }

  private async runOne(server: H2Server, scenario: H2Scenario): Promise<H2Run> {
    const failed = (reason: string): H2Run => ({
      failed: reason,
      rps: Number.NaN,
      cpuUsPerReq: Number.NaN,
      mibPerSec: Number.NaN,
      cpuSPerGiB: Number.NaN,
      meanMs: Number.NaN,
      rssMB: Number.NaN,
      errors: 0,
      stealPct: Number.NaN,
    });
    let started: H2Started;
    try {
      started = await this.start(server, scenario);
    } catch (e) {
      return failed(`server did not start: ${reasonOf(e)}`);
    }
    try {
      const download = scenario.kind === 'download';
      if (this.o.warmup > 0) {
        const w = parseH2load(
          await this.h2load(server, scenario, started.port, download ? 1 : this.o.warmup),
        );
        const why = this.failure(server, w);
        if (why !== null) return failed(`warm-up: ${why}`);
      }
      const amount = download ? this.downloads : this.o.duration;
      const before = procStat(started.pid);
      const m0 = this.o.machineStat();
      const out = await this.h2load(server, scenario, started.port, amount);
      const m1 = this.o.machineStat();
      const after = procStat(started.pid);
      const s = parseH2load(out);
      const why = this.failure(server, s);
      if (why !== null) return failed(why);
      const ticks = after.cpuTicks - before.cpuTicks;
      const stealPct = m1.total > m0.total ? (100 * (m1.steal - m0.steal)) / (m1.total - m0.total) : 0;
      let errors = s.failed + s.errored + s.timeout + s.statusOther;
      if (download) {
        // Every download must bring the whole body: count the ones that fell short.
        errors += Math.max(0, amount - Math.floor(s.dataBytes / this.downloadBytes));
      }
      const gib = s.dataBytes / 2 ** 30;
      return {
        failed: null,
        rps: s.rps,
        cpuUsPerReq: s.succeeded > 0 ? (ticks * 10_000) / s.succeeded : Number.NaN, // 100 ticks/s
        mibPerSec: download && s.seconds > 0 ? s.dataBytes / 2 ** 20 / s.seconds : Number.NaN,
        cpuSPerGiB: download && gib > 0 ? ticks / 100 / gib : Number.NaN,
        meanMs: s.meanMs,
        rssMB: after.hwmKB / 1024,
        errors,
        stealPct,
      };
    } catch (e) {
      return failed(reasonOf(e));
    } finally {
      await started.stop();
    }
  }

  /** The rate a ratio compares: req/s, or MiB/s for a download. */
  private rate(scenario: H2Scenario, r: H2Run): number {
    return scenario.kind === 'download' ? r.mibPerSec : r.rps;
  }

  private logRun(scenario: H2Scenario, round: number, server: H2Server, r: H2Run, ratio: number): void {
    const head = `  ${scenario.name} r${round + 1} ${server.name.padEnd(14)}`;
    if (r.failed !== null) {
      console.log(`${head} FAILED: ${r.failed}`);
      return;
    }
    const vs = server === H2_BASE ? '' : `  ${times(ratio)} ${H2_BASE.name}`;
    const errs = r.errors ? `  errors ${r.errors}` : '';
    const what =
      scenario.kind === 'download'
        ? `${fmt(r.mibPerSec).padStart(6)} MiB/s  CPU ${fmt(r.cpuSPerGiB, 2)} s/GiB`
        : `${fmt(r.rps).padStart(8)} req/s  CPU ${fmt(r.cpuUsPerReq, 1)} µs/req  mean ${fmt(r.meanMs, 2)} ms`;
    console.log(`${head} ${what}${vs}  peak RSS ${fmt(r.rssMB)} MB  steal ${fmt(r.stealPct, 1)}%${errs}`);
  }

  /** Runs every scenario, prints the tables, and writes the README block unless told not to. */
  async run(): Promise<void> {
    const rateScenarios = this.scenarios.filter((s) => s.kind === 'rate');
    const parts: string[] = [];
    if (rateScenarios.length > 0) parts.push(`${this.o.duration}s per run (+${this.o.warmup}s warm-up)`);
    if (this.scenarios.some((s) => s.kind === 'download'))
      parts.push(
        `h2-download: ${this.downloads} downloads of ${fmt(this.downloadBytes / 2 ** 20)} MiB per run (+${this.o.warmup > 0 ? 1 : 0} warm-up)`,
      );
    const setup = `h2load -t1 (${this.h2loadVersion}), ${parts.join(', ')}, ${this.o.rounds} rounds, taskset ${this.o.taskset ? 'on' : 'OFF'}, node ${process.version}`;
    console.log(setup);
    const rows: H2Row[] = [];
    for (const scenario of this.scenarios) {
      const baseRow: H2Row = { scenario, server: H2_BASE, runs: [], ratios: [] };
      const byServer = new Map<string, H2Row>();
      for (const s of this.servers) byServer.set(s.name, { scenario, server: s, runs: [], ratios: [] });
      for (let round = 0; round < this.o.rounds; round++) {
        const order = this.servers.map((_, i) => this.servers[(i + round) % this.servers.length]!);
        let prev = await this.runOne(H2_BASE, scenario);
        baseRow.runs.push(prev);
        this.logRun(scenario, round, H2_BASE, prev, 1);
        for (const s of order) {
          const r = await this.runOne(s, scenario);
          const next = await this.runOne(H2_BASE, scenario);
          baseRow.runs.push(next);
          const ratio =
            this.rate(scenario, r) / ((this.rate(scenario, prev) + this.rate(scenario, next)) / 2);
          const row = byServer.get(s.name)!;
          row.runs.push(r);
          row.ratios.push(ratio);
          this.logRun(scenario, round, s, r, ratio);
          this.logRun(scenario, round, H2_BASE, next, 1);
          prev = next;
        }
      }
      baseRow.ratios = baseRow.runs.map((r) => (r.failed === null ? 1 : Number.NaN));
      rows.push(baseRow, ...byServer.values());
    }
    const tables: string[] = [];
    const rate = rows.filter((r) => r.scenario.kind === 'rate');
    const download = rows.filter((r) => r.scenario.kind === 'download');
    if (rate.length > 0) tables.push(this.renderRate(rate));
    if (download.length > 0) tables.push(this.renderDownload(download));
    const notes = failureNotes(rows);
    const steal = rows.flatMap((r) => r.runs.map((x) => x.stealPct));
    const stealLine = `Hypervisor steal during the measured runs: median ${fmt(median(steal), 1)}%, max ${fmt(Math.max(...steal.filter(Number.isFinite)), 1)}%.`;
    const text = [...tables, ...(notes === '' ? [] : [notes])].join('\n\n');
    console.log(`\n${text}\n\n${stealLine}`);
    if (this.o.writeReadme) {
      const stamp = `Measured ${new Date().toISOString().slice(0, 16)}Z. ${setup}. ${stealLine}`;
      this.o.updateReadme('bench:h2', stamp, text);
    }
  }

  private baseMedian(rows: H2Row[], scenario: H2Scenario, pick: (r: H2Run) => number): number {
    const base = rows.find((r) => r.scenario === scenario && r.server === H2_BASE);
    return base === undefined ? Number.NaN : median(base.runs.map(pick));
  }

  private renderRate(rows: H2Row[]): string {
    const header = [
      'scenario',
      'server',
      'req/s (median)',
      `vs ${H2_BASE.name} (sandwich)`,
      'CPU µs/req',
      `CPU vs ${H2_BASE.name}`,
      'mean ms',
      'peak RSS MB',
      'errors',
      'failed runs',
    ];
    const body = rows.map((r) => {
      const cpu = median(r.runs.map((x) => x.cpuUsPerReq));
      const baseCpu = this.baseMedian(rows, r.scenario, (x) => x.cpuUsPerReq);
      return [
        r.scenario.label,
        r.server.label,
        fmt(median(r.runs.map((x) => x.rps))),
        times(median(r.ratios)),
        fmt(cpu, 1),
        times(cpu / baseCpu),
        fmt(median(r.runs.map((x) => x.meanMs)), 2),
        fmt(median(r.runs.map((x) => x.rssMB))),
        String(r.runs.reduce((a, x) => a + x.errors, 0)),
        failedRuns(r),
      ];
    });
    return this.o.markdownTable(header, body);
  }

  private renderDownload(rows: H2Row[]): string {
    const header = [
      'scenario',
      'server',
      'MiB/s (median)',
      `vs ${H2_BASE.name} (sandwich)`,
      'CPU s/GiB',
      `CPU vs ${H2_BASE.name}`,
      'peak RSS MB',
      'errors',
      'failed runs',
    ];
    const body = rows.map((r) => {
      const cpu = median(r.runs.map((x) => x.cpuSPerGiB));
      const baseCpu = this.baseMedian(rows, r.scenario, (x) => x.cpuSPerGiB);
      return [
        `${r.scenario.label}, ${fmt(this.downloadBytes / 2 ** 20)} MiB`,
        r.server.label,
        fmt(median(r.runs.map((x) => x.mibPerSec))),
        times(median(r.ratios)),
        fmt(cpu, 2),
        times(cpu / baseCpu),
        fmt(median(r.runs.map((x) => x.rssMB))),
        String(r.runs.reduce((a, x) => a + x.errors, 0)),
        failedRuns(r),
      ];
    });
    return this.o.markdownTable(header, body);
  }
}

function failedRuns(r: H2Row): string {
  return `${r.runs.filter((x) => x.failed !== null).length}/${r.runs.length}`;
}

/** One line per server and scenario with failed runs: how many, and the first reason. */
function failureNotes(rows: H2Row[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    const bad = r.runs.filter((x) => x.failed !== null);
    if (bad.length === 0) continue;
    lines.push(
      `- ${r.server.name} failed ${bad.length} of ${r.runs.length} runs of ${r.scenario.name}: ${bad[0]!.failed}`,
    );
  }
  return lines.length === 0 ? '' : `Failed runs:\n\n${lines.join('\n')}`;
}

function h2loadVersion(): string {
  try {
    return execFileSync('h2load', ['--version'], { encoding: 'utf8', timeout: 10_000 })
      .trim()
      .replace(/^h2load /, '');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('h2load not found: apt-get install -y nghttp2-client');
    return 'unknown version';
  }
}

/** Runs the HTTP/2 scenarios named in `scenarioNames` (`h2` = all of them). */
export async function runH2(scenarioNames: readonly string[], options: H2Options): Promise<void> {
  let bench: H2Bench;
  try {
    bench = new H2Bench(scenarioNames, options);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  await bench.run();
}
