import { describe, expect, it } from 'vitest';
import { decodeInteger, encodeInteger, HpackDecoder, HpackEncoder } from '../src/_hpack';
import {
  STATIC_BY_NAME,
  STATIC_LENGTH,
  STATIC_NAMES,
  STATIC_VALUES,
  staticFieldIndex,
  staticNameIndex,
} from '../src/_hpack-static';
import {
  EOS,
  HUFFMAN_CODES,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanLength,
} from '../src/_huffman';
import { Http2Error, Http2ErrorCode } from '../src/errors';

/** Bytes from a hex dump ("8286 8441 ..."): whitespace ignored. */
function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, '');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(t.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** The H2_COMPRESSION error `fn` throws (fails the test when it throws nothing or something else). */
function compressionError(fn: () => unknown): Http2Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Http2Error);
    expect((e as Http2Error).code).toBe(Http2ErrorCode.H2_COMPRESSION);
    return e as Http2Error;
  }
  throw new Error('expected an H2_COMPRESSION error');
}

/** A byte string of `bytes`. */
function bstr(bytes: readonly number[]): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

describe('static table (RFC 7541 Appendix A)', () => {
  it('has 61 entries with the RFC names and values at their indices', () => {
    expect(STATIC_LENGTH).toBe(61);
    expect(STATIC_NAMES.length).toBe(62);
    expect([STATIC_NAMES[1], STATIC_VALUES[1]]).toEqual([':authority', '']);
    expect([STATIC_NAMES[2], STATIC_VALUES[2]]).toEqual([':method', 'GET']);
    expect([STATIC_NAMES[8], STATIC_VALUES[8]]).toEqual([':status', '200']);
    expect([STATIC_NAMES[14], STATIC_VALUES[14]]).toEqual([':status', '500']);
    expect([STATIC_NAMES[16], STATIC_VALUES[16]]).toEqual(['accept-encoding', 'gzip, deflate']);
    expect([STATIC_NAMES[32], STATIC_VALUES[32]]).toEqual(['cookie', '']);
    expect([STATIC_NAMES[55], STATIC_VALUES[55]]).toEqual(['set-cookie', '']);
    expect([STATIC_NAMES[61], STATIC_VALUES[61]]).toEqual(['www-authenticate', '']);
    expect(STATIC_BY_NAME.size).toBe(52);
  });

  it('looks up by name (lowest index) and by name and value', () => {
    expect(staticNameIndex(':status')).toBe(8);
    expect(staticNameIndex(':path')).toBe(4);
    expect(staticNameIndex('x-custom')).toBe(0);
    expect(staticFieldIndex(':status', '404')).toBe(13);
    expect(staticFieldIndex(':status', '302')).toBe(0);
    expect(staticFieldIndex(':path', '/index.html')).toBe(5);
    expect(staticFieldIndex('accept', '')).toBe(19);
    expect(staticFieldIndex('accept', '*/*')).toBe(0);
    for (const s of [200, 204, 206, 304, 400, 404, 500])
      expect(staticFieldIndex(':status', String(s))).toBeGreaterThan(0);
  });
});

describe('integers (RFC 7541 5.1, C.1)', () => {
  it('C.1.1-C.1.3: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix', () => {
    expect(toHex(encodeInteger(10, 5))).toBe('0a');
    expect(toHex(encodeInteger(1337, 5))).toBe('1f9a0a');
    expect(toHex(encodeInteger(42, 8))).toBe('2a');
    expect(decodeInteger(hex('1f9a0a'), 0, 5)).toEqual({ value: 1337, next: 3 });
    expect(decodeInteger(hex('ea'), 0, 5)).toEqual({ value: 10, next: 1 }); // high bits are not the integer's
  });

  for (let n = 4; n <= 8; n++) {
    it(`round trips the boundaries of a ${n}-bit prefix`, () => {
      const max = 2 ** n - 1;
      const cases: [number, number][] = [
        [0, 1],
        [max - 1, 1],
        [max, 2],
        [max + 127, 2],
        [max + 128, 3],
        [max + 2 ** 14 - 1, 3],
        [max + 2 ** 14, 4],
        [2 ** 31 - 1, 6],
      ];
      for (const [v, len] of cases) {
        const bytes = encodeInteger(v, n, n < 8 ? 0xff << n : 0);
        expect(bytes.length, `${v}`).toBe(len);
        const first = bytes[0]!;
        if (n < 8) expect(first >> n).toBe(0xff >> n); // pattern bits kept
        expect(decodeInteger(bytes, 0, n)).toEqual({ value: v, next: len });
      }
    });

    it(`rejects overflow, over-long and truncated integers with a ${n}-bit prefix`, () => {
      const max = 2 ** n - 1;
      // 2^31 encodes, but a decoder refuses it.
      compressionError(() => decodeInteger(encodeInteger(2 ** 31, n), 0, n));
      // Five continuation octets with zero padding are fine; six are not.
      expect(decodeInteger(Uint8Array.of(max, 0x81, 0x80, 0x80, 0x80, 0x00), 0, n).value).toBe(max + 1);
      compressionError(() => decodeInteger(Uint8Array.of(max, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00), 0, n));
      compressionError(() => decodeInteger(Uint8Array.of(max, 0xff, 0xff, 0xff, 0xff, 0x7f), 0, n));
      compressionError(() => decodeInteger(Uint8Array.of(max, 0x80), 0, n));
      compressionError(() => decodeInteger(Uint8Array.of(max), 0, n));
    });
  }
});

