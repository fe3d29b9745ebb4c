/**
 * Differential tests of the multipart parser against busboy 1.6 and undici's
 * `Response.formData()` (Node's fetch), on forms encoded by real encoders (undici's FormData, and
 * an RFC 7578 encoder of our own with random boundaries), then on mutations of them. Every
 * disagreement must be one of the differences listed in the README ("Differences from busboy and
 * undici"), each shown exactly by a test below.
 */
import { createRequire } from 'node:module';
import busboy from 'busboy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORM_ERROR_STATUS, FormError, FormErrorCode } from '../src/_errors';
import type { MultipartLimits } from '../src/_multipart';
import { parseContentType } from '../src/_part-headers';
import {
  agreesWithBusboy,
  asBusboySees,
  asUndiciSees,
  type BusboyPart,
  concat,
  Difference,
  type EncodeOptions,
  encodeForm,
  escapeWhatwg,
  explainBusboy,
  type FormEntry,
  includes,
  model,
  type StrataPart,
  type StrataResult,
  strata,
  strataEveryChunking,
  type UndiciPart,
  viaBusboy,
  viaUndici,
} from './_differential-helpers';
import { encode } from './_multipart-helpers';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

/** A part as compared: bytes as hex. */
function view(p: StrataPart) {
  return {
    name: p.name,
    filename: p.filename,
    mediaType: p.mediaType,
    charset: p.charset,
    body: hex(p.body),
  };
}
function busboyView(p: BusboyPart) {
  return { ...p, body: hex(p.body) };
}
function undiciView(p: UndiciPart) {
  return { ...p, body: hex(p.body) };
}

/** Lone surrogates become U+FFFD in UTF-8 (USVString conversion). */
const usv = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

/** The error invariants: a known code, its status (400, 413 or 415), an offset in the body or -1. */
function checkError(r: StrataResult, body: Uint8Array): void {
  if (r.error === null) return;
  expect(Object.values(FormErrorCode)).toContain(r.error.code);
  expect(r.error.status).toBe(FORM_ERROR_STATUS[r.error.code as FormErrorCode]);
  expect([400, 413, 415]).toContain(r.error.status);
  expect(r.error.offset).toBeGreaterThanOrEqual(-1);
  expect(r.error.offset).toBeLessThanOrEqual(body.length);
}

/** The reference model must give the same verdict: error code and offset, parts, ended bodies. */
function checkModel(
  r: StrataResult,
  body: Uint8Array,
  boundary: string,
  limits: Partial<MultipartLimits> = {},
): void {
  const m = model(body, boundary, limits);
  expect(r.error === null ? null : { code: r.error.code, offset: r.error.offset }).toEqual(m.error);
  const strip = (p: {
    name: string;
    filename: string | undefined;
    mediaType: string;
    charset: string | undefined;
  }) => [p.name, p.filename, p.mediaType, p.charset];
  expect(r.parts.map(strip)).toEqual(m.parts.map(strip));
  for (let i = 0; i < r.ended; i++) expect(hex(r.parts[i]!.body)).toBe(hex(m.parts[i]!.body));
}

// ---------------------------------------------------------------------------------------------
// 1. A corpus of forms encoded by undici's FormData (what Node's fetch sends)

type CorpusEntry =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; type: string; data: Uint8Array }
  | { kind: 'blob'; name: string; type: string; data: Uint8Array };

function toFormData(entries: readonly CorpusEntry[]): FormData {
  const fd = new FormData();
  for (const e of entries) {
    if (e.kind === 'field') fd.append(e.name, e.value);
    else if (e.kind === 'file') fd.append(e.name, new File([e.data], e.filename, { type: e.type }));
    else fd.append(e.name, new Blob([e.data], { type: e.type }));
  }
  return fd;
}

/** Line breaks in entry names and string values become CRLF (WHATWG HTML). */
const crlf = (s: string) => s.replace(/\r\n|\r|\n/g, '\r\n');

/**
 * What we must report for undici-encoded entries (WHATWG HTML multipart/form-data encoding):
 * names and file names escaped (`"` CR LF as %22 %0D %0A) and reported raw; a File named '' goes
 * without `filename` (a field); a Blob is named "blob"; a file's type or application/octet-stream.
 */
function whatwgExpected(entries: readonly CorpusEntry[]) {
  return entries.map((e) => {
    const name = escapeWhatwg(crlf(usv(e.name)));
    if (e.kind === 'field')
      return {
        name,
        filename: undefined,
        mediaType: 'text/plain',
        charset: undefined,
        body: hex(Buffer.from(crlf(usv(e.value)), 'utf8')),
      };
    const filename =
      e.kind === 'blob' ? 'blob' : e.filename === '' ? undefined : escapeWhatwg(usv(e.filename));
    const [mediaType, ...params] = (e.type === '' ? 'application/octet-stream' : e.type.toLowerCase()).split(
      ';',
    );
    const charset = params.map((p) => /^\s*charset=(.*)$/.exec(p)?.[1]).find((c) => c !== undefined);
    return { name, filename, mediaType: mediaType!.trim(), charset, body: hex(e.data) };
  });
}

const pseudoRandom = (n: number, seed: number) => {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
};
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

interface Corpus {
  title: string;
  entries: CorpusEntry[];
  /** busboy's result when it is not `asBusboySees` of ours (a README difference). */
  busboy?: (ours: StrataPart[]) => { ok: false; error: string } | { ok: true; parts: BusboyPart[] };
}

