/**
 * The HPACK Huffman code (RFC 7541 section 5.2 and Appendix B): encoder, length, decoder.
 *
 * The Appendix B code is canonical: sorting the 257 symbols by (code length, symbol) and counting
 * up, shifting left whenever the length grows, gives exactly the RFC's codes. So only the lengths
 * are written here; the codes, the decoding tree and a 4-bit state table are built once at module
 * load (a few thousand steps). The decoder reads one nibble at a time: 256 states (the tree's
 * internal nodes, plus one dead state once EOS is read) x 16 nibbles, each entry giving the next
 * state and the symbol completed on the way (at most one: the shortest code is 5 bits).
 *
 * Strings are byte strings: one char per octet (latin1), never above 0xFF.
 */
import { Http2Error, Http2ErrorCode } from './errors';

/**
 * Code length in bits of each symbol, in RFC 7541 Appendix B order: row `k` holds symbols `16k` to
 * `16k + 15`; the last row is EOS (256).
 */
const LENGTHS: readonly number[] = [
  [13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28],
  [28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  [6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6],
  [5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10],
  [13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
  [7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6],
  [15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5],
  [6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28],
  [20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23],
  [24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24],
  [22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23],
  [21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23],
  [26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25],
  [19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27],
  [20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23],
  [26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26],
  [30],
].flat();

/** The EOS symbol: never encoded; decoding it is an error (RFC 7541 section 5.2). */
export const EOS = 256;

/** Code length in bits of each symbol 0..256. */
export const HUFFMAN_LENGTHS: Uint8Array = new Uint8Array(LENGTHS);

/** The code of each symbol 0..256, right-aligned (its top bit is bit `length - 1`). */
export const HUFFMAN_CODES: Uint32Array = buildCodes();

function buildCodes(): Uint32Array {
  const order: number[] = [];
  for (let s = 0; s <= EOS; s++) order.push(s);
  order.sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  const codes = new Uint32Array(EOS + 1);
  let code = 0;
  let prevLen = LENGTHS[order[0]!]!;
  for (let i = 0; i < order.length; i++) {
    const s = order[i]!;
    const len = LENGTHS[s]!;
    if (i > 0) code = (code + 1) * 2 ** (len - prevLen);
    prevLen = len;
    codes[s] = code;
  }
  return codes;
}

// ---- decoding table -------------------------------------------------------------------------

/** The state after EOS was decoded: it stays there, emitting nothing, and is an error at the end. */
const DEAD = 256;
/** Entry bit 17: a symbol was completed during this nibble (its value is in bits 9..16). */
const EMIT_SHIFT = 17;

/**
 * `DECODE[state * 16 + nibble]`: next state (bits 0..8), the symbol completed on the way (9..16)
 * and whether there was one (bit 17). The loop writes bits 9..16 always and advances by bit 17, so
 * it has no branch per symbol.
 */
const DECODE = new Uint32Array((DEAD + 1) * 16);
/**
 * `ACCEPT[state]` is 1 where a string may end: at the root (no pending bits), or at a node reached
 * by at most 7 one-bits, which is valid padding (the top bits of EOS, RFC 7541 section 5.2).
 */
const ACCEPT = new Uint8Array(DEAD + 1);

buildDecoder();

function buildDecoder(): void {
  // Tree: internal nodes 0..255 (0 = root), `child[node * 2 + bit]`, a leaf as -(symbol + 1).
  const child = new Int32Array(256 * 2);
  const depth = new Uint8Array(256);
  const ones = new Uint8Array(256);
  ones[0] = 1;
  let nodes = 1;
  for (let s = 0; s <= EOS; s++) {
    const len = LENGTHS[s]!;
    const code = HUFFMAN_CODES[s]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        child[slot] = -(s + 1);
      } else {
        if (child[slot] === 0) {
          depth[nodes] = depth[node]! + 1;
          ones[nodes] = ones[node]! & bit;
          child[slot] = nodes++;
        }
        node = child[slot]!;
      }
    }
  }
  for (let n = 0; n < 256; n++) ACCEPT[n] = ones[n]! === 1 && depth[n]! <= 7 ? 1 : 0;
  for (let nibble = 0; nibble < 16; nibble++) DECODE[DEAD * 16 + nibble] = DEAD;
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = child[node * 2 + ((nibble >> i) & 1)]!;
        if (next < 0) {
          const sym = -next - 1;
          if (sym === EOS) {
            entry = 0;
            node = DEAD;
            break;
          }
          // At most one per nibble: the shortest code is 5 bits.
          entry = (1 << EMIT_SHIFT) | (sym << 9);
          node = 0;
        } else {
          node = next;
        }
      }
      DECODE[state * 16 + nibble] = entry | node;
    }
  }
}

// ---- encoding -------------------------------------------------------------------------------

/**
 * The Huffman-encoded length in octets of the byte string `s`, or -1 where a char is above 0xFF
 * (not a byte string).
 */
export function huffmanLength(s: string): number {
  let bits = 0;
  let any = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    any |= c;
    bits += HUFFMAN_LENGTHS[c & 0xff]!;
  }
  if (any > 0xff) return -1;
  return (bits + 7) >>> 3;
}

