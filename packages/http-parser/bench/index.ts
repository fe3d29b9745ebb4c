// pnpm --filter @strata/http-parser bench
// Runs each parser on each input in its own process (JIT state never shared), several rounds
// alternating the order, and prints the median requests/s, MB/s and the ratio Strata / llhttp.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INPUTS } from './_inputs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.env.ROUNDS ?? 5);
const ms = Number(process.env.BENCH_MS ?? 1000);

function once(which: 'strata' | 'llhttp', idx: number): number {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(here, `${which}.ts`), String(idx), String(ms)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { rate: number }).rate;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(`Node ${process.version}, ${rounds} rounds x ${ms} ms per parser per input, one process each\n`);
const rows: string[] = [];
rows.push('| input | bytes | Strata req/s | Strata MB/s | llhttp req/s | llhttp MB/s | ratio |');
rows.push('|---|---:|---:|---:|---:|---:|---:|');
const only = process.env.CASES?.split(',');
for (let i = 0; i < INPUTS.length; i++) {
  const input = INPUTS[i]!;
  if (only !== undefined && !only.includes(input.name[0]!)) continue;
  const s: number[] = [];
  const l: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // alternate the order so that drift of the machine hits both sides alike
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = once('strata', i);
      b = once('llhttp', i);
    } else {
      b = once('llhttp', i);
      a = once('strata', i);
    }
    s.push(a);
    l.push(b);
    ratios.push(a / b);
  }
  const sr = median(s) * input.requests;
  const lr = median(l) * input.requests;
  const mb = (rate: number): string => ((rate * input.bytes.length) / input.requests / 1e6).toFixed(1);
  const fmt = (n: number): string => `${(n / 1e6).toFixed(2)}M`;
  rows.push(
    `| ${input.name} | ${input.bytes.length} | ${fmt(sr)} | ${mb(sr)} | ${fmt(lr)} | ${mb(lr)} | ${median(ratios).toFixed(2)}x |`,
  );
  console.log(rows.at(-1));
}
console.log(`\n${rows.join('\n')}`);
console.log('\nratio = median over rounds of (Strata req/s / llhttp req/s) measured back to back.');