const corpus: Corpus[] = [
  {
    title: 'fields, several files, an empty file, an empty field, a Blob',
    entries: [
      { kind: 'field', name: 'title', value: 'Grüße aus Köln' },
      { kind: 'field', name: 'empty', value: '' },
      {
        kind: 'file',
        name: 'doc',
        filename: 'report.pdf',
        type: 'application/pdf',
        data: latin1('%PDF-1.7\n'),
      },
      {
        kind: 'file',
        name: 'empty-file',
        filename: 'empty.txt',
        type: 'text/plain',
        data: new Uint8Array(0),
      },
      {
        kind: 'file',
        name: 'notes',
        filename: 'notes.txt',
        type: 'Text/Plain; Charset=UTF-8',
        data: latin1('a\r\nb\n'),
      },
      { kind: 'file', name: 'untyped', filename: 'data.bin', type: '', data: allBytes },
      { kind: 'blob', name: 'blob', type: 'image/png', data: latin1('\x89PNG\r\n\x1a\n') },
      { kind: 'field', name: '', value: 'no name' },
    ],
  },
  {
    title: 'non-ASCII field names and file names',
    entries: [
      { kind: 'field', name: '名前', value: '山田 太郎' },
      { kind: 'file', name: 'cv', filename: 'résumé.pdf', type: 'application/pdf', data: latin1('x') },
      {
        kind: 'file',
        name: 'ja',
        filename: '日本.txt',
        type: 'text/plain',
        data: Buffer.from('日本語', 'utf8'),
      },
      { kind: 'file', name: 'emoji 🎉', filename: '🎉.png', type: 'image/png', data: latin1('\x00') },
      { kind: 'field', name: 'lone \ud800 surrogate', value: 'also \udfff here' },
    ],
  },
  {
    title: 'names with quotes, %, backslash and newlines (WHATWG escapes only CR, LF and ")',
    entries: [
      { kind: 'field', name: 'say "hi"', value: 'quote " in value' },
      { kind: 'field', name: 'pct %22 %0A 100%', value: '%22' },
      { kind: 'file', name: 'win', filename: 'C:\\Users\\me\\a.txt', type: 'text/plain', data: latin1('w') },
      { kind: 'file', name: 'nl', filename: 'two\nlines\r.txt', type: 'text/plain', data: latin1('n') },
      { kind: 'field', name: 'multi\r\nline\rname\n', value: 'v\nw\rx\r\ny' },
      { kind: 'file', name: 'semi', filename: 'a; filename="b.txt"', type: 'text/plain', data: latin1('s') },
    ],
  },
  {
    title: 'binary content with CRLF--, boundary prefixes and every byte value',
    entries: [
      {
        kind: 'file',
        name: 'tricky',
        filename: 'tricky.bin',
        type: 'application/octet-stream',
        data: concat([
          latin1('\r\n--'),
          allBytes,
          latin1('\r\n------formdata-undici-0'),
          latin1('\r\n-----formdata-undici'),
          latin1('--\r\n\r\n--\r'),
          pseudoRandom(300, 7),
          latin1('\r\n------formdata-undici-'),
        ]),
      },
      { kind: 'field', name: 'after', value: '\r\n--\r\n' },
      {
        kind: 'file',
        name: 'tail',
        filename: 'tail.bin',
        type: 'application/octet-stream',
        data: latin1('\r\n-'),
      },
    ],
  },
  {
    title: 'a _charset_ field (RFC 7578 section 4.6) is an ordinary field',
    entries: [
      { kind: 'field', name: '_charset_', value: 'UTF-8' },
      { kind: 'field', name: 'text', value: 'ünïcödé' },
      { kind: 'field', name: '_charset_', value: '' },
    ],
  },
  {
    title: 'a File named "" is sent without filename: a field typed application/octet-stream',
    entries: [{ kind: 'file', name: 'nameless', filename: '', type: '', data: latin1('\x01\x02') }],
    // busboy makes every application/octet-stream part a file (README)
  },
  {
    title: 'a control character in a name (sent raw by WHATWG HTML): busboy rejects the form',
    entries: [
      { kind: 'field', name: 'bell\x07', value: 'x' },
      { kind: 'file', name: 'f', filename: 'tab\there\x01.txt', type: 'text/plain', data: latin1('y') },
    ],
    busboy: () => ({ ok: false, error: 'Malformed part header' }),
  },
  {
    title: 'a file name ending in a backslash: busboy reads \\" as an escaped quote and drops the part',
    entries: [
      { kind: 'field', name: 'before', value: '1' },
      { kind: 'file', name: 'dir', filename: 'C:\\dir\\', type: 'text/plain', data: latin1('z') },
      { kind: 'field', name: 'after', value: '2' },
    ],
    busboy: (ours) => ({ ok: true, parts: [ours[0]!, ours[2]!].map(asBusboySees) }),
  },
  {
    title: 'many parts and a 64 KiB file',
    entries: [
      ...Array.from(
        { length: 40 },
        (_, i): CorpusEntry => ({ kind: 'field', name: `f${i}`, value: `${i}`.repeat(i) }),
      ),
      ...Array.from(
        { length: 10 },
        (_, i): CorpusEntry => ({
          kind: 'file',
          name: `file${i}`,
          filename: `${i}.bin`,
          type: 'application/octet-stream',
          data: pseudoRandom(i * 37, i),
        }),
      ),
      {
        kind: 'file',
        name: 'big',
        filename: 'big.bin',
        type: 'application/zip',
        data: pseudoRandom(65536, 99),
      },
    ],
  },
];