describe('Huffman code (RFC 7541 5.2, Appendix B)', () => {
  it('builds the RFC codes from the lengths', () => {
    const spot: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [1, 0x7fffd8, 23],
      [10, 0x3ffffffc, 30],
      [32, 0x14, 6], // ' '
      [48, 0x0, 5], // '0'
      [97, 0x3, 5], // 'a'
      [122, 0x7b, 7], // 'z'
      [127, 0xffffffc, 28],
      [128, 0xfffe6, 20],
      [255, 0x3ffffee, 26],
      [EOS, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of spot) {
      expect(HUFFMAN_CODES[sym], `code of ${sym}`).toBe(code);
      expect(HUFFMAN_LENGTHS[sym], `length of ${sym}`).toBe(len);
    }
    // Complete (Kraft sum 1) and prefix-free: no code is a prefix of another.
    expect(HUFFMAN_LENGTHS.length).toBe(257);
    let kraft = 0;
    for (let s = 0; s <= EOS; s++) kraft += 2 ** (30 - HUFFMAN_LENGTHS[s]!);
    expect(kraft).toBe(2 ** 30);
    const all: string[] = [];
    for (let s = 0; s <= EOS; s++) all.push(HUFFMAN_CODES[s]!.toString(2).padStart(HUFFMAN_LENGTHS[s]!, '0'));
    all.sort();
    for (let i = 1; i < all.length; i++) expect(all[i]!.startsWith(all[i - 1]!)).toBe(false);
  });

  it('round trips every byte value, alone and all together', () => {
    const out = new Uint8Array(64);
    for (let b = 0; b < 256; b++) {
      const s = String.fromCharCode(b);
      const n = huffmanEncode(s, out, 0);
      expect(n).toBe(huffmanLength(s));
      expect(huffmanDecode(out, 0, n)).toBe(s);
    }
    let all = '';
    for (let b = 0; b < 256; b++) all += String.fromCharCode(b, 255 - b, b);
    const big = new Uint8Array(huffmanLength(all));
    expect(huffmanEncode(all, big, 0)).toBe(big.length);
    expect(huffmanDecode(big, 0, big.length)).toBe(all);
  });

  it('encodes the RFC C.4 strings', () => {
    const cases: [string, string][] = [
      ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
      ['no-cache', 'a8eb10649cbf'],
      ['custom-key', '25a849e95ba97d7f'],
      ['custom-value', '25a849e95bb8e8b4bf'],
      ['302', '6402'],
      ['private', 'aec3771a4b'],
    ];
    for (const [s, h] of cases) {
      const out = new Uint8Array(huffmanLength(s));
      huffmanEncode(s, out, 0);
      expect(toHex(out)).toBe(h);
    }
  });

  it('decodes an empty string', () => {
    expect(huffmanDecode(new Uint8Array(0), 0, 0)).toBe('');
  });

  it('rejects EOS in the data', () => {
    compressionError(() => huffmanDecode(hex('ffffffff'), 0, 4)); // 32 ones: EOS then 2 bits
    compressionError(() => huffmanDecode(hex('1f ff ff ff fc'), 0, 5)); // 'a' (00011) then EOS
  });

  it('rejects padding over 7 bits and padding that is not ones', () => {
    compressionError(() => huffmanDecode(hex('ff'), 0, 1)); // 8 bits of padding
    compressionError(() => huffmanDecode(hex('1fff'), 0, 2)); // 'a' + 11 one-bits
    compressionError(() => huffmanDecode(hex('18'), 0, 1)); // 'a' + 000
    compressionError(() => huffmanDecode(hex('1e'), 0, 1)); // 'a' + 110
    expect(huffmanDecode(hex('1f'), 0, 1)).toBe('a'); // 'a' + 111
    compressionError(() => huffmanDecode(hex('00'), 0, 1)); // '0' (00000) + 000
  });
});

