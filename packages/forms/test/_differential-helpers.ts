/**
 * Differential testing of the multipart parser against busboy 1.6 and undici's
 * `Response.formData()`: one runner per parser with results in one shape, an RFC 7578 encoder of
 * our own (random boundary, quoted or not, transport padding, preamble, epilogue), and the
 * by-design differences from busboy as named functions (README "Differences from busboy and
 * undici").
 */
import { createRequire } from 'node:module';
import busboy from 'busboy';
import { FormError } from '../src/_errors';
import { DEFAULT_MULTIPART_LIMITS, type MultipartLimits, MultipartParser } from '../src/_multipart';
import { parseContentType } from '../src/_part-headers';

// ---------------------------------------------------------------------------------------------
// @strata/forms

export interface StrataPart {
  name: string;
  filename: string | undefined;
  mediaType: string;
  charset: string | undefined;
  headers: string[];
  body: Uint8Array;
}

export interface StrataError {
  code: string;
  status: number;
  offset: number;
}

export interface StrataResult {
  /** Parts started (the last one may be incomplete when `error` is set). */
  parts: StrataPart[];
  /** Parts whose end was seen. */
  ended: number;
  done: boolean;
  error: StrataError | null;
}

/**
 * Parses `body` (Content-Type `contentType`) cut at `cuts` (ascending). Anything thrown that is not
 * a `FormError` propagates (a test failure).
 */
export function strata(
  body: Uint8Array,
  contentType: string,
  cuts: readonly number[] = [],
  limits: Partial<MultipartLimits> = {},
): StrataResult {
  const result: StrataResult = { parts: [], ended: 0, done: false, error: null };
  let chunks: Buffer[] = [];
  const flush = () => {
    const last = result.parts[result.parts.length - 1];
    if (last !== undefined && chunks.length > 0)
      last.body = new Uint8Array(Buffer.concat([last.body, ...chunks]));
    chunks = [];
  };
  try {
    const { boundary } = parseContentType(contentType);
    const p = new MultipartParser(
      boundary,
      {
        onPartStart(info) {
          flush();
          result.parts.push({
            name: info.name,
            filename: info.filename,
            mediaType: info.mediaType,
            charset: info.charset,
            headers: info.headers,
            body: new Uint8Array(0),
          });
        },
        onPartData(view) {
          chunks.push(Buffer.from(view)); // the view is only valid during the call
        },
        onPartEnd() {
          flush();
          result.ended++;
        },
        onEnd() {
          result.done = true;
        },
      },
      limits,
    );
    let from = 0;
    for (const c of [...cuts, body.length]) {
      p.write(body.subarray(from, c));
      from = c;
    }
    p.end();
  } catch (err) {
    if (!(err instanceof FormError)) throw err;
    result.error = { code: err.code, status: err.status, offset: err.offset };
  }
  flush();
  return result;
}

/** A comparable, printable form of a result (bodies as hex). */
export function strataKey(r: StrataResult): string {
  return JSON.stringify({
    parts: r.parts.map((p) => ({ ...p, body: Buffer.from(p.body).toString('hex') })),
    ended: r.ended,
    done: r.done,
    error: r.error,
  });
}

/**
 * Parses `body` whole, byte by byte, and cut at each of `splits` (every split point when
 * `splits` is 'all'); throws unless every chunking gives the whole run's result. Returns it.
 */
