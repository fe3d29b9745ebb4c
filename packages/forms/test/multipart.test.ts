// multipart/form-data (RFC 7578 over RFC 2046 section 5.1). Every fixture runs whole, byte by byte
// and cut at every split point (runAll) and must give the same event log and error.
import busboy from 'busboy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormError } from '../src/_errors';
import { DEFAULT_MULTIPART_LIMITS, type MultipartLimits, MultipartParser } from '../src/_multipart';
import { parseContentType, safeFilename } from '../src/_part-headers';
import { bytes, encode, type Outcome, parseSplit, runAll } from './_multipart-helpers';

const CURL_B = '------------------------d74496d66958873e';
const CHROME_B = '----WebKitFormBoundary7MA4YWxkTrZu0gW';

/** What `curl -F a=1 -F f=@x.txt` sends (curl 8.x): a file part gets Content-Type from the name. */
const CURL = bytes(
  `--${CURL_B}\r\n` +
    'Content-Disposition: form-data; name="a"\r\n\r\n' +
    '1\r\n' +
    `--${CURL_B}\r\n` +
    'Content-Disposition: form-data; name="f"; filename="x.txt"\r\n' +
    'Content-Type: text/plain\r\n\r\n' +
    'hello\nworld\n\r\n' +
    `--${CURL_B}--\r\n`,
);

/** What Chromium sends for a text input, an empty file input and a file with a UTF-8 name. */
const CHROME = new Uint8Array(
  Buffer.concat([
    Buffer.from(
      `--${CHROME_B}\r\n` +
        'Content-Disposition: form-data; name="title"\r\n\r\n' +
        'a "quoted" line\r\nsecond\r\n' +
        `--${CHROME_B}\r\n` +
        'Content-Disposition: form-data; name="empty"; filename=""\r\n' +
        'Content-Type: application/octet-stream\r\n\r\n' +
        `\r\n--${CHROME_B}\r\n`,
      'latin1',
    ),
    Buffer.from(
      'Content-Disposition: form-data; name="doc"; filename="r\u00e9sum\u00e9 %22v2%22.pdf"\r\n',
      'utf8',
    ),
    Buffer.from(`Content-Type: application/pdf\r\n\r\n%PDF-1.7\x00\xff\r\n--${CHROME_B}--\r\n`, 'latin1'),
  ]),
);

function summary(o: Outcome) {
  return o.parts.map((p) => [
    p.info.name,
    p.info.filename,
    p.info.mediaType,
    Buffer.from(p.body).toString('latin1'),
  ]);
}

describe('parseContentType', () => {
  it('takes the boundary, quoted or not, case-insensitive type and parameter names', () => {
    expect(parseContentType(`multipart/form-data; boundary=${CURL_B}`)).toEqual({ boundary: CURL_B });
    expect(parseContentType('Multipart/Form-Data ; BOUNDARY="a b:c?"')).toEqual({ boundary: 'a b:c?' });
    expect(parseContentType('multipart/form-data; charset=utf-8; boundary=x')).toEqual({ boundary: 'x' });
    expect(parseContentType(`multipart/form-data; boundary=${'z'.repeat(70)}`).boundary).toHaveLength(70);
  });

  const cases: [string, string, number][] = [
    ['application/json', 'FORM_UNSUPPORTED_MEDIA_TYPE', 415],
    ['multipart/mixed; boundary=x', 'FORM_UNSUPPORTED_MEDIA_TYPE', 415],
    ['', 'FORM_UNSUPPORTED_MEDIA_TYPE', 415],
    ['multipart/form-data', 'FORM_BAD_BOUNDARY', 400],
    ['multipart/form-data; boundary=""', 'FORM_BAD_BOUNDARY', 400],
    [`multipart/form-data; boundary=${'z'.repeat(71)}`, 'FORM_BAD_BOUNDARY', 400],
    ['multipart/form-data; boundary="ab "', 'FORM_BAD_BOUNDARY', 400], // ends in a space (5.1.1)
    ['multipart/form-data; boundary="a;b"', 'FORM_BAD_BOUNDARY', 400], // ";" is not a bchar
    ['multipart/form-data; boundary="a\u00e9"', 'FORM_BAD_BOUNDARY', 400],
    ['multipart/form-data; boundary=a; boundary=b', 'FORM_UNSUPPORTED_MEDIA_TYPE', 415], // repeated: malformed
  ];
  for (const [value, code, status] of cases) {
    it(`${JSON.stringify(value)} -> ${code}`, () => {
      try {
        parseContentType(value);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(FormError);
        expect([(err as FormError).code, (err as FormError).status]).toEqual([code, status]);
      }
    });
  }
});

