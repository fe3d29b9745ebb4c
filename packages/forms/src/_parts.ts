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
  /** The source is exhausted (or released). */
  sourceDone = false;
  /** What failed the body (a FormError, or the source's own error), once it happened. */
  error: unknown = null;
  /** The body is urlencoded (its fields carry their value; no `_charset_` rule). */
  readonly urlencodedBody: boolean;
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
    this.urlencodedBody = kind === 'urlencoded';
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

  /** The payload of the next queued event, left in the queue (the caller checked one is queued). */
  peekItem(): PartInfo | Uint8Array | null {
    return this.items[this.head]!;
  }

  /** Whether the part whose start is next in the queue has its end queued too. */
  partQueued(): boolean {
    const kinds = this.kinds;
    for (let i = this.head + 1; i < kinds.length; i++) if (kinds[i] === Ev.End) return true;
    return false;
  }

  /** Parses one more chunk of the source (nothing once it is exhausted); throws what failed the body. */
  async more(): Promise<void> {
    if (this.error !== null) throw this.error;
    if (!this.sourceDone) await this.pull();
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
  // What bytes() gathered so far.
  private first: Uint8Array | null = null;
  private more: Uint8Array[] | null = null;
  private total = 0;

  constructor(reader: FormReader, info: PartInfo, no: number, value?: string) {
    this.name = info.name;
    this.filename = info.filename;
    this.mediaType = info.mediaType;
    this.charset = info.charset;
    this.headers = info.headers;
    this.isFile = info.filename !== undefined;
    this._reader = reader;
    this._no = no;
    this._value = value ?? (info as { value?: string }).value;
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
      let kind = reader.peekQueued();
      if (kind === -2) kind = await reader.peek();
      if (this._no !== reader.partNo) throw skipped();
      if (kind === Ev.Data) yield reader.take() as Uint8Array;
      else {
        // Ev.End (a Start or the end of the body cannot come first: the parser ends each part)
        reader.take();
        this._ended = true;
      }
    }
  }

  /**
   * Takes the part's queued events into `first` / `more` without awaiting; true once its end was
   * taken (the content is complete), false when the queue ran dry first.
   */
  private gather(): boolean {
    const reader = this._reader;
    for (;;) {
      const kind = reader.peekQueued();
      if (kind === -2) return false;
      const item = reader.take();
      if (kind !== Ev.Data) {
        this._ended = true;
        return true;
      }
      const chunk = item as Uint8Array;
      this.total += chunk.length;
      if (this.first === null) this.first = chunk;
      else if (this.more === null) this.more = [this.first, chunk];
      else this.more.push(chunk);
    }
  }

  private gathered(): Uint8Array {
    const out = this.more !== null ? concat(this.more, this.total) : (this.first ?? new Uint8Array(0));
    this.first = null;
    this.more = null;
    return out;
  }

  private async gatherSlow(): Promise<Uint8Array> {
    const reader = this._reader;
    while (!this.gather()) {
      await reader.peek();
      if (this._no !== reader.partNo) throw skipped();
    }
    return this.gathered();
  }

  /** @internal the content when it is all queued already (after claim), else null. */
  _bytesNow(): Uint8Array | null {
    return this.gather() ? this.gathered() : null;
  }

  bytes(): Promise<Uint8Array> {
    try {
      this.claim();
    } catch (err) {
      return Promise.reject(err);
    }
    if (this._value !== undefined) return Promise.resolve(encoder.encode(this._value));
    // A small field usually arrived whole with its chunk: no await at all then.
    if (this.gather()) return Promise.resolve(this.gathered());
    return this.gatherSlow();
  }

  text(): Promise<string> {
    try {
      this.claim();
    } catch (err) {
      return Promise.reject(err);
    }
    if (this._value !== undefined) return Promise.resolve(this._value);
    const decoder = decoderFor(this.charset ?? this._reader.charset);
    if (this.gather()) return Promise.resolve(decoder.decode(this.gathered()));
    return this.gatherSlow().then((bytes) => decoder.decode(bytes));
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The iterator `parts()` returns. `next()` answers from the queued events without awaiting when it
 * can (the common case: many small parts in one chunk), and pulls from the source only when the
 * queue runs dry. @internal
 */
class PartsIterator implements AsyncIterableIterator<FormPart> {
  private readonly reader: FormReader;
  private current: Part | null = null;
  private finished = false;

  constructor(reader: FormReader) {
    this.reader = reader;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<FormPart>> {
    if (this.finished) return Promise.resolve(DONE);
    try {
      const part = this.advance();
      if (part !== null) return Promise.resolve({ done: false, value: part });
      if (this.finished) return Promise.resolve(DONE);
    } catch (err) {
      this.finish();
      return Promise.reject(err);
    }
    return this.nextSlow();
  }

  private async nextSlow(): Promise<IteratorResult<FormPart>> {
    try {
      for (;;) {
        await this.reader.more();
        const part = this.advance();
        if (part !== null) return { done: false, value: part };
        if (this.finished) return DONE;
      }
    } catch (err) {
      this.finish();
      throw err;
    }
  }

  /**
   * Moves past the current part and hands out the next one from the queue; null when the queue
   * ran dry first (or the body ended: `finished`). Throws the parse error once the queue is empty.
   */
  private advance(): Part | null {
    const reader = this.reader;
    const cur = this.current;
    if (cur !== null && !cur._ended) {
      // The consumer moved on: drop the rest of the current part as it is parsed.
      cur._used = true;
      for (;;) {
        const kind = reader.peekQueued();
        if (kind === -2) return this.dry();
        reader.take();
        if (kind === Ev.End) break;
      }
      cur._ended = true;
    }
    if (reader.peekQueued() === -2) return this.dry();
    const info = reader.peekItem() as PartInfo;
    const charsetField = info.filename === undefined && info.name === '_charset_' && !reader.urlencodedBody;
    // RFC 7578 section 4.6: the value of a `_charset_` field is the charset of the text fields after
    // it that declare none. It is read here (a field: at most maxFieldBytes), once all of it is
    // queued, and the consumer gets a part holding its value.
    if (charsetField && !reader.partQueued()) return this.dry();
    reader.take();
    const no = ++reader.partNo;
    let part = new Part(reader, info, no);
    if (part._value !== undefined) {
      // An urlencoded field: its End is queued right behind its Start.
      reader.take();
      part._ended = true;
    } else if (charsetField) {
      part._used = true;
      const bytes = part._bytesNow()!;
      const value = decoderFor(info.charset).decode(bytes).trim();
      if (value.length > 0) reader.charset = value;
      part = new Part(reader, info, no, value);
      part._ended = true;
    }
    this.current = part;
    return part;
  }

  /** The queue is empty: the parse error if there is one, the end of the body, or null (pull). */
  private dry(): null {
    const reader = this.reader;
    if (reader.error !== null) throw reader.error;
    if (reader.sourceDone) this.finish();
    return null;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.reader.partNo = -1;
    this.reader.close();
  }

  return(): Promise<IteratorResult<FormPart>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<FormPart>> {
    this.finish();
    return Promise.reject(err);
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
export function parts(
  source: FormSource,
  contentType: string | undefined,
  limits: FormLimits = {},
): AsyncIterableIterator<FormPart> {
  let reader: FormReader;
  try {
    reader = new FormReader(source, contentType, limits);
  } catch (err) {
    // A Content-Type refused before anything is read: the iteration rejects with it.
    return failed(err);
  }
  return new PartsIterator(reader);
}

/** An iterator whose first `next()` rejects with `err`, then is done. */
function failed(err: unknown): AsyncIterableIterator<FormPart> {
  let thrown = false;
  const it: AsyncIterableIterator<FormPart> = {
    [Symbol.asyncIterator]: () => it,
    next() {
      if (thrown) return Promise.resolve(DONE);
      thrown = true;
      return Promise.reject(err);
    },
    return: () => Promise.resolve(DONE),
  };
  return it;
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