export function strataEveryChunking(
  body: Uint8Array,
  contentType: string,
  splits: 'all' | readonly (readonly number[])[],
  limits: Partial<MultipartLimits> = {},
): StrataResult {
  const whole = strata(body, contentType, [], limits);
  const want = strataKey(whole);
  const check = (cuts: readonly number[], how: string) => {
    const got = strataKey(strata(body, contentType, cuts, limits));
    if (got !== want) throw new Error(`${how} differs from the whole body:\n${got}\n${want}`);
  };
  check(
    Array.from({ length: Math.max(0, body.length - 1) }, (_, i) => i + 1),
    'byte by byte',
  );
  if (splits === 'all') {
    for (let i = 0; i <= body.length; i++) check([i], `split at ${i}`);
  } else {
    for (const cuts of splits) check(cuts, `cuts ${cuts.join(',')}`);
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------
// busboy 1.6

export interface BusboyPart {
  kind: 'field' | 'file';
  name: string | undefined;
  filename: string | undefined;
  mediaType: string;
  /** A field's value as busboy decodes it (by the part's charset, UTF-8 by default). */
  value: string | undefined;
  /** A file's bytes. */
  body: Uint8Array | undefined;
}

export type BusboyResult = { ok: true; parts: BusboyPart[] } | { ok: false; error: string };

/** busboy with `preservePath` (raw file names) and UTF-8 parameters (what browsers send). */
export function viaBusboy(body: Uint8Array, contentType: string): Promise<BusboyResult> {
  return new Promise((resolve) => {
    const parts: BusboyPart[] = [];
    const files: Buffer[][] = [];
    let error: Error | null = null;
    let bb: ReturnType<typeof busboy>;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, preservePath: true, defParamCharset: 'utf8' });
    } catch (err) {
      resolve({ ok: false, error: (err as Error).message });
      return;
    }
    bb.on('field', (name, value, info) => {
      parts.push({
        kind: 'field',
        name,
        filename: undefined,
        mediaType: info.mimeType,
        value,
        body: undefined,
      });
      files.push([]);
    });
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      parts.push({
        kind: 'file',
        name,
        filename: info.filename,
        mediaType: info.mimeType,
        value: undefined,
        body: undefined,
      });
      files.push(chunks);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('error', (err: Error) => {
        error ??= err;
      });
    });
    bb.on('error', (err: Error) => {
      error ??= err;
    });
    bb.on('close', () => {
      if (error !== null) {
        resolve({ ok: false, error: error.message });
        return;
      }
      parts.forEach((p, i) => {
        if (p.kind === 'file') p.body = new Uint8Array(Buffer.concat(files[i]!));
      });
      resolve({ ok: true, parts });
    });
    bb.end(Buffer.from(body));
  });
}

/**
 * busboy's reading of a quoted parameter: `\\` and `\"` are quoted-pairs (RFC 9110 section 5.6.4);
 * a backslash before any other character stays as written.
 */
