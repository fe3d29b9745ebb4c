import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackDecoder, HpackEncoder } from '../src/_hpack';
import { huffmanDecode, huffmanEncode, huffmanLength } from '../src/_huffman';
import { Http2Error, Http2ErrorCode } from '../src/errors';

/** A byte string of `bytes` (one char per octet). */
function bstr(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-'.split('');

/** Names: common ones (static, policy-bound) and random lower-case tokens. */
const nameArb = fc.oneof(
  fc.constantFrom(
    ':status',
    ':path',
    ':authority',
    'content-type',
    'server',
    'cookie',
    'set-cookie',
    'authorization',
    'date',
    'content-length',
    'accept',
    'x-request-id',
  ),
  fc.array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 16 }).map((a) => a.join('')),
);

/** Values: common ones (to hit the tables), random byte strings, and an occasional long one. */
const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '200', '404', 'text/plain', 'strata', 'GET', '/', 'a=b') },
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 40 }).map(bstr) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 3500 }).map(bstr) },
);

const fieldsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 12 }).map((pairs) => pairs.flat());

type Op = { kind: 'block'; fields: string[] } | { kind: 'size'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fieldsArb.map((fields) => ({ kind: 'block' as const, fields })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.constantFrom(0, 32, 64, 256, 4096, 8192), fc.integer({ min: 0, max: 10000 }))
      .map((n) => ({ kind: 'size' as const, n })),
  },
);

describe('HPACK properties', () => {
  it('decode(encode(list)) is the list, over blocks sharing the tables, with size changes between', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 20 }),
        fc.boolean(),
        fc.constantFrom(0, 256, 4096, 8192),
        (ops, huffman, ownLimit) => {
          const enc = new HpackEncoder({ huffman, maxTableSize: ownLimit });
          const dec = new HpackDecoder();
          for (const op of ops) {
            if (op.kind === 'size') {
              // The peer (decoder side) acknowledged a new SETTINGS_HEADER_TABLE_SIZE; we (encoder) heard it.
              dec.setMaxTableSize(op.n);
              enc.setMaxTableSize(op.n);
              continue;
            }
            const block = enc.encode(op.fields);
            expect(dec.decode(block)).toEqual(op.fields);
            expect(dec.tableSize).toBe(enc.tableSize);
            expect(dec.tableEntries()).toEqual(enc.tableEntries());
            expect(dec.tableSize).toBeLessThanOrEqual(enc.maxTableSize);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodeInto with too little room returns -1 and leaves the encoder as it was', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fieldsArb, fc.nat(80)), { maxLength: 12 }), (blocks) => {
        const a = new HpackEncoder();
        const b = new HpackEncoder();
        const dec = new HpackDecoder();
        for (const [fields, room] of blocks) {
          const want = b.encode(fields);
          const small = new Uint8Array(room);
          let end = a.encodeInto(fields, small, 0);
          let got: Uint8Array;
          if (end < 0) {
            expect(want.length).toBeGreaterThan(room);
            const big = new Uint8Array(want.length);
            end = a.encodeInto(fields, big, 0);
            got = big.subarray(0, end);
          } else {
            got = small.subarray(0, end);
          }
          expect(Array.from(got)).toEqual(Array.from(want));
          expect(dec.decode(got)).toEqual(fields);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a block with a char above 0xFF throws and leaves the encoder as it was', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fieldsArb, fc.option(fc.nat(), { freq: 3 })), { maxLength: 12 }),
        (blocks) => {
          const a = new HpackEncoder();
          const b = new HpackEncoder();
          const dec = new HpackDecoder();
          a.setMaxTableSize(300);
          b.setMaxTableSize(300);
          for (const [fields, badAt] of blocks) {
            if (badAt !== null && fields.length > 0) {
              const bad = fields.slice();
              const k = badAt % bad.length;
              bad[k] = `${bad[k]}\u0100`;
              expect(() => a.encode(bad)).toThrow(Http2Error);
              continue;
            }
            const block = a.encode(fields);
            expect(Array.from(block)).toEqual(Array.from(b.encode(fields)));
            expect(dec.decode(block)).toEqual(fields);
          }
          expect(a.tableEntries()).toEqual(b.tableEntries());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the decoder answers any bytes with a list, null or H2_COMPRESSION, never another error', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 4 }), (blocks) => {
        const dec = new HpackDecoder({ maxHeaderListSize: 200 });
        for (const block of blocks) {
          try {
            const out = dec.decode(block);
            if (out !== null) for (const s of out) expect(typeof s).toBe('string');
            expect(dec.tableSize).toBeLessThanOrEqual(4096);
          } catch (e) {
            expect(e).toBeInstanceOf(Http2Error);
            expect((e as Http2Error).code).toBe(Http2ErrorCode.H2_COMPRESSION);
            return;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('Huffman round trips any byte string, at the computed length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const s = bstr(bytes);
        const n = huffmanLength(s);
        const out = new Uint8Array(n + 4);
        expect(huffmanEncode(s, out, 2)).toBe(n + 2);
        expect(huffmanDecode(out, 2, n + 2)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