describe('fixtures', () => {
  it('curl -F', () => {
    const o = runAll(CURL, CURL_B);
    expect(o.error).toBeNull();
    expect(o.log).toEqual([
      'start {"name":"a","mediaType":"text/plain","headers":["content-disposition","form-data; name=\\"a\\""]}',
      'data 1',
      'end',
      'start {"name":"f","filename":"x.txt","mediaType":"text/plain","headers":["content-disposition","form-data; name=\\"f\\"; filename=\\"x.txt\\"","content-type","text/plain"]}',
      'data hello\nworld\n',
      'end',
      'done',
    ]);
  });

  it('Chromium: CRLF in a value, an empty file, a UTF-8 file name with %22 kept raw', () => {
    const o = runAll(CHROME, CHROME_B);
    expect(o.error).toBeNull();
    expect(summary(o)).toEqual([
      ['title', undefined, 'text/plain', 'a "quoted" line\r\nsecond'],
      ['empty', '', 'application/octet-stream', ''],
      ['doc', 'r\u00e9sum\u00e9 %22v2%22.pdf', 'application/pdf', '%PDF-1.7\x00\xff'],
    ]);
    expect(o.log.filter((l) => l === 'end')).toHaveLength(3);
    expect(o.log.at(-1)).toBe('done');
  });

  it('preamble and epilogue are ignored, transport padding after a boundary is allowed (RFC 2046 5.1.1)', () => {
    const input = bytes(
      'This is the preamble -b\r\n-\r\n--c\r\n' +
        '--b \t\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n' +
        '--b--  \r\nepilogue --b\r\n--b\r\n',
    );
    const o = runAll(input, 'b');
    expect(o.error).toBeNull();
    expect(summary(o)).toEqual([['x', undefined, 'text/plain', 'v']]);
  });

  it('a body that is only the close delimiter has no parts', () => {
    const o = runAll(bytes('--b--'), 'b');
    expect(o).toEqual({ log: ['done'], parts: [], error: null });
  });

  it('content that looks like the boundary but is not a delimiter stays data', () => {
    const input = bytes(
      '--xy\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n-\r\n--x\r\n--\r\nx--xy\r\r\n--x\r\n--xy--',
    );
    const o = runAll(input, 'xy');
    expect(o.error).toBeNull();
    expect(summary(o)).toEqual([['a', undefined, 'text/plain', '\r\n-\r\n--x\r\n--\r\nx--xy\r\r\n--x']]);
  });

  it('filename* (RFC 8187) wins over filename; charset and header names case-insensitive', () => {
    const input = bytes(
      '--b\r\ncontent-DISPOSITION: form-data; name="f"; filename="euro.txt"; filename*=UTF-8\'\'%E2%82%AC%20rates.txt\r\n' +
        'CONTENT-TYPE: Text/Plain; Charset="UTF-8"\r\nX-Extra: 1\r\n\r\nx\r\n--b--',
    );
    const o = runAll(input, 'b');
    expect(o.error).toBeNull();
    expect(o.parts[0]!.info).toEqual({
      name: 'f',
      filename: '\u20ac rates.txt',
      mediaType: 'text/plain',
      charset: 'utf-8',
      headers: [
        'content-disposition',
        'form-data; name="f"; filename="euro.txt"; filename*=UTF-8\'\'%E2%82%AC%20rates.txt',
        'content-type',
        'Text/Plain; Charset="UTF-8"',
        'x-extra',
        '1',
      ],
    });
  });

  it('filename* in ISO-8859-1 maps each byte to its code point (0x80 is U+0080, not the euro sign)', () => {
    const o = runAll(
      bytes("--b\r\nContent-Disposition: form-data; name=f; filename*=iso-8859-1'en'%80%E9\r\n\r\n\r\n--b--"),
      'b',
    );
    expect(o.parts[0]!.info.filename).toBe('\u0080\u00e9');
  });

  it('control characters in names and file names are kept (browsers send them raw)', () => {
    const o = runAll(
      bytes('--b\r\nContent-Disposition: form-data; name="\x00\x01"; filename="a\x7f\tb"\r\n\r\n\r\n--b--'),
      'b',
    );
    expect([o.parts[0]!.info.name, o.parts[0]!.info.filename]).toEqual(['\x00\x01', 'a\x7f\tb']);
  });

  it('a header value loses only SP / HTAB around it', () => {
    const o = runAll(
      bytes('--b\r\nContent-Disposition:\t form-data; name=f \t\r\nX-A: \u00a0v\u00a0 \r\n\r\n\r\n--b--'),
      'b',
    );
    expect(o.parts[0]!.info.headers).toEqual([
      'content-disposition',
      'form-data; name=f',
      'x-a',
      '\ufffdv\ufffd' /* a lone 0xA0 byte is not UTF-8: U+FFFD, and not trimmed */,
    ]);
  });

  it('a backslash in a quoted filename is literal (WHATWG HTML escapes only CR, LF and ")', () => {
    const o = runAll(
      bytes('--b\r\nContent-Disposition: form-data; name="f"; filename="C:\\dir\\a.txt"\r\n\r\n\r\n--b--'),
      'b',
    );
    expect(o.parts[0]!.info.filename).toBe('C:\\dir\\a.txt');
  });
});