describe('decoder: RFC 7541 C.2 single representations', () => {
  it('C.2.1 literal with indexing', () => {
    const dec = new HpackDecoder();
    expect(dec.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'))).toEqual([
      'custom-key',
      'custom-header',
    ]);
    expect(dec.tableEntries()).toEqual(['custom-key', 'custom-header']);
    expect(dec.tableSize).toBe(55);
    expect(dec.neverIndexed(0)).toBe(false);
  });

  it('C.2.2 literal without indexing', () => {
    const dec = new HpackDecoder();
    expect(dec.decode(hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([':path', '/sample/path']);
    expect(dec.tableLength).toBe(0);
    expect(dec.tableSize).toBe(0);
    expect(dec.neverIndexed(0)).toBe(false);
  });

  it('C.2.3 literal never indexed', () => {
    const dec = new HpackDecoder();
    expect(dec.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual(['password', 'secret']);
    expect(dec.tableLength).toBe(0);
    expect(dec.neverIndexed(0)).toBe(true);
  });

  it('C.2.4 indexed field', () => {
    const dec = new HpackDecoder();
    expect(dec.decode(hex('82'))).toEqual([':method', 'GET']);
    expect(dec.tableLength).toBe(0);
  });
});

/** One step of an Appendix C sequence: block, header list, table after (newest first), size. */
type Step = [block: string, fields: string[], table: string[], size: number];

const REQ1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQ2 = [...REQ1, 'cache-control', 'no-cache'];
const REQ3 = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':path',
  '/index.html',
  ':authority',
  'www.example.com',
  'custom-key',
  'custom-value',
];
const T1 = [':authority', 'www.example.com'];
const T2 = ['cache-control', 'no-cache', ...T1];
const T3 = ['custom-key', 'custom-value', ...T2];

const C3: Step[] = [
  ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', REQ1, T1, 57],
  ['8286 84be 5808 6e6f 2d63 6163 6865', REQ2, T2, 110],
  ['8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65', REQ3, T3, 164],
];
const C4: Step[] = [
  ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', REQ1, T1, 57],
  ['8286 84be 5886 a8eb 1064 9cbf', REQ2, T2, 110],
  ['8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', REQ3, T3, 164],
];

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RES1 = [':status', '302', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RES2 = [':status', '307', 'cache-control', 'private', 'date', DATE1, 'location', LOC];
const RES3 = [
  ':status',
  '200',
  'cache-control',
  'private',
  'date',
  DATE2,
  'location',
  LOC,
  'content-encoding',
  'gzip',
  'set-cookie',
  COOKIE,
];
const RT1 = ['location', LOC, 'date', DATE1, 'cache-control', 'private', ':status', '302'];
const RT2 = [':status', '307', 'location', LOC, 'date', DATE1, 'cache-control', 'private'];
const RT3 = ['set-cookie', COOKIE, 'content-encoding', 'gzip', 'date', DATE2];

const C5: Step[] = [
  [
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
     2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    RES1,
    RT1,
    222,
  ],
  ['4803 3330 37c1 c0bf', RES2, RT2, 222],
  [
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
     54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
     5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
    RES3,
    RT3,
    215,
  ],
];
const C6: Step[] = [
  [
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
     2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    RES1,
    RT1,
    222,
  ],
  ['4883 640e ffc1 c0bf', RES2, RT2, 222],
  [
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
     77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
     9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    RES3,
    RT3,
    215,
  ],
];

function runDecode(steps: Step[], tableSize: number): void {
  const dec = new HpackDecoder({ maxTableSize: tableSize });
  // The examples assume the table already has this size: the peer's update says so.
  if (tableSize !== 4096) {
    expect(dec.decode(encodeInteger(tableSize, 5, 0x20))).toEqual([]);
    expect(dec.maxTableSize).toBe(tableSize);
  }
  for (const [block, fields, table, size] of steps) {
    expect(dec.decode(hex(block))).toEqual(fields);
    expect(dec.tableEntries()).toEqual(table);
    expect(dec.tableSize).toBe(size);
    expect(dec.tableLength).toBe(table.length / 2);
  }
}

describe('decoder: RFC 7541 C.3-C.6 sequences', () => {
  it('C.3 requests without Huffman', () => runDecode(C3, 4096));
  it('C.4 requests with Huffman', () => runDecode(C4, 4096));
  it('C.5 responses without Huffman, 256-octet table (evictions)', () => runDecode(C5, 256));
  it('C.6 responses with Huffman, 256-octet table (evictions)', () => runDecode(C6, 256));
});

describe('encoder: RFC 7541 C.3 and C.4 byte for byte', () => {
  it('C.3 without Huffman', () => {
    const enc = new HpackEncoder({ huffman: false });
    for (const [block, fields, table, size] of C3) {
      expect(toHex(enc.encode(fields))).toBe(toHex(hex(block)));
      expect(enc.tableEntries()).toEqual(table);
      expect(enc.tableSize).toBe(size);
    }
  });

  it('C.4 with Huffman', () => {
    const enc = new HpackEncoder();
    for (const [block, fields, table, size] of C4) {
      expect(toHex(enc.encode(fields))).toBe(toHex(hex(block)));
      expect(enc.tableEntries()).toEqual(table);
      expect(enc.tableSize).toBe(size);
    }
  });

  it('C.5 / C.6 header lists round trip with a 256-octet table, tables in step', () => {
    for (const huffman of [false, true]) {
      const enc = new HpackEncoder({ huffman, maxTableSize: 256 });
      const dec = new HpackDecoder();
      for (const fields of [RES1, RES2, RES3, RES1, RES3]) {
        expect(dec.decode(enc.encode(fields))).toEqual(fields);
        expect(dec.tableEntries()).toEqual(enc.tableEntries());
        expect(dec.tableSize).toBe(enc.tableSize);
        expect(dec.maxTableSize).toBe(256);
      }
    }
  });
});

describe('decoder: errors', () => {
  it('rejects index 0 and indices past the tables', () => {
    compressionError(() => new HpackDecoder().decode(hex('80')));
    compressionError(() => new HpackDecoder().decode(hex('be'))); // 62, empty table
    compressionError(() => new HpackDecoder().decode(hex('7e 01 61'))); // name index 62
    compressionError(() => new HpackDecoder().decode(hex('0f 2f 01 61'))); // name index 62 (15 + 47)
    const dec = new HpackDecoder();
    dec.decode(hex('4001 61 01 62')); // a: b
    expect(dec.decode(hex('be'))).toEqual(['a', 'b']);
    compressionError(() => dec.decode(hex('bf')));
  });

  it('rejects strings and integers that run past the block', () => {
    compressionError(() => new HpackDecoder().decode(hex('4005 61')));
    compressionError(() => new HpackDecoder().decode(hex('0003 616263 05 6162')));
    compressionError(() => new HpackDecoder().decode(hex('00')));
    compressionError(() => new HpackDecoder().decode(hex('0001 61')));
    compressionError(() => new HpackDecoder().decode(hex('ff')));
    compressionError(() => new HpackDecoder().decode(hex('ff 80')));
    compressionError(() => new HpackDecoder().decode(hex('00 7f')));
  });

  it('rejects an index above 2^31-1', () => {
    compressionError(() => new HpackDecoder().decode(hex('ff ff ff ff ff 0f')));
  });

  it('rejects a Huffman string with EOS or bad padding', () => {
    compressionError(() => new HpackDecoder().decode(hex('0001 61 84 ffffffff')));
    compressionError(() => new HpackDecoder().decode(hex('0001 61 81 18')));
    compressionError(() => new HpackDecoder().decode(hex('0001 61 82 1fff')));
    expect(new HpackDecoder().decode(hex('0001 61 81 1f'))).toEqual(['a', 'a']);
  });
});

describe('decoder: dynamic table size updates (RFC 7541 4.2, 6.3)', () => {
  it('accepts updates at the start of a block, up to the limit, and evicts', () => {
    const dec = new HpackDecoder();
    dec.decode(hex('4001 61 01 62 4001 63 01 64')); // a: b, c: d (34 octets each)
    expect(dec.tableSize).toBe(68);
    expect(dec.decode(hex('3f 04 82'))).toEqual([':method', 'GET']); // size 35 (31 + 4)
    expect(dec.maxTableSize).toBe(35);
    expect(dec.tableEntries()).toEqual(['c', 'd']);
    expect(dec.decode(hex('20 3f e1 1f'))).toEqual([]); // 0, then 4096: two updates
    expect(dec.tableLength).toBe(0);
    expect(dec.maxTableSize).toBe(4096);
  });

  it('rejects an update above SETTINGS_HEADER_TABLE_SIZE', () => {
    compressionError(() => new HpackDecoder().decode(hex('3f e2 1f'))); // 4097
    expect(new HpackDecoder({ maxTableSize: 8192 }).decode(hex('3f e1 3f 82'))).toEqual([':method', 'GET']);
    compressionError(() => new HpackDecoder({ maxTableSize: 100 }).decode(hex('3f 46'))); // 101
  });

  it('rejects an update after a field', () => {
    compressionError(() => new HpackDecoder().decode(hex('82 20')));
    compressionError(() => new HpackDecoder().decode(hex('20 82 20')));
  });

  it('starts at 4096 whatever our setting, and holds the peer to it once acknowledged', () => {
    const dec = new HpackDecoder({ maxTableSize: 1024 });
    expect(dec.maxTableSize).toBe(4096);
    // Before our SETTINGS reach it, the peer may fill 4096 octets.
    const enc = new HpackEncoder();
    const fields: string[] = [];
    for (let i = 0; i < 60; i++) fields.push(`x-h${i}`, 'v'.repeat(20));
    expect(dec.decode(enc.encode(fields))).toEqual(fields);
    expect(dec.tableSize).toBe(enc.tableSize);
    expect(dec.tableSize).toBeGreaterThan(3000);
    compressionError(() => new HpackDecoder({ maxTableSize: 1024 }).decode(hex('3f e2 07'))); // 1025
    // Our SETTINGS acknowledged: the next block must shrink the table to 1024 at most.
    dec.setMaxTableSize(1024);
    compressionError(() => dec.decode(hex('82')));
    const dec2 = new HpackDecoder({ maxTableSize: 1024 });
    dec2.decode(enc.encode([]));
    dec2.setMaxTableSize(1024);
    enc.setMaxTableSize(1024);
    expect(dec2.decode(enc.encode([':method', 'GET']))).toEqual([':method', 'GET']);
    expect(dec2.maxTableSize).toBe(1024);
  });

  it('requires an update after our limit goes below the table size', () => {
    const dec = new HpackDecoder();
    dec.decode(hex('4001 61 01 62'));
    dec.setMaxTableSize(1024);
    compressionError(() => dec.decode(hex('82')));
    const dec2 = new HpackDecoder();
    dec2.decode(hex('4001 61 01 62'));
    dec2.setMaxTableSize(1024);
    compressionError(() => dec2.decode(hex('3f e2 07 82'))); // 1025 > 1024
    const dec3 = new HpackDecoder();
    dec3.decode(hex('4001 61 01 62'));
    dec3.setMaxTableSize(1024);
    expect(dec3.decode(hex('3f e1 07 be'))).toEqual(['a', 'b']); // 1024, entry kept
    expect(dec3.decode(hex('be'))).toEqual(['a', 'b']); // no further update needed
    // Raising the limit needs no update.
    const dec4 = new HpackDecoder();
    dec4.setMaxTableSize(8192);
    expect(dec4.decode(hex('82'))).toEqual([':method', 'GET']);
  });
});

describe('decoder: eviction (RFC 7541 4.4)', () => {
  it('evicts oldest first, and an entry larger than the table empties it', () => {
    const dec = new HpackDecoder({ maxTableSize: 100 });
    // A size update to 100 (31 + 69), then three 34-octet entries: the third evicts the first.
    dec.decode(hex('3f 45 4001 61 01 31 4001 61 01 32 4001 61 01 33'));
    expect(dec.tableEntries()).toEqual(['a', '3', 'a', '2']);
    expect(dec.tableSize).toBe(68);
    // A 101-octet entry (name 'a' by index 62, 68-octet value) empties the table and is not added.
    const v = 'x'.repeat(68);
    const block = new Uint8Array([0x7e, 68, ...Array.from(v, (c) => c.charCodeAt(0))]);
    expect(dec.decode(block)).toEqual(['a', v]);
    expect(dec.tableLength).toBe(0);
    expect(dec.tableSize).toBe(0);
  });

  it('keeps many entries across ring growth', () => {
    const dec = new HpackDecoder();
    const enc = new HpackEncoder();
    for (let round = 0; round < 5; round++) {
      const fields: string[] = [];
      for (let i = 0; i < 100; i++) fields.push(`x-h${i}`, `v${round % 2}`);
      expect(dec.decode(enc.encode(fields))).toEqual(fields);
      expect(dec.tableEntries()).toEqual(enc.tableEntries());
    }
    expect(dec.tableSize).toBeLessThanOrEqual(4096);
    expect(dec.tableLength).toBe(enc.tableLength);
  });
});

describe('decoder: header list limit', () => {
  it('returns null past the limit, keeps the table in step, and decodes the next block', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder({ maxHeaderListSize: 110 });
    const big = ['x-a', 'a'.repeat(30), 'x-b', 'b'.repeat(30), 'authorization', 'secret', 'x-c', 'c'];
    // 65 + 65 + 51 + 36 octets: over 110 at the second field.
    expect(dec.decode(enc.encode(big))).toBeNull();
    expect(dec.tableEntries()).toEqual(enc.tableEntries());
    expect(dec.tableLength).toBe(3);
    // The next block (36 + 65 octets) refers to the entries the dropped block added.
    const next = ['x-c', 'c', 'x-a', 'a'.repeat(30)];
    const block = enc.encode(next);
    expect(toHex(block)).toBe('bec0'); // x-c is 62, x-a 64
    expect(dec.decode(block)).toEqual(next);
  });

  it('counts name + value + 32 per field, inclusive', () => {
    // :method GET is 7 + 3 + 32 = 42 octets, :scheme http 7 + 4 + 32 = 43.
    expect(new HpackDecoder({ maxHeaderListSize: 85 }).decode(hex('82 86'))).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
    ]);
    expect(new HpackDecoder({ maxHeaderListSize: 84 }).decode(hex('82 86'))).toBeNull();
    const tight = new HpackDecoder({ maxHeaderListSize: 7 + 3 + 32 });
    expect(tight.decode(hex('82'))).toEqual([':method', 'GET']); // exactly the limit
    expect(tight.decode(hex('82 82'))).toBeNull();
  });

  it('still checks dropped literals', () => {
    const dec = new HpackDecoder({ maxHeaderListSize: 10 });
    compressionError(() => dec.decode(hex('82 0001 61 81 18')));
    compressionError(() => new HpackDecoder({ maxHeaderListSize: 10 }).decode(hex('82 0f 30 01 61')));
  });
});

