/**
 * Serialisation benchmark: @strata/response's ResponseWriter vs node:http's ServerResponse, both
 * writing to a null socket, in the same process, alternating rounds; medians over ROUNDS rounds.
 *
 *   pnpm --filter @strata/response bench        (env: ROUNDS=7 N=200000)
 *
 * Scenarios: a 200 text response with 5 headers, a JSON response (JSON.stringify included, and once
 * with the body stringified up front), a chunked stream (3 writes + end).
 * Both sides send Date and use keep-alive; outputs are checked equivalent before timing.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { type ByteSink, ResponseWriter } from '../src/index';

const N = Number(process.env.N ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

let sinkBytes = 0;
let captured: string[] | null = null;

/** The Strata null sink: counts bytes, never full. */
const nullSink: ByteSink = {
  write(chunk) {
    sinkBytes += chunk.length;
    if (captured) captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
    return true;
  },
  cork() {},
  uncork() {},
  onDrain() {},
  end() {},
};

/** node:http's null socket: the members ServerResponse touches, writes counted and dropped. */
const nullSocket = {
  writable: true,
  destroyed: false,
  _httpMessage: null as unknown,
  _writableState: { corked: 0, length: 0 },
  writableLength: 0,
  writableCorked: 0,
  write(chunk: string | Uint8Array) {
    sinkBytes += chunk.length;
    if (captured) captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
    return true;
  },
  cork() {},
  uncork() {},
  on() {
    return this;
  },
  once() {
    return this;
  },
  removeListener() {
    return this;
  },
  emit() {
    return false;
  },
  setTimeout() {
    return this;
  },
};
const req = new IncomingMessage(nullSocket as never);
req.method = 'GET';
req.httpVersionMajor = 1;
req.httpVersionMinor = 1;
req.httpVersion = '1.1';

const TEXT = 'Hello, World! This is a typical small text response body.';
const DATA = { id: 12345, name: 'Strata', tags: ['http', 'fast', 'safe'], active: true, score: 98.6 };
const JSON_TEXT = JSON.stringify(DATA);
const OPTS = { method: 'GET', versionMinor: 1 as const, keepAlive: true };

function nodeRes(): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = true;
  nullSocket._httpMessage = null; // what the server's detachSocket does after the previous response
  res.assignSocket(nullSocket as never);
  return res;
}

const scenarios: Array<{ name: string; strata: () => void; node: () => void }> = [
  {
    name: '200 text + 5 headers',
    strata() {
      const res = new ResponseWriter(nullSink, OPTS);
      res.header('Content-Type', 'text/plain; charset=utf-8');
      res.header('Cache-Control', 'no-cache');
      res.header('X-Request-Id', 'a1b2c3d4');
      res.header('X-Frame-Options', 'DENY');
      res.header('Server', 'strata');
      res.send(TEXT);
    },
    node() {
      const res = nodeRes();
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Request-Id', 'a1b2c3d4');
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Server', 'strata');
      res.end(TEXT);
    },
  },
  {
    name: 'JSON',
    strata() {
      new ResponseWriter(nullSink, OPTS).json(DATA);
    },
    node() {
      const res = nodeRes();
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(DATA));
    },
  },
  {
    // The same JSON response with the body stringified once up front: isolates the HTTP
    // serialisation from JSON.stringify, which both sides pay equally in the row above.
    name: 'JSON, body pre-stringified',
    strata() {
      new ResponseWriter(nullSink, OPTS)
        .header('Content-Type', 'application/json; charset=utf-8')
        .send(JSON_TEXT);
    },
    node() {
      const res = nodeRes();
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON_TEXT);
    },
  },
  {
    name: 'chunked stream (3 writes)',
    strata() {
      const res = new ResponseWriter(nullSink, OPTS);
      res.header('Content-Type', 'text/plain');
      res.write('first chunk of data ');
      res.write('second chunk of data ');
      res.write('third chunk of data');
      res.end();
    },
    node() {
      const res = nodeRes();
      res.setHeader('Content-Type', 'text/plain');
      res.write('first chunk of data ');
      res.write('second chunk of data ');
      res.write('third chunk of data');
      res.end();
    },
  },
];

function capture(fn: () => void): string {
  captured = [];
  fn();
  const s = captured.join('');
  captured = null;
  return s;
}

function normalise(s: string): string[] {
  const [head = '', ...body] = s.split('\r\n\r\n');
  const lines = head
    .split('\r\n')
    .filter((l) => !/^(date|connection|keep-alive):/i.test(l))
    .map((l) => l.toLowerCase())
    .sort();
  return [...lines, body.join('\r\n\r\n')];
}

function timeIt(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, N=${N} responses per round, ${ROUNDS} rounds (alternating), medians\n`,
  );
  const rows: string[][] = [];
  for (const sc of scenarios) {
    const a = normalise(capture(sc.strata));
    const b = normalise(capture(sc.node));
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      console.error(`outputs differ for ${sc.name}:\n`, a, '\n', b);
      process.exitCode = 1;
    }
    timeIt(sc.strata, N / 4); // warm-up
    timeIt(sc.node, N / 4);
    await new Promise((r) => setImmediate(r));
    const rs: number[] = [];
    const rn: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rs.push(N / timeIt(sc.strata, N));
      rn.push(N / timeIt(sc.node, N));
      await new Promise((r2) => setImmediate(r2)); // let node:http's nextTick work drain
    }
    const s = median(rs);
    const n = median(rn);
    rows.push([
      sc.name,
      Math.round(s).toLocaleString('en'),
      Math.round(n).toLocaleString('en'),
      `${(s / n).toFixed(2)}x`,
    ]);
  }
  const header = ['scenario', 'strata resp/s', 'node:http ServerResponse resp/s', 'ratio'];
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${w.map((x, i) => (i === 0 ? ` ${'-'.repeat(x)} ` : ` ${'-'.repeat(x - 1)}: `)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`\n(${sinkBytes} bytes written to the null sinks)`);
}

main();