describe('rejections', () => {
  const P = 'Content-Disposition: form-data; name=a';
  const cases: [string, string, string, number][] = [
    ['no close delimiter', `--b\r\n${P}\r\n\r\nv\r\n--b\r\n`, 'FORM_UNEXPECTED_END', 55],
    ['ends inside a part', `--b\r\n${P}\r\n\r\nv`, 'FORM_UNEXPECTED_END', 48],
    ['empty body', '', 'FORM_UNEXPECTED_END', 0],
    ['only a preamble', 'hello', 'FORM_UNEXPECTED_END', 5],
    [
      'nested multipart/mixed (RFC 7578 4.3)',
      `--b\r\n${P}\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c--\r\n--b--`,
      'FORM_NESTED_MULTIPART',
      5,
    ],
    ['bare LF ends a header line', `--b\r\n${P}\n\r\n\r\n--b--`, 'FORM_BAD_PART_HEADER', 43],
    ['CR without LF in headers', `--b\r\n${P}\rX\r\n\r\n--b--`, 'FORM_BAD_PART_HEADER', 44],
    ['obs-fold', `--b\r\n${P}\r\n continued\r\n\r\n--b--`, 'FORM_BAD_PART_HEADER', 5],
    [
      'space before the colon',
      `--b\r\nContent-Disposition : form-data; name=a\r\n\r\n\r\n--b--`,
      'FORM_BAD_PART_HEADER',
      5,
    ],
    ['no Content-Disposition', '--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--', 'FORM_BAD_PART_HEADER', 5],
    ['no headers at all', '--b\r\n\r\n\r\n--b--', 'FORM_BAD_PART_HEADER', 5],
    [
      'Content-Disposition not form-data',
      '--b\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--b--',
      'FORM_BAD_PART_HEADER',
      5,
    ],
    [
      'no name',
      '--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n\r\n--b--',
      'FORM_BAD_PART_HEADER',
      5,
    ],
    ['two Content-Dispositions', `--b\r\n${P}\r\n${P}\r\n\r\n\r\n--b--`, 'FORM_BAD_PART_HEADER', 5],
    [
      'unterminated quoted name',
      '--b\r\nContent-Disposition: form-data; name="a\r\n\r\n\r\n--b--',
      'FORM_BAD_PART_HEADER',
      5,
    ],
    ['bad filename*', `--b\r\n${P}; filename*=UTF-8''%ZZ\r\n\r\n\r\n--b--`, 'FORM_BAD_PART_HEADER', 5],
    [
      'filename* in an unknown charset',
      `--b\r\n${P}; filename*=koi8-r''a\r\n\r\n\r\n--b--`,
      'FORM_BAD_PART_HEADER',
      5,
    ],
    [
      'a backslash-escaped quote (browsers send %22)',
      `--b\r\n${P}; filename="a\\"b"\r\n\r\n\r\n--b--`,
      'FORM_BAD_PART_HEADER',
      5,
    ],
    ['boundary followed by other bytes', `--b\r\n${P}\r\n\r\nv\r\n--bx\r\n--b--`, 'FORM_BAD_BOUNDARY', 53], // the "x"
    ['boundary line with a single dash', '--b-\r\n', 'FORM_BAD_BOUNDARY', 4],
  ];
  for (const [what, input, code, offset] of cases) {
    it(`${what}: ${code} at ${offset}`, () => {
      const o = runAll(bytes(input), 'b');
      expect(o.error).toEqual({
        code,
        offset,
        status:
          code === 'FORM_UNEXPECTED_END' || code.startsWith('FORM_BAD') || code === 'FORM_NESTED_MULTIPART'
            ? 400
            : 413,
      });
    });
  }
});

