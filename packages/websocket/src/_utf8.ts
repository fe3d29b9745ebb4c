import { isUtf8 } from 'node:buffer';

/**
 * Incremental, fail-fast UTF-8 validation (RFC 3629 as required by RFC 6455 §8.1).
 *
 * The state is a small integer: 0 = at a code point boundary; otherwise
 * `(bytesStillNeeded << 16) | (lowestNextByte << 8) | highestNextByte`. -1 = invalid.
 * The bounds of the first continuation byte reject overlongs (E0, F0), surrogates (ED) and
 * code points above U+10FFFF (F4) as soon as that byte arrives, not at the end of the message.
 */
export function utf8Step(buf: Uint8Array, start: number, end: number, state: number): number {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (state === 0) {
      if (b < 0x80) continue;
      if (b < 0xc2) return -1; // continuation byte or overlong 2-byte lead (C0, C1)
      if (b < 0xe0) {
        state = 0x1_80_bf;
      } else if (b < 0xf0) {
        // E0 needs A0..BF (no overlongs); ED needs 80..9F (no surrogates)
        state = 0x2_00_00 | ((b === 0xe0 ? 0xa0 : 0x80) << 8) | (b === 0xed ? 0x9f : 0xbf);
      } else if (b < 0xf5) {
        // F0 needs 90..BF (no overlongs); F4 needs 80..8F (<= U+10FFFF)
        state = 0x3_00_00 | ((b === 0xf0 ? 0x90 : 0x80) << 8) | (b === 0xf4 ? 0x8f : 0xbf);
      } else {
        return -1; // F5..FF never appear
      }
    } else {
      if (b < ((state >> 8) & 0xff) || b > (state & 0xff)) return -1;
      const left = (state >> 16) - 1;
      state = left === 0 ? 0 : (left << 16) | 0x80_bf;
    }
  }
  return state;
}

/**
 * Validates `buf[start..end)` continuing from `state`; returns the new state or -1.
 * Large pieces go through Node's native `isUtf8` up to the last (possibly incomplete) sequence,
 * and only the few trailing bytes through the JS state machine.
 */
export function utf8Validate(buf: Uint8Array, start: number, end: number, state: number): number {
  if (end - start < 64) return utf8Step(buf, start, end, state);
  let i = start;
  // finish a sequence left open by the previous piece (at most 3 bytes)
  while (state > 0 && i < end) {
    state = utf8Step(buf, i, i + 1, state);
    i++;
  }
  if (state < 0) return -1;
  // find the lead byte of the last sequence; it may be incomplete
  let j = end - 1;
  const lim = Math.max(end - 4, i);
  while (j > lim && (buf[j]! & 0xc0) === 0x80) j--;
  const cut = buf[j]! >= 0xc0 ? j : end;
  if (cut > i && !isUtf8(buf.subarray(i, cut))) return -1;
  return utf8Step(buf, cut, end, 0);
}
