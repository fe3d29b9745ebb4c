import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Step, utf8Validate } from '../src/_utf8';

/** Validates in pieces cut at `cuts`; returns true when valid and complete. */
function inPieces(buf: Uint8Array, cuts: number[], fn: typeof utf8Validate): boolean {
  let state = 0;
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    state = fn(buf, prev, c, state);
    if (state < 0) return false;
    prev = c;
  }
  return state === 0;
}

const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
  fc
    .tuple(fc.string({ unit: 'binary', maxLength: 100 }), fc.uint8Array({ maxLength: 4 }), fc.nat())
    .map(([s, junk, at]) => {
      const b = Buffer.from(s, 'utf8');
      const i = b.length === 0 ? 0 : at % b.length;
      return new Uint8Array(Buffer.concat([b.subarray(0, i), junk, b.subarray(i)]));
    }),
);

describe('UTF-8 validation', () => {
  it('agrees with node:buffer isUtf8 on whole inputs (property)', () => {
    fc.assert(
      fc.property(bytesArb, (b) => {
        expect(utf8Validate(b, 0, b.length, 0) === 0).toBe(isUtf8(b));
        expect(utf8Step(b, 0, b.length, 0) === 0).toBe(isUtf8(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same verdict at every split point and byte by byte (property)', () => {
    fc.assert(
      fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 5 }), (b, raw) => {
        const cuts = [...new Set(raw.map((x) => (b.length === 0 ? 0 : x % b.length)))].sort((x, y) => x - y);
        expect(inPieces(b, cuts, utf8Validate)).toBe(isUtf8(b));
        expect(
          inPieces(
            b,
            Array.from({ length: b.length }, (_, i) => i),
            utf8Validate,
          ),
        ).toBe(isUtf8(b));
      }),
      { numRuns: 500 },
    );
  });

  it('fails fast: at the first byte that cannot start or continue a sequence', () => {
    // κόσμε then F4 90 (> U+10FFFF): invalid at the 0x90, before the message ends
    const b = Buffer.from('cebae1bdb9cf83cebcceb5f490', 'hex');
    expect(utf8Validate(b, 0, b.length - 1, 0)).toBeGreaterThan(0); // open sequence after F4
    expect(utf8Validate(b, 0, b.length, 0)).toBe(-1);
    // surrogate lead ED A0 fails at A0
    expect(utf8Step(Buffer.from([0xed, 0xa0]), 0, 2, 0)).toBe(-1);
    // overlong E0 80 fails at 80; F0 80 at 80; C0/C1 at once; F5+ at once
    expect(utf8Step(Buffer.from([0xe0, 0x80]), 0, 2, 0)).toBe(-1);
    expect(utf8Step(Buffer.from([0xf0, 0x80]), 0, 2, 0)).toBe(-1);
    expect(utf8Step(Buffer.from([0xc1]), 0, 1, 0)).toBe(-1);
    expect(utf8Step(Buffer.from([0xf5]), 0, 1, 0)).toBe(-1);
  });

  it('uses the native fast path on long pieces with a sequence cut at the end', () => {
    const s = Buffer.from(`${'a'.repeat(100)}€`, 'utf8');
    const st = utf8Validate(s, 0, s.length - 1, 0);
    expect(st).toBeGreaterThan(0);
    expect(utf8Validate(s, s.length - 1, s.length, st)).toBe(0);
    const bad = Buffer.concat([Buffer.alloc(100, 0x61), Buffer.from([0xff])]);
    expect(utf8Validate(bad, 0, bad.length, 0)).toBe(-1);
  });
});