describe('limits: N passes, N+1 fails with the code, offset and status', () => {
  const field = (name: string, value: string) =>
    `--b\r\nContent-Disposition: form-data; name=${name}\r\n\r\n${value}\r\n`;
  const file = (name: string, value: string) =>
    `--b\r\nContent-Disposition: form-data; name=${name}; filename=f\r\n\r\n${value}\r\n`;
  const form = (...parts: string[]) => bytes(`${parts.join('')}--b--`);

  function check(
    limits: Partial<MultipartLimits>,
    ok: Uint8Array,
    over: Uint8Array,
    code: string,
    offset: number,
  ) {
    expect(runAll(ok, 'b', limits).error).toBeNull();
    expect(runAll(over, 'b', limits).error).toEqual({ code, offset, status: 413 });
  }

  it('maxParts', () => {
    const one = field('a', '1');
    check({ maxParts: 2 }, form(one, one), form(one, one, one), 'FORM_TOO_MANY_PARTS', 2 * one.length + 5);
  });
  it('maxFields', () => {
    const one = field('a', '1');
    const f = file('f', 'x');
    check(
      { maxFields: 2 },
      form(one, f, one),
      form(one, f, one, one),
      'FORM_TOO_MANY_FIELDS',
      2 * one.length + f.length + 5,
    );
  });
  it('maxFiles', () => {
    const one = field('a', '1');
    const f = file('f', 'x');
    check({ maxFiles: 1 }, form(f, one), form(f, one, f), 'FORM_TOO_MANY_FILES', f.length + one.length + 5);
  });
  it('maxFieldBytes (the delimiter CRLF is not part of the value)', () => {
    const head = '--b\r\nContent-Disposition: form-data; name=a\r\n\r\n';
    check(
      { maxFieldBytes: 4 },
      form(field('a', 'abcd')),
      form(field('a', 'abcde')),
      'FORM_FIELD_TOO_LARGE',
      head.length + 4,
    );
    check(
      { maxFieldBytes: 4 },
      form(field('a', '\r\n-\r')),
      form(field('a', '\r\n-\r\n')),
      'FORM_FIELD_TOO_LARGE',
      head.length + 4,
    );
  });
  it('maxFileBytes', () => {
    const head = '--b\r\nContent-Disposition: form-data; name=a; filename=f\r\n\r\n';
    check(
      { maxFileBytes: 3 },
      form(file('a', 'abc')),
      form(file('a', 'abcd')),
      'FORM_FILE_TOO_LARGE',
      head.length + 3,
    );
  });
  it('maxPartHeaderBytes (the block with its CRLFs and the empty line)', () => {
    const block = 'Content-Disposition: form-data; name=a\r\n\r\n';
    const limit = block.length;
    check(
      { maxPartHeaderBytes: limit },
      form(field('a', 'v')),
      form(field('ab', 'v')),
      'FORM_PART_HEADERS_TOO_LARGE',
      5 + limit,
    );
  });
  it('maxTotalBytes', () => {
    const ok = form(field('a', 'v'));
    const over = form(field('a', 'vw'));
    check({ maxTotalBytes: ok.length }, ok, over, 'FORM_TOO_LARGE', ok.length);
  });
  it('a limit that is not a non-negative integer or Infinity is a RangeError; Infinity disables it', () => {
    const cb = { onPartStart() {}, onPartData() {}, onPartEnd() {}, onEnd() {} };
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new MultipartParser('b', cb, { maxFieldBytes: bad })).toThrow(RangeError);
    }
    expect(
      new MultipartParser('b', cb, { maxTotalBytes: Number.POSITIVE_INFINITY }).limits.maxTotalBytes,
    ).toBe(Number.POSITIVE_INFINITY);
    expect(
      runAll(form(field('a', 'v'.repeat(40))), 'b', { maxFieldBytes: Number.POSITIVE_INFINITY }).error,
    ).toBeNull();
  });
  it('a malformed boundary given to the constructor is FORM_BAD_BOUNDARY', () => {
    const cb = { onPartStart() {}, onPartData() {}, onPartEnd() {}, onEnd() {} };
    for (const b of ['', 'a;b', 'x'.repeat(71)]) {
      expect(() => new MultipartParser(b, cb)).toThrow(FormError);
    }
  });
  it('defaults are named and finite', () => {
    for (const v of Object.values(DEFAULT_MULTIPART_LIMITS)) expect(Number.isFinite(v)).toBe(true);
  });
  it('after an error every call throws the same error', () => {
    const o = parseSplit(form(field('a', 'abcde')), 'b', [], { maxFieldBytes: 1 });
    expect(o.error?.code).toBe('FORM_FIELD_TOO_LARGE');
  });
});