describe('encoder: policy', () => {
  it('indexes exact static matches in one octet', () => {
    const enc = new HpackEncoder();
    expect(toHex(enc.encode([':status', '200', ':status', '404', ':method', 'GET', ':path', '/']))).toBe(
      '888d8284',
    );
    expect(enc.tableLength).toBe(0);
  });

  it('indexes other fields and repeats them as one octet', () => {
    const enc = new HpackEncoder();
    const head = [':status', '302', 'content-type', 'text/plain', 'server', 'strata'];
    const first = enc.encode(head);
    expect(first[0]).toBe(0x48); // literal with indexing, name :status (8)
    expect(enc.tableLength).toBe(3);
    expect(toHex(enc.encode(head))).toBe('c0bfbe');
    const dec = new HpackDecoder();
    expect(dec.decode(first)).toEqual(head);
  });

  it('uses a dynamic name for a new value of an indexed name', () => {
    const enc = new HpackEncoder({ huffman: false });
    enc.encode(['x-id', '1']);
    expect(toHex(enc.encode(['x-id', '2']))).toBe('7e0132'); // name index 62
  });

  it('never indexes credentials and cookies', () => {
    const enc = new HpackEncoder({ huffman: false });
    const dec = new HpackDecoder();
    const fields = [
      'authorization',
      'Basic x',
      'cookie',
      'a=b',
      'set-cookie',
      's=1',
      'proxy-authorization',
      'p',
    ];
    const block = enc.encode(fields);
    expect(block[0]).toBe(0x1f); // 0001 + index 23 (15 + 8)
    expect(block[1]).toBe(0x08);
    expect(dec.decode(block)).toEqual(fields);
    for (let i = 0; i < 4; i++) expect(dec.neverIndexed(i)).toBe(true);
    expect(enc.tableLength).toBe(0);
    expect(toHex(enc.encode(['authorization', 'Basic x']))).toBe(toHex(block.subarray(0, 10)));
  });

  it('sends per-response values without indexing', () => {
    const enc = new HpackEncoder({ huffman: false });
    const block = enc.encode([
      'date',
      DATE1,
      'content-length',
      '12',
      'etag',
      '"x"',
      'last-modified',
      DATE1,
      'age',
      '1',
    ]);
    expect(block[0]).toBe(0x0f); // 0000 + index 33 (15 + 18)
    expect(block[1]).toBe(0x12);
    expect(enc.tableLength).toBe(0);
    const dec = new HpackDecoder();
    expect(dec.decode(block)?.length).toBe(10);
    expect(dec.neverIndexed(0)).toBe(false);
  });

  it('does not index an entry over 3/4 of the table', () => {
    const enc = new HpackEncoder();
    enc.encode(['x-small', 'v']);
    enc.encode(['x-big', 'v'.repeat(3072 - 32 - 5 + 1)]);
    expect(enc.tableEntries()).toEqual(['x-small', 'v']);
    enc.encode(['x-big', 'v'.repeat(3072 - 32 - 5)]);
    expect(enc.tableLength).toBe(2);
  });

  it('throws H2_INVALID_HEADER on a char above 0xFF, unchanged', () => {
    const enc = new HpackEncoder();
    try {
      enc.encode(['x-a', 'b', 'x-b', 'caf\u20ac']);
      expect.unreachable();
    } catch (e) {
      expect((e as Http2Error).code).toBe(Http2ErrorCode.H2_INVALID_HEADER);
    }
    expect(enc.tableLength).toBe(0);
    // Latin-1 is fine.
    const dec = new HpackDecoder();
    const fields = ['x-b', 'caf\u00e9 \u00ff\u0000'];
    expect(dec.decode(enc.encode(fields))).toEqual(fields);
  });
});

