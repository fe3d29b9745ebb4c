/**
 * The pull side of the form parsers: a request body (any async iterable of byte chunks) in, form
 * parts out as an async iterator, each part's content itself an async iterator. Nothing is read
 * ahead of the consumer: the next body chunk is pulled from the source only when the part being
 * read (or the iterator of parts) has nothing left, so a slow consumer slows the producer down
 * (backpressure) and at most one source chunk is held at a time.
 */
import { FormError, FormErrorCode } from './_errors';
import { type MultipartLimits, MultipartParser } from './_multipart';
import { type PartInfo, parseContentType } from './_part-headers';
import { type UrlEncodedLimits, UrlEncodedParser } from './_urlencoded';

/**
 * Limits of a form body, whichever its media type: the multipart limits apply to a
 * `multipart/form-data` body, the urlencoded ones to an `application/x-www-form-urlencoded` body
 * (`maxFields` and `maxTotalBytes` to both). Unset ones keep their defaults.
 */
export type FormLimits = Partial<MultipartLimits & UrlEncodedLimits>;

/** The source of a form body: chunks of bytes, in order (a request, a Node stream, a fetch body). */
export type FormSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * One part of a form: what it declares about itself (`PartInfo`) and its content, read once, in
 * one of three ways: as chunks (`for await`), whole (`bytes()`), or as text (`text()`).
 *
 * Read a part before asking for the next one: a part left unread when the iterator of parts moves
 * on is skipped (its bytes are dropped as they are parsed, never buffered), and reading it later
 * throws `ERR_FORM_PART_SKIPPED`.
 */
export interface FormPart extends PartInfo, AsyncIterable<Uint8Array> {
  /** Whether the part is a file (it has a `filename` or `filename*` parameter). */
  readonly isFile: boolean;
  /** The whole content (bounded by `maxFileBytes` or `maxFieldBytes`). */
  bytes(): Promise<Uint8Array>;
  /**
   * The content decoded as text: by the part's `charset`, else by the value of a preceding
   * `_charset_` field (RFC 7578 section 4.6), else UTF-8; invalid sequences become U+FFFD.
   */
  text(): Promise<string>;
}

const Ev = { Start: 0, Data: 1, End: 2 } as const;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** The part of TextDecoder used here (the global's type is a value in this package's libs). */
interface Decoder {
  decode(input: Uint8Array): string;
}
const decoders = new Map<string, Decoder>();

function decoderFor(label: string | undefined): Decoder {
  const key = label ?? 'utf-8';
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key);
    } catch {
      d = decoderFor(undefined); // an unknown charset label: RFC 7578 section 5.1.2 says UTF-8
    }
    if (decoders.size < 64) decoders.set(key, d);
  }
  return d;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    out.set(chunks[i]!, at);
    at += chunks[i]!.length;
  }
  return out;
}

function skipped(): Error {
  const err = new Error('this form part was skipped: read each part before asking for the next one');
  (err as Error & { code: string }).code = 'ERR_FORM_PART_SKIPPED';
  return err;
}

/** Which parser a `Content-Type` selects; throws `FORM_UNSUPPORTED_MEDIA_TYPE` (415) for any other. */
function mediaKind(contentType: string | undefined): 'urlencoded' | string {
  if (contentType === undefined) {
    throw new FormError(FormErrorCode.FORM_UNSUPPORTED_MEDIA_TYPE, -1, 'no Content-Type');
  }
  const semi = contentType.indexOf(';');
  const essence = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (essence === 'application/x-www-form-urlencoded') return 'urlencoded';
  return parseContentType(contentType).boundary; // multipart/form-data, or 415 / 400
}

/**
 * Drives one body through its parser. Events (part start, data, part end) are queued as the
 * parser reports them for one source chunk; the queue never holds more than one chunk's worth.
 * @internal
 */
class FormReader {
  private readonly source: Iterator<Uint8Array> | AsyncIterator<Uint8Array>;
  private readonly multipart: MultipartParser | null;
  private readonly urlencoded: UrlEncodedParser | null;
  /** Event kinds and payloads (PartInfo, a view, or null), from `head`. */
  private kinds: number[] = [];
  private items: (PartInfo | Uint8Array | null)[] = [];
  private head = 0;
  /** The chunk being parsed: a data view of it needs no copy (the source does not reuse it). */
  private chunk: Uint8Array = EMPTY;
  private sourceDone = false;
  private error: unknown = null;
  private pulling: Promise<void> | null = null;
  /** The charset named by a `_charset_` field, for the text fields after it. */
  charset: string | undefined = undefined;
  /** Parts handed out so far (a part compares its number to know whether it was skipped). */
  partNo = 0;