describe('safeFilename', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\report.pdf', 'report.pdf'],
    ['..hidden', 'hidden'],
    ['a\x00b\x1f\x7fc.txt', 'abc.txt'],
    ['dir/', ''],
    ['  . x .txt  ', 'x .txt'],
    ['r\u00e9sum\u00e9.pdf', 'r\u00e9sum\u00e9.pdf'],
  ])('%j -> %j', (raw, safe) => {
    expect(safeFilename(raw)).toBe(safe);
  });
  it('never has a separator, a control character or a leading dot', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (raw) => {
        const s = safeFilename(raw);
        expect(/[/\\\x00-\x1f\x7f]/.test(s)).toBe(false);
        expect(s.startsWith('.')).toBe(false);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip through undici's encoder, and differential against busboy

/** Bytes biased towards delimiter fragments. */
const tricky = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.constantFrom(
        '\r',
        '\n',
        '\r\n',
        '\r\n-',
        '\r\n--',
        '--',
        '\r\n--form',
        '\r\n------formdata-undici-0', // undici's boundary prefix: a long partial match
        '-',
      ),
    ),
    { maxLength: 12 },
  )
  .map(
    (xs) =>
      new Uint8Array(
        Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(x)))),
      ),
  );

const nameArb = fc.string({ unit: 'binary', minLength: 0, maxLength: 8 });
const entryArb = fc.oneof(
  fc.record({
    kind: fc.constant('field' as const),
    name: nameArb,
    value: fc.string({ unit: 'binary', maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('file' as const),
    name: nameArb,
    filename: fc.string({ unit: 'binary', maxLength: 8 }),
    type: fc.constantFrom('', 'text/plain', 'application/octet-stream', 'image/png'),
    data: tricky,
  }),
);
type Entry = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function toFormData(entries: Entry[]): FormData {
  const fd = new FormData();
  for (const e of entries) {
    if (e.kind === 'field') fd.append(e.name, e.value);
    else fd.append(e.name, new File([e.data], e.filename, { type: e.type }));
  }
  return fd;
}

/** undici's escaping of names and file names (WHATWG HTML multipart/form-data encoding). */
const esc = (s: string) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
/** Entry names have their line breaks normalised to CRLF before escaping (WHATWG HTML). */
const nameOut = (s: string) => esc(usv(s).replace(/\r?\n|\r/g, '\r\n'));
/** Lone surrogates become U+FFFD in UTF-8 (USVString conversion). */
const usv = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

function expected(entries: Entry[]) {
  return entries.map((e) =>
    e.kind === 'field'
      ? [
          nameOut(e.name),
          undefined,
          'text/plain',
          Buffer.from(usv(e.value).replace(/\r?\n|\r/g, '\r\n'), 'utf8').toString('latin1'),
        ]
      : [
          nameOut(e.name),
          e.filename === '' ? undefined : esc(usv(e.filename)),
          e.type === '' ? 'application/octet-stream' : e.type,
          Buffer.from(e.data).toString('latin1'),
        ],
  );
}

describe('round trip through undici FormData', () => {
  it('random fields and files come back with the same names, file names, types and bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 5 }), fc.nat(), async (entries, cutSeed) => {
        const { body, boundary, contentType } = await encode(toFormData(entries));
        expect(parseContentType(contentType).boundary).toBe(boundary);
        const want = expected(entries);
        const whole = parseSplit(body, boundary, []);
        expect(whole.error).toBeNull();
        expect(summary(whole)).toEqual(want);
        const cut = body.length === 0 ? 0 : cutSeed % body.length;
        const split = parseSplit(body, boundary, [cut, Math.min(body.length, cut + 3)]);
        expect(split.log).toEqual(whole.log);
      }),
      { numRuns: 300 },
    );
  });

  it('a small form whole, byte by byte and at every split point', async () => {
    const fd = new FormData();
    fd.append('a', 'x\r\ny');
    fd.append('f', new File([bytes('\r\n--\r\n--x')], 'n.bin'));
    const { body, boundary } = await encode(fd);
    const o = runAll(body, boundary);
    expect(o.error).toBeNull();
    expect(summary(o)).toEqual([
      ['a', undefined, 'text/plain', 'x\r\ny'],
      ['f', 'n.bin', 'application/octet-stream', '\r\n--\r\n--x'],
    ]);
  });
});