describe('encoder: rollback and caches', () => {
  it('a char above 0xFF after insertions and evictions leaves the table as it was', () => {
    for (const bad of ['\u0100', `${'x'.repeat(200)}\u20ac`]) {
      for (const huffman of [true, false]) {
        const enc = new HpackEncoder({ huffman });
        enc.setMaxTableSize(120);
        // Fails with the size update pending and after four insertions (one eviction).
        const fail = ['x-a', '1', 'x-b', '2', 'x-c', '3', 'x-d', '4', 'x-f', bad];
        expect(() => enc.encode(fail)).toThrow(Http2Error);
        expect(enc.tableLength).toBe(0);
        const dec = new HpackDecoder();
        expect(dec.decode(enc.encode(['x-a', '1', 'x-b', '2', 'x-c', '3']))).toEqual([
          'x-a',
          '1',
          'x-b',
          '2',
          'x-c',
          '3',
        ]);
        expect(dec.maxTableSize).toBe(120); // the update was still sent
        const before = enc.tableEntries();
        expect(enc.tableSize).toBe(108);
        expect(() => enc.encode(['x-d', '4', 'x-e', '5', 'x-f', bad])).toThrow(Http2Error);
        expect(enc.tableEntries()).toEqual(before);
        expect(enc.tableSize).toBe(108);
        expect(() => enc.encode(['x-\u0101', 'v'])).toThrow(Http2Error);
        expect(dec.decode(enc.encode(['x-c', '3', 'x-d', '4']))).toEqual(['x-c', '3', 'x-d', '4']);
        expect(dec.tableEntries()).toEqual(enc.tableEntries());
      }
    }
  });

  it('copies a repeated not-indexed value and still tracks a changed one', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder();
    const a = enc.encode(['date', DATE1]);
    const b = enc.encode(['date', DATE1]);
    expect(toHex(b)).toBe(toHex(a));
    expect(dec.decode(b)).toEqual(['date', DATE1]);
    expect(dec.decode(enc.encode(['date', DATE2]))).toEqual(['date', DATE2]);
    const long = `${DATE2} and more text to grow the cached representation`;
    expect(dec.decode(enc.encode(['date', long, 'last-modified', DATE1]))).toEqual([
      'date',
      long,
      'last-modified',
      DATE1,
    ]);
    expect(dec.decode(enc.encode(['date', DATE1]))).toEqual(['date', DATE1]);
    expect(enc.tableLength).toBe(0);
    const plain = new HpackEncoder({ huffman: false });
    expect(dec.decode(plain.encode(['date', DATE1]))).toEqual(['date', DATE1]);
  });

  it('keeps a Huffman string only when strictly shorter, at every length', () => {
    const enc = new HpackEncoder({ maxTableSize: 0 });
    const dec = new HpackDecoder();
    dec.decode(enc.encode([]));
    for (const len of [0, 1, 2, 125, 126, 127, 128, 300]) {
      for (const ch of ['a', '\u00ff', '0']) {
        const v = ch.repeat(len);
        const block = enc.encode(['x-v', v]);
        expect(dec.decode(block)).toEqual(['x-v', v]);
        const plainLen = block.length;
        const huff = Math.ceil((len * (ch === 'a' || ch === '0' ? 5 : 26)) / 8);
        // 0000 0000, name literal (1 + 3), value length prefix and value
        const prefix = (n: number) => (n < 127 ? 1 : n < 127 + 128 ? 2 : 3);
        const best = Math.min(len + prefix(len), huff < len ? huff + prefix(huff) : Number.POSITIVE_INFINITY);
        expect(plainLen, `${JSON.stringify(ch)} x ${len}`).toBe(1 + 4 + best);
      }
    }
  });
});

