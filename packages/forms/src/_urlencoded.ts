import { FormError, FormErrorCode } from './_errors';
import { checkLimit } from './_limits';

/**
 * Limits of the `application/x-www-form-urlencoded` parser. Every size counts raw body bytes, as
 * they arrive (before `+` and percent-decoding), so `%41` counts 3 bytes. Each may be `Infinity`.
 */
export interface UrlEncodedLimits {
  /** Most fields (non-empty `&`-separated sequences; empty ones are skipped). Over it: `FORM_TOO_MANY_FIELDS`. */
  maxFields: number;
  /** Most raw bytes in one field name (before the first `=`). Over it: `FORM_FIELD_TOO_LARGE`. */
  maxFieldNameBytes: number;
  /** Most raw bytes in one field value (after the first `=`). Over it: `FORM_FIELD_TOO_LARGE`. */
  maxFieldValueBytes: number;
  /** Most raw bytes in the whole body. Over it: `FORM_TOO_LARGE`. */
  maxTotalBytes: number;
}

/** The default limits: 1000 fields, 1 KiB names, 1 MiB values, 2 MiB in all. */
export const DEFAULT_URLENCODED_LIMITS: Readonly<UrlEncodedLimits> = Object.freeze({
  maxFields: 1000,
  maxFieldNameBytes: 1024,
  maxFieldValueBytes: 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024,
});

/** Receives each field, in body order, as soon as its terminating `&` (or the end) is seen. */
export type UrlEncodedFieldHandler = (name: string, value: string) => void;

// Bytes, named.
const AMPERSAND = 0x26; // '&'
const EQUALS = 0x3d; // '='
const PERCENT = 0x25; // '%'
const PLUS = 0x2b; // '+'
const SPACE = 0x20; // ' '

/** Hex digit value of each byte, or -1: '0'-'9', 'A'-'F', 'a'-'f'. */
const HEX = /* @__PURE__ */ (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0x30; c <= 0x39; c++) t[c] = c - 0x30; // '0'..'9'
  for (let c = 0x41; c <= 0x46; c++) t[c] = c - 0x41 + 10; // 'A'..'F'
  for (let c = 0x61; c <= 0x66; c++) t[c] = c - 0x61 + 10; // 'a'..'f'
  return t;
})();

/** Which half of the current sequence bytes go to. */
const Part = { NAME: 0, VALUE: 1 } as const;
type Part = (typeof Part)[keyof typeof Part];

/** Where a percent escape stands: none pending, `%` seen, `%` and one hex digit seen. */
const Escape = { NONE: 0, PERCENT: 1, PERCENT_HEX: 2 } as const;
type Escape = (typeof Escape)[keyof typeof Escape];

/**
 * A streaming `application/x-www-form-urlencoded` parser, exactly the WHATWG URL standard's
 * "application/x-www-form-urlencoded parser": split on `&` (empty sequences skipped), the first `=`
 * splits name from value, `+` becomes a space, `%XX` is percent-decoded (a `%` not followed by two
 * hex digits stays as it is), and each name and value is UTF-8 decoded without BOM stripping,
 * invalid sequences becoming U+FFFD. Chunks may split the body anywhere, inside an escape or a
 * multi-byte character included: the fields are the same for every chunking.
 *
 * Errors: `write` and `end` throw a {@link FormError} (code, HTTP status, byte offset) when the body
 * breaks a limit; that is the only thing they throw for any input. Fields before the offending byte
 * have been delivered. After an error the parser is failed: `write` and `end` throw the same error
 * again until `reset()`. Malformed escapes and invalid UTF-8 are not errors (the standard defines
 * their result).
 *
 * Pure: no I/O; the chunk is only read during the `write` call.
 *
 * @example
 * const fields: [string, string][] = [];
 * const parser = new UrlEncodedParser((name, value) => fields.push([name, value]), { maxFields: 100 });
 * parser.write(new TextEncoder().encode('name=J%C3%B6rg&tags=a+b&ta'));
 * parser.write(new TextEncoder().encode('gs=c'));
 * parser.end();
 * // fields: [['name', 'Jörg'], ['tags', 'a b'], ['tags', 'c']]
 */
