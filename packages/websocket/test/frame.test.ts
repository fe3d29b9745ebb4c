import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebSocketError } from '../src/_constants';
import { encodeFrame, encodeFrameInto, maskCopy, utf8Length } from '../src/_frame';
import { Receiver } from '../src/_receiver';

/** Feeds `bytes` to a fresh server-side receiver in the given pieces; returns the event log. */
function run(
  bytes: Buffer,
  cuts: number[],
  opts: { isServer?: boolean; maxPayload?: number } = {},
): string[] {
  const log: string[] = [];
  const r = new Receiver(
    { isServer: opts.isServer ?? true, maxPayload: opts.maxPayload ?? 1 << 20, inflater: null },
    {
      onMessage: (d, bin) =>
        log.push(`${bin ? 'binary' : 'text'}:${bin ? d.toString('hex') : d.toString('utf8')}`),
      // the short-frame path delivers text already decoded; the log must not tell the paths apart
      onText: (t) => log.push(`text:${t}`),
      onPing: (d) => log.push(`ping:${d.toString()}`),
      onPong: (d) => log.push(`pong:${d.toString()}`),
      onClose: (code, reason) => log.push(`close:${code}:${reason}`),
      onError: (e: WebSocketError) => log.push(`error:${e.closeCode}:${e.code}`),
      onResume: () => {},
    },
  );
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    // a fresh copy per piece that is clobbered afterwards: the receiver must not keep views
    const piece = Buffer.from(bytes.subarray(prev, c));
    r.execute(piece);
    piece.fill(0xee);
    prev = c;
  }
  return log;
}

/** Runs a fixture whole, byte by byte and at every split point; all must give `expected`. */
function check(bytes: Buffer, expected: string[], opts?: { isServer?: boolean; maxPayload?: number }) {
  expect(run(bytes, [], opts)).toEqual(expected);
  expect(
    run(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      opts,
    ),
  ).toEqual(expected);
  for (let i = 1; i < bytes.length; i++) expect(run(bytes, [i], opts), `split at ${i}`).toEqual(expected);
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const mask = (op: number, payload: Buffer | string, fin = true, rsv = 0) => {
  const data = Buffer.from(payload);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = data.length;
  const h =
    len < 126
      ? [0x80 | len]
      : len < 65536
        ? [0x80 | 126, len >> 8, len & 0xff]
        : [0x80 | 127, 0, 0, 0, 0, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
  const out = Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | (rsv << 4) | op, ...h]), key, data]);
  maskCopy(out, out.length - len, out, out.length - len, len, key, 0);
  return out;
};
const closePayload = (code: number, reason = '') => {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code);
  b.write(reason, 2);
  return b;
};

