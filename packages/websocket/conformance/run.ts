/**
 * Full conformance run: `pnpm --filter @strata/websocket conformance` (add `--reduced` for CI sizes,
 * `--cases=9,12.1` to pick sections or cases, `--count=N` to override the 1000-message count).
 * Writes conformance/reports/index.json (Autobahn's format) and prints the summary table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCases } from './cases';
import { startEchoServer } from './echo-server';
import { FULL, REDUCED, runCase } from './harness';
import { summarize } from './summary';

const reduced = process.argv.includes('--reduced');
const filter = process.argv.find((a) => a.startsWith('--cases='))?.slice(8);
const countArg = process.argv.find((a) => a.startsWith('--count='))?.slice(8);
const scale = {
  ...(reduced ? REDUCED : FULL),
  ...(countArg !== undefined ? { count: Number(countArg) } : {}),
};
const server = await startEchoServer();
const cases = buildCases(scale).filter(
  (c) => filter === undefined || filter.split(',').some((p) => c.id === p || c.id.startsWith(`${p}.`)),
);
const agent = 'StrataWebSocket';
const results: Record<string, Awaited<ReturnType<typeof runCase>>> = {};
const started = Date.now();
for (const c of cases) {
  const r = await runCase(c, '127.0.0.1', server.port, scale, agent);
  results[c.id] = r;
  if (process.argv.includes('--verbose')) console.log(c.id, r.behavior, r.behaviorClose, r.duration);
  if (r.behavior === 'FAILED' || r.behaviorClose === 'FAILED' || r.behavior === 'NON-STRICT')
    console.log(`${c.id} ${r.behavior}/${r.behaviorClose}: ${r.detail}`);
}
await server.close();
const dir = join(dirname(fileURLToPath(import.meta.url)), 'reports');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, filter === undefined ? 'index.json' : `index-${filter.replaceAll(',', '_')}.json`),
  `${JSON.stringify({ [agent]: results }, null, 2)}\n`,
);
console.log(summarize(results, scale.name, Date.now() - started));