export class UrlEncodedParser {
  /** The limits in force (defaults filled in). */
  readonly limits: Readonly<UrlEncodedLimits>;
  /** The error that failed the parser, or `null`. */
  error: FormError | null = null;

  private readonly onField: UrlEncodedFieldHandler;
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** Decoded bytes of the current sequence: name in `[0, nameEnd)`, value in `[nameEnd, len)`. */
  private buf = new Uint8Array(64);
  private len = 0;
  private nameEnd = 0;
  /** Raw bytes of the current name and value, against the limits. */
  private nameRaw = 0;
  private valueRaw = 0;
  private part: Part = Part.NAME;
  private escape: Escape = Escape.NONE;
  /** The raw hex digit byte after `%` while `escape` is `PERCENT_HEX`. */
  private hexByte = 0;
  /** The current sequence has at least one byte (it will be a field). */
  private started = false;
  private fields = 0;
  /** Bytes consumed before the current chunk. */
  private offset = 0;

  /**
   * @param onField called with each decoded field, in order.
   * @param limits overrides of {@link DEFAULT_URLENCODED_LIMITS}. Throws `RangeError` on a limit that
   *   is not a non-negative integer or `Infinity`.
   */
  constructor(onField: UrlEncodedFieldHandler, limits: Partial<UrlEncodedLimits> = {}) {
    const d = DEFAULT_URLENCODED_LIMITS;
    this.onField = onField;
    this.limits = Object.freeze({
      maxFields: checkLimit('maxFields', limits.maxFields ?? d.maxFields),
      maxFieldNameBytes: checkLimit('maxFieldNameBytes', limits.maxFieldNameBytes ?? d.maxFieldNameBytes),
      maxFieldValueBytes: checkLimit('maxFieldValueBytes', limits.maxFieldValueBytes ?? d.maxFieldValueBytes),
      maxTotalBytes: checkLimit('maxTotalBytes', limits.maxTotalBytes ?? d.maxTotalBytes),
    });
  }

  /** Bytes consumed since construction or the last `end()`/`reset()`. */
  get bytesRead(): number {
    return this.offset;
  }

  /**
   * Parses the next chunk of the body, calling `onField` for each field it completes.
   * Throws {@link FormError} when a limit is broken (see the class description).
   */
  write(chunk: Uint8Array): void {
    if (this.error !== null) throw this.error;
    const room = this.limits.maxTotalBytes - this.offset;
    if (chunk.length > room) {
      // Parse up to the limit so the outcome does not depend on how the body was split.
      this.scan(chunk, room);
      this.fail(FormErrorCode.FORM_TOO_LARGE, this.limits.maxTotalBytes, 'form body too large');
    }
    this.scan(chunk, chunk.length);
  }

  /**
   * Ends the body: delivers the last field (if any), then leaves the parser ready for a new body.
   * Throws the stored {@link FormError} if the parser failed.
   */
  end(): void {
    if (this.error !== null) throw this.error;
    this.endSequence();
    this.offset = 0;
    this.fields = 0;
  }

  /** Forgets the current body and any error; the next `write` starts a new body. */
  reset(): void {
    this.error = null;
    this.len = 0;
    this.nameEnd = 0;
    this.nameRaw = 0;
    this.valueRaw = 0;
    this.part = Part.NAME;
    this.escape = Escape.NONE;
    this.started = false;
    this.fields = 0;
    this.offset = 0;
  }

  private fail(code: FormErrorCode, offset: number, reason: string): never {
    this.error = new FormError(code, offset, reason);
    throw this.error;
  }

