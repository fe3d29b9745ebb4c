import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';
import { UNMASK_WASM_BASE64 } from './_unmask_wasm';

const LITTLE_ENDIAN = endianness() === 'LE';

/** The 4-byte key as a little-endian 32-bit word, rotated so that byte 0 lines up with `maskOff`. */
function maskWord(mask: Uint8Array, maskOff: number): number {
  return (
    mask[maskOff & 3]! |
    (mask[(maskOff + 1) & 3]! << 8) |
    (mask[(maskOff + 2) & 3]! << 16) |
    (mask[(maskOff + 3) & 3]! << 24)
  );
}

/**
 * Pure JavaScript version of {@link maskCopy}: a byte prefix until `dst` is 4-byte aligned, then one
 * native copy and an in-place XOR of 32-bit words, then a byte tail. Exported for the parity tests.
 */
export function maskCopyJs(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  len: number,
  mask: Uint8Array,
  maskOff: number,
): void {
  let i = 0;
  if (len >= 64 && LITTLE_ENDIAN) {
    const pre = (4 - ((dst.byteOffset + dstOff) & 3)) & 3;
    for (; i < pre; i++) dst[dstOff + i] = src[srcOff + i]! ^ mask[(maskOff + i) & 3]!;
    const words = (len - pre) >>> 2;
    const from = srcOff + pre;
    if (src !== dst || srcOff !== dstOff) dst.set(src.subarray(from, from + (words << 2)), dstOff + pre);
    const w = new Int32Array(dst.buffer, dst.byteOffset + dstOff + pre, words);
    const m = maskWord(mask, maskOff + pre);
    for (let k = 0; k < words; k++) w[k]! ^= m;
    i = pre + (words << 2);
  }
  for (; i < len; i++) dst[dstOff + i] = src[srcOff + i]! ^ mask[(maskOff + i) & 3]!;
}

/** Below this many bytes the JavaScript loop beats the two copies through WebAssembly memory. */
const WASM_MIN = 128;

interface WasmUnmask {
  /** The module's scratch page (64 KiB); never grows, so the view stays valid. */
  mem: Uint8Array;
  unmask: (len: number, mask: number) => void;
}
/** undefined = not tried yet; null = WebAssembly SIMD unavailable (JS fallback). */
let wasm: WasmUnmask | null | undefined;

/** The part of the WebAssembly JS API used here (the global is not in this project's `lib`). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: object,
  ) => {
    exports: { memory: { buffer: ArrayBuffer }; unmask: (len: number, mask: number) => void };
  };
}

function loadWasm(): WasmUnmask | null {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  try {
    // compiling fails where SIMD is unsupported: fall back to JavaScript
    const inst = new api.Instance(new api.Module(Buffer.from(UNMASK_WASM_BASE64, 'base64')), {});
    return { mem: new Uint8Array(inst.exports.memory.buffer), unmask: inst.exports.unmask };
  } catch {
    return null;
  }
}

/** Whether the WebAssembly SIMD path is available in this runtime (compiled on first call). */
export function wasmUnmaskAvailable(): boolean {
  if (wasm === undefined) wasm = loadWasm();
  return wasm !== null;
}

/**
 * WebAssembly SIMD version of {@link maskCopy} (see `_unmask.wat`): blocks of up to 64 KiB are copied
 * into the module's memory, XORed 64 bytes per loop turn (four 128-bit lanes), and copied out; the
 * last < 64 bytes go through {@link maskCopyJs}. Requires {@link wasmUnmaskAvailable}.
 */
export function maskCopyWasm(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  len: number,
  mask: Uint8Array,
  maskOff: number,
): void {
  const w = wasm!;
  const mem = w.mem;
  // every block starts at a multiple of 64 bytes from maskOff, so one rotated key serves all blocks
  const m = maskWord(mask, maskOff);
  let i = 0;
  while (len - i >= 64) {
    const n = Math.min(len - i, mem.length) & ~63;
    mem.set(src.subarray(srcOff + i, srcOff + i + n), 0);
    w.unmask(n, m);
    dst.set(mem.subarray(0, n), dstOff + i);
    i += n;
  }
  if (i < len) maskCopyJs(src, srcOff + i, dst, dstOff + i, len - i, mask, maskOff + i);
}

