// MultipartParser.reset() and bytesRead: one parser reused across bodies gives, for the next body,
// exactly what a new parser gives, whatever state the previous body left it in (complete, failed,
// cut inside a header block, inside a part, inside a possible delimiter). Raw bytes; every second
// body is also cut at every split point.
import { describe, expect, it } from 'vitest';
import { FormError } from '../src/_errors';
import { type MultipartLimits, MultipartParser } from '../src/_multipart';
import { bytes } from './_multipart-helpers';

const B = 'XyZ';

/** Two fields and a file; the body opens with its delimiter (no preamble, no CRLF before it). */
const FORM = bytes(
  `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nHello\r\n` +
    `--${B}\r\nContent-Disposition: form-data; name="b"\r\n\r\nWorld\r\n` +
    `--${B}\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n` +
    `\r\n--Xy\r\n-\r\n--XyW\r\n--${B}--\r\n`,
);

/** A second, different body: a preamble, one field holding a delimiter prefix, an epilogue. */
const OTHER = bytes(
  `preamble\r\n--${B}\r\nContent-Disposition: form-data; name="q"\r\n\r\n\r\n--X\r\n--${B}--\r\nepilogue`,
);

/** Malformed: a bare LF in a part header (FORM_BAD_PART_HEADER at its offset). */
const BAD = bytes(`--${B}\r\nContent-Disposition: form-data; name="a"\nX: 1\r\n\r\nv\r\n--${B}--\r\n`);

interface Run {
  log: string[];
  error: { code: string; offset: number } | null;
  /** bytesRead after each write call (the throwing one included), then after end(). */
  read: number[];
}

/** A parser whose events go to `log` (data events coalesced, as latin1). */
function recorder(limits: Partial<MultipartLimits> = {}): { parser: MultipartParser; log: string[] } {
  const log: string[] = [];
  const parser = new MultipartParser(
    B,
    {
      onPartStart(part) {
        log.push(`start ${part.name} ${part.filename ?? '-'} ${part.mediaType}`);
      },
      onPartData(view) {
        const text = Buffer.from(view).toString('latin1');
        const last = log.length - 1;
        if (log[last]?.startsWith('data ')) log[last] += text;
        else log.push(`data ${text}`);
      },
      onPartEnd() {
        log.push('end');
      },
      onEnd() {
        log.push('done');
      },
    },
    limits,
  );
  return { parser, log };
}

/** Feeds `body` cut at `cuts` (ascending) to `parser`, then end(); the log from `log.length` on. */
function feed(parser: MultipartParser, log: string[], body: Uint8Array, cuts: number[]): Run {
  const from = log.length;
  const read: number[] = [];
  let error: Run['error'] = null;
  try {
    let at = 0;
    for (const c of [...cuts, body.length]) {
      try {
        parser.write(body.subarray(at, c));
      } finally {
        read.push(parser.bytesRead);
      }
      at = c;
    }
    parser.end();
    read.push(parser.bytesRead);
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    error = { code: err.code, offset: err.offset };
  }
  return { log: log.slice(from), error, read };
}

/** What a new parser gives for `body` cut at `cuts`. */
function fresh(body: Uint8Array, cuts: number[], limits: Partial<MultipartLimits> = {}): Run {
  const { parser, log } = recorder(limits);
  return feed(parser, log, body, cuts);
}

/** Every single split point of `body`: [], [1], ..., [len - 1]. */
function splits(body: Uint8Array): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < body.length; i++) out.push([i]);
  return out;
}

describe('MultipartParser.bytesRead', () => {
  it('is 0 before any write, then the sum of the chunks written, at every split point', () => {
    for (const cuts of splits(FORM)) {
      const { parser, log } = recorder();
      expect(parser.bytesRead).toBe(0);
      const run = feed(parser, log, FORM, cuts);
      expect(run.error).toBeNull();
      const expected = [...cuts, FORM.length, FORM.length]; // end() leaves it
      expect(run.read).toEqual(expected);
    }
  });

  it('counts the preamble and the epilogue (raw body bytes)', () => {
    const run = fresh(OTHER, []);
    expect(run.error).toBeNull();
    expect(run.read).toEqual([OTHER.length, OTHER.length]);
  });

  it('is not advanced by a write that throws, nor by the calls after it', () => {
    const cut = 20;
    const { parser, log } = recorder();
    const run = feed(parser, log, BAD, [cut]);
    expect(run.error).toEqual({ code: 'FORM_BAD_PART_HEADER', offset: 47 });
    expect(run.read).toEqual([cut, cut]); // the second write threw
    expect(() => parser.write(bytes('more'))).toThrow(FormError);
    expect(parser.bytesRead).toBe(cut);
  });

  it('over maxTotalBytes: the failing write adds nothing', () => {
    const { parser, log } = recorder({ maxTotalBytes: 30 });
    const run = feed(parser, log, FORM, [10]);
    expect(run.error).toEqual({ code: 'FORM_TOO_LARGE', offset: 30 });
    expect(run.read).toEqual([10, 10]);
  });
});

