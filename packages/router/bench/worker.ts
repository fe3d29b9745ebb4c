/**
 * One router, one route set, one process: `tsx bench/worker.ts <router> <small|github> verify`
 * prints the normalised matches; `... time <ms> <runs>` prints lookups per CPU-second samples (JSON).
 */
import { loadAdapter } from './_adapters';
import { GITHUB, GITHUB_LOOKUPS, SMALL, SMALL_LOOKUPS } from './_routes';

const [name = 'strata', set = 'small', mode = 'verify', msArg = '300', runsArg = '5'] = process.argv.slice(2);
const routes = set === 'github' ? GITHUB : SMALL;
const lookups = set === 'github' ? GITHUB_LOOKUPS : SMALL_LOOKUPS;
const adapter = await loadAdapter(name);
await adapter.build(routes);

const methods = lookups.map((l) => l[0]);
const paths = lookups.map((l) => l[1]);
const n = lookups.length;

if (mode === 'verify') {
  const out = [];
  for (let i = 0; i < n; i++) out.push(adapter.normalize(adapter.find(methods[i]!, paths[i]!)));
  process.stdout.write(JSON.stringify(out));
} else {
  const find = adapter.find;
  const ms = Number(msArg);
  const runs = Number(runsArg);
  const passesPerBatch = Math.max(1, Math.ceil(4000 / n));
  let hits = 0;
  const measure = (duration: number): number => {
    // CPU time of this process (user + system), not wall time: the machine is shared, and a
    // descheduled process must not look slow. The loop runs for `duration` ms of CPU.
    const start = process.cpuUsage();
    const limit = duration * 1000;
    let passes = 0;
    let elapsed = 0;
    do {
      for (let b = 0; b < passesPerBatch; b++) {
        for (let i = 0; i < n; i++) if (find(methods[i]!, paths[i]!)) hits++;
      }
      passes += passesPerBatch;
      const u = process.cpuUsage(start);
      elapsed = u.user + u.system;
    } while (elapsed < limit);
    return (passes * n) / (elapsed / 1e6);
  };
  measure(ms); // warm-up (JIT)
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) samples.push(measure(ms));
  process.stdout.write(JSON.stringify({ samples, hits }));
}
