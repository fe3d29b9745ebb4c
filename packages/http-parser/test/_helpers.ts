import {
  type HttpParseError,
  type ParserOptions,
  ParseStatus,
  type RequestHead,
  RequestParser,
} from '../src/index';

/** One normalised event. Body pieces are merged so that results compare across chunkings. */
export type Event =
  | { type: 'head'; head: RequestHead }
  | { type: 'body'; data: string }
  | { type: 'complete'; trailers: string[] | null };

export interface Outcome {
  events: Event[];
  /** 'ok' | 'upgrade' | error code */
  end: string;
  error: { code: string; status: number; offset: number } | null;
  /** Absolute stream offset where an upgrade stopped (bytes belonging to the head). */
  upgradeAt: number;
}

const latin1 = (u: Uint8Array): string =>
  Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');

export function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** Run `input` through a fresh parser, split at the given cut points; optionally call finish(). */
export function run(
  input: Uint8Array,
  cuts: number[] = [],
  opts: Partial<ParserOptions> = {},
  finish = false,
): Outcome {
  const events: Event[] = [];
  const push = (e: Event): void => {
    const last = events[events.length - 1];
    if (e.type === 'body' && last?.type === 'body') last.data += e.data;
    else events.push(e);
  };
  const parser = new RequestParser(
    {
      onHead: (head) => push({ type: 'head', head }),
      onBody: (chunk) => push({ type: 'body', data: latin1(chunk) }),
      onMessageComplete: (trailers) => push({ type: 'complete', trailers }),
    },
    opts,
  );
  const points = [0, ...cuts, input.length];
  let offset = 0;
  let end = 'ok';
  let err: HttpParseError | null = null;
  let upgradeAt = -1;
  for (let k = 0; k + 1 < points.length; k++) {
    // copy each piece so that nothing can rely on the neighbouring bytes
    const piece = input.slice(points[k], points[k + 1]);
    let st = parser.execute(piece);
    let guard = 0;
    let rest = piece;
    while (st === ParseStatus.PAUSED) {
      rest = rest.subarray(parser.consumed);
      st = parser.execute(rest);
      if (++guard > 1e6) throw new Error('pause loop');
    }
    if (st === ParseStatus.ERROR) {
      end = parser.error!.code;
      err = parser.error;
      break;
    }
    if (st === ParseStatus.UPGRADE) {
      end = 'upgrade';
      upgradeAt = offset + (piece.length - rest.length) + parser.consumed;
      break;
    }
    offset += piece.length;
  }
  if (finish && end === 'ok') {
    if (parser.finish() === ParseStatus.ERROR) {
      end = parser.error!.code;
      err = parser.error;
    }
  }
  return {
    events,
    end,
    error: err === null ? null : { code: err.code, status: err.status, offset: err.offset },
    upgradeAt,
  };
}

/** All chunkings the house rules ask for: whole, byte by byte, and every two-way split. */
export function chunkings(n: number): number[][] {
  const out: number[][] = [[]];
  const each: number[] = [];
  for (let i = 1; i < n; i++) each.push(i);
  out.push(each);
  for (let i = 1; i < n; i++) out.push([i]);
  return out;
}

/** Run every chunking and assert they all agree; return the whole-input outcome. */
export function runAll(
  input: Uint8Array | string,
  opts: Partial<ParserOptions> = {},
  finish = false,
): Outcome {
  const bytesIn = typeof input === 'string' ? bytes(input) : input;
  const whole = run(bytesIn, [], opts, finish);
  const ref = JSON.stringify(whole);
  for (const cuts of chunkings(bytesIn.length)) {
    const o = run(bytesIn, cuts, opts, finish);
    const got = JSON.stringify(o);
    if (got !== ref) {
      throw new Error(
        `split ${JSON.stringify(cuts.length > 1 ? 'bytewise' : cuts)} differs:\n${got}\nvs whole:\n${ref}`,
      );
    }
  }
  return whole;
}

/** Convenience: CRLF-join lines. */
export function req(...lines: string[]): string {
  return lines.join('\r\n');
}