interface BusboyPart {
  name: string;
  filename: string | undefined;
  mediaType: string;
  body: string;
}

function viaBusboy(body: Uint8Array, contentType: string): Promise<BusboyPart[]> {
  return new Promise((resolve, reject) => {
    const out: BusboyPart[] = [];
    const bb = busboy({
      headers: { 'content-type': contentType },
      preservePath: true,
      defParamCharset: 'utf8',
    });
    bb.on('field', (name, value, info) => {
      // busboy reports name="" as an undefined name (README: deliberate disagreements)
      out.push({
        name: name ?? '',
        filename: undefined,
        mediaType: info.mimeType,
        body: Buffer.from(value, 'utf8').toString('latin1'),
      });
    });
    bb.on('file', (name, stream, info) => {
      const part: BusboyPart = {
        name: name ?? '',
        filename: info.filename,
        mediaType: info.mimeType,
        body: '',
      };
      out.push(part);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        part.body = Buffer.concat(chunks).toString('latin1');
      });
    });
    bb.on('close', () => resolve(out));
    bb.on('error', reject);
    bb.end(Buffer.from(body));
  });
}

describe('differential against busboy', () => {
  it('same parts on undici-encoded forms (no backslash or control character in names: see the README)', async () => {
    // busboy rejects control characters in part headers (README: differences)
    const noBackslash = (s: string) => !s.includes('\\') && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s);
    // A File named "" is encoded without filename (a field to both); busboy then decodes its bytes
    // by a charset of its own choosing, so the generator keeps file names non-empty.
    const arb = entryArb.filter(
      (e) => noBackslash(e.name) && (e.kind === 'field' || (e.filename !== '' && noBackslash(e.filename))),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { maxLength: 4 }), async (entries) => {
        const { body, boundary, contentType } = await encode(toFormData(entries));
        const ours = parseSplit(body, boundary, []);
        expect(ours.error).toBeNull();
        const theirs = await viaBusboy(body, contentType);
        expect(
          ours.parts.map((p) => ({
            name: p.info.name,
            // busboy reports a part with filename="" as a field (README: deliberate disagreements)
            filename: p.info.filename === '' ? undefined : p.info.filename,
            mediaType: p.info.mediaType,
            // busboy hands fields over as decoded UTF-8 strings: compare them that way
            body: Buffer.from(
              p.info.filename === undefined || p.info.filename === ''
                ? Buffer.from(p.body).toString('utf8')
                : Buffer.from(p.body),
            ).toString('latin1'),
          })),
        ).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it('same parts on the hand-written fixtures', async () => {
    for (const [input, b] of [
      [CURL, CURL_B],
      [CHROME, CHROME_B],
    ] as const) {
      const theirs = await viaBusboy(input, `multipart/form-data; boundary=${b}`);
      const ours = parseSplit(input, b, []);
      expect(summary(ours).map(([n, f, t, d]) => [n, f === '' ? undefined : f, t, d])).toEqual(
        theirs.map((p) => [p.name, p.filename, p.mediaType, p.body]),
      );
    }
  });
});

describe('split invariance on arbitrary input', () => {
  it('undici-encoded random forms: every split point gives the same log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 3 }), async (entries) => {
        const { body, boundary } = await encode(toFormData(entries));
        expect(runAll(body, boundary).error).toBeNull();
      }),
      { numRuns: 30 },
    );
  });

  it('random bytes around delimiters: only FormError, and the same outcome at every split', () => {
    const piece = fc.constantFrom(
      '--b',
      '\r\n--b',
      '\r\n--b--',
      '\r\n',
      '\r',
      '\n',
      '-',
      'Content-Disposition: form-data; name=a',
      '; filename=f',
      '\r\n\r\n',
      ' ',
      'x',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        runAll(bytes(pieces.join('')), 'b', { maxFieldBytes: 8, maxParts: 3 });
      }),
      { numRuns: 300 },
    );
  });
});

