/** CPU microseconds (user + system) used by this process so far. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Run `fn` (one parse of one input) for about `ms` milliseconds of this process's CPU time after a
 * warm-up; returns parses per CPU-second. CPU time, not wall time: the benchmark machine is shared,
 * and time spent descheduled would otherwise count against whichever parser happened to be running.
 */
export function measure(fn: () => void, ms: number): number {
  const warmEnd = cpuMicros() + Math.min(300, ms / 3) * 1000;
  while (cpuMicros() < warmEnd) for (let k = 0; k < 200; k++) fn();
  let n = 0;
  const start = cpuMicros();
  let now = start;
  const end = start + ms * 1000;
  while (now < end) {
    for (let k = 0; k < 500; k++) fn();
    n += 500;
    now = cpuMicros();
  }
  return (n * 1e6) / (now - start);
}