describe('encoder: table size (RFC 7541 4.2, 6.3)', () => {
  it('opens the next block with the size update and shrinks the table', () => {
    const enc = new HpackEncoder({ huffman: false });
    const dec = new HpackDecoder();
    dec.decode(enc.encode(['x-a', '1', 'x-b', '2']));
    enc.setMaxTableSize(36);
    expect(enc.tableEntries()).toEqual(['x-b', '2']);
    dec.setMaxTableSize(36);
    const block = enc.encode([':method', 'GET']);
    expect(toHex(block)).toBe('3f0582'); // update to 36, then :method GET
    expect(dec.decode(block)).toEqual([':method', 'GET']);
    expect(dec.tableEntries()).toEqual(['x-b', '2']);
    // No further update.
    expect(toHex(enc.encode([':method', 'GET']))).toBe('82');
  });

  it('signals the smallest size, then the final one', () => {
    const enc = new HpackEncoder();
    enc.setMaxTableSize(0);
    enc.setMaxTableSize(2048);
    expect(toHex(enc.encode([':method', 'GET']))).toBe('20 3fe10f 82'.replace(/ /g, ''));
    enc.setMaxTableSize(100);
    enc.setMaxTableSize(4096);
    expect(toHex(enc.encode([]))).toBe('3f45 3fe11f'.replace(/ /g, ''));
  });

  it('sends nothing when the size is unchanged, and caps at its own limit', () => {
    const enc = new HpackEncoder();
    enc.setMaxTableSize(4096);
    expect(toHex(enc.encode([':method', 'GET']))).toBe('82');
    enc.setMaxTableSize(65536); // min(65536, 4096): unchanged
    expect(toHex(enc.encode([':method', 'GET']))).toBe('82');
    const small = new HpackEncoder({ maxTableSize: 1024 });
    expect(toHex(small.encode([':method', 'GET']))).toBe('3fe10782'); // 1024 from the start
    expect(small.maxTableSize).toBe(1024);
    small.setMaxTableSize(8192);
    expect(toHex(small.encode([':method', 'GET']))).toBe('82');
    const none = new HpackEncoder({ maxTableSize: 0 });
    const dec = new HpackDecoder();
    expect(dec.decode(none.encode(['x-a', 'b']))).toEqual(['x-a', 'b']);
    expect(none.tableLength).toBe(0);
    expect(dec.maxTableSize).toBe(0);
  });
});

