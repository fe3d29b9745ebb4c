/**
 * `pnpm --filter @strata/forms bench`: multipart/form-data parse throughput of `MultipartParser`
 * against busboy 1.6, @fastify/busboy 3.2.6, formidable 3.5.4 and undici's `Response.formData()`
 * (Node's global `Response`), in one process and one run, on two bodies built here byte for byte
 * (fixed boundary, xorshift file content: the same bytes every run):
 *
 * - one 100 MB file (100,000,000 bytes of content) plus one short field;
 * - 10,000 small fields (`field123` = `value number 123 ...`).
 *
 * Each body is cut into 64 KiB chunks, as a socket hands them over, and every contender does the
 * same work: field values delivered as decoded strings, file bytes counted.
 *
 * - `@strata/forms`: `MultipartParser.write(chunk)` per chunk; each field's bytes copied out of the
 *   views (which are valid only during the call) into one reused buffer and decoded at the part's
 *   end with one `TextDecoder`; each file view's length added up.
 * - busboy / @fastify/busboy: `write(chunk)` per chunk on the busboy Writable; its `field` strings
 *   taken as given, each file stream's `data` lengths added up.
 * - formidable: its `MultipartParser` Transform (the tokenizer `IncomingForm` drives) written chunk
 *   by chunk, with the work `IncomingForm`'s multipart plugin does around it, minus the temporary
 *   files and the async `onPart` pause/resume: header names and values concatenated from its
 *   `headerField`/`headerValue` ranges, a part with `filename=` in Content-Disposition a file (its
 *   `partData` lengths counted), other part data decoded with a `StringDecoder`, as `IncomingForm`
 *   does. That is its fastest path: `IncomingForm.parse()` with a byte-counting
 *   `fileWriteStreamHandler` was slower on both bodies.
 * - undici: `await new Response(stream, { headers }).formData()` on a `ReadableStream` enqueuing the
 *   chunks; the `File` sizes added up (the fields are strings already).
 *
 * Before timing, each contender's result (fields, sum of field value lengths, file bytes) is checked
 * against the expected one. Rounds rotate the order of the contenders; each measurement repeats the
 * parse until MIN_MS have passed; the median of ROUNDS measurements is printed in MB/s (10^6 bytes
 * of body per second), with its ratio against busboy's median in the same run.
 *
 * Env: ROUNDS (default 5), MIN_MS (default 300), ONLY (a substring of a contender's name).
 */
import { StringDecoder } from 'node:string_decoder';
import fastifyBusboy from '@fastify/busboy';
import busboy from 'busboy';
import { MultipartParser as FormidableParser } from 'formidable';
import { MultipartParser, parts } from '../src/index';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MIN_MS = Number(process.env.MIN_MS ?? 300);
const ONLY = process.env.ONLY;
const CHUNK = 64 * 1024;

const BOUNDARY = '----StrataBenchBoundary7MA4YWxkTrZu0gW';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/** What a parse produced: compared across contenders before timing. */
interface Tally {
  fields: number;
  /** Sum of the lengths of the field values (as strings). */
  chars: number;
  fileBytes: number;
}

interface Body {
  name: string;
  bytes: Buffer;
  chunks: Buffer[];
  expected: Tally;
}

// ---------------------------------------------------------------------------------------------
// Bodies (deterministic)

/** `n` bytes of xorshift32 output from a fixed seed. */
function pseudoRandom(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = 2463534242;
  const words = n >>> 2;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i * 4);
  }
  for (let i = words * 4; i < n; i++) b[i] = i & 0xff;
  return b;
}

