/**
 * `pnpm --filter @strata/forms bench`: parse throughput of `MultipartParser` against busboy 1.6 on
 * the same bodies, in one process, each body fed in fixed-size chunks (what a socket hands over).
 * Both only count part bytes (busboy's file streams are drained; its fields arrive as strings).
 * Rounds alternate the two; the median of ROUNDS (default 5) is printed as MiB/s of body.
 * Env: ROUNDS, MIN_MS (time per measurement, default 300).
 */
import busboy from 'busboy';
import { MultipartParser } from '../src/index';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MIN_MS = Number(process.env.MIN_MS ?? 300);

interface Case {
  name: string;
  body: Buffer;
  contentType: string;
  boundary: string;
  chunk: number;
}

async function encode(form: FormData): Promise<{ body: Buffer; contentType: string; boundary: string }> {
  const res = new Response(form);
  const contentType = res.headers.get('content-type')!;
  return {
    body: Buffer.from(await res.arrayBuffer()),
    contentType,
    boundary: /boundary=(.*)$/.exec(contentType)![1]!,
  };
}

function pseudoRandom(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

async function cases(): Promise<Case[]> {
  const file = new FormData();
  file.append('title', 'holiday');
  file.append('photo', new Blob([pseudoRandom(8 * 1024 * 1024)], { type: 'image/jpeg' }), 'photo.jpg');
  const fields = new FormData();
  for (let i = 0; i < 200; i++) fields.append(`field${i}`, `value number ${i} with some text`);
  const many = new FormData();
  for (let i = 0; i < 50; i++) many.append(`f${i}`, new Blob([pseudoRandom(20_000)]), `f${i}.bin`);
  const out: Case[] = [];
  for (const [name, form, chunk] of [
    ['one 8 MiB file, 64 KiB chunks', file, 65536],
    ['one 8 MiB file, 1 KiB chunks', file, 1024],
    ['200 small fields, 64 KiB chunks', fields, 65536],
    ['50 files of 20 KB, 16 KiB chunks', many, 16384],
  ] as const) {
    out.push({ name, chunk, ...(await encode(form)) });
  }
  return out;
}

function chunksOf(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

function runStrata(c: Case, chunks: Buffer[]): number {
  let bytes = 0;
  const p = new MultipartParser(c.boundary, {
    onPartStart() {},
    onPartData(view) {
      bytes += view.length;
    },
    onPartEnd() {},
    onEnd() {},
  });
  for (const ch of chunks) p.write(ch);
  p.end();
  return bytes;
}

function runBusboy(c: Case, chunks: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const bb = busboy({ headers: { 'content-type': c.contentType }, limits: { fieldSize: 1 << 30 } });
    bb.on('field', (_n, v) => {
      bytes += v.length;
    });
    bb.on('file', (_n, stream) => {
      stream.on('data', (d: Buffer) => {
        bytes += d.length;
      });
    });
    bb.on('close', () => resolve(bytes));
    bb.on('error', reject);
    for (const ch of chunks) bb.write(ch);
    bb.end();
  });
}

async function measure(run: () => number | Promise<number>, size: number): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  let ms = 0;
  while (ms < MIN_MS) {
    await run();
    n++;
    ms = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (size * n) / (1024 * 1024) / (ms / 1000);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

console.log(`forms bench: Node ${process.version}, ${ROUNDS} rounds of >= ${MIN_MS} ms each, median MiB/s`);
console.log('\n| body | @strata/forms MiB/s | busboy 1.6 MiB/s | ratio |\n|---|---:|---:|---:|');
for (const c of await cases()) {
  const chunks = chunksOf(c.body, c.chunk);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const pair = [
      async () => ours.push(await measure(() => runStrata(c, chunks), c.body.length)),
      async () => theirs.push(await measure(() => runBusboy(c, chunks), c.body.length)),
    ];
    if (r % 2 === 1) pair.reverse();
    for (const f of pair) await f();
  }
  const a = median(ours);
  const b = median(theirs);
  console.log(`| ${c.name} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
}