/** {@link huffmanEncode} result: the code would run past `limit`. */
export const HUFFMAN_TOO_LONG = -1;
/** {@link huffmanEncode} result: `s` has a char above 0xFF (not a byte string). */
export const HUFFMAN_NOT_BYTES = -2;

/**
 * Write the Huffman code of the byte string `s` into `out` at `pos`, padded with the top bits of
 * EOS (ones), writing nothing at or past `limit` (default `out.length`). Returns the new position,
 * {@link HUFFMAN_TOO_LONG} when the code would reach `limit`, or {@link HUFFMAN_NOT_BYTES} when a
 * char is above 0xFF (then the bytes written are garbage).
 */
export function huffmanEncode(s: string, out: Uint8Array, pos: number, limit = out.length): number {
  // `acc` holds `n` (< 8) pending bits; codes of up to 24 bits join it in one step (<= 31 bits),
  // longer ones in two (their top bits, then 16 bits).
  let acc = 0;
  let n = 0;
  let any = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    any |= c;
    let code = HUFFMAN_CODES[c & 0xff]!;
    let len = HUFFMAN_LENGTHS[c & 0xff]!;
    if (len > 24) {
      const hi = len - 16;
      acc = (acc << hi) | (code >>> 16);
      n += hi;
      while (n >= 8) {
        if (pos >= limit) return HUFFMAN_TOO_LONG;
        n -= 8;
        out[pos++] = acc >>> n;
      }
      acc &= (1 << n) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    n += len;
    while (n >= 8) {
      if (pos >= limit) return HUFFMAN_TOO_LONG;
      n -= 8;
      out[pos++] = acc >>> n;
    }
    acc &= (1 << n) - 1;
  }
  if (any > 0xff) return HUFFMAN_NOT_BYTES;
  if (n > 0) {
    if (pos >= limit) return HUFFMAN_TOO_LONG;
    out[pos++] = (acc << (8 - n)) | (0xff >>> n);
  }
  return pos;
}

// ---- decoding -------------------------------------------------------------------------------

/** Scratch output of the decoder, grown to the longest string seen (a Buffer where there is one). */
let scratch: Uint8Array = allocScratch(256);

type Latin1Able = Uint8Array & { latin1Slice?: (start: number, end: number) => string };

function allocScratch(n: number): Uint8Array {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;
  return B !== undefined ? B.allocUnsafeSlow(n) : new Uint8Array(n);
}

/** Node's native latin1 decoder (`Buffer.prototype.latin1Slice`), which takes any Uint8Array. */
const nativeLatin1: ((this: Uint8Array, start: number, end: number) => string) | undefined = (
  globalThis as {
    Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, s: number, e: number) => string } };
  }
).Buffer?.prototype.latin1Slice;

/** Byte string of `src[start..end)`: one char per octet (latin1; TextDecoder's is windows-1252). */
export function latin1(src: Uint8Array, start: number, end: number): string {
  if (end - start <= 6) {
    // A few chars: joined in JS, cheaper than a native call (about 55 ns).
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(src[i]!);
    return s;
  }
  // A Buffer: its own method, which V8 dispatches faster than `.call` on the detached one.
  const b = src as Latin1Able;
  if (b.latin1Slice !== undefined) return b.latin1Slice(start, end);
  if (nativeLatin1 !== undefined) return nativeLatin1.call(src, start, end);
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, src.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

function huffmanError(message: string): Http2Error {
  return new Http2Error(Http2ErrorCode.H2_COMPRESSION, `HPACK: ${message}`);
}

/**
 * Decode the Huffman string `src[start..end)` into a byte string. Throws `Http2Error`
 * (`H2_COMPRESSION`) on EOS in the data, padding longer than 7 bits or padding that is not ones.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  // At most 8/5 symbols per octet (the shortest code is 5 bits): 2 per octet is room enough.
  const max = (end - start) * 2;
  if (scratch.length < max) scratch = allocScratch(Math.max(max, scratch.length * 2));
  const out = scratch;
  let o = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let e = DECODE[(state << 4) | (b >> 4)]!;
    out[o] = e >>> 9;
    o += e >>> EMIT_SHIFT;
    e = DECODE[((e & 0x1ff) << 4) | (b & 0x0f)]!;
    out[o] = e >>> 9;
    o += e >>> EMIT_SHIFT;
    state = e & 0x1ff;
  }
  if (ACCEPT[state] === 0)
    throw huffmanError(state === DEAD ? 'EOS in a Huffman string' : 'bad Huffman padding');
  return latin1(out, 0, o);
}

/** Check the Huffman string `src[start..end)` like {@link huffmanDecode}, keeping nothing. */
export function huffmanValidate(src: Uint8Array, start: number, end: number): void {
  let state = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    state = DECODE[(DECODE[(state << 4) | (b >> 4)]! & 0x1ff) * 16 + (b & 0x0f)]! & 0x1ff;
  }
  if (ACCEPT[state] === 0)
    throw huffmanError(state === DEAD ? 'EOS in a Huffman string' : 'bad Huffman padding');
}
