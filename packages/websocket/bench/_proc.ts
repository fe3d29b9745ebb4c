/** /proc readers shared by the benchmarks: a process tree's CPU time and peak RSS, a core's load. */
import { readFileSync } from 'node:fs';

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    out.push(p);
    try {
      const kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const k of kids.split(/\s+/).filter(Boolean)) visit(Number(k));
    } catch {}
  };
  visit(pid);
  return out;
}

/** user+sys CPU seconds of a process tree. */
export function cpuSeconds(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
    } catch {}
  }
  return total;
}

/**
 * Peak RSS (VmHWM) in MB over a process tree: `'max'` the largest one (a wrapper plus the real
 * server), `'sum'` all of them (a cluster's primary and workers).
 */
export function peakRssMb(pid: number, how: 'max' | 'sum'): number {
  let out = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m === null) continue;
      const mb = Number(m[1]) / 1024;
      out = how === 'sum' ? out + mb : Math.max(out, mb);
    } catch {}
  }
  return out;
}

/** Busy (non-idle) and total jiffies of one CPU core, from /proc/stat. */
export function coreTicks(core: string): [number, number] {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${core} `));
    if (line === undefined) return [0, 0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return [total - f[3]! - (f[4] ?? 0), total]; // minus idle and iowait
  } catch {
    return [0, 0];
  }
}