describe('frame parser (raw bytes: whole, byte by byte, every split)', () => {
  it('RFC 6455 §5.7 examples', () => {
    check(hex('81 85 37fa213d 7f9f4d5158'), ['text:Hello']);
    check(hex('01 83 37fa213d 7f9f4d  80 82 37fa213d 5b95'), ['text:Hello']);
    check(hex('89 85 37fa213d 7f9f4d5158'), ['ping:Hello']);
    check(hex('8a 85 37fa213d 7f9f4d5158'), ['pong:Hello']);
    // unmasked server->client examples on the client side
    check(hex('81 05 48656c6c6f'), ['text:Hello'], { isServer: false });
  });

  it('16-bit and 64-bit lengths', () => {
    const b256 = Buffer.alloc(256, 0xab);
    check(mask(2, b256), [`binary:${b256.toString('hex')}`]);
    const b64k = Buffer.alloc(65536, 0x5a);
    const log = run(mask(2, b64k), [7, 3000, 65000]);
    expect(log).toEqual([`binary:${b64k.toString('hex')}`]);
  });

  it('control frames interleaved in a fragmented message, several messages per chunk', () => {
    check(
      Buffer.concat([
        mask(1, 'frag', false),
        mask(9, 'p'),
        mask(0, 'ment', false),
        mask(10, 'q'),
        mask(0, '!'),
        mask(1, 'next'),
      ]),
      ['ping:p', 'pong:q', 'text:fragment!', 'text:next'],
    );
  });

  it('text split inside a multi-byte code point across frames', () => {
    const euro = Buffer.from('€', 'utf8');
    check(
      Buffer.concat([
        mask(1, euro.subarray(0, 1), false),
        mask(0, euro.subarray(1, 2), false),
        mask(0, euro.subarray(2)),
      ]),
      ['text:€'],
    );
  });

  it('close frames: empty, code, code + reason', () => {
    check(mask(8, ''), ['close:1005:']);
    check(mask(8, closePayload(1000)), ['close:1000:']);
    check(mask(8, closePayload(4000, 'bye ✓')), ['close:4000:bye ✓']);
  });

  it('protocol errors close with the right code', () => {
    check(hex('81 05 48656c6c6f'), ['error:1002:WS_UNMASKED']);
    check(mask(1, 'Hello'), ['error:1002:WS_MASKED'], { isServer: false });
    check(mask(1, 'x', true, 2), ['error:1002:WS_RSV_BITS']);
    check(mask(1, 'x', true, 4), ['error:1002:WS_RSV_BITS']); // RSV1 without permessage-deflate
    check(mask(3, ''), ['error:1002:WS_BAD_OPCODE']);
    check(mask(11, ''), ['error:1002:WS_BAD_OPCODE']);
    check(mask(9, 'p', false), ['error:1002:WS_FRAGMENTED_CONTROL']);
    check(mask(9, Buffer.alloc(126)), ['error:1002:WS_CONTROL_TOO_LONG']);
    check(mask(0, 'x'), ['error:1002:WS_UNEXPECTED_CONTINUATION']);
    check(Buffer.concat([mask(1, 'a', false), mask(1, 'b')]), ['error:1002:WS_EXPECTED_CONTINUATION']);
    check(mask(8, 'a'), ['error:1002:WS_BAD_CLOSE']);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])
      check(mask(8, closePayload(code)), ['error:1002:WS_BAD_CLOSE_CODE']);
    check(mask(8, Buffer.concat([closePayload(1000), hex('eda080')])), ['error:1007:WS_INVALID_UTF8']);
    check(mask(1, hex('cebae1bdb9cf83cebcceb5eda080656469746564')), ['error:1007:WS_INVALID_UTF8']);
    check(Buffer.concat([mask(1, hex('e282'), false), mask(0, '')]), ['error:1007:WS_INVALID_UTF8']);
    // parsing stops after an error: the following valid frame is not reported
    check(Buffer.concat([mask(3, ''), mask(1, 'after')]), ['error:1002:WS_BAD_OPCODE']);
  });

  it('64-bit lengths: over maxPayload closes 1009 from the header alone; MSB set is 1002', () => {
    const hdr = hex('82 ff 0000000100000000 37fa213d'); // 4 GiB
    check(hdr, ['error:1009:WS_TOO_BIG']);
    check(hex('82 ff 8000000000000000 37fa213d'), ['error:1002:WS_BAD_LENGTH']);
    check(mask(2, Buffer.alloc(300)), ['error:1009:WS_TOO_BIG'], { maxPayload: 299 });
    // fragmented: the total counts
    check(
      Buffer.concat([mask(2, Buffer.alloc(200), false), mask(0, Buffer.alloc(200))]),
      ['error:1009:WS_TOO_BIG'],
      { maxPayload: 300 },
    );
  });

  it('fails fast on invalid UTF-8 inside a frame before the rest arrives', () => {
    const f = mask(1, hex('cebae1bdb9cf83cebcceb5f490808065646974'));
    const cut = f.length - 6; // payload up to and including 0x90 is in the first piece
    expect(run(f.subarray(0, cut), [])).toEqual(['error:1007:WS_INVALID_UTF8']);
  });
});