describe('a corpus of undici-encoded forms: ours, the model, busboy and undici', () => {
  for (const c of corpus) {
    it(c.title, async () => {
      const { body, boundary, contentType } = await encode(toFormData(c.entries));
      // whole, byte by byte and at every split point (a few split sets for the big one)
      const splits =
        body.length <= 2000
          ? 'all'
          : [[1], [body.length >> 1], [17, 4096, 4097, 60000], [body.length - 1], [body.length - 40]];
      const ours = strataEveryChunking(body, contentType, splits);
      expect(ours.error).toBeNull();
      expect(ours.done).toBe(true);
      expect(ours.parts.map(view)).toEqual(whatwgExpected(c.entries));
      checkModel(ours, body, boundary);

      const bb = await viaBusboy(body, contentType);
      const wantBusboy = c.busboy?.(ours.parts) ?? { ok: true, parts: ours.parts.map(asBusboySees) };
      if (wantBusboy.ok) {
        expect(bb.ok).toBe(true);
        if (bb.ok) expect(bb.parts.map(busboyView)).toEqual(wantBusboy.parts.map(busboyView));
      } else {
        expect(bb).toEqual(wantBusboy);
      }
      if (!agreesWithBusboy(ours, bb)) expect(explainBusboy(body, boundary, ours, bb)).not.toBeNull();

      const un = await viaUndici(body, contentType);
      expect(un.ok).toBe(true);
      if (un.ok) expect(un.parts.map(undiciView)).toEqual(ours.parts.map(asUndiciSees).map(undiciView));
    });
  }

  it('the corpus exercises each difference it claims (not all agree trivially)', async () => {
    const nameless = await encode(toFormData(corpus[5]!.entries));
    const bb = await viaBusboy(nameless.body, nameless.contentType);
    expect(bb).toEqual({
      ok: true,
      parts: [
        {
          kind: 'file',
          name: 'nameless',
          filename: undefined,
          mediaType: 'application/octet-stream',
          value: undefined,
          body: new Uint8Array([1, 2]),
        },
      ],
    });
    const pct = await encode(toFormData(corpus[2]!.entries));
    const un = await viaUndici(pct.body, pct.contentType);
    expect(un.ok && un.parts.map((p) => p.name)).toEqual([
      'say "hi"',
      'pct " \n 100%', // the literal %22 and %0A typed by the user are decoded too
      'win',
      'nl',
      'multi\r\nline\r\nname\r\n',
      'semi',
    ]);
    expect(strata(pct.body, pct.contentType).parts.map((p) => p.name)).toEqual([
      'say %22hi%22',
      'pct %22 %0A 100%',
      'win',
      'nl',
      'multi%0D%0Aline%0D%0Aname%0D%0A',
      'semi',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Properties: random forms through our RFC 7578 encoder and through undici's

/** RFC 2046 bchars (a boundary: 1 to 70 of them, not ending in a space). */
const BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
const boundaryArb = fc
  .string({ unit: fc.constantFrom(...BCHARS), minLength: 1, maxLength: 70 })
  .filter((b) => !b.endsWith(' '));

/** Names and file names: any code point, biased to the characters that need care. */
const textArb = fc.string({
  maxLength: 10,
  unit: fc.oneof(
    fc.constantFrom(
      'a',
      'Z',
      '0',
      'é',
      '日',
      '🎉',
      '"',
      '%',
      '\\',
      '\r',
      '\n',
      ';',
      '=',
      ' ',
      '\t',
      "'",
      '*',
      '\x01',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
});

/** Part bodies: arbitrary bytes with delimiter fragments (`CRLF--` and prefixes of the boundary). */
function contentArb(boundary: string): fc.Arbitrary<Uint8Array> {
  const fragments = [
    '\r',
    '\n',
    '\r\n',
    '--',
    '\r\n--',
    `\r\n--${boundary.slice(0, -1)}`,
    `--${boundary}`,
    boundary,
  ];
  return fc
    .array(fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constantFrom(...fragments)), { maxLength: 6 })
    .map((xs) => concat(xs.map((x) => (typeof x === 'string' ? latin1(x) : x))));
}

const contentTypeArb = fc.option(
  fc.constantFrom(
    'text/plain',
    'TEXT/Plain; Charset=UTF-8',
    'text/plain; charset="iso-8859-1"',
    'application/octet-stream',
    'image/png',
    'application/json; charset=utf-8; q="a\\"b"',
  ),
  { nil: undefined },
);

function formArb() {
  return boundaryArb.chain((boundary) =>
    fc.record({
      boundary: fc.constant(boundary),
      entries: fc.array(
        fc.record({
          name: textArb,
          filename: fc.option(textArb, { nil: undefined }),
          contentType: contentTypeArb,
          data: contentArb(boundary),
        }),
        { maxLength: 4 },
      ),
      quoteBoundary: fc.boolean(),
      alwaysQuote: fc.boolean(),
      lowerCaseHeaders: fc.boolean(),
      padding: fc.array(fc.constantFrom('', '', '', ' ', '\t', ' \t '), { maxLength: 4 }),
      preamble: fc.oneof(fc.constant(new Uint8Array(0)), contentArb(boundary)),
      epilogue: fc.oneof(fc.constant(new Uint8Array(0)), contentArb(boundary)),
    }),
  );
}

type Form = { boundary: string; entries: FormEntry[] } & Omit<EncodeOptions, 'boundary'>;

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `form` is a valid RFC 7578 body: no delimiter in any content, no line starting with one. */
function isValid(f: Form): boolean {
  const delimiter = latin1(`\r\n--${f.boundary}`);
  const dashBoundary = latin1(`--${f.boundary}`);
  const startsWith = (b: Uint8Array, p: Uint8Array) => Buffer.from(b.subarray(0, p.length)).equals(p);
  return (
    !includes(concat(['\r\n', f.preamble]), delimiter) &&
    f.entries.every((e) => !includes(e.data, delimiter) && !startsWith(e.data, dashBoundary))
  );
}

/** A quoted value ending in an odd run of backslashes: busboy reads its closing quote as escaped. */
const endsInBackslash = (s: string) => /(^|[^\\])(\\\\)*\\$/.test(escapeWhatwg(s));

function expectedParts(f: Form) {
  return f.entries.map((e) => {
    let mediaType = 'text/plain';
    let charset: string | undefined;
    if (e.contentType !== undefined) {
      const [t, ...params] = e.contentType.split(';');
      mediaType = t!.trim().toLowerCase();
      const cs = params.map((p) => /^\s*charset="?([^"]*)"?$/i.exec(p)?.[1]).find((x) => x !== undefined);
      charset = cs?.toLowerCase();
    }
    return {
      name: usv(escapeWhatwg(e.name)),
      filename: e.filename === undefined ? undefined : usv(escapeWhatwg(e.filename)),
      mediaType,
      charset,
      body: hex(e.data),
    };
  });
}

/** Random cut points of a body (ascending). */
const cutsOf = (n: number, seeds: number[]) =>
  [...new Set(seeds.map((s) => s % (n + 1)))].sort((a, b) => a - b);

describe('random forms through our RFC 7578 encoder', () => {
  it('come back exactly, for every chunking; the model agrees; busboy agrees but for the README differences', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(formArb(), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), async (f, seeds) => {
        fc.pre(isValid(f));
        checked++;
        const quote = f.quoteBoundary || !TOKEN_RE.test(f.boundary);
        const { body, contentType } = encodeForm(f.entries, { ...f, quoteBoundary: quote });
        const ours = strataEveryChunking(body, contentType, [cutsOf(body.length, seeds)]);
        expect(ours.error).toBeNull();
        expect(ours.parts.map(view)).toEqual(expectedParts(f));
        checkModel(ours, body, f.boundary);

        // busboy: the same parts as asBusboySees, but for the differences of the README
        const bb = await viaBusboy(body, contentType);
        if (includes(concat(['\r\n', f.epilogue]), latin1(`\r\n--${f.boundary}`))) {
          // busboy parses on after the close delimiter (within the chunk): parts or errors of its own
          if (!agreesWithBusboy(ours, bb)) expect(explainBusboy(body, f.boundary, ours, bb)).not.toBeNull();
          return;
        }
        // (busboy never reads the headers of a part after a padded delimiter line: see below)
        const control = f.entries.some(
          (e, i) =>
            (f.padding[i] ?? '') === '' &&
            /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(e.name + (e.filename ?? '')),
        );
        if (control) {
          expect(bb).toEqual({ ok: false, error: 'Malformed part header' });
          expect(explainBusboy(body, f.boundary, ours, bb)).toBe(Difference.CONTROL);
          return;
        }
        // a part after a padded delimiter line is dropped by busboy; a quoted value ending in a
        // backslash derails its parameter parsing: it drops the part (or misreads it)
        const kept = ours.parts.filter((_, i) => (f.padding[i] ?? '') === '');
        const derailed = f.entries.some(
          (e, i) =>
            (f.padding[i] ?? '') === '' && (endsInBackslash(e.name) || endsInBackslash(e.filename ?? '')),
        );
        expect(bb.ok).toBe(true);
        if (!bb.ok) return;
        if (!derailed) expect(bb.parts.map(busboyView)).toEqual(kept.map(asBusboySees).map(busboyView));
        if (!agreesWithBusboy(ours, bb)) expect(explainBusboy(body, f.boundary, ours, bb)).not.toBeNull();
      }),
      { numRuns: 1000 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});

/** Entries for undici's encoder: any names, file names and bytes. */
const undiciEntryArb: fc.Arbitrary<CorpusEntry> = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), name: textArb, value: textArb }),
  fc.record({
    kind: fc.constant('file' as const),
    name: textArb,
    filename: textArb,
    type: fc.constantFrom(
      '',
      'text/plain',
      'application/octet-stream',
      'image/png',
      'Text/HTML; Charset=UTF-8',
    ),
    data: contentArb('----formdata-undici-0'),
  }),
);

describe('random forms through undici FormData', () => {
  it('ours = what was encoded at every chunking; busboy and undici agree but for the README differences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(undiciEntryArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        async (entries, seeds) => {
          const { body, boundary, contentType } = await encode(toFormData(entries));
          const ours = strataEveryChunking(body, contentType, [cutsOf(body.length, seeds)]);
          expect(ours.error).toBeNull();
          expect(ours.parts.map(view)).toEqual(whatwgExpected(entries));
          checkModel(ours, body, boundary);

          const un = await viaUndici(body, contentType);
          expect(un.ok).toBe(true);
          if (un.ok) expect(un.parts.map(undiciView)).toEqual(ours.parts.map(asUndiciSees).map(undiciView));

          const bb = await viaBusboy(body, contentType);
          const names = entries.map((e) => e.name + (e.kind === 'file' ? e.filename : ''));
          if (names.some((n) => /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(n))) {
            expect(bb).toEqual({ ok: false, error: 'Malformed part header' });
          } else if (
            !entries.some(
              (e) => endsInBackslash(e.name) || (e.kind === 'file' && endsInBackslash(e.filename)),
            )
          ) {
            expect(bb.ok && bb.parts.map(busboyView)).toEqual(ours.parts.map(asBusboySees).map(busboyView));
          }
          if (!agreesWithBusboy(ours, bb)) expect(explainBusboy(body, boundary, ours, bb)).not.toBeNull();
        },
      ),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Mutations of valid bodies

const mutationArb = fc.oneof(
  fc.record({
    k: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x0d, 0x0a, 0x2d, 0x3a, 0x3b, 0x22, 0x20, 0x09, 0x5c, 0x3d),
    ),
  }),
  fc.record({
    k: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '\r\n',
      '\n',
      '\r',
      '--',
      '-',
      ' ',
      '\t',
      '"',
      ';',
      ':',
      '\\',
      '=',
      'x',
      '\x00',
      '\r\n\r\n',
      '\r\n ',
    ),
  }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutate(body: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(body);
  for (const m of mutations) {
    const at = m.at % (b.length + 1);
    if (m.k === 'set') {
      if (b.length > 0) {
        b = Buffer.from(b);
        b[at % b.length] = m.byte;
      }
    } else if (m.k === 'insert')
      b = Buffer.concat([b.subarray(0, at), Buffer.from(m.text, 'latin1'), b.subarray(at)]);
    else if (m.k === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
    else b = b.subarray(0, at);
  }
  return new Uint8Array(b);
}

/** Small valid forms to mutate: few parts, short names, both encoders' header styles. */
const smallFormArb = fc
  .string({ unit: fc.constantFrom(...BCHARS), minLength: 1, maxLength: 12 })
  .filter((b) => !b.endsWith(' '))
  .chain((boundary) =>
    fc.record({
      boundary: fc.constant(boundary),
      entries: fc.array(
        fc.record({
          name: fc.string({ maxLength: 5, unit: fc.constantFrom('a', 'é', '"', ' ', '%', ';', '\\', '\t') }),
          filename: fc.option(
            fc.string({ maxLength: 5, unit: fc.constantFrom('b', '日', '"', ' ', '\\', '=') }),
            {
              nil: undefined,
            },
          ),
          contentType: contentTypeArb,
          data: fc.uint8Array({ maxLength: 8 }),
        }),
        { maxLength: 3 },
      ),
      alwaysQuote: fc.boolean(),
      lowerCaseHeaders: fc.boolean(),
      padding: fc.array(fc.constantFrom('', '', ' '), { maxLength: 3 }),
    }),
  );

/** Small limits (or none), to reach every limit on small bodies. */
const limitsArb: fc.Arbitrary<Partial<MultipartLimits>> = fc.oneof(
  fc.constant({}),
  fc.record(
    {
      maxParts: fc.nat(4),
      maxFields: fc.nat(3),
      maxFieldBytes: fc.nat(12),
      maxFiles: fc.nat(3),
      maxFileBytes: fc.nat(12),
      maxPartHeaderBytes: fc.integer({ min: 0, max: 120 }),
      maxTotalBytes: fc.nat(400),
    },
    { requiredKeys: [] },
  ),
);

describe('mutated bodies', () => {
  it('only FormError, the same result for every chunking, the model agrees (limits too), every busboy disagreement explained', async () => {
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        smallFormArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        limitsArb,
        async (f, mutations, seeds, limits) => {
          const entries = f.entries.filter(
            (e) => !endsInBackslash(e.name) && !endsInBackslash(e.filename ?? ''),
          );
          const form: Form = {
            ...f,
            entries,
            quoteBoundary: true,
            preamble: new Uint8Array(0),
            epilogue: new Uint8Array(0),
          };
          fc.pre(isValid(form));
          const { body: valid, contentType } = encodeForm(entries, form);
          const body = mutate(valid, mutations);
          const ours = strataEveryChunking(body, contentType, [cutsOf(body.length, seeds)], limits);
          checkError(ours, body);
          checkModel(ours, body, f.boundary, limits);
          if (Object.keys(limits).length > 0) return; // busboy's limits truncate, they do not fail
          const bb = await viaBusboy(body, contentType);
          const why = agreesWithBusboy(ours, bb) ? 'agree' : explainBusboy(body, f.boundary, ours, bb);
          if (why === null) {
            throw new Error(
              `unexplained disagreement with busboy on ${JSON.stringify(Buffer.from(body).toString('latin1'))} ` +
                `(${contentType}): ours ${JSON.stringify(ours.error ?? ours.parts.map(asBusboySees))}, busboy ${JSON.stringify(bb)}`,
            );
          }
          tally.set(why, (tally.get(why) ?? 0) + 1);
        },
      ),
      { numRuns: 4000 },
    );
    expect(tally.get('agree') ?? 0).toBeGreaterThan(100);
    expect(tally.size).toBeGreaterThan(3); // mutations do reach the differences
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Each difference of the README table, shown exactly

const CT = 'multipart/form-data; boundary=b';
const cd = (params: string) => `Content-Disposition: form-data; ${params}\r\n`;

/** Ours in short: the error, or [name, filename, mediaType, body as latin1] per part. */
function oursShort(raw: string) {
  const r = strata(latin1(raw), CT);
  return r.error !== null
    ? { code: r.error.code, offset: r.error.offset }
    : r.parts.map((p) => [p.name, p.filename, p.mediaType, Buffer.from(p.body).toString('latin1')]);
}

/** busboy in short: the error message, or [kind, name, filename, mediaType, value or body] per part. */
async function busboyShort(raw: string) {
  const r = await viaBusboy(latin1(raw), CT);
  return r.ok
    ? r.parts.map((p) => [
        p.kind,
        p.name,
        p.filename,
        p.mediaType,
        p.value ?? Buffer.from(p.body!).toString('latin1'),
      ])
    : r.error;
}

interface Row {
  diff: Difference;
  raw: string;
  ours: ReturnType<typeof oursShort>;
  busboy: Awaited<ReturnType<typeof busboyShort>>;
}

const fieldA = `${cd('name="a"')}\r\nx\r\n`;
const busboyRows: Row[] = [
  {
    diff: Difference.PADDING,
    raw: `--b \t\r\n${fieldA}--b--`,
    ours: [['a', undefined, 'text/plain', 'x']],
    busboy: [],
  },
  {
    diff: Difference.DELIMITER_GARBAGE,
    raw: `--b\r\n${fieldA}--bX\r\n${cd('name="c"')}\r\ny\r\n--b--`,
    ours: { code: 'FORM_BAD_BOUNDARY', offset: 55 },
    busboy: [['field', 'a', undefined, 'text/plain', 'x']],
  },
  {
    diff: Difference.CONTROL,
    raw: `--b\r\n${cd('name="a\x01"; filename="\x7f.txt"')}\r\nx\r\n--b--`,
    ours: [['a\x01', '\x7f.txt', 'text/plain', 'x']],
    busboy: 'Malformed part header',
  },
  {
    diff: Difference.OBS_FOLD,
    raw: `--b\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nx\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'a', undefined, 'text/plain', 'x']],
  },
  {
    diff: Difference.REPEATED_HEADER,
    raw: `--b\r\n${cd('name="a"')}${cd('name="c"')}Content-Type: image/png\r\nContent-Type: text/html\r\n\r\nx\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'a', undefined, 'image/png', 'x']],
  },
  {
    diff: Difference.NO_FORM_DATA,
    raw: `--b\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--b\r\nX-Other: 1\r\n\r\ny\r\n--b\r\n${cd('name="c"')}\r\nz\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'c', undefined, 'text/plain', 'z']],
  },
  {
    diff: Difference.DISPOSITION_MALFORMED,
    raw: `--b\r\n${cd('name="a" x')}\r\nx\r\n--b\r\n${cd('name="a"; name="c"')}\r\ny\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'a', undefined, 'text/plain', 'y']], // the first part skipped; the first name wins
  },
  {
    diff: Difference.DISPOSITION_LENIENT,
    raw: `--b\r\n${cd('name = "a"')}\r\nx\r\n--b\r\n${cd('name="c";')}\r\ny\r\n--b--`,
    ours: [
      ['a', undefined, 'text/plain', 'x'],
      ['c', undefined, 'text/plain', 'y'],
    ],
    busboy: [],
  },
  {
    diff: Difference.NO_NAME,
    raw: `--b\r\n${cd('filename="f.txt"')}\r\nx\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['file', undefined, 'f.txt', 'text/plain', 'x']],
  },
  {
    diff: Difference.FILENAME_STAR,
    raw: `--b\r\n${cd('name="a"; filename*=windows-1252\'\'%80.txt')}\r\nx\r\n--b\r\n${cd('name="c"; filename*=utf-8\'\'%zz')}\r\ny\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['file', 'a', '\x80.txt', 'text/plain', 'x']], // windows-1252 read as latin1; the second part skipped
  },
  {
    diff: Difference.CONTENT_TYPE,
    raw: `--b\r\n${fieldA.slice(0, -5)}Content-Type: image png\r\n\r\nx\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'a', undefined, 'text/plain', 'x']],
  },
  {
    diff: Difference.CONTENT_TYPE_LENIENT,
    raw: `--b\r\n${cd('name="a"; filename="p.html"')}Content-Type: text/html;\r\n\r\nx\r\n--b--`,
    ours: [['a', 'p.html', 'text/html', 'x']],
    busboy: [['file', 'a', 'p.html', 'text/plain', 'x']],
  },
  {
    diff: Difference.NESTED,
    raw: `--b\r\n${cd('name="a"')}Content-Type: multipart/mixed; boundary=c\r\n\r\n--c--\r\n--b--`,
    ours: { code: 'FORM_NESTED_MULTIPART', offset: 5 },
    busboy: [['field', 'a', undefined, 'multipart/mixed', '--c--']],
  },
  {
    diff: Difference.QUOTED_PAIR,
    raw: `--b\r\n${cd('name="a\\\\b"; filename="C:\\\\d\\\\"')}\r\nx\r\n--b\r\n${cd('name="c"; filename="dir\\"')}\r\ny\r\n--b--`,
    ours: [
      ['a\\\\b', 'C:\\\\d\\\\', 'text/plain', 'x'],
      ['c', 'dir\\', 'text/plain', 'y'],
    ],
    busboy: [['file', 'a\\b', 'C:\\d\\', 'text/plain', 'x']], // `\\"` ends no quoted-string there: part skipped
  },
  {
    diff: Difference.DELIMITER_IN_HEADERS,
    raw: `--b\r\n${cd('name="a"')}--b\r\n${cd('name="c"')}\r\ny\r\n--b--`,
    ours: { code: 'FORM_BAD_PART_HEADER', offset: 5 },
    busboy: [['field', 'a', undefined, 'text/plain', 'y']],
  },
  {
    diff: Difference.BODY_STARTS_WITH_BOUNDARY,
    raw: `--b\r\n${cd('name="a"')}\r\n--b\r\n${cd('name="c"')}\r\ny\r\n--b--`,
    ours: [['a', undefined, 'text/plain', `--b\r\n${cd('name="c"')}\r\ny`]],
    busboy: [['field', 'a', undefined, 'text/plain', `${cd('name="c"')}\r\ny`]],
  },
  {
    diff: Difference.EPILOGUE,
    raw: `--b--\r\n--b\r\n${fieldA}--b\r\n${cd('name="c"')}\r\ny\r\n--b--`,
    ours: [],
    busboy: [['field', 'c', undefined, 'text/plain', 'y']],
  },
];

describe('the differences from busboy in the README, exactly', () => {
  it('every difference has its row here', () => {
    expect(busboyRows.map((r) => r.diff).sort()).toEqual(Object.values(Difference).sort());
  });
  for (const row of busboyRows) {
    it(row.diff, async () => {
      expect(oursShort(row.raw)).toEqual(row.ours);
      expect(await busboyShort(row.raw)).toEqual(row.busboy);
      const body = latin1(row.raw);
      const ours = strataEveryChunking(body, CT, 'all');
      checkError(ours, body);
      checkModel(ours, body, 'b');
      const bb = await viaBusboy(body, CT);
      expect(agreesWithBusboy(ours, bb)).toBe(false);
      expect(explainBusboy(body, 'b', ours, bb)).toBe(row.diff);
    });
  }

  it(`${Difference.QUOTED_PAIR}, in a part Content-Type: a quoted-pair here (RFC 9110), busboy keeps \\8`, async () => {
    const raw = `--b\r\n${cd('name="a"')}Content-Type: text/plain; charset="iso\\8859-1"\r\n\r\n\xe9\r\n--b--`;
    const body = latin1(raw);
    const ours = strata(body, CT);
    expect(ours.parts.map((p) => p.charset)).toEqual(['iso8859-1']); // busboy reads that as latin1
    expect(asBusboySees(ours.parts[0]!).value).toBe('é');
    const bb = await viaBusboy(body, CT);
    expect(bb).toEqual({
      ok: true,
      parts: [
        {
          kind: 'field',
          name: 'a',
          filename: undefined,
          mediaType: 'text/plain',
          value: undefined,
          body: undefined,
        },
      ],
    }); // charset `iso\8859-1`: no decoder, no value
    expect(explainBusboy(body, 'b', ours, bb)).toBe(Difference.QUOTED_PAIR);
  });

  it('agreed after the mapping (asBusboySees): name="" and filename="", application/octet-stream, field charsets', async () => {
    const raw =
      `--b\r\n${cd('name=""; filename=""')}\r\nx\r\n` +
      `--b\r\n${cd('name="o"')}Content-Type: application/octet-stream\r\n\r\n\xff\r\n` +
      `--b\r\n${cd('name="l"')}Content-Type: text/plain; charset=ISO-8859-1\r\n\r\n\xe9\r\n--b--`;
    expect(oursShort(raw)).toEqual([
      ['', '', 'text/plain', 'x'],
      ['o', undefined, 'application/octet-stream', '\xff'],
      ['l', undefined, 'text/plain', '\xe9'],
    ]);
    expect(await busboyShort(raw)).toEqual([
      ['field', undefined, undefined, 'text/plain', 'x'],
      ['file', 'o', undefined, 'application/octet-stream', '\xff'],
      ['field', 'l', undefined, 'text/plain', 'é'],
    ]);
    const body = latin1(raw);
    expect(agreesWithBusboy(strata(body, CT), await viaBusboy(body, CT))).toBe(true);
  });
});

/** undici in short: its error, or [name, filename, type, value or body] per entry. */
async function undiciShort(raw: string, contentType = CT) {
  const r = await viaUndici(latin1(raw), contentType);
  return r.ok
    ? r.parts.map((p) => [p.name, p.filename, p.type, p.value ?? Buffer.from(p.body!).toString('latin1')])
    : 'failure';
}

/** undici 7 (Node 24) fixed some of undici 6's (Node 20) differences: the README rows say which. */
const UNDICI_7 = Number(process.versions.undici?.split('.')[0] ?? 0) >= 7;

describe('the differences from undici in the README, exactly', () => {
  it('preamble and epilogue (ignored, RFC 2046 section 5.1.1): undici 6 fails, undici 7 agrees', async () => {
    for (const raw of [`preamble\r\n--b\r\n${fieldA}--b--`, `--b\r\n${fieldA}--b--\r\nepilogue`]) {
      expect(oursShort(raw)).toEqual([['a', undefined, 'text/plain', 'x']]);
      expect(await undiciShort(raw)).toEqual(UNDICI_7 ? [['a', undefined, undefined, 'x']] : 'failure');
    }
  });

  it('transport padding after a boundary (RFC 2046 section 5.1.1): undici fails', async () => {
    const raw = `--b \r\n${fieldA}--b--`;
    expect(oursShort(raw)).toEqual([['a', undefined, 'text/plain', 'x']]);
    expect(await undiciShort(raw)).toBe('failure');
  });

  it('Content-Disposition other than `form-data; name="` exactly: undici 6 fails, undici 7 agrees', async () => {
    for (const params of ['name=a', 'NAME="a"', ' name="a"', 'name="a"; filename=f', 'name="a"; x="y"']) {
      const raw = `--b\r\n${cd(params)}\r\nx\r\n--b--`;
      const file = params.includes('filename');
      expect(oursShort(raw)).toEqual([['a', file ? 'f' : undefined, 'text/plain', 'x']]);
      expect(await undiciShort(raw)).toEqual(
        UNDICI_7 ? [['a', file ? 'f' : undefined, file ? 'text/plain' : undefined, 'x']] : 'failure',
      );
    }
  });

  it('%22, %0D, %0A in names and file names: raw here, decoded by undici', async () => {
    const raw = `--b\r\n${cd('name="a%22b%0Ac"; filename="x%0D%22.txt"')}\r\nx\r\n--b--`;
    expect(oursShort(raw)).toEqual([['a%22b%0Ac', 'x%0D%22.txt', 'text/plain', 'x']]);
    expect(await undiciShort(raw)).toEqual([['a"b\nc', 'x\r".txt', 'text/plain', 'x']]);
  });

  it('filename* (RFC 8187): decoded here; undici 6 keeps a quoted one raw and fails on a token, undici 7 the reverse', async () => {
    const quoted = `--b\r\n${cd('name="a"; filename*="UTF-8\'\'%C3%A9.txt"')}\r\nx\r\n--b--`;
    expect(oursShort(quoted)).toEqual([['a', 'é.txt', 'text/plain', 'x']]);
    expect(await undiciShort(quoted)).toEqual(
      UNDICI_7 ? 'failure' : [['a', "UTF-8''%C3%A9.txt", 'text/plain', 'x']],
    );
    const token = `--b\r\n${cd('name="a"; filename*=UTF-8\'\'%C3%A9.txt')}\r\nx\r\n--b--`;
    expect(oursShort(token)).toEqual([['a', 'é.txt', 'text/plain', 'x']]);
    expect(await undiciShort(token)).toEqual(UNDICI_7 ? [['a', 'é.txt', 'text/plain', 'x']] : 'failure');
  });

  it('the boundary inside content, not after CRLF--: data here; undici fails', async () => {
    const ct = 'multipart/form-data; boundary=boundary123';
    const raw = `--boundary123\r\n${cd('name="a"')}\r\nsee boundary123\r\n--boundary123--`;
    const r = strata(latin1(raw), ct);
    expect(r.error).toBeNull();
    expect(Buffer.from(r.parts[0]!.body).toString('latin1')).toBe('see boundary123');
    expect(await undiciShort(raw, ct)).toBe('failure');
  });

  it('a header line ended by LF LF: FORM_BAD_PART_HEADER here (RFC 2046 wants CRLF); undici 6 accepts, undici 7 fails', async () => {
    const raw = `--b\r\n${cd('name="a"').slice(0, -2)}\n\n\r\nx\r\n--b--`;
    expect(oursShort(raw)).toEqual({ code: 'FORM_BAD_PART_HEADER', offset: raw.indexOf('\n\n') });
    expect(await undiciShort(raw)).toEqual(UNDICI_7 ? 'failure' : [['a', undefined, undefined, 'x']]);
  });

  it('a repeated Content-Disposition: rejected here; the last one wins in undici', async () => {
    const raw = `--b\r\n${cd('name="a"')}${cd('name="c"')}\r\nx\r\n--b--`;
    expect(oursShort(raw)).toEqual({ code: 'FORM_BAD_PART_HEADER', offset: 5 });
    expect(await undiciShort(raw)).toEqual([['c', undefined, undefined, 'x']]);
  });

  it("types and charsets: media type and charset here; undici a File's whole type, a field UTF-8 decoded", async () => {
    const raw =
      `--b\r\n${cd('name="f"; filename="f.txt"')}Content-Type: Text/Plain; Charset=UTF-8\r\n\r\nx\r\n` +
      `--b\r\n${cd('name="l"')}Content-Type: text/plain; charset=iso-8859-1\r\n\r\n\xe9\r\n--b--`;
    const r = strata(latin1(raw), CT);
    expect(r.parts.map((p) => [p.mediaType, p.charset])).toEqual([
      ['text/plain', 'utf-8'],
      ['text/plain', 'iso-8859-1'],
    ]);
    expect(await undiciShort(raw)).toEqual([
      ['f', 'f.txt', 'text/plain; charset=utf-8', 'x'],
      ['l', undefined, undefined, '\ufffd'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. The request's Content-Type: parseContentType against busboy

const busboyMediaType = createRequire(import.meta.url)('busboy/lib/utils.js').parseContentType as (
  s: string,
) => { type: string; subtype: string; params: Record<string, string> } | undefined;

/** The boundary busboy takes from `ct`, or its error message. */
function busboyBoundary(ct: string): { ok: true; boundary: string } | { ok: false; error: string } {
  try {
    busboy({ headers: { 'content-type': ct } });
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return { ok: true, boundary: busboyMediaType(ct)!.params.boundary! };
}

/** Content-Type values: the right type or not, boundaries of any characters, quoted or not, odd spacing. */
const contentTypeHeaderArb = fc
  .record({
    lead: fc.constantFrom('', '', ' '),
    type: fc.constantFrom('multipart/form-data', 'Multipart/Form-Data', 'multipart/mixed', 'text/plain'),
    params: fc.array(
      fc.record({
        name: fc.constantFrom('boundary', 'Boundary', 'charset'),
        value: fc.string({ unit: fc.constantFrom(...BCHARS, '"', '\\', ';', '{', 'é'), maxLength: 75 }),
        quote: fc.boolean(),
        eq: fc.constantFrom('=', '=', ' = '),
        sep: fc.constantFrom('; ', ';', ' ; '),
      }),
      { maxLength: 3 },
    ),
    trail: fc.constantFrom('', '', ';', ' '),
  })
  .map(
    ({ lead, type, params, trail }) =>
      lead +
      type +
      params.map((p) => `${p.sep}${p.name}${p.eq}${p.quote ? `"${p.value}"` : p.value}`).join('') +
      trail,
  );

describe('the request Content-Type', () => {
  it('only FormError (415 or 400, offset -1); the same boundary as busboy, or a README difference', () => {
    const tally = new Map<string, number>();
    fc.assert(
      fc.property(contentTypeHeaderArb, (ct) => {
        let ours: { ok: true; boundary: string } | { ok: false; code: string };
        try {
          ours = { ok: true, boundary: parseContentType(ct).boundary };
        } catch (err) {
          if (!(err instanceof FormError)) throw err;
          expect(err.offset).toBe(-1);
          expect([415, 400]).toContain(err.status);
          ours = { ok: false, code: err.code };
        }
        const theirs = busboyBoundary(ct);
        let why: string;
        if (ours.ok && theirs.ok && ours.boundary !== theirs.boundary) {
          // a quoted-pair other than \\ and \": RFC 9110 section 5.6.4 here; busboy keeps the backslash
          expect(theirs.boundary.replace(/\\([^\\"])/g, '$1')).toBe(ours.boundary);
          why = 'quoted-pair';
        } else if (ours.ok && theirs.ok) why = 'agree';
        else if (!ours.ok && !theirs.ok) why = 'agree';
        else if (!ours.ok && ours.code === 'FORM_BAD_BOUNDARY') {
          // RFC 2046 section 5.1.1: 1 to 70 bchars, not ending in a space; busboy takes any string
          const b = (theirs as { boundary: string }).boundary;
          expect(
            b.length === 0 || b.length > 70 || b.endsWith(' ') || /[^0-9A-Za-z'()+_,\-./:=? ]/.test(b),
          ).toBe(true);
          why = 'boundary outside RFC 2046';
        } else if (!ours.ok) {
          // a repeated parameter, or one without a name: malformed here (415); busboy takes the
          // first, or the empty name
          const names = [...ct.matchAll(/;\s*([A-Za-z]*)\s*=/g)].map((m) => m[1]!.toLowerCase());
          expect(new Set(names).size < names.length || names.includes('')).toBe(true);
          why = 'malformed parameters';
        } else {
          // leading whitespace, whitespace around `=`, a trailing or empty (`;;`) parameter
          // (RFC 9110 section 5.6.6): accepted here; busboy fails
          expect(/^\s|\s=|=\s|;\s*$|;\s*;/.test(ct)).toBe(true);
          expect(theirs).toEqual({ ok: false, error: 'Malformed content type' });
          why = 'lenient';
        }
        tally.set(why, (tally.get(why) ?? 0) + 1);
      }),
      { numRuns: 3000 },
    );
    expect(tally.get('agree') ?? 0).toBeGreaterThan(100);
  });

  it('each difference of the README, exactly', () => {
    const ours = (ct: string) => {
      try {
        return parseContentType(ct).boundary;
      } catch (err) {
        return (err as FormError).code;
      }
    };
    const rows: [string, string, ReturnType<typeof busboyBoundary>][] = [
      [
        `multipart/form-data; boundary=${'a'.repeat(71)}`,
        'FORM_BAD_BOUNDARY',
        { ok: true, boundary: 'a'.repeat(71) },
      ],
      ['multipart/form-data; boundary="a{b"', 'FORM_BAD_BOUNDARY', { ok: true, boundary: 'a{b' }],
      ['multipart/form-data; boundary="a "', 'FORM_BAD_BOUNDARY', { ok: true, boundary: 'a ' }],
      ['multipart/form-data; boundary=""', 'FORM_BAD_BOUNDARY', { ok: true, boundary: '' }],
      [
        'multipart/form-data; boundary=x; boundary=y',
        'FORM_UNSUPPORTED_MEDIA_TYPE',
        { ok: true, boundary: 'x' },
      ],
      ['multipart/form-data; boundary=x;', 'x', { ok: false, error: 'Malformed content type' }],
      ['multipart/form-data; boundary = x', 'x', { ok: false, error: 'Malformed content type' }],
      [' multipart/form-data; boundary=x', 'x', { ok: false, error: 'Malformed content type' }],
      ['multipart/form-data; boundary="a\\0"', 'a0', { ok: true, boundary: 'a\\0' }],
    ];
    for (const [ct, want, theirs] of rows) {
      expect([ct, ours(ct)]).toEqual([ct, want]);
      expect([ct, busboyBoundary(ct)]).toEqual([ct, theirs]);
    }
  });
});