  constructor(source: FormSource, contentType: string | undefined, limits: FormLimits) {
    const kind = mediaKind(contentType);
    const s = source as Partial<AsyncIterable<Uint8Array>> & Partial<Iterable<Uint8Array>>;
    const asyncIt = s[Symbol.asyncIterator];
    this.source = asyncIt !== undefined ? asyncIt.call(source) : s[Symbol.iterator]!.call(source);
    if (kind === 'urlencoded') {
      this.multipart = null;
      this.urlencoded = new UrlEncodedParser((name, value) => this.field(name, value), limits);
    } else {
      this.urlencoded = null;
      this.multipart = new MultipartParser(
        kind,
        {
          onPartStart: (info) => this.push(Ev.Start, info),
          onPartData: (view) => this.push(Ev.Data, this.keep(view)),
          onPartEnd: () => this.push(Ev.End, null),
          onEnd() {},
        },
        limits,
      );
    }
  }

  private push(kind: number, item: PartInfo | Uint8Array | null): void {
    this.kinds.push(kind);
    this.items.push(item);
  }

  /** A view into the current chunk stays valid; one into the parser's lookbehind is copied. */
  private keep(view: Uint8Array): Uint8Array {
    const c = this.chunk;
    if (view.buffer === c.buffer && view.byteOffset >= c.byteOffset) {
      if (view.byteOffset + view.length <= c.byteOffset + c.length) return view;
    }
    return view.slice();
  }

  private field(name: string, value: string): void {
    const info: PartInfo & { value: string } = {
      name,
      filename: undefined,
      mediaType: 'text/plain',
      charset: undefined,
      headers: [],
      value,
    };
    this.push(Ev.Start, info);
    this.push(Ev.End, null);
  }

  /** The next event kind, pulling from the source as needed; -1 at the end of the body. */
  async peek(): Promise<number> {
    while (this.head === this.kinds.length) {
      if (this.error !== null) throw this.error;
      if (this.sourceDone) return -1;
      await this.pull();
    }
    return this.kinds[this.head]!;
  }

  /** The next event kind if one is queued, else -2 (no pull: the caller awaits `peek()` then). */
  peekQueued(): number {
    return this.head < this.kinds.length ? this.kinds[this.head]! : -2;
  }

  /** The payload of the event `peek()` returned, which it removes. */
  take(): PartInfo | Uint8Array | null {
    const item = this.items[this.head]!;
    this.items[this.head] = null;
    this.head++;
    if (this.head === this.kinds.length) {
      this.kinds.length = 0;
      this.items.length = 0;
      this.head = 0;
    }
    return item;
  }

  private pull(): Promise<void> {
    if (this.pulling === null) {
      this.pulling = this.pullOnce().finally(() => {
        this.pulling = null;
      });
    }
    return this.pulling;
  }

  private async pullOnce(): Promise<void> {
    try {
      const r = await this.source.next();
      if (r.done === true) {
        this.sourceDone = true;
        this.chunk = EMPTY;
        if (this.multipart !== null) this.multipart.end();
        else this.urlencoded!.end();
        return;
      }
      const chunk = r.value;
      this.chunk = chunk;
      if (this.multipart !== null) this.multipart.write(chunk);
      else this.urlencoded!.write(chunk);
      this.chunk = EMPTY;
    } catch (err) {
      this.error = err;
      // Stop the source: nothing more of this body will be read.
      this.close();
      throw err;
    }
  }

  /** Releases the source (its `return()`), once. */
  close(): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    const src = this.source as { return?: () => unknown };
    if (src.return !== undefined) {
      try {
        const p = src.return();
        if (p instanceof Promise) p.catch(() => {});
      } catch {
        // a source that fails to close has nothing more to give us either
      }
    }
  }
}

/** @internal */
class Part implements FormPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly mediaType: string;
  readonly charset: string | undefined;
  readonly headers: string[];
  readonly isFile: boolean;
  /** @internal */ readonly _reader: FormReader;
  /** @internal */ readonly _no: number;
  /** @internal the urlencoded field's value (no bytes to read). */
  readonly _value: string | undefined;
  /** @internal the content was read (or skipped): a second read throws. */
  _used = false;
  /** @internal the part's end was taken from the reader. */
  _ended = false;

  constructor(reader: FormReader, info: PartInfo, no: number) {
    this.name = info.name;
    this.filename = info.filename;
    this.mediaType = info.mediaType;
    this.charset = info.charset;
    this.headers = info.headers;
    this.isFile = info.filename !== undefined;
    this._reader = reader;
    this._no = no;
    this._value = (info as { value?: string }).value;
  }

  private claim(): void {
    if (this._no !== this._reader.partNo) throw skipped();
    if (this._used) throw new Error('this form part was already read');
    this._used = true;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    this.claim();
    if (this._value !== undefined) {
      if (this._value.length > 0) yield encoder.encode(this._value);
      return;
    }
    const reader = this._reader;
    while (!this._ended) {
      const kind = await reader.peek();
      if (this._no !== reader.partNo) throw skipped();
      if (kind === Ev.Data) yield reader.take() as Uint8Array;
      else {
        // Ev.End (a Start or the end of the body cannot come first: the parser ends each part)
        reader.take();
        this._ended = true;
      }
    }
  }

  async bytes(): Promise<Uint8Array> {
    this.claim();
    if (this._value !== undefined) return encoder.encode(this._value);
    // The events already queued are taken without awaiting (a small field usually arrived whole
    // with its chunk); the reader is awaited only when the queue runs dry.
    const reader = this._reader;
    let first: Uint8Array | null = null;
    let more: Uint8Array[] | null = null;
    let total = 0;
    while (!this._ended) {
      let kind = reader.peekQueued();
      if (kind === -2) kind = await reader.peek();
      if (this._no !== reader.partNo) throw skipped();
      const item = reader.take();
      if (kind !== Ev.Data) {
        this._ended = true;
        break;
      }
      const chunk = item as Uint8Array;
      total += chunk.length;
      if (first === null) first = chunk;
      else if (more === null) more = [first, chunk];
      else more.push(chunk);
    }
    if (more !== null) return concat(more, total);
    return first === null ? new Uint8Array(0) : first;
  }

  async text(): Promise<string> {
    if (this._value !== undefined) {
      this.claim();
      return this._value;
    }
    const bytes = await this.bytes();
    return decoderFor(this.charset ?? this._reader.charset).decode(bytes);
  }
}

