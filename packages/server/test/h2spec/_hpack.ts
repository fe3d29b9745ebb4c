/**
 * A small HPACK (RFC 7541) codec for the conformance catalogue only: an encoder that writes
 * literals without indexing (no Huffman) plus an indexed-field helper, and a decoder complete
 * enough to read what real servers send (Huffman strings, the dynamic table, size updates).
 *
 * It is written from the RFC on purpose and shares nothing with `@strata/http2`'s own HPACK, so
 * the catalogue stays an independent check of that code.
 */

/** A decoding error (RFC 7541 calls every one of these a "decoding error"). */
export class HpackDecodeError extends Error {
  override name = 'HpackDecodeError';
}

/** One header field as a name/value pair. */
export type Field = readonly [name: string, value: string];

/** RFC 7541 Appendix A: the static table, index 1 first. */
const STATIC_TABLE: readonly Field[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Number of entries in the static table (RFC 7541 Appendix A). */
export const STATIC_TABLE_LENGTH = STATIC_TABLE.length;

/**
 * RFC 7541 Appendix B, code lengths only, symbols 0..255 then EOS (256). The code is canonical:
 * codes are handed out in order of (length, symbol), so the lengths determine every code.
 */
const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

/** The EOS symbol's number. */
const EOS = 256;

/** Canonical codes from the lengths: `codes[sym]` is the code, right-aligned in `lengths[sym]` bits. */
export function huffmanCodes(): number[] {
  const codes: number[] = new Array(HUFFMAN_LENGTHS.length).fill(0);
  let code = 0;
  let prevLen = 0;
  for (let len = 1; len <= 30; len++) {
    for (let sym = 0; sym < HUFFMAN_LENGTHS.length; sym++) {
      if (HUFFMAN_LENGTHS[sym] !== len) continue;
      code <<= len - prevLen;
      prevLen = len;
      codes[sym] = code;
      code++;
    }
  }
  return codes;
}

/**
 * The decoding tree, as two child arrays: node 0 is the root; a child value >= 0 is another node,
 * a negative one is `-(symbol + 1)`, and 0 (never a child of anything) means no such code.
 */
function buildTree(): { zero: Int32Array; one: Int32Array } {
  const codes = huffmanCodes();
  const zero = new Int32Array(600);
  const one = new Int32Array(600);
  let nodes = 1;
  for (let sym = 0; sym < codes.length; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = codes[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const side = (code >>> i) & 1 ? one : zero;
      if (i === 0) {
        side[node] = -(sym + 1);
      } else {
        if (side[node] === 0) side[node] = nodes++;
        node = side[node]!;
      }
    }
  }
  return { zero, one };
}

const TREE = buildTree();

/** Decodes a Huffman string (RFC 7541 section 5.2), with the padding and EOS checks. */
export function huffmanDecode(bytes: Uint8Array): string {
  let out = '';
  let node = 0;
  let depth = 0; // bits read since the last symbol
  let allOnes = true; // whether those bits were all 1 (valid padding is a prefix of EOS)
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const v = (b >>> bit) & 1;
      const next = v ? TREE.one[node]! : TREE.zero[node]!;
      depth++;
      if (v === 0) allOnes = false;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === EOS) throw new HpackDecodeError('Huffman string contains EOS');
        out += String.fromCharCode(sym);
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new HpackDecodeError('invalid Huffman code');
      } else {
        node = next;
      }
    }
  }
  if (depth > 7) throw new HpackDecodeError('Huffman padding longer than 7 bits');
  if (!allOnes) throw new HpackDecodeError('Huffman padding is not a prefix of EOS');
  return out;
}

/** Huffman-encodes a Latin-1 string (RFC 7541 section 5.2), padding with the EOS prefix. */
export function huffmanEncode(s: string): Buffer {
  const codes = huffmanCodes();
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = codes[sym]!;
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code >>> b) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | (0xff >>> bits)) & 0xff);
  return Buffer.from(out);
}

