/**
 * HPACK benchmark: ns per header block encode and decode, warm tables, medians over ROUNDS rounds.
 *
 *   npx tsx packages/http2/bench/hpack.ts        (env: ROUNDS=7 N=200000)
 *
 * Node has no public HPACK (node:http2 uses nghttp2 inside). Where the npm package `hpack.js`
 * resolves (it is not a dependency: `npm i hpack.js` in some folder, then run with
 * NODE_PATH=<that folder>/node_modules), the same scenarios run against it too.
 */
import { createRequire } from 'node:module';
import { HpackDecoder, HpackEncoder } from '../src/_hpack';

const N = Number(process.env.N ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const DATE = 'Mon, 07 Dec 2026 12:00:00 GMT';
/** A typical small response head: two static-name fields that index, two that never do. */
const RESPONSE = [
  ':status',
  '200',
  'content-type',
  'text/plain; charset=utf-8',
  'content-length',
  '12',
  'date',
  DATE,
];
/** A typical browser request head. */
const REQUEST = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':path',
  '/api/items?page=2',
  ':authority',
  'www.example.com',
  'user-agent',
  'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  'accept',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
];

let sink = 0;

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t0) / N;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Case {
  name: string;
  run: () => void;
}

const cases: Case[] = [];

// ---- ours ----------------------------------------------------------------------------------

{
  const enc = new HpackEncoder();
  const out = new Uint8Array(4096);
  cases.push({
    name: 'strata encode response head (4 fields, warm)',
    run: () => (sink += enc.encodeInto(RESPONSE, out, 0)),
  });
}
{
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  dec.decode(enc.encode(REQUEST));
  const warm = enc.encode(REQUEST); // every field indexed: 6 octets
  cases.push({
    name: `strata decode request head (6 fields, warm, ${warm.length} B)`,
    run: () => (sink += dec.decode(warm)!.length),
  });
}
{
  // Literals without indexing, Huffman strings: the cold-path decoder cost.
  const enc = new HpackEncoder({ maxTableSize: 0 });
  const dec = new HpackDecoder();
  dec.decode(enc.encode([])); // the size update
  const cold = enc.encode(REQUEST);
  cases.push({
    name: `strata decode request head (6 fields, literals, ${cold.length} B)`,
    run: () => (sink += dec.decode(cold)!.length),
  });
  const enc2 = new HpackEncoder({ maxTableSize: 0 });
  enc2.encode([]);
  const out = new Uint8Array(4096);
  cases.push({
    name: 'strata encode request head (6 fields, literals)',
    run: () => (sink += enc2.encodeInto(REQUEST, out, 0)),
  });
}

// ---- hpack.js, where it resolves -----------------------------------------------------------

interface HpackJsStream {
  write(x: unknown): void;
  read(): unknown;
  execute(): void;
}
interface HpackJs {
  compressor: { create(o: { table: { size: number } }): HpackJsStream };
  decompressor: { create(o: { table: { size: number } }): HpackJsStream };
}

let hpackjs: HpackJs | null = null;
try {
  hpackjs = createRequire(import.meta.url)('hpack.js') as HpackJs;
} catch {
  console.log('(hpack.js not installed: strata only)');
}

if (hpackjs !== null) {
  const toObjects = (flat: string[]) => {
    const o: { name: string; value: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) o.push({ name: flat[i]!, value: flat[i + 1]! });
    return o;
  };
  const drain = (s: HpackJsStream) => {
    let n = 0;
    while (s.read() !== null) n++;
    return n;
  };
  const response = toObjects(RESPONSE);
  const comp = hpackjs.compressor.create({ table: { size: 4096 } });
  cases.push({
    name: 'hpack.js encode response head (4 fields, warm)',
    run: () => {
      comp.write(response);
      const b = comp.read() as Uint8Array;
      sink += b.length;
    },
  });
  const c2 = hpackjs.compressor.create({ table: { size: 4096 } });
  const d2 = hpackjs.decompressor.create({ table: { size: 4096 } });
  c2.write(toObjects(REQUEST));
  d2.write(c2.read());
  d2.execute();
  drain(d2);
  c2.write(toObjects(REQUEST));
  const warm = c2.read();
  cases.push({
    name: 'hpack.js decode request head (6 fields, warm)',
    run: () => {
      d2.write(warm);
      d2.execute();
      sink += drain(d2);
    },
  });
}

// ---- run -----------------------------------------------------------------------------------

// Check equivalence once: our blocks decode back to the input.
{
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  for (let i = 0; i < 3; i++) {
    const got = dec.decode(enc.encode(REQUEST));
    if (JSON.stringify(got) !== JSON.stringify(REQUEST)) throw new Error('round trip mismatch');
  }
}

const results = new Map<string, number[]>();
for (const c of cases) {
  time(c.run); // warm-up
  results.set(c.name, []);
}
for (let r = 0; r < ROUNDS; r++) for (const c of cases) results.get(c.name)!.push(time(c.run));
console.log(`node ${process.version}, N=${N}, ROUNDS=${ROUNDS} (median ns per block)`);
for (const [name, xs] of results) console.log(`${median(xs).toFixed(0).padStart(7)} ns  ${name}`);
if (sink === -1) console.log(sink);