function fieldPart(name: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

function fileBody(size: number): Body {
  const head = Buffer.from(
    `${fieldPart('title', 'holiday')}--${BOUNDARY}\r\n` +
      'Content-Disposition: form-data; name="photo"; filename="photo.bin"\r\n' +
      'Content-Type: application/octet-stream\r\n\r\n',
    'latin1',
  );
  const content = pseudoRandom(size);
  if (content.includes(`\r\n--${BOUNDARY}`)) throw new Error('file content contains the delimiter');
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`, 'latin1');
  return body(`one ${size / 1e6} MB file`, Buffer.concat([head, content, tail]), {
    fields: 1,
    chars: 'holiday'.length,
    fileBytes: size,
  });
}

function fieldsBody(n: number): Body {
  let s = '';
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const value = `value number ${i} of a small form field`;
    chars += value.length;
    s += fieldPart(`field${i}`, value);
  }
  s += `--${BOUNDARY}--\r\n`;
  return body(`${n.toLocaleString('en-US')} small fields`, Buffer.from(s, 'latin1'), {
    fields: n,
    chars,
    fileBytes: 0,
  });
}

function body(name: string, bytes: Buffer, expected: Tally): Body {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));
  return { name, bytes, chunks, expected };
}

// ---------------------------------------------------------------------------------------------
// Contenders: each parses `chunks` and resolves to its tally.

type Contender = { name: string; run: (chunks: Buffer[]) => Tally | Promise<Tally> };

const LIMITS = {
  maxParts: Number.POSITIVE_INFINITY,
  maxFields: Number.POSITIVE_INFINITY,
  maxFiles: Number.POSITIVE_INFINITY,
  maxFieldBytes: Number.POSITIVE_INFINITY,
  maxFileBytes: Number.POSITIVE_INFINITY,
  maxTotalBytes: Number.POSITIVE_INFINITY,
};

function runStrata(chunks: Buffer[]): Tally {
  const t: Tally = { fields: 0, chars: 0, fileBytes: 0 };
  const decoder = new TextDecoder();
  let isFile = false;
  // A field's bytes, copied out of the views (valid only during onPartData), decoded at its end.
  let field = new Uint8Array(1024);
  let fieldLen = 0;
  const p = new MultipartParser(
    BOUNDARY,
    {
      onPartStart(part) {
        isFile = part.filename !== undefined;
        fieldLen = 0;
      },
      onPartData(view) {
        if (isFile) {
          t.fileBytes += view.length;
          return;
        }
        if (fieldLen + view.length > field.length) {
          const bigger = new Uint8Array(Math.max(field.length * 2, fieldLen + view.length));
          bigger.set(field.subarray(0, fieldLen));
          field = bigger;
        }
        field.set(view, fieldLen);
        fieldLen += view.length;
      },
      onPartEnd() {
        if (isFile) return;
        const value = decoder.decode(field.subarray(0, fieldLen));
        t.fields++;
        t.chars += value.length;
      },
      onEnd() {},
    },
    LIMITS,
  );
  for (const c of chunks) p.write(c);
  p.end();
  return t;
}

/** The pull API (`parts()`, what `req.parts()` is): a part at a time, a file's chunks streamed. */
async function runStrataParts(chunks: Buffer[]): Promise<Tally> {
  const t: Tally = { fields: 0, chars: 0, fileBytes: 0 };
  for await (const part of parts(chunks, CONTENT_TYPE, LIMITS)) {
    if (part.isFile) {
      for await (const chunk of part) t.fileBytes += chunk.length;
    } else {
      const value = await part.text();
      t.fields++;
      t.chars += value.length;
    }
  }
  return t;
}

/** What both busboys share: a Writable emitting `field` strings and `file` streams. */
interface BusboyLike {
  on(event: 'field', fn: (name: string, value: string) => void): unknown;
  on(event: 'file', fn: (name: string, stream: NodeJS.ReadableStream) => void): unknown;
  on(event: string, fn: (err?: Error) => void): unknown;
  write(chunk: Buffer): unknown;
  end(): unknown;
}

/** Feeds the chunks to a busboy; resolves on `done` (busboy 1.6: 'close'; @fastify/busboy: 'finish'). */
function runBusboyLike(bb: BusboyLike, done: string, chunks: Buffer[]): Promise<Tally> {
  return new Promise((resolve, reject) => {
    const t: Tally = { fields: 0, chars: 0, fileBytes: 0 };
    bb.on('field', (_name, value) => {
      t.fields++;
      t.chars += value.length;
    });
    bb.on('file', (_name, stream) => {
      stream.on('data', (d: Buffer) => {
        t.fileBytes += d.length;
      });
    });
    bb.on(done, () => resolve(t));
    bb.on('error', (err) => reject(err));
    for (const c of chunks) bb.write(c);
    bb.end();
  });
}

const BUSBOY_OPTIONS = { headers: { 'content-type': CONTENT_TYPE }, limits: { fieldSize: 1 << 30 } };

function runBusboy(chunks: Buffer[]): Promise<Tally> {
  return runBusboyLike(busboy(BUSBOY_OPTIONS) as unknown as BusboyLike, 'close', chunks);
}

function runFastifyBusboy(chunks: Buffer[]): Promise<Tally> {
  return runBusboyLike(fastifyBusboy(BUSBOY_OPTIONS) as unknown as BusboyLike, 'finish', chunks);
}

interface FormidableEvent {
  name: string;
  buffer: Buffer;
  start: number;
  end: number;
}

function runFormidable(chunks: Buffer[]): Promise<Tally> {
  return new Promise((resolve, reject) => {
    const t: Tally = { fields: 0, chars: 0, fileBytes: 0 };
    const parser = new FormidableParser();
    parser.initWithBoundary(BOUNDARY);
    let headerField = '';
    let headerValue = '';
    let isFile = false;
    let decoder: StringDecoder | null = null;
    let value = '';
    parser.on('data', ({ name, buffer, start, end }: FormidableEvent) => {
      switch (name) {
        case 'partBegin':
          isFile = false;
          headerField = '';
          headerValue = '';
          break;
        case 'headerField':
          headerField += buffer.toString('utf-8', start, end);
          break;
        case 'headerValue':
          headerValue += buffer.toString('utf-8', start, end);
          break;
        case 'headerEnd':
          if (headerField.toLowerCase() === 'content-disposition' && /\bfilename=/i.test(headerValue)) {
            isFile = true;
          }
          headerField = '';
          headerValue = '';
          break;
        case 'headersEnd':
          value = '';
          decoder = isFile ? null : new StringDecoder('utf-8');
          break;
        case 'partData':
          if (isFile) t.fileBytes += end - start;
          else value += decoder!.write(buffer.subarray(start, end));
          break;
        case 'partEnd':
          if (!isFile) {
            value += decoder!.end();
            t.fields++;
            t.chars += value.length;
          }
          break;
      }
    });
    parser.on('error', reject);
    parser.on('finish', () => resolve(t));
    for (const c of chunks) parser.write(c);
    parser.end();
  });
}

async function runUndici(chunks: Buffer[]): Promise<Tally> {
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
  const form = await new Response(stream, { headers: { 'content-type': CONTENT_TYPE } }).formData();
  const t: Tally = { fields: 0, chars: 0, fileBytes: 0 };
  for (const [, v] of form) {
    if (typeof v === 'string') {
      t.fields++;
      t.chars += v.length;
    } else {
      t.fileBytes += v.size;
    }
  }
  return t;
}

const CONTENDERS: Contender[] = [
  { name: '@strata/forms', run: runStrata },
  { name: '@strata/forms parts()', run: runStrataParts },
  { name: 'busboy 1.6', run: runBusboy },
  { name: '@fastify/busboy 3.2.6', run: runFastifyBusboy },
  { name: 'formidable 3.5.4', run: runFormidable },
  { name: `undici ${process.versions.undici} Response.formData()`, run: runUndici },
].filter((c) => ONLY === undefined || c.name === 'busboy 1.6' || c.name.includes(ONLY));

// ---------------------------------------------------------------------------------------------
// Measurement

/** MB/s of body: repeats `run` until MIN_MS have passed. */
async function measure(c: Contender, b: Body): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  let ms = 0;
  while (ms < MIN_MS) {
    await c.run(b.chunks);
    n++;
    ms = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (b.bytes.length * n) / 1e6 / (ms / 1000);
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

const bodies = [fileBody(100_000_000), fieldsBody(10_000)];
const results = new Map<string, number[]>(); // `${body}\0${contender}` -> MB/s per round

for (const b of bodies) {
  for (const c of CONTENDERS) {
    const got = await c.run(b.chunks);
    if (JSON.stringify(got) !== JSON.stringify(b.expected)) {
      throw new Error(
        `${c.name} on ${b.name}: ${JSON.stringify(got)}, expected ${JSON.stringify(b.expected)}`,
      );
    }
  }
}

for (let r = 0; r < ROUNDS; r++) {
  for (const b of bodies) {
    for (let k = 0; k < CONTENDERS.length; k++) {
      const c = CONTENDERS[(k + r) % CONTENDERS.length]!;
      const key = `${b.name}\0${c.name}`;
      const list = results.get(key) ?? [];
      list.push(await measure(c, b));
      results.set(key, list);
    }
  }
}

const cols = bodies.map((b) => `${b.name} (${(b.bytes.length / 1e6).toFixed(1)} MB body)`);
console.log(
  `forms bench: Node ${process.version}, ${CHUNK / 1024} KiB chunks, median of ${ROUNDS} rounds of >= ${MIN_MS} ms, MB/s of body\n`,
);
console.log(`| parser | ${cols.map((c) => `${c} MB/s | vs busboy`).join(' | ')} |`);
console.log(`|---|${bodies.map(() => '---:|---:|').join('')}`);
for (const c of CONTENDERS) {
  const cells = bodies.map((b) => {
    const m = median(results.get(`${b.name}\0${c.name}`)!);
    const base = median(results.get(`${b.name}\0busboy 1.6`)!);
    return `${m.toFixed(0)} | ${(m / base).toFixed(2)}x`;
  });
  console.log(`| ${c.name} | ${cells.join(' | ')} |`);
}