describe('MultipartParser.reset()', () => {
  it('after a complete body: the next body parses as with a new parser, at every split point', () => {
    for (const cuts of splits(OTHER)) {
      const { parser, log } = recorder();
      expect(feed(parser, log, FORM, []).error).toBeNull();
      parser.reset();
      expect(parser.bytesRead).toBe(0);
      expect(feed(parser, log, OTHER, cuts)).toEqual(fresh(OTHER, cuts));
    }
  });

  it('after an error: the error is forgotten; offsets count from the new body', () => {
    const { parser, log } = recorder();
    const first = feed(parser, log, BAD, []);
    expect(first.error).toEqual({ code: 'FORM_BAD_PART_HEADER', offset: 47 });
    expect(() => parser.end()).toThrow(FormError);
    parser.reset();
    expect(parser.bytesRead).toBe(0);
    // the same malformed body again: the same error at the same offset
    expect(feed(parser, log, BAD, [])).toEqual(first);
    parser.reset();
    for (const cuts of splits(FORM)) {
      expect(feed(parser, log, FORM, cuts)).toEqual(fresh(FORM, cuts));
      parser.reset();
    }
  });

  it('after a callback threw: the parser is usable again', () => {
    let boom = true;
    const log: string[] = [];
    const parser = new MultipartParser(B, {
      onPartStart(part) {
        if (boom) throw new Error('handler failed');
        log.push(`start ${part.name}`);
      },
      onPartData() {},
      onPartEnd() {},
      onEnd() {
        log.push('done');
      },
    });
    expect(() => parser.write(FORM)).toThrow('handler failed');
    expect(() => parser.write(FORM)).toThrow('handler failed');
    boom = false;
    parser.reset();
    parser.write(FORM);
    parser.end();
    expect(log).toEqual(['start a', 'start b', 'start f', 'done']);
  });

  it('in the middle of a body, cut anywhere: the next body parses as with a new parser', () => {
    // Every prefix of FORM leaves a different state: inside a delimiter, the padding, a header
    // block (held across chunks), a part body, a possible delimiter held in the lookbehind.
    const expected = fresh(OTHER, []);
    for (let cut = 0; cut <= FORM.length; cut++) {
      const { parser, log } = recorder();
      try {
        parser.write(FORM.subarray(0, cut));
      } catch (err) {
        if (!(err instanceof FormError)) throw err;
      }
      parser.reset();
      expect(parser.bytesRead).toBe(0);
      expect(feed(parser, log, OTHER, [])).toEqual(expected);
    }
  });

  it('in the middle of a body, byte by byte, then the next body at every split point', () => {
    const { parser, log } = recorder();
    for (let i = 0; i < 60; i++) parser.write(FORM.subarray(i, i + 1)); // inside the second part
    parser.reset();
    for (const cuts of splits(FORM)) {
      expect(feed(parser, log, FORM, cuts)).toEqual(fresh(FORM, cuts));
      parser.reset();
    }
  });

  it('counts the limits per body (parts, fields, files, total bytes)', () => {
    const limits = { maxParts: 3, maxFields: 2, maxFiles: 1, maxTotalBytes: FORM.length };
    const { parser, log } = recorder(limits);
    for (let round = 0; round < 3; round++) {
      const run = feed(parser, log, FORM, [7]);
      expect(run).toEqual(fresh(FORM, [7], limits));
      expect(run.error).toBeNull();
      parser.reset();
    }
    // and a limit hit in one body is hit at the same offset in the next
    const tight = { maxFields: 1 };
    const t = recorder(tight);
    const first = feed(t.parser, t.log, FORM, []);
    expect(first.error).toEqual({ code: 'FORM_TOO_MANY_FIELDS', offset: 65 });
    t.parser.reset();
    expect(feed(t.parser, t.log, FORM, [])).toEqual(first);
  });

  it('keeps the boundary and the limits', () => {
    const { parser } = recorder({ maxFiles: 1 });
    const limits = parser.limits;
    parser.write(FORM.subarray(0, 10));
    parser.reset();
    expect(parser.limits).toBe(limits);
    expect(parser.limits.maxFiles).toBe(1);
  });
});
