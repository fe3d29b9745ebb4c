import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeUnmaskModule } from '../scripts/build-unmask-wasm';
import { maskCopy, maskCopyJs, maskCopyWasm, wasmUnmaskAvailable } from '../src/_frame';
import { UNMASK_WASM_BASE64 } from '../src/_unmask_wasm';

/** The definition: byte i of the payload is XORed with key[(maskOff + i) % 4]. */
function reference(src: Uint8Array, srcOff: number, len: number, key: Uint8Array, maskOff: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = src[srcOff + i]! ^ key[(maskOff + i) & 3]!;
  return out;
}

type Impl = typeof maskCopy;
const impls: Array<[string, Impl]> = [
  ['JavaScript', maskCopyJs],
  ['WebAssembly SIMD', maskCopyWasm],
  ['dispatcher', maskCopy],
];

describe('unmasking: WebAssembly SIMD and JavaScript paths agree with the definition', () => {
  it('the WebAssembly module is embedded exactly as the encoder of _unmask.wat produces it', () => {
    expect(Buffer.from(encodeUnmaskModule()).toString('base64')).toBe(UNMASK_WASM_BASE64);
    // Node 20+ has WebAssembly SIMD: the fast path must really be in use here
    expect(wasmUnmaskAvailable()).toBe(true);
  });

  for (const [name, impl] of impls) {
    it(`${name}: random lengths, source/target offsets (unaligned), mask offsets and keys (property)`, () => {
      fc.assert(
        fc.property(
          // lengths around the 64-byte SIMD blocks, the 128-byte dispatch threshold and the
          // 64 KiB scratch page (so several blocks and a tail are exercised)
          fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_400, max: 140_000 })),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: 0, max: 1_000_003 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.integer({ min: 0, max: 0xffff_ffff }),
          (len, srcOff, dstOff, maskOff, key, seed) => {
            const src = Buffer.allocUnsafe(srcOff + len);
            let x = seed >>> 0;
            for (let i = 0; i < src.length; i++) {
              x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
              src[i] = x >>> 24;
            }
            const want = reference(src, srcOff, len, key, maskOff);
            // a view with an odd byteOffset into a larger buffer: nothing may assume alignment
            const backing = new Uint8Array(dstOff + len + 8).fill(0xa5);
            const dst = backing.subarray(1);
            impl(src, srcOff, dst, dstOff, len, key, maskOff);
            expect(Buffer.from(dst.subarray(dstOff, dstOff + len)).equals(want)).toBe(true);
            // bytes around the target are untouched
            for (let i = 0; i < dstOff; i++) expect(dst[i]).toBe(0xa5);
            for (let i = dstOff + len; i < dst.length; i++) expect(dst[i]).toBe(0xa5);
            // in place (dst === src) gives the same result
            const inPlace = Buffer.from(src);
            impl(inPlace, srcOff, inPlace, srcOff, len, key, maskOff);
            expect(inPlace.subarray(srcOff, srcOff + len).equals(want)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('unmasking twice restores the input, for every split of one payload into pieces', () => {
    const key = Buffer.from([0x9c, 0x01, 0xff, 0x42]);
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    const masked = reference(payload, 0, payload.length, key, 0);
    for (const piece of [1, 3, 63, 64, 65, 127, 128, 129, 333]) {
      const out = Buffer.alloc(payload.length);
      for (let at = 0; at < payload.length; at += piece) {
        const n = Math.min(piece, payload.length - at);
        maskCopy(masked, at, out, at, n, key, at);
      }
      expect(out.equals(payload)).toBe(true);
    }
  });
});
