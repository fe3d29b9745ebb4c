/**
 * The catalogue's own small HPACK codec (`_hpack.ts`), checked against RFC 7541 Appendix C and the
 * Huffman rules of section 5.2, since every verdict that reads a response depends on it.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeHeaders,
  encodeInteger,
  HpackDecodeError,
  HpackDecoder,
  huffmanCodes,
  huffmanDecode,
  huffmanEncode,
} from './_hpack.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('integers (RFC 7541 5.1, C.1)', () => {
  it('encodes 10 and 1337 with a 5-bit prefix and 42 with an 8-bit prefix', () => {
    expect(encodeInteger(10, 5, 0)).toEqual([0x0a]);
    expect(encodeInteger(1337, 5, 0)).toEqual([0x1f, 0x9a, 0x0a]);
    expect(encodeInteger(42, 8, 0)).toEqual([0x2a]);
  });
});

describe('Huffman (RFC 7541 5.2, Appendix B)', () => {
  it('derives the canonical codes of Appendix B from the code lengths', () => {
    const codes = huffmanCodes();
    expect(codes.length).toBe(257);
    expect(codes[0]).toBe(0x1ff8);
    expect(codes[48]).toBe(0x0); // '0'
    expect(codes[97]).toBe(0x3); // 'a'
    expect(codes[127]).toBe(0xffffffc);
    expect(codes[203]).toBe(0x7ffffde);
    expect(codes[255]).toBe(0x3ffffee);
    expect(codes[256]).toBe(0x3fffffff); // EOS
  });

  it('round-trips every octet value', () => {
    let all = '';
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    expect(huffmanDecode(huffmanEncode(all))).toBe(all);
  });

  it('decodes the C.4.1 authority and rejects bad padding and EOS', () => {
    expect(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'))).toBe('www.example.com');
    expect(huffmanDecode(hex('49509f'))).toBe('test');
    expect(() => huffmanDecode(hex('49509fff'))).toThrow(HpackDecodeError); // padding > 7 bits
    expect(() => huffmanDecode(hex('495090'))).toThrow(HpackDecodeError); // padding not EOS ones
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(HpackDecodeError); // contains EOS
  });
});

describe('decoder (RFC 7541 C.3 and C.4: requests with and without Huffman)', () => {
  it('follows the dynamic table across three header blocks', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    expect(d.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865'))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ]);
    expect(d.decode(hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'))).toEqual(
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/index.html'],
        [':authority', 'www.example.com'],
        ['custom-key', 'custom-value'],
      ],
    );
  });

  it('decodes the Huffman request of C.4.1', () => {
    expect(new HpackDecoder().decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
  });

  it('reads back what the catalogue encoder writes', () => {
    const fields: [string, string][] = [
      [':method', 'POST'],
      ['x-long', 'v'.repeat(300)],
    ];
    expect(new HpackDecoder().decode(encodeHeaders(fields))).toEqual(fields);
  });

  it('rejects index 0, an index past both tables and a size update after a field', () => {
    expect(() => new HpackDecoder().decode(hex('80'))).toThrow(HpackDecodeError);
    expect(() => new HpackDecoder().decode(hex('fe'))).toThrow(HpackDecodeError);
    expect(() => new HpackDecoder().decode(hex('8221'))).toThrow(HpackDecodeError);
    expect(() => new HpackDecoder().decode(hex('3fe21f'))).toThrow(HpackDecodeError); // 4097 > 4096
  });
});