  /** Parses `chunk[0, n)`. */
  private scan(chunk: Uint8Array, n: number): void {
    const base = this.offset;
    const limits = this.limits;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (b === AMPERSAND) {
        this.endSequence();
        continue;
      }
      if (!this.started) {
        this.started = true;
        if (++this.fields > limits.maxFields) {
          this.offset = base + i;
          this.fail(FormErrorCode.FORM_TOO_MANY_FIELDS, base + i, 'too many form fields');
        }
      }
      if (this.part === Part.NAME) {
        if (b === EQUALS) {
          this.flushEscape();
          this.nameEnd = this.len;
          this.part = Part.VALUE;
          continue;
        }
        if (++this.nameRaw > limits.maxFieldNameBytes) {
          this.offset = base + i;
          this.fail(FormErrorCode.FORM_FIELD_TOO_LARGE, base + i, 'form field name too large');
        }
      } else if (++this.valueRaw > limits.maxFieldValueBytes) {
        this.offset = base + i;
        this.fail(FormErrorCode.FORM_FIELD_TOO_LARGE, base + i, 'form field value too large');
      }
      if (this.escape === Escape.NONE && b !== PERCENT && b !== PLUS && this.len < this.buf.length) {
        // the common byte: taken as it is
        this.buf[this.len++] = b;
        continue;
      }
      this.byte(b);
    }
    this.offset = base + n;
  }

  /** One byte of a name or value (not a delimiter): `+` replacement and percent-decoding. */
  private byte(b: number): void {
    if (this.escape === Escape.PERCENT) {
      const h = HEX[b]!;
      if (h >= 0) {
        this.hexByte = b;
        this.escape = Escape.PERCENT_HEX;
        return;
      }
      // '%' not followed by a hex digit: it stays, and this byte is read normally
      this.escape = Escape.NONE;
      this.push(PERCENT);
    } else if (this.escape === Escape.PERCENT_HEX) {
      const lo = HEX[b]!;
      this.escape = Escape.NONE;
      if (lo >= 0) {
        this.push(HEX[this.hexByte]! * 16 + lo);
        return;
      }
      this.push(PERCENT);
      this.push(this.hexByte);
    }
    if (b === PERCENT) this.escape = Escape.PERCENT;
    else this.push(b === PLUS ? SPACE : b);
  }

  /** An escape cut short by a delimiter or the end stays as it was written. */
  private flushEscape(): void {
    if (this.escape === Escape.NONE) return;
    this.push(PERCENT);
    if (this.escape === Escape.PERCENT_HEX) this.push(this.hexByte);
    this.escape = Escape.NONE;
  }

  private push(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  /** At `&` or the end: delivers the sequence if it had any byte, then starts a new one. */
  private endSequence(): void {
    if (!this.started) return;
    this.flushEscape();
    if (this.part === Part.NAME) this.nameEnd = this.len;
    const name = this.decode(0, this.nameEnd);
    const value = this.decode(this.nameEnd, this.len);
    this.len = 0;
    this.nameEnd = 0;
    this.nameRaw = 0;
    this.valueRaw = 0;
    this.part = Part.NAME;
    this.started = false;
    this.onField(name, value);
  }

  /** UTF-8 decode without BOM (kept, not stripped), invalid sequences to U+FFFD. */
  private decode(start: number, end: number): string {
    if (start === end) return '';
    const buf = this.buf;
    // ASCII fast path for short strings: no decoder call
    if (end - start <= 32) {
      let s = '';
      for (let i = start; i < end; i++) {
        const b = buf[i]!;
        if (b >= 0x80) return this.decoder.decode(buf.subarray(start, end));
        s += String.fromCharCode(b);
      }
      return s;
    }
    return this.decoder.decode(buf.subarray(start, end));
  }
}

const encoder = /* @__PURE__ */ new TextEncoder();

/**
 * Parses a whole `application/x-www-form-urlencoded` body into `[name, value]` pairs, in order,
 * duplicates kept. A string is UTF-8 encoded first (lone surrogates become U+FFFD), as
 * `new URLSearchParams(string)` does (without its leading-`?` stripping).
 *
 * Throws {@link FormError} when the body breaks a limit (defaults: {@link DEFAULT_URLENCODED_LIMITS}).
 *
 * @example
 * parseUrlEncoded('a=1&b=%F0%9F%99%82&a=x+y');
 * // [['a', '1'], ['b', '\u{1F642}'], ['a', 'x y']]
 * const byName = new Map(parseUrlEncoded(body, { maxFields: 20 }));
 */
export function parseUrlEncoded(
  input: Uint8Array | string,
  limits?: Partial<UrlEncodedLimits>,
): [name: string, value: string][] {
  const out: [string, string][] = [];
  const parser = new UrlEncodedParser((name, value) => {
    out.push([name, value]);
  }, limits);
  parser.write(typeof input === 'string' ? encoder.encode(input) : input);
  parser.end();
  return out;
}