export function unescapeQuotedPairs(s: string): string {
  return s.replace(/\\([\\"])/g, '$1');
}

/** The charset decoders busboy 1.6 has for field values (its `getDecoder`). */
function busboyDecode(bytes: Uint8Array, charset: string | undefined): string | undefined {
  const b = Buffer.from(bytes);
  switch (charset ?? 'utf-8') {
    case 'utf-8':
    case 'utf8':
      return b.toString('utf8');
    case 'latin1':
    case 'ascii':
    case 'us-ascii':
    case 'iso-8859-1':
    case 'iso8859-1':
    case 'iso88591':
    case 'iso_8859-1':
    case 'windows-1252':
    case 'iso_8859-1:1987':
    case 'cp1252':
    case 'x-cp1252':
      return b.toString('latin1');
    case 'utf16le':
    case 'utf-16le':
    case 'ucs2':
    case 'ucs-2':
      return b.toString('utf16le');
    case 'base64':
      return b.toString('base64');
    default:
      // busboy 1.6's decoder for other charsets binds `this` on an arrow function: its
      // TextDecoder gets no label, throws, and the value is undefined (an empty body stays '').
      return b.length === 0 ? '' : undefined;
  }
}

/**
 * What busboy reports for a part we parsed, by the deliberate differences (README): backslashes in
 * quoted parameters are quoted-pairs there; `name=""` is no name and `filename=""` no file name;
 * a part is a file there when it has a (non-empty) file name or is `application/octet-stream`;
 * a field's bytes are decoded by its charset.
 */
export function asBusboySees(p: StrataPart): BusboyPart {
  const name = unescapeQuotedPairs(p.name);
  const filename = p.filename === undefined ? undefined : unescapeQuotedPairs(p.filename);
  const isFile = (filename !== undefined && filename !== '') || p.mediaType === 'application/octet-stream';
  return {
    kind: isFile ? 'file' : 'field',
    name: name === '' ? undefined : name,
    filename: filename === '' ? undefined : filename,
    mediaType: p.mediaType,
    value: isFile ? undefined : busboyDecode(p.body, p.charset),
    body: isFile ? p.body : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// undici (Node's fetch): Response.formData()

export interface UndiciPart {
  name: string;
  /** A File's name; undefined for a string entry. */
  filename: string | undefined;
  /** A File's type (lowercased, parameters kept); undefined for a string entry. */
  type: string | undefined;
  /** A string entry's value. */
  value: string | undefined;
  /** A File's bytes. */
  body: Uint8Array | undefined;
}

export type UndiciResult = { ok: true; parts: UndiciPart[] } | { ok: false; error: string };

export async function viaUndici(body: Uint8Array, contentType: string): Promise<UndiciResult> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const parts: UndiciPart[] = [];
  for (const [name, v] of form) {
    if (typeof v === 'string')
      parts.push({ name, filename: undefined, type: undefined, value: v, body: undefined });
    else
      parts.push({
        name,
        filename: v.name,
        type: v.type,
        value: undefined,
        body: new Uint8Array(await v.arrayBuffer()),
      });
  }
  return { ok: true, parts };
}

/** WHATWG HTML's escaping in names and file names, which undici's parser decodes again. */
export function unescapeWhatwg(s: string): string {
  return s.replace(/%0A/gi, '\n').replace(/%0D/gi, '\r').replace(/%22/g, '"');
}

/**
 * What undici's `formData()` gives for a part we parsed, by the deliberate differences (README):
 * `%0A`, `%0D`, `%22` in names and file names decoded; a part with a file name a File (its type
 * the whole lowercased Content-Type, `text/plain` when none), another a string (UTF-8 decoded,
 * the part's charset ignored).
 */
export function asUndiciSees(p: StrataPart): UndiciPart {
  const name = unescapeWhatwg(p.name);
  if (p.filename === undefined)
    return {
      name,
      filename: undefined,
      type: undefined,
      value: new TextDecoder().decode(p.body),
      body: undefined,
    };
  const ct = contentTypeHeader(p);
  return {
    name,
    filename: unescapeWhatwg(p.filename),
    type: ct === undefined ? 'text/plain' : ct.toLowerCase(),
    value: undefined,
    body: p.body,
  };
}

function contentTypeHeader(p: StrataPart): string | undefined {
  for (let i = 0; i < p.headers.length; i += 2) if (p.headers[i] === 'content-type') return p.headers[i + 1];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// An RFC 7578 encoder

export interface FormEntry {
  name: string;
  /** A file part when set (`''` included: `filename=""`). */
  filename?: string | undefined;
  /** The part's Content-Type header, if any. */
  contentType?: string | undefined;
  data: Uint8Array;
}

export interface EncodeOptions {
  boundary: string;
  /** Quote the boundary in the request's Content-Type. */
  quoteBoundary: boolean;
  /** Quote `name` and `filename` even when they are tokens (they are quoted otherwise). */
  alwaysQuote: boolean;
  /** Header names lowercased (they are case-insensitive, RFC 9110 section 5.1). */
  lowerCaseHeaders: boolean;
  /** Transport padding (SP / HTAB) after each delimiter, by index (RFC 2046 section 5.1.1). */
  padding: readonly string[];
  /** Bytes before the first delimiter (a CRLF is put between them and it). */
  preamble: Uint8Array;
  /** Bytes after the close delimiter (a CRLF is put before them). */
  epilogue: Uint8Array;
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** WHATWG HTML's escaping of a name or file name in a quoted parameter: CR, LF and `"`. */
export function escapeWhatwg(s: string): string {
  return s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** The parameter as sent: a token stays bare (unless `alwaysQuote`), else quoted and escaped. */
function param(key: string, value: string, alwaysQuote: boolean): string {
  return !alwaysQuote && TOKEN_RE.test(value) ? `; ${key}=${value}` : `; ${key}="${escapeWhatwg(value)}"`;
}

/** `(string | bytes)[]` to bytes; strings are UTF-8 encoded. */
export function concat(pieces: readonly (string | Uint8Array)[]): Uint8Array {
  return new Uint8Array(
    Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))),
  );
}

/** Encodes entries as multipart/form-data (RFC 7578, RFC 2046 section 5.1.1). */
export function encodeForm(
  entries: readonly FormEntry[],
  o: EncodeOptions,
): { body: Uint8Array; contentType: string } {
  const cd = o.lowerCaseHeaders ? 'content-disposition' : 'Content-Disposition';
  const ctName = o.lowerCaseHeaders ? 'content-type' : 'Content-Type';
  const pieces: (string | Uint8Array)[] = [];
  if (o.preamble.length > 0) pieces.push(o.preamble, '\r\n');
  entries.forEach((e, i) => {
    if (i > 0) pieces.push('\r\n');
    pieces.push(`--${o.boundary}${o.padding[i] ?? ''}\r\n`);
    let disposition = `${cd}: form-data${param('name', e.name, o.alwaysQuote)}`;
    if (e.filename !== undefined) disposition += param('filename', e.filename, o.alwaysQuote);
    pieces.push(`${disposition}\r\n`);
    if (e.contentType !== undefined) pieces.push(`${ctName}: ${e.contentType}\r\n`);
    pieces.push('\r\n', e.data);
  });
  pieces.push(entries.length > 0 ? `\r\n--${o.boundary}--` : `--${o.boundary}--`);
  if (o.epilogue.length > 0) pieces.push('\r\n', o.epilogue);
  const b = o.quoteBoundary ? `"${o.boundary}"` : o.boundary;
  return { body: concat(pieces), contentType: `multipart/form-data; boundary=${b}` };
}

/** Whether `needle` occurs in `hay`. */
export function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle)) !== -1;
}

// ---------------------------------------------------------------------------------------------
// A reference model: the README's rules written plainly over the whole body (no streaming), with
// the default limits. Differential tests require the streaming parser to give the same verdict.

export interface ModelPart {
  name: string;
  filename: string | undefined;
  mediaType: string;
  charset: string | undefined;
  body: Uint8Array;
}

export interface ModelResult {
  parts: ModelPart[];
  error: { code: string; offset: number } | null;
  /** Where each part's delimiter, header block and body begin (for explaining disagreements). */
  segments: Segment[];
  /** Offset of the epilogue (just after the close delimiter), or -1. */
  epilogue: number;
}

export interface Segment {
  /** Offset of the `--` that opens the delimiter line. */
  delimiter: number;
  /** Transport padding after the boundary (SP / HTAB), if any. */
  padding: string;
  /** Header block (lines with their CRLFs, without the empty line), undefined if it never ended. */
  block: Uint8Array | undefined;
  headerStart: number;
  bodyStart: number;
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const OWS = '[ \\t]*';

/** Parameters of a header value after its leading token(s); null when malformed or repeated. */
function modelParams(s: string, escapes: boolean): Map<string, string> | null {
  const quoted = escapes ? '"((?:[^"\\\\]|\\\\[\\s\\S])*)"' : '"([^"]*)"';
  const re = new RegExp(`^${OWS};${OWS}(${TOKEN})${OWS}=${OWS}(?:(${TOKEN})|${quoted})`);
  const params = new Map<string, string>();
  let rest = s;
  for (;;) {
    if (/^[ \t]*(;[ \t]*)?$/.test(rest)) return params; // a trailing ";" is tolerated
    if (escapes) {
      // A media type's parameters (RFC 9110 section 5.6.6) may be empty: `;;` and `; ;` are skipped.
      const empty = /^[ \t]*;[ \t]*(?=;)/.exec(rest);
      if (empty !== null) {
        rest = rest.slice(empty[0].length);
        continue;
      }
    }
    const m = re.exec(rest);
    if (m === null) return null;
    const key = m[1]!.toLowerCase();
    if (params.has(key)) return null;
    const value = m[2] ?? m[3]!;
    params.set(key, escapes && m[2] === undefined ? value.replace(/\\([\s\S])/g, '$1') : value);
    rest = rest.slice(m[0].length);
  }
}

/** RFC 8187 ext-value in UTF-8 or ISO-8859-1; null when malformed. */
function modelExtValue(v: string): string | null {
  const m = /^(utf-8|iso-8859-1)'[^']*'((?:[!#$&+\-.^_`|~0-9A-Za-z]|%[0-9A-Fa-f]{2})*)$/i.exec(v);
  if (m === null) return null;
  const bytes = Buffer.from(
    m[2]!.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  );
  return m[1]!.toLowerCase() === 'utf-8' ? new TextDecoder().decode(bytes) : bytes.toString('latin1');
}

/** The header-block verdict: a part, or the error code (RFC 7578 section 4.2, RFC 9110 section 5). */
export function modelHeaders(block: Uint8Array): Omit<ModelPart, 'body'> | { code: string; why: string } {
  const text = Buffer.from(block).toString('latin1');
  const lines = text.length === 0 ? [] : text.slice(0, -2).split('\r\n');
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of lines) {
    const m = new RegExp(`^(${TOKEN}):([\\s\\S]*)$`).exec(line);
    if (m === null)
      return { code: 'FORM_BAD_PART_HEADER', why: /^[ \t]/.test(line) ? 'obs-fold' : 'header line' };
    const value = Buffer.from(m[2]!.replace(/^[ \t]+|[ \t]+$/g, ''), 'latin1').toString('utf8');
    const key = m[1]!.toLowerCase();
    if (key === 'content-disposition') {
      if (disposition !== undefined) return { code: 'FORM_BAD_PART_HEADER', why: 'repeated header' };
      disposition = value;
    } else if (key === 'content-type') {
      if (contentType !== undefined) return { code: 'FORM_BAD_PART_HEADER', why: 'repeated header' };
      contentType = value;
    }
  }
  if (disposition === undefined) return { code: 'FORM_BAD_PART_HEADER', why: 'no disposition' };
  const type = new RegExp(`^${TOKEN}`).exec(disposition)?.[0] ?? '';
  if (type.toLowerCase() !== 'form-data') return { code: 'FORM_BAD_PART_HEADER', why: 'not form-data' };
  const params = modelParams(disposition.slice(type.length), false);
  if (params === null) return { code: 'FORM_BAD_PART_HEADER', why: 'disposition params' };
  const name = params.get('name');
  if (name === undefined) return { code: 'FORM_BAD_PART_HEADER', why: 'no name' };
  let filename = params.get('filename');
  const ext = params.get('filename*');
  if (ext !== undefined) {
    const decoded = modelExtValue(ext);
    if (decoded === null) return { code: 'FORM_BAD_PART_HEADER', why: 'filename*' };
    filename = decoded;
  }
  let mediaType = 'text/plain';
  let charset: string | undefined;
  if (contentType !== undefined) {
    const m = new RegExp(`^${OWS}(${TOKEN}/${TOKEN})`).exec(contentType);
    const ctParams = m === null ? null : modelParams(contentType.slice(m[0].length), true);
    if (m === null || ctParams === null) return { code: 'FORM_BAD_PART_HEADER', why: 'content-type' };
    mediaType = m[1]!.toLowerCase();
    if (mediaType.startsWith('multipart/')) return { code: 'FORM_NESTED_MULTIPART', why: 'nested' };
    charset = ctParams.get('charset')?.toLowerCase();
  }
  return { name, filename, mediaType, charset };
}

