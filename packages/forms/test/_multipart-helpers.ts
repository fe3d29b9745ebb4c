import { FormError } from '../src/_errors';
import { type MultipartLimits, MultipartParser } from '../src/_multipart';
import type { PartInfo } from '../src/_part-headers';

export interface ParsedPart {
  info: PartInfo;
  body: Uint8Array;
}

export interface Outcome {
  /** Event log, consecutive data events coalesced: `start {json}`, `data <latin1>`, `end`, `done`. */
  log: string[];
  parts: ParsedPart[];
  error: { code: string; offset: number; status: number } | null;
}

/** Parses `input` cut at the given split points (ascending), then calls end(). */
export function parseSplit(
  input: Uint8Array,
  boundary: string,
  cuts: number[],
  limits: Partial<MultipartLimits> = {},
): Outcome {
  const log: string[] = [];
  const parts: ParsedPart[] = [];
  let chunks: Uint8Array[] = [];
  let dataOpen = false;
  const closeData = () => {
    if (!dataOpen) return;
    const body = Buffer.concat(chunks);
    parts[parts.length - 1]!.body = new Uint8Array(body);
    log.push(`data ${body.toString('latin1')}`);
    chunks = [];
    dataOpen = false;
  };
  const p = new MultipartParser(
    boundary,
    {
      onPartStart(info) {
        parts.push({ info, body: new Uint8Array(0) });
        log.push(`start ${JSON.stringify(info)}`);
      },
      onPartData(view) {
        dataOpen = true;
        chunks.push(Buffer.from(view)); // copy: the view is valid only during the call
      },
      onPartEnd() {
        closeData();
        log.push('end');
      },
      onEnd() {
        log.push('done');
      },
    },
    limits,
  );
  let error: Outcome['error'] = null;
  try {
    let from = 0;
    for (const c of [...cuts, input.length]) {
      p.write(input.subarray(from, c));
      from = c;
    }
    p.end();
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    error = { code: err.code, offset: err.offset, status: err.status };
  }
  closeData();
  return { log, parts, error };
}

/**
 * Parses `input` whole, byte by byte and cut at every split point; asserts every run gives the same
 * outcome as the whole run and returns it.
 */
export function runAll(input: Uint8Array, boundary: string, limits: Partial<MultipartLimits> = {}): Outcome {
  const whole = parseSplit(input, boundary, [], limits);
  const same = (o: Outcome, how: string) => {
    const a = JSON.stringify({ log: o.log, error: o.error });
    const b = JSON.stringify({ log: whole.log, error: whole.error });
    if (a !== b) throw new Error(`${how} differs from whole:\n${a}\n${b}`);
  };
  const bytes: number[] = [];
  for (let i = 1; i < input.length; i++) bytes.push(i);
  same(parseSplit(input, boundary, bytes, limits), 'byte by byte');
  for (let i = 0; i <= input.length; i++) same(parseSplit(input, boundary, [i], limits), `split at ${i}`);
  return whole;
}

export function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** Encodes `formData` with undici's (Node's) own encoder: the body bytes and the boundary. */
export async function encode(
  formData: FormData,
): Promise<{ body: Uint8Array; boundary: string; contentType: string }> {
  const res = new Response(formData);
  const contentType = res.headers.get('content-type')!;
  const body = new Uint8Array(await res.arrayBuffer());
  const boundary = /boundary=(.*)$/.exec(contentType)![1]!;
  return { body, boundary, contentType };
}