/**
 * The parts of a form body, in order, as they arrive: `multipart/form-data` (each field or file a
 * part with its content streamed) or `application/x-www-form-urlencoded` (each field a part whose
 * `text()` is its value). The body is pulled from `source` only as fast as the parts are read.
 *
 * Throws (from the iteration or from a part's read) a {@link FormError} with `code`, `status`
 * (400, 413, 415) and `offset` for a malformed body, a limit, or a `contentType` that is neither
 * form type (415); the source is then released. Source chunks are kept as views (never copied):
 * the source must not reuse a chunk's memory after yielding it (Node streams, fetch bodies and
 * `@strata/server` requests never do).
 *
 * @example
 * ```ts
 * import { parts } from '@strata/forms';
 *
 * const body = new Response(form); // any async iterable of Uint8Array chunks
 * for await (const part of parts(body.body!, body.headers.get('content-type')!)) {
 *   if (part.isFile) {
 *     let size = 0;
 *     for await (const chunk of part) size += chunk.length; // streamed, never held whole
 *     console.log(part.name, part.filename, part.mediaType, size);
 *   } else {
 *     console.log(part.name, await part.text());
 *   }
 * }
 * ```
 */
export async function* parts(
  source: FormSource,
  contentType: string | undefined,
  limits: FormLimits = {},
): AsyncGenerator<FormPart, void, undefined> {
  const reader = new FormReader(source, contentType, limits);
  let current: Part | null = null;
  try {
    for (;;) {
      if (current !== null && !current._ended) {
        // The consumer moved on: drop the rest of the current part as it is parsed.
        current._used = true;
        for (;;) {
          const kind = await reader.peek();
          reader.take();
          if (kind === Ev.End) break;
        }
        current._ended = true;
      }
      const kind = await reader.peek();
      if (kind === -1) return;
      const info = reader.take() as PartInfo;
      const no = ++reader.partNo;
      current = new Part(reader, info, no);
      if (current._value !== undefined) {
        // An urlencoded field: its End is queued right behind its Start.
        reader.take();
        current._ended = true;
      } else if (!current.isFile && info.name === '_charset_') {
        // RFC 7578 section 4.6: the value of a `_charset_` field is the charset of the text fields
        // after it that declare none. Read it here (a field: at most maxFieldBytes) and hand the
        // consumer a part holding its value.
        const value = (await current.text()).trim();
        if (value.length > 0) reader.charset = value;
        current = new Part(reader, { ...info, value } as PartInfo, no);
        current._ended = true;
      }
      yield current;
    }
  } finally {
    reader.partNo = -1;
    reader.close();
  }
}

/**
 * The whole form as a Web `FormData`: text fields as strings (decoded as {@link FormPart.text}
 * says), files as `File` objects (name, type and bytes). Files are held in memory, bounded by the
 * limits (`maxFileBytes`, `maxFiles`, `maxTotalBytes`); to keep a large upload out of memory,
 * stream it with {@link parts} instead.
 *
 * Throws a {@link FormError} as {@link parts} does.
 *
 * @example
 * ```ts
 * import { formData } from '@strata/forms';
 *
 * const body = new TextEncoder().encode('name=Ada&lang=en');
 * const form = await formData([body], 'application/x-www-form-urlencoded');
 * console.log(form.get('name')); // 'Ada'
 * ```
 */
export async function formData(
  source: FormSource,
  contentType: string | undefined,
  limits: FormLimits = {},
): Promise<FormData> {
  const form = new FormData();
  for await (const part of parts(source, contentType, limits)) {
    if (part.isFile) {
      // A view of an ArrayBuffer-backed chunk (never a SharedArrayBuffer: sources yield plain bytes).
      const bytes = (await part.bytes()) as Uint8Array<ArrayBuffer>;
      form.append(part.name, new File([bytes], part.filename!, { type: part.mediaType }));
    } else {
      form.append(part.name, await part.text());
    }
  }
  return form;
}