/**
 * The whole-body verdict for `boundary` (RFC 2046 section 5.1.1 framing, then `modelHeaders`) under
 * `limits` (the README's limits table).
 */
export function model(
  body: Uint8Array,
  boundary: string,
  limits: Partial<MultipartLimits> = {},
): ModelResult {
  const L = { ...DEFAULT_MULTIPART_LIMITS, ...limits };
  if (body.length <= L.maxTotalBytes) return modelCore(body, boundary, L);
  // Only the first maxTotalBytes bytes are parsed; an error in them wins, else FORM_TOO_LARGE.
  const r = modelCore(body.subarray(0, L.maxTotalBytes), boundary, L);
  if (r.error !== null && r.error.code !== 'FORM_UNEXPECTED_END') return r;
  return { ...r, epilogue: -1, error: { code: 'FORM_TOO_LARGE', offset: L.maxTotalBytes } };
}

function modelCore(body: Uint8Array, boundary: string, L: MultipartLimits): ModelResult {
  const hay = Buffer.concat([Buffer.from('\r\n'), Buffer.from(body)]); // the first delimiter's CRLF may be absent
  const needle = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const parts: ModelPart[] = [];
  const segments: Segment[] = [];
  const result = (code: string, hayOffset: number): ModelResult => ({
    parts,
    segments,
    epilogue: -1,
    error: { code, offset: hayOffset - 2 },
  });
  const end = () => result('FORM_UNEXPECTED_END', hay.length);
  let fields = 0;
  let files = 0;
  let pos = hay.indexOf(needle);
  if (pos === -1) return end();
  for (;;) {
    let i = pos + needle.length;
    if (i >= hay.length) return end();
    if (hay[i] === 0x2d) {
      if (i + 1 >= hay.length) return end();
      if (hay[i + 1] === 0x2d) return { parts, segments, epilogue: i, error: null };
      return result('FORM_BAD_BOUNDARY', i + 1);
    }
    const padFrom = i;
    while (i < hay.length && (hay[i] === 0x20 || hay[i] === 0x09)) i++;
    if (i >= hay.length) return end();
    if (hay[i] !== 0x0d) return result('FORM_BAD_BOUNDARY', i);
    if (i + 1 >= hay.length) return end();
    if (hay[i + 1] !== 0x0a) return result('FORM_BAD_BOUNDARY', i + 1);
    const h = i + 2;
    const seg: Segment = {
      delimiter: pos,
      padding: hay.subarray(padFrom, i).toString('latin1'),
      block: undefined,
      headerStart: h - 2,
      bodyStart: -1,
    };
    segments.push(seg);
    if (segments.length > L.maxParts) return result('FORM_TOO_MANY_PARTS', h);
    // The header section: lines ending in CRLF up to an empty one, at most maxPartHeaderBytes.
    let j = h;
    let lineLen = 0;
    let afterCr = false;
    for (;;) {
      if (j >= hay.length) return end();
      if (j - h >= L.maxPartHeaderBytes)
        return result('FORM_PART_HEADERS_TOO_LARGE', h + L.maxPartHeaderBytes);
      const c = hay[j]!;
      j++;
      if (afterCr) {
        if (c !== 0x0a) return result('FORM_BAD_PART_HEADER', j - 1);
        afterCr = false;
        if (lineLen === 0) break;
        lineLen = 0;
      } else if (c === 0x0d) afterCr = true;
      else if (c === 0x0a) return result('FORM_BAD_PART_HEADER', j - 1);
      else lineLen++;
    }
    seg.block = new Uint8Array(hay.subarray(h, j - 2));
    seg.bodyStart = j - 2;
    const info = modelHeaders(seg.block);
    if ('code' in info) return result(info.code, h);
    const isFile = info.filename !== undefined;
    if (isFile && ++files > L.maxFiles) return result('FORM_TOO_MANY_FILES', h);
    if (!isFile && ++fields > L.maxFields) return result('FORM_TOO_MANY_FIELDS', h);
    const part: ModelPart = { ...info, body: new Uint8Array(0) };
    parts.push(part);
    const limit = isFile ? L.maxFileBytes : L.maxFieldBytes;
    const tooLarge = () => result(isFile ? 'FORM_FILE_TOO_LARGE' : 'FORM_FIELD_TOO_LARGE', j + limit);
    const next = hay.indexOf(needle, j);
    if (next === -1) {
      // Unterminated: the bytes that may begin a delimiter are held back, never delivered.
      let held = Math.min(needle.length - 1, hay.length - j);
      while (held > 0 && !hay.subarray(hay.length - held).equals(needle.subarray(0, held))) held--;
      part.body = new Uint8Array(hay.subarray(j, hay.length - held));
      if (part.body.length > limit) return tooLarge();
      return end();
    }
    part.body = new Uint8Array(hay.subarray(j, next));
    if (part.body.length > limit) return tooLarge();
    pos = next;
  }
}

