import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * XORs `len` bytes of `src` from `srcOff` with the mask into `dst` at `dstOff` (copy + unmask in one
 * pass). `maskOff` is the position inside the frame payload of the first byte (the key repeats every
 * 4 bytes). `dst` may be `src` (in place). Word-at-a-time when `dst` is 4-byte aligned.
 */
export function maskCopy(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  len: number,
  mask: Uint8Array,
  maskOff: number,
): void {
  const m0 = mask[maskOff & 3]!;
  const m1 = mask[(maskOff + 1) & 3]!;
  const m2 = mask[(maskOff + 2) & 3]!;
  const m3 = mask[(maskOff + 3) & 3]!;
  let i = 0;
  if (len >= 64 && LITTLE_ENDIAN && ((dst.byteOffset + dstOff) & 3) === 0) {
    const words = len >>> 2;
    if (src !== dst || srcOff !== dstOff) dst.set(src.subarray(srcOff, srcOff + (words << 2)), dstOff);
    const w = new Int32Array(dst.buffer, dst.byteOffset + dstOff, words);
    const m = m0 | (m1 << 8) | (m2 << 16) | (m3 << 24);
    for (let k = 0; k < words; k++) w[k]! ^= m;
    i = words << 2;
  }
  for (; i + 3 < len; i += 4) {
    dst[dstOff + i] = src[srcOff + i]! ^ m0;
    dst[dstOff + i + 1] = src[srcOff + i + 1]! ^ m1;
    dst[dstOff + i + 2] = src[srcOff + i + 2]! ^ m2;
    dst[dstOff + i + 3] = src[srcOff + i + 3]! ^ m3;
  }
  for (; i < len; i++) {
    const r = i & 3;
    dst[dstOff + i] = src[srcOff + i]! ^ (r === 0 ? m0 : r === 1 ? m1 : r === 2 ? m2 : m3);
  }
}

// Client masking keys come from a pool refilled from the CSPRNG (RFC 6455 §5.3 requires
// unpredictable keys); one randomFillSync per 2048 frames.
const RANDOM_POOL = Buffer.allocUnsafe(8192);
let randomPos = RANDOM_POOL.length;

/** Writes a fresh 4-byte masking key into `dst` at `off`. */
export function randomMask(dst: Uint8Array, off: number): void {
  if (randomPos === RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    randomPos = 0;
  }
  dst[off] = RANDOM_POOL[randomPos]!;
  dst[off + 1] = RANDOM_POOL[randomPos + 1]!;
  dst[off + 2] = RANDOM_POOL[randomPos + 2]!;
  dst[off + 3] = RANDOM_POOL[randomPos + 3]!;
  randomPos += 4;
}

/** Size of a frame header for a payload of `len` bytes. */
export function headerSize(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `buf` at 0 and returns its size. With `masked`, a fresh random key is
 * written at the end of the header (read it back at `size - 4`).
 */
export function writeHeader(
  buf: Uint8Array,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  len: number,
  masked: boolean,
): number {
  buf[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let p: number;
  if (len < 126) {
    buf[1] = len;
    p = 2;
  } else if (len < 65536) {
    buf[1] = 126;
    buf[2] = len >>> 8;
    buf[3] = len & 0xff;
    p = 4;
  } else {
    buf[1] = 127;
    const hi = Math.floor(len / 0x1_0000_0000);
    buf[2] = 0;
    buf[3] = 0;
    buf[4] = (hi >>> 8) & 0xff;
    buf[5] = hi & 0xff;
    buf[6] = len >>> 24;
    buf[7] = (len >>> 16) & 0xff;
    buf[8] = (len >>> 8) & 0xff;
    buf[9] = len & 0xff;
    p = 10;
  }
  if (masked) {
    buf[1] |= 0x80;
    randomMask(buf, p);
    p += 4;
  }
  return p;
}

/**
 * Encodes one complete frame into a single new buffer (header + payload, masked when `masked`).
 * Strings are UTF-8 encoded straight into the frame buffer (no intermediate copy).
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array | string,
  fin: boolean,
  rsv1: boolean,
  masked: boolean,
): Buffer {
  const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const hs = headerSize(len, masked);
  const out = Buffer.allocUnsafe(hs + len);
  writeHeader(out, opcode, fin, rsv1, len, masked);
  if (typeof payload === 'string') out.write(payload, hs, len, 'utf8');
  else out.set(payload, hs);
  if (masked && len > 0) {
    const key = out.subarray(hs - 4, hs);
    maskCopy(out, hs, out, hs, len, key, 0);
  }
  return out;
}
