// Benchmark (not a test): the transport's write path against a raw node:net server writing the
// same canned bytes, under wrk. Server pinned to core 0, wrk to core 1, rounds interleaved; each
// transport run is divided by the mean of the raw runs just before and after it (the machine's
// speed drifts), median over rounds.
// Usage: pnpm --filter @strata/transport bench  [ROUNDS=3 DURATION=3]
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 3);
const here = fileURLToPath(new URL('.', import.meta.url));
const servers = ['raw', 'transport', 'transport-split'] as const;
type Kind = (typeof servers)[number];
const scenarios = [
  { name: 'keep-alive, 64 conns', args: [] as string[], mode: 'keep' },
  { name: 'pipelined x16, 64 conns', args: ['-s', `${here}pipeline.lua`], mode: 'keep' },
  { name: 'Connection: close, 64 conns', args: ['-H', 'Connection: close'], mode: 'close' },
];

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}
const pin = hasTaskset();

/** utime+stime of a process, in microseconds (Linux /proc; USER_HZ = 100). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function runOne(
  kind: Kind,
  wrkArgs: string[],
  mode: string,
): Promise<{ rps: number; p99: number; cpu: number }> {
  const child = fork(`${here}_servers.ts`, [kind, '0', mode], {
    execArgv: ['--import', 'tsx'],
    stdio: 'ignore',
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', () => reject(new Error(`${kind} server exited`)));
    });
    if (pin && child.pid) execFileSync('taskset', ['-pc', '0', String(child.pid)], { stdio: 'ignore' });
    const cmd = pin ? 'taskset' : 'wrk';
    const base = ['-t1', '-c64', `-d${DURATION}s`, '--latency', ...wrkArgs, `http://127.0.0.1:${port}/hello`];
    const cpu0 = cpuMicros(child.pid!);
    const out = execFileSync(cmd, pin ? ['-c', '1', 'wrk', ...base] : base, { encoding: 'utf8' });
    const cpu1 = cpuMicros(child.pid!);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    const p99m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
    const unit = p99m?.[2] === 'us' ? 0.001 : p99m?.[2] === 's' ? 1000 : 1;
    return { rps, p99: Number(p99m?.[1] ?? 0) * unit, cpu: requests > 0 ? (cpu1 - cpu0) / requests : 0 };
  } finally {
    child.kill('SIGKILL');
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rows: string[] = [];
for (const sc of scenarios) {
  const rps: Record<Kind, number[]> = { raw: [], transport: [], 'transport-split': [] };
  const p99: Record<Kind, number[]> = { raw: [], transport: [], 'transport-split': [] };
  const cpu: Record<Kind, number[]> = { raw: [], transport: [], 'transport-split': [] };
  const ratios: Record<Kind, number[]> = { raw: [], transport: [], 'transport-split': [] };
  for (let r = 0; r < ROUNDS; r++) {
    // raw, transport, raw, transport-split, raw: every transport run has raw neighbours.
    const order: Kind[] = ['raw', 'transport', 'raw', 'transport-split', 'raw'];
    const got: Array<{ kind: Kind; rps: number; p99: number; cpu: number }> = [];
    for (const kind of order) {
      const res = await runOne(kind, sc.args, sc.mode);
      got.push({ kind, ...res });
      rps[kind].push(res.rps);
      p99[kind].push(res.p99);
      cpu[kind].push(res.cpu);
    }
    for (let i = 1; i < got.length; i += 2) {
      const g = got[i]!;
      ratios[g.kind].push(g.rps / ((got[i - 1]!.rps + got[i + 1]!.rps) / 2));
    }
  }
  for (const kind of servers) {
    const ratio = kind === 'raw' ? '1.00x' : `${median(ratios[kind]).toFixed(2)}x`;
    rows.push(
      `| ${sc.name} | ${kind} | ${Math.round(median(rps[kind]))} | ${ratio} | ${median(p99[kind]).toFixed(2)} | ${median(cpu[kind]).toFixed(2)} | ${(median(cpu[kind]) / median(cpu.raw)).toFixed(2)}x |`,
    );
  }
}
console.log(`\nNode ${process.versions.node}, ${ROUNDS} rounds x ${DURATION}s, pinned: ${pin}\n`);
console.log(
  '| scenario | server | req/s (median) | vs raw node:net | p99 ms | server CPU µs/req | CPU vs raw |',
);
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