// ---------------------------------------------------------------------------------------------
// Explaining a disagreement with busboy

interface BusboyUtils {
  parseDisposition(
    s: string,
    decoder: (v: string, hint: number) => string | undefined,
  ): { type: string; params: Record<string, string> } | undefined;
  parseContentType(s: string): { type: string; subtype: string; params: Record<string, string> } | undefined;
  getDecoder(charset: string): (v: string, hint: number) => string | undefined;
}
const busboyUtils = createRequire(import.meta.url)('busboy/lib/utils.js') as BusboyUtils;

/** busboy's reading of a Content-Disposition value (as `viaBusboy` configures it). */
export function busboyDisposition(
  value: string,
): { type: string; params: Record<string, string> } | undefined {
  return busboyUtils.parseDisposition(value, busboyUtils.getDecoder('utf8'));
}

/** Each known reason why busboy 1.6 and this parser read the same bytes differently (README table). */
export const Difference = {
  /** Transport padding after a boundary: RFC 2046 allows it; busboy drops the part that follows. */
  PADDING: 'transport padding after the boundary',
  /** Other bytes after `--boundary`: FORM_BAD_BOUNDARY here; busboy skips them and the part. */
  DELIMITER_GARBAGE: 'other bytes after --boundary',
  /** A control character in a header value: kept here; busboy rejects the form. */
  CONTROL: 'control character in a header value',
  /** obs-fold: FORM_BAD_PART_HEADER here; busboy unfolds. */
  OBS_FOLD: 'obs-fold in a part header',
  /** A second Content-Disposition or Content-Type: rejected here; busboy takes the first. */
  REPEATED_HEADER: 'repeated Content-Disposition / Content-Type',
  /** No Content-Disposition, or not form-data: rejected here; busboy skips the part. */
  NO_FORM_DATA: 'no form-data Content-Disposition',
  /** Malformed Content-Disposition parameters: rejected here; busboy skips the part. */
  DISPOSITION_MALFORMED: 'malformed Content-Disposition parameters',
  /** Whitespace around `=`, a trailing `;`: accepted here (RFC 2183); busboy skips the part. */
  DISPOSITION_LENIENT: 'whitespace around = or a trailing ; in Content-Disposition',
  /** No name parameter: rejected here; busboy reports an undefined name. */
  NO_NAME: 'no name parameter',
  /** filename* not UTF-8 / ISO-8859-1 or malformed: rejected here; busboy decodes or skips. */
  FILENAME_STAR: 'filename* (RFC 8187)',
  /** A malformed part Content-Type: rejected here; busboy falls back to text/plain. */
  CONTENT_TYPE: 'malformed part Content-Type',
  /** Whitespace around `=`, a trailing or empty (`;;`) parameter in a part Content-Type: accepted here; busboy falls back to text/plain. */
  CONTENT_TYPE_LENIENT: 'whitespace around = or a trailing or empty ; in a part Content-Type',
  /** A multipart/* part: rejected here; busboy delivers it. */
  NESTED: 'nested multipart',
  /**
   * A backslash in a quoted value: literal here in Content-Disposition (WHATWG), a quoted-pair in
   * Content-Type (RFC 9110); busboy unescapes only `\\` and `\"`, in both.
   */
  QUOTED_PAIR: 'backslash in a quoted parameter',
  /** `CRLF--boundary` inside a header block: a header line here; busboy's search ends the part. */
  DELIMITER_IN_HEADERS: 'delimiter inside a header block',
  /** Delimiters after the close delimiter: the epilogue is ignored here; busboy parses on within the chunk. */
  EPILOGUE: 'delimiters in the epilogue',
  /** A part body beginning with `--boundary`: data here; busboy takes the header's CRLF as the delimiter's. */
  BODY_STARTS_WITH_BOUNDARY: 'part body beginning with --boundary',
} as const;
export type Difference = (typeof Difference)[keyof typeof Difference];