describe('the deliberate differences from busboy listed in the README', () => {
  it('backslash literal (busboy unescapes a doubled one), filename="" a file, name="" the empty name', async () => {
    const input = bytes(
      '--b\r\nContent-Disposition: form-data; name="f"; filename="C:\\dir\\\\a.txt"\r\n\r\nx\r\n' +
        '--b\r\nContent-Disposition: form-data; name="e"; filename=""\r\n\r\n\r\n' +
        '--b\r\nContent-Disposition: form-data; name=""\r\n\r\ny\r\n--b--',
    );
    const ours = runAll(input, 'b');
    expect(summary(ours)).toEqual([
      ['f', 'C:\\dir\\\\a.txt', 'text/plain', 'x'],
      ['e', '', 'text/plain', ''],
      ['', undefined, 'text/plain', 'y'],
    ]);
    const bb: [string | undefined, string | undefined][] = [];
    await new Promise<void>((resolve, reject) => {
      const p = busboy({
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        preservePath: true,
      });
      p.on('file', (name, stream, info) => {
        bb.push([name, info.filename]);
        stream.resume();
      });
      p.on('field', (name) => bb.push([name, undefined]));
      p.on('close', resolve);
      p.on('error', reject);
      p.end(Buffer.from(input));
    });
    expect(bb).toEqual([
      ['f', 'C:\\dir\\a.txt'],
      ['e', undefined],
      [undefined, undefined],
    ]);
  });
});

describe('empty media-type parameters (RFC 9110 section 5.6.6)', () => {
  it('are skipped in the request Content-Type and in a part Content-Type', () => {
    expect(parseContentType('multipart/form-data; ; boundary=x').boundary).toBe('x');
    expect(parseContentType('multipart/form-data;;boundary="x";').boundary).toBe('x');
    const events: string[] = [];
    const p = new MultipartParser('x', {
      onPartStart: (part) => events.push(`${part.mediaType} ${part.charset}`),
      onPartData() {},
      onPartEnd() {},
      onEnd() {},
    });
    p.write(
      new TextEncoder().encode(
        '--x\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: text/plain;; charset=UTF-8\r\n\r\nv\r\n--x--',
      ),
    );
    p.end();
    expect(events).toEqual(['text/plain utf-8']);
  });
});