describe('string payloads: UTF-8 length and bytes (property)', () => {
  // Any UTF-16 units, lone surrogates included (they become U+FFFD, 3 bytes, as in Buffer.from).
  const units = fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0xd800, max: 0xdfff }),
      ),
      { maxLength: 90 },
    )
    .map((a) => String.fromCharCode(...a));

  it('utf8Length equals Buffer.byteLength, short strings and long', () => {
    fc.assert(
      fc.property(units, (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      }),
      { numRuns: 2000 },
    );
    for (const s of [
      '',
      'a',
      '\u00e9',
      '\u20ac',
      '\ud83d\ude00',
      '\ud83d',
      '\ude00',
      '\ud83da',
      'x'.repeat(65),
    ])
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });

  it('a string frame carries exactly the UTF-8 bytes of the string, masked or not, at any offset', () => {
    fc.assert(
      fc.property(units, fc.boolean(), fc.integer({ min: 0, max: 7 }), (s, masked, at) => {
        const bytes = Buffer.from(s, 'utf8');
        const frame = encodeFrame(1, s, true, false, false);
        expect(frame.subarray(frame.length - bytes.length)).toEqual(bytes);
        const out = Buffer.alloc(at + 14 + bytes.length);
        const end = encodeFrameInto(out, at, 1, s, utf8Length(s), true, false, masked);
        const payload = Buffer.from(out.subarray(end - bytes.length, end));
        if (masked) maskCopy(payload, 0, payload, 0, payload.length, out.subarray(end - bytes.length - 4), 0);
        expect(payload).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('short unfragmented frames (decoded from scratch when the whole frame is in one chunk)', () => {
  it('sizes around the 256-byte bound, text and binary, several per chunk', () => {
    for (const n of [1, 125, 126, 255, 256, 257]) {
      const text = 'é'.repeat(n >> 1) + (n & 1 ? 'a' : '');
      const bin = Buffer.alloc(n, 0xab);
      check(Buffer.concat([mask(1, text), mask(2, bin), mask(1, 'x')]), [
        `text:${text}`,
        `binary:${bin.toString('hex')}`,
        'text:x',
      ]);
    }
  });

  it('invalid UTF-8 and a truncated code point close 1007; a message after a close is not parsed', () => {
    check(Buffer.concat([mask(1, 'ok'), mask(1, hex('61ff62'))]), ['text:ok', 'error:1007:WS_INVALID_UTF8']);
    check(mask(1, hex('61e282')), ['error:1007:WS_INVALID_UTF8']);
    check(mask(1, hex('eda080')), ['error:1007:WS_INVALID_UTF8']); // a surrogate
    check(Buffer.concat([mask(1, 'a'), mask(8, closePayload(1000, 'bye')), mask(1, 'b')]), [
      'text:a',
      'close:1000:bye',
    ]);
  });

  it('the scratch buffer is reused: earlier strings are not changed by later frames', () => {
    const texts: string[] = [];
    const r = new Receiver(
      { isServer: true, maxPayload: 1 << 20, inflater: null },
      {
        onMessage: (d, bin) => texts.push(bin ? d.toString('hex') : d.toString()),
        onText: (t) => texts.push(t),
        onPing: () => {},
        onPong: () => {},
        onClose: () => {},
        onError: (e) => texts.push(e.code),
        onResume: () => {},
      },
    );
    r.execute(
      Buffer.concat([mask(1, 'first message'), mask(1, 'SECOND'), mask(2, Buffer.from('ff', 'hex'))]),
    );
    expect(texts).toEqual(['first message', 'SECOND', 'ff']);
  });

  it('a frame the callback closes after stops the chunk (server calls stop in onText)', () => {
    const log: string[] = [];
    const r: Receiver = new Receiver(
      { isServer: true, maxPayload: 1 << 20, inflater: null },
      {
        onMessage: () => log.push('message'),
        onText: (t) => {
          log.push(t);
          r.stop();
        },
        onPing: () => {},
        onPong: () => {},
        onClose: () => {},
        onError: (e) => log.push(e.code),
        onResume: () => {},
      },
    );
    r.execute(Buffer.concat([mask(1, 'one'), mask(1, 'two')]));
    expect(log).toEqual(['one']);
  });
});

describe('encoder/parser round trips (property)', () => {
  const payloadArb = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(125, 126, 127, 65535, 65536).map((n) => new Uint8Array(n).fill(7)),
  );

  it('masked frames of any size parse back at any split', () => {
    fc.assert(
      fc.property(payloadArb, fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), (payload, binary, raw) => {
        const data = binary
          ? Buffer.from(payload)
          : Buffer.from(Buffer.from(payload).toString('latin1'), 'utf8');
        const f = encodeFrame(binary ? 2 : 1, data, true, false, true);
        const cuts = [...new Set(raw.map((x) => x % f.length))].filter((x) => x > 0).sort((a, b) => a - b);
        expect(run(f, cuts)).toEqual([
          binary ? `binary:${data.toString('hex')}` : `text:${data.toString('utf8')}`,
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('sequences of short and long text and binary messages parse the same whole and at any split', () => {
    const msg = fc.oneof(
      fc.record({ binary: fc.constant(false), text: fc.string({ unit: 'grapheme', maxLength: 140 }) }),
      fc.record({ binary: fc.constant(true), bytes: fc.uint8Array({ maxLength: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 5 }), (msgs, raw) => {
        const frames: Buffer[] = [];
        const expected: string[] = [];
        for (const m of msgs) {
          if (m.binary) {
            const data = Buffer.from((m as { bytes: Uint8Array }).bytes);
            frames.push(encodeFrame(2, data, true, false, true));
            expected.push(`binary:${data.toString('hex')}`);
          } else {
            const t = (m as { text: string }).text;
            frames.push(encodeFrame(1, Buffer.from(t, 'utf8'), true, false, true));
            expected.push(`text:${t}`);
          }
        }
        const all = Buffer.concat(frames);
        if (all.length === 0) return;
        const cuts = [...new Set(raw.map((x) => x % all.length))].filter((x) => x > 0).sort((a, b) => a - b);
        expect(run(all, [])).toEqual(expected);
        expect(run(all, cuts)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('fragmented messages with interleaved pings (client and server direction)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.boolean(),
        (text, fragCuts, chunkCuts, isServer) => {
          const data = Buffer.from(text, 'utf8');
          const cuts = [...new Set(fragCuts.map((x) => (data.length === 0 ? 0 : x % data.length)))].sort(
            (a, b) => a - b,
          );
          const parts: Buffer[] = [];
          let prev = 0;
          const bounds = [...cuts, data.length];
          bounds.forEach((c, i) => {
            const last = i === bounds.length - 1;
            parts.push(encodeFrame(i === 0 ? 1 : 0, data.subarray(prev, c), last, false, isServer));
            if (!last) parts.push(encodeFrame(9, `p${i}`, true, false, isServer));
            prev = c;
          });
          const all = Buffer.concat(parts);
          const chunk = [...new Set(chunkCuts.map((x) => x % all.length))]
            .filter((x) => x > 0)
            .sort((a, b) => a - b);
          const pings = bounds.slice(0, -1).map((_, i) => `ping:p${i}`);
          expect(run(all, chunk, { isServer })).toEqual([...pings, `text:${text}`]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maskCopy word path equals the byte path for every alignment and offset', () => {
    const key = Buffer.from([1, 2, 3, 250]);
    const src = Buffer.from(Array.from({ length: 301 }, (_, i) => i & 0xff));
    for (let off = 0; off < 4; off++) {
      const want = Buffer.from(src.subarray(off)).map((b, i) => b ^ key[(i + off) & 3]!);
      const dst = new Uint8Array(400);
      maskCopy(src, off, dst, 4, src.length - off, key, off);
      expect(Buffer.from(dst.subarray(4, 4 + src.length - off))).toEqual(Buffer.from(want));
    }
  });
});