function sameBusboyPart(a: BusboyPart, b: BusboyPart | undefined): boolean {
  if (b === undefined) return false;
  const bytes = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString('hex'));
  return (
    a.kind === b.kind &&
    a.name === b.name &&
    a.filename === b.filename &&
    a.mediaType === b.mediaType &&
    a.value === b.value &&
    bytes(a.body) === bytes(b.body)
  );
}

/**
 * Whether this parser and busboy agree on `body`: both reject it, or both accept it with the
 * same parts as `asBusboySees` maps ours.
 */
export function agreesWithBusboy(s: StrataResult, b: BusboyResult): boolean {
  if (s.error !== null || !b.ok) return s.error !== null && !b.ok;
  return (
    s.parts.length === b.parts.length && s.parts.every((p, i) => sameBusboyPart(asBusboySees(p), b.parts[i]))
  );
}

/**
 * The known difference that explains a disagreement with busboy, or null when none does (a bug in
 * one of the two). When busboy accepted, only the first part that differs is looked at (the parts
 * before it agree); when busboy rejected, every part is.
 */
export function explainBusboy(
  body: Uint8Array,
  boundary: string,
  s: StrataResult,
  b: BusboyResult,
): Difference | null {
  const m = model(body, boundary);
  let first = 0;
  if (b.ok)
    while (first < s.parts.length && sameBusboyPart(asBusboySees(s.parts[first]!), b.parts[first])) first++;
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const control = (block: Uint8Array) =>
    /[\x00-\x08\x0a-\x1f\x7f]/.test(Buffer.from(block).toString('latin1').replace(/\r\n/g, ''));
  const startsWithBoundary = (seg: Segment) =>
    Buffer.from(body.subarray(seg.bodyStart, seg.bodyStart + delimiter.length - 2)).equals(
      delimiter.subarray(2),
    );
  const inEpilogue = () => m.epilogue !== -1 && includes(body.subarray(m.epilogue), delimiter);
  if (!b.ok) {
    // busboy failed where we did not: the reasons it fails for
    for (const seg of m.segments) {
      if (seg.block === undefined) break;
      if (control(seg.block)) return Difference.CONTROL;
      if (includes(seg.block, delimiter)) return Difference.DELIMITER_IN_HEADERS;
      if (startsWithBoundary(seg)) return Difference.BODY_STARTS_WITH_BOUNDARY;
    }
    return inEpilogue() ? Difference.EPILOGUE : null;
  }
  for (const seg of m.segments.slice(first, first + 1)) {
    if (seg.padding !== '') return Difference.PADDING;
    const block = seg.block;
    if (block === undefined) break;
    const latin1 = Buffer.from(block).toString('latin1');
    if (control(block)) return Difference.CONTROL;
    if (includes(block, delimiter)) return Difference.DELIMITER_IN_HEADERS;
    const verdict = modelHeaders(block);
    if ('code' in verdict) {
      const why = {
        'obs-fold': Difference.OBS_FOLD,
        'repeated header': Difference.REPEATED_HEADER,
        'no disposition': Difference.NO_FORM_DATA,
        'not form-data': Difference.NO_FORM_DATA,
        'disposition params': Difference.DISPOSITION_MALFORMED,
        'no name': Difference.NO_NAME,
        'filename*': Difference.FILENAME_STAR,
        'content-type': Difference.CONTENT_TYPE,
        nested: Difference.NESTED,
      }[verdict.why];
      return why ?? null;
    }
    // Accepted here: does busboy read the Content-Disposition the same way? (busboy reads header
    // values as latin1 strings and decodes parameters as UTF-8 itself.)
    const cd = /^content-disposition:[ \t]*(.*?)[ \t]*$/im.exec(latin1)?.[1] ?? '';
    const theirs = busboyDisposition(cd);
    if (theirs === undefined || theirs.type !== 'form-data') {
      if (/"[^"]*\\"/.test(cd)) return Difference.QUOTED_PAIR; // `\"` is an escaped quote there
      if (/=[ \t]|[ \t]=|;[ \t]*$/.test(cd)) return Difference.DISPOSITION_LENIENT;
      return null;
    }
    if (/"[^"]*\\/.test(cd)) {
      const ourName = unescapeQuotedPairs(verdict.name);
      if (theirs.params.name !== (ourName === '' ? undefined : ourName)) return Difference.QUOTED_PAIR;
    }
    const ct = /^content-type:[ \t]*(.*?)[ \t]*$/im.exec(latin1)?.[1];
    if (ct !== undefined) {
      const theirType = busboyUtils.parseContentType(ct);
      if (theirType === undefined && /=[ \t]|[ \t]=|;[ \t]*$|;[ \t]*;/.test(ct))
        return Difference.CONTENT_TYPE_LENIENT;
      // busboy keeps a backslash before a character other than `\` and `"` (RFC 9110: a quoted-pair)
      const theirCharset = theirType?.params.charset?.toLowerCase();
      if (/"[^"]*\\/.test(ct) && theirCharset !== verdict.charset) return Difference.QUOTED_PAIR;
    }
    if (startsWithBoundary(seg)) return Difference.BODY_STARTS_WITH_BOUNDARY;
  }
  if (m.error?.code === 'FORM_BAD_BOUNDARY') return Difference.DELIMITER_GARBAGE;
  if (first === s.parts.length && inEpilogue()) return Difference.EPILOGUE;
  return null;
}