/**
 * XORs `len` bytes of `src` from `srcOff` with the mask into `dst` at `dstOff` (copy + unmask in one
 * pass). `maskOff` is the position inside the frame payload of the first byte (the key repeats every
 * 4 bytes). `dst` may be `src` (in place). Large payloads use WebAssembly SIMD when available.
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
  if (len >= WASM_MIN) {
    if (wasm === undefined) wasm = loadWasm();
    if (wasm !== null) {
      maskCopyWasm(src, srcOff, dst, dstOff, len, mask, maskOff);
      return;
    }
  }
  maskCopyJs(src, srcOff, dst, dstOff, len, mask, maskOff);
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
 * Writes a frame header into `buf` at `at` (default 0) and returns its size. With `masked`, a fresh
 * random key is written at the end of the header (read it back at `at + size - 4`).
 */
export function writeHeader(
  buf: Uint8Array,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  len: number,
  masked: boolean,
  at = 0,
): number {
  buf[at] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  let p: number;
  if (len < 126) {
    buf[at + 1] = maskBit | len;
    p = at + 2;
  } else if (len < 65536) {
    buf[at + 1] = maskBit | 126;
    buf[at + 2] = len >>> 8;
    buf[at + 3] = len & 0xff;
    p = at + 4;
  } else {
    buf[at + 1] = maskBit | 127;
    const hi = Math.floor(len / 0x1_0000_0000);
    buf[at + 2] = 0;
    buf[at + 3] = 0;
    buf[at + 4] = (hi >>> 8) & 0xff;
    buf[at + 5] = hi & 0xff;
    buf[at + 6] = len >>> 24;
    buf[at + 7] = (len >>> 16) & 0xff;
    buf[at + 8] = (len >>> 8) & 0xff;
    buf[at + 9] = len & 0xff;
    p = at + 10;
  }
  if (masked) {
    randomMask(buf, p);
    p += 4;
  }
  return p - at;
}

/**
 * Encodes one complete frame into `out` at `at` (header + payload, masked when `masked`); `len` is
 * the payload's byte length (UTF-8 length for strings, which are encoded straight into `out`).
 * `out` must have room for `headerSize(len, masked) + len` bytes. Returns the offset after the frame.
 */
/** Strings up to this many UTF-16 units are measured and copied in JavaScript (see `utf8Length`). */
const SHORT_STRING = 64;

/**
 * UTF-8 byte length of `s`, as `Buffer.byteLength(s)` (a lone surrogate counts as the 3 bytes of
 * U+FFFD). Short strings are counted here: for a chat-sized message the call into C++ costs more
 * than the loop.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT_STRING) return Buffer.byteLength(s);
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // a surrogate pair: 2 units, 4 bytes
        i++;
      } else bytes += 2; // lone high surrogate: U+FFFD
    } else bytes += 2; // 3 bytes: the rest of the BMP, and lone surrogates (U+FFFD)
  }
  return bytes;
}

/** Writes `s` at `at` when it is all ASCII (`len` = its UTF-8 length = `s.length`), else UTF-8 via C++. */
function writeString(out: Buffer, at: number, s: string, len: number): void {
  if (len === s.length && len <= SHORT_STRING) {
    for (let i = 0; i < len; i++) out[at + i] = s.charCodeAt(i); // all < 0x80: one byte each
    return;
  }
  out.write(s, at, len, 'utf8');
}

export function encodeFrameInto(
  out: Buffer,
  at: number,
  opcode: number,
  payload: Uint8Array | string,
  len: number,
  fin: boolean,
  rsv1: boolean,
  masked: boolean,
): number {
  const hs = writeHeader(out, opcode, fin, rsv1, len, masked, at);
  const start = at + hs;
  if (typeof payload === 'string') writeString(out, start, payload, len);
  else out.set(payload, start);
  if (masked && len > 0) maskCopy(out, start, out, start, len, out.subarray(start - 4, start), 0);
  return start + len;
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
  const len = typeof payload === 'string' ? utf8Length(payload) : payload.length;
  const out = Buffer.allocUnsafe(headerSize(len, masked) + len);
  encodeFrameInto(out, 0, opcode, payload, len, fin, rsv1, masked);
  return out;
}