/** Encodes an integer with an N-bit prefix (RFC 7541 section 5.1); `flags` fills the bits above it. */
export function encodeInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  value -= max;
  while (value >= 128) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A raw (non-Huffman) string literal: length with a 7-bit prefix, then the octets. */
function encodeString(s: string): number[] {
  const bytes = Buffer.from(s, 'latin1');
  return [...encodeInteger(bytes.length, 7, 0x00), ...bytes];
}

/** Literal header field without indexing, new name (RFC 7541 section 6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.from([0x00, ...encodeString(name), ...encodeString(value)]);
}

/** Indexed header field (RFC 7541 section 6.1). */
export function indexed(index: number): Buffer {
  return Buffer.from(encodeInteger(index, 7, 0x80));
}

/** Encodes a list of fields as literals without indexing: the block never touches either table. */
export function encodeHeaders(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) parts.push(literal(name, value));
  return Buffer.concat(parts);
}

/** The decoder side of one connection: keeps the dynamic table across header blocks. */
export class HpackDecoder {
  private table: Field[] = [];
  private size = 0;
  /** The limit set by our SETTINGS_HEADER_TABLE_SIZE (we never change it from 4096). */
  private readonly limit = 4096;
  private maxSize = 4096;

  /** Decodes one complete header block; throws HpackDecodeError on any decoding error. */
  decode(block: Uint8Array): Field[] {
    const out: Field[] = [];
    let pos = 0;
    let fieldSeen = false;
    const readInt = (prefixBits: number): number => {
      const max = (1 << prefixBits) - 1;
      let v = block[pos++]! & max;
      if (v < max) return v;
      let shift = 0;
      for (let i = 0; i < 6; i++) {
        if (pos >= block.length) throw new HpackDecodeError('truncated integer');
        const b = block[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) return v;
      }
      throw new HpackDecodeError('integer too long');
    };
    const readString = (): string => {
      if (pos >= block.length) throw new HpackDecodeError('truncated string');
      const huffman = (block[pos]! & 0x80) !== 0;
      const len = readInt(7);
      if (pos + len > block.length) throw new HpackDecodeError('truncated string');
      const bytes = block.subarray(pos, pos + len);
      pos += len;
      return huffman ? huffmanDecode(bytes) : Buffer.from(bytes).toString('latin1');
    };
    const lookup = (index: number): Field => {
      if (index === 0) throw new HpackDecodeError('index 0');
      if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
      const entry = this.table[index - STATIC_TABLE.length - 1];
      if (!entry) throw new HpackDecodeError(`index ${index} out of range`);
      return entry;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        out.push(lookup(readInt(7)));
        fieldSeen = true;
      } else if (b & 0x40) {
        const index = readInt(6);
        const name = index === 0 ? readString() : lookup(index)[0];
        const field: Field = [name, readString()];
        out.push(field);
        this.insert(field);
        fieldSeen = true;
      } else if (b & 0x20) {
        if (fieldSeen) throw new HpackDecodeError('table size update after a field');
        const size = readInt(5);
        if (size > this.limit) throw new HpackDecodeError('table size update above the limit');
        this.maxSize = size;
        this.evict(0);
      } else {
        // 0000xxxx without indexing, 0001xxxx never indexed: both with a 4-bit name index.
        const index = readInt(4);
        const name = index === 0 ? readString() : lookup(index)[0];
        out.push([name, readString()]);
        fieldSeen = true;
      }
    }
    return out;
  }

  private insert(field: Field): void {
    const cost = field[0].length + field[1].length + 32;
    this.evict(cost);
    if (cost <= this.maxSize) {
      this.table.unshift(field);
      this.size += cost;
    }
  }

  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.maxSize) {
      const last = this.table.pop()!;
      this.size -= last[0].length + last[1].length + 32;
    }
  }
}
