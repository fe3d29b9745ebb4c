/**
 * Router benchmark: `pnpm --filter @strata/router bench`.
 *
 * For each route set, every router runs in its own process (several routers in one process skew
 * each other through shared JIT state). First every router's matches for the lookups are checked
 * against the expected route and params; then rounds of timing processes run round-robin, and the
 * table shows the median lookups per CPU-second over rounds (each round = median of in-process runs;
 * CPU time, not wall time, because the machine is shared), with the
 * ratio to find-my-way measured in the same session.
 *
 * Env: BENCH_ROUNDS (default 3), BENCH_MS per run (default 300), BENCH_RUNS per process (default 5).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROUTERS } from './_adapters';
import { GITHUB, GITHUB_LOOKUPS, type Lookup, type RouteDef, SMALL, SMALL_LOOKUPS } from './_routes';

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MS = Number(process.env.BENCH_MS ?? 300);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function worker(args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', tsxLoader, join(here, 'worker.ts'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`worker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Expected [route index, param values...] of a lookup, from the pattern itself. */
function expected(routes: RouteDef[], l: Lookup, dropWildcard: boolean): (number | string)[] {
  const pattern = routes[l[2]]![1].split('/');
  const path = l[1].split('/');
  const out: (number | string)[] = [l[2]];
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i]!;
    if (seg.startsWith(':')) out.push(path[i]!);
    else if (seg === '*') {
      if (!dropWildcard) out.push(path.slice(i).join('/'));
      break;
    }
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const sets = [
  {
    name: 'small',
    title: `small API (${SMALL.length} routes, ${SMALL_LOOKUPS.length} lookups)`,
    routes: SMALL,
    lookups: SMALL_LOOKUPS,
  },
  {
    name: 'github',
    title: `GitHub API (${GITHUB.length} routes, ${GITHUB_LOOKUPS.length} lookups)`,
    routes: GITHUB,
    lookups: GITHUB_LOOKUPS,
  },
];

console.log(
  `node ${process.version}, ${ROUNDS} rounds x ${RUNS} runs x ${MS} ms per router and set, one process each\n`,
);
let failed = false;
for (const set of sets) {
  // 1. agreement check
  for (const name of ROUTERS) {
    const got = JSON.parse(worker([name, set.name, 'verify'])) as (number | string)[][];
    set.lookups.forEach((l, i) => {
      // Hono's unnamed '*' captures nothing: compare the route only
      const want = expected(set.routes, l, name === 'hono-regexp');
      // param order differs between routers (Hono, memoirist): compare values as a sorted list
      const canon = (x: (number | string)[] | undefined) =>
        JSON.stringify(x === undefined ? null : [x[0], ...x.slice(1).map(String).sort()]);
      if (canon(got[i]) !== canon(want)) {
        failed = true;
        console.error(
          `MISMATCH ${name} ${set.name}: ${l[0]} ${l[1]} got ${JSON.stringify(got[i])} want ${JSON.stringify(want)}`,
        );
      }
    });
  }
  if (failed) break;
  // 2. timing, round-robin
  const perRouter = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ROUTERS) {
      const { samples } = JSON.parse(worker([name, set.name, 'time', String(MS), String(RUNS)])) as {
        samples: number[];
      };
      perRouter.set(name, [...(perRouter.get(name) ?? []), median(samples)]);
    }
  }
  const rows = ROUTERS.map((name) => ({
    name,
    ops: median(perRouter.get(name)!),
    all: perRouter.get(name)!,
  }));
  const base = rows.find((r) => r.name === 'find-my-way')!.ops;
  rows.sort((a, b) => b.ops - a.ops);
  console.log(`### ${set.title}, all routers agree on every lookup\n`);
  console.log('| router | lookups per CPU-second (median) | vs find-my-way | per round (M) |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${(r.ops / 1e6).toFixed(2)} M | ${(r.ops / base).toFixed(2)}x | ${r.all.map((x) => (x / 1e6).toFixed(2)).join(' / ')} |`,
    );
  }
  console.log('');
}
if (failed) {
  console.error('routers disagree: no timing');
  process.exit(1);
}