describe('encoder: encodeInto', () => {
  it('writes at the offset and returns the end', () => {
    const enc = new HpackEncoder();
    const out = new Uint8Array(64).fill(0xaa);
    const end = enc.encodeInto([':status', '200', 'server', 'strata'], out, 9);
    expect(end).toBeGreaterThan(10);
    expect(out[8]).toBe(0xaa);
    expect(out[9]).toBe(0x88);
    expect(new HpackDecoder().decode(out.subarray(9, end))).toEqual([':status', '200', 'server', 'strata']);
  });

  it('never writes more than maxEncodedLength', () => {
    const enc = new HpackEncoder({ huffman: false });
    enc.setMaxTableSize(0);
    const fields = ['x-a', '\u00ff'.repeat(300), 'x-b', ''];
    const n = HpackEncoder.maxEncodedLength(fields);
    expect(n).toBe(12 + 3 + 9 + 300 + 9 + 3 + 9 + 0 + 9);
    const out = new Uint8Array(n);
    expect(enc.encodeInto(fields, out, 0)).toBeLessThanOrEqual(n);
  });

  it('fits exactly where the worst case would not', () => {
    const enc = new HpackEncoder();
    const out = new Uint8Array(2);
    expect(enc.encodeInto([':status', '200', ':method', 'GET'], out, 0)).toBe(2);
    expect(toHex(out)).toBe('8882');
  });

  it('returns -1 when the block does not fit, and changes nothing', () => {
    const head = [':status', '302', 'content-type', 'text/html', 'x-request-id', 'abc'];
    const a = new HpackEncoder();
    const b = new HpackEncoder();
    for (const e of [a, b]) {
      e.encode(['x-one', '1', 'x-two', '2']);
      e.setMaxTableSize(120);
    }
    const need = b.encode(head).length; // b goes ahead: a must produce the same block
    for (let room = 0; room < need; room++) {
      expect(a.encodeInto(head, new Uint8Array(room), 0)).toBe(-1);
      expect(a.tableEntries()).toEqual(['x-two', '2', 'x-one', '1']);
      expect(a.tableSize).toBe(76);
    }
    const out = new Uint8Array(need + 3);
    expect(a.encodeInto(head, out, 3)).toBe(need + 3);
    // Same bytes as b (the size update included) and same table afterwards.
    const bb = new HpackEncoder();
    bb.encode(['x-one', '1', 'x-two', '2']);
    bb.setMaxTableSize(120);
    expect(toHex(out.subarray(3))).toBe(toHex(bb.encode(head)));
    expect(a.tableEntries()).toEqual(b.tableEntries());
    expect(toHex(a.encode(head))).toBe(toHex(b.encode(head)));
  });
});

describe('round trip with a warm table', () => {
  it('a repeated request head decodes to the same list each time', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder();
    const head = [
      ':method',
      'GET',
      ':scheme',
      'https',
      ':path',
      '/api/items?id=42',
      ':authority',
      'example.com',
      'user-agent',
      'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0',
      'accept',
      'application/json',
    ];
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const block = enc.encode(head);
      sizes.push(block.length);
      expect(dec.decode(block)).toEqual(head);
    }
    expect(sizes[1]).toBe(6); // all six indexed
    expect(sizes[2]).toBe(6);
  });

  it('binary values survive, Huffman or not', () => {
    const all: number[] = [];
    for (let b = 0; b < 256; b++) all.push(b);
    const value = bstr(all);
    for (const huffman of [true, false]) {
      const enc = new HpackEncoder({ huffman });
      const dec = new HpackDecoder();
      expect(dec.decode(enc.encode(['x-bin', value, 'x-text', 'hello world']))).toEqual([
        'x-bin',
        value,
        'x-text',
        'hello world',
      ]);
    }
  });
});
