/**
 * Byte helpers of the inspector: where a request head ends in the bytes the transport reported,
 * where a chunked body ends, and masking of secret header values. None of them validates: the
 * server's own parser has already accepted these bytes (or refused them and said where). They only
 * delimit what the parser delimited, because the channels report the bytes of a connection as one
 * stream and each request's stream offsets are not published (see the README, "Limits").
 */

/** Bytes of a header name the inspector masks by default (compared lower-case). */
export const DEFAULT_MASKED_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
]);

const CR = 13; // '\r'
const LF = 10; // '\n'
const COLON = 58; // ':'
const SP = 32; // ' '
const HTAB = 9; // '\t'
const STAR = 42; // '*'

/**
 * Index just past the empty line that ends a head starting at `from` in `bytes[from, to)`, or -1
 * when it has not arrived. Empty lines before the request line (RFC 9112 section 2.2 lets a server
 * ignore them) belong to the head. Lines end in CRLF; a bare LF is taken too, as a lenient parser would.
 */
export function headEnd(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  // Leading empty lines.
  for (;;) {
    if (i < to && bytes[i] === CR && i + 1 < to && bytes[i + 1] === LF) i += 2;
    else if (i < to && bytes[i] === LF) i += 1;
    else break;
  }
  for (; i < to; i++) {
    if (bytes[i] !== LF) continue;
    // A line ended at i: an empty line follows when the next byte is LF, or CR LF.
    const n = i + 1;
    if (n < to && bytes[n] === LF) return n + 1;
    if (n + 1 < to && bytes[n] === CR && bytes[n + 1] === LF) return n + 2;
  }
  return -1;
}

const State = {
  SIZE: 0,
  EXT: 1,
  DATA: 2,
  DATA_END: 3,
  TRAILER_START: 4,
  TRAILER_LINE: 5,
  DONE: 6,
} as const;
type StateValue = (typeof State)[keyof typeof State];

/**
 * Follows a chunked body (RFC 9112 section 7.1) only far enough to know where it ends: chunk-size
 * lines, skipped data, the last chunk and the trailer section. Data bytes are skipped by count.
 */
export class ChunkedEnd {
  private state: StateValue = State.SIZE;
  private size = 0;
  private left = 0;
  private seen = 0;
  /** Bytes of the body before its trailer section (after the last chunk's size line); -1 until then. */
  trailerStart = -1;
  /** Whether the body has ended (its last byte was given to {@link feed}). */
  get done(): boolean {
    return this.state === State.DONE;
  }

  /** Reads `bytes[from, to)`; returns the index just past the body's end, or `to` when it goes on. */
  feed(bytes: Uint8Array, from: number, to: number): number {
    const end = this.walk(bytes, from, to);
    this.seen += end - from;
    return end;
  }

  private walk(bytes: Uint8Array, from: number, to: number): number {
    let i = from;
    while (i < to) {
      switch (this.state) {
        case State.SIZE: {
          const c = bytes[i++]!;
          const d = hexValue(c);
          if (d >= 0) this.size = this.size * 16 + d;
          else if (c === LF) this.endSizeLine(this.seen + i - from);
          else this.state = State.EXT; // ';' extensions, OWS, or the CR of CRLF
          break;
        }
        case State.EXT:
          if (bytes[i++] === LF) this.endSizeLine(this.seen + i - from);
          break;
        case State.DATA: {
          const n = Math.min(this.left, to - i);
          i += n;
          this.left -= n;
          if (this.left === 0) this.state = State.DATA_END;
          break;
        }
        case State.DATA_END: // the CRLF after the data
          if (bytes[i++] === LF) this.state = State.SIZE;
          break;
        case State.TRAILER_START: {
          const c = bytes[i++]!;
          if (c === LF) {
            this.state = State.DONE;
            return i;
          }
          if (c !== CR) this.state = State.TRAILER_LINE;
          break;
        }
        case State.TRAILER_LINE:
          if (bytes[i++] === LF) this.state = State.TRAILER_START;
          break;
        default:
          return i;
      }
    }
    return i;
  }

  /** A chunk-size line ended; `at` is the body offset just past it. */
  private endSizeLine(at: number): void {
    if (this.size === 0) {
      this.state = State.TRAILER_START;
      this.trailerStart = at;
    } else {
      this.left = this.size;
      this.state = State.DATA;
    }
    this.size = 0;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // '0'..'9'
  if (c >= 97 && c <= 102) return c - 87; // 'a'..'f'
  if (c >= 65 && c <= 70) return c - 55; // 'A'..'F'
  return -1;
}

/**
 * Overwrites, in place, the value of every header line in `bytes[from, to)` whose name is in
 * `names` (lower-case) with `*`, one per byte, so offsets into the bytes stay true. A line cut off
 * at `to` is masked up to `to`. Lines with no colon (the request line, the empty line) are left alone.
 */
export function maskHeaderLines(
  bytes: Uint8Array,
  from: number,
  to: number,
  names: ReadonlySet<string>,
): void {
  if (names.size === 0) return;
  let line = from;
  while (line < to) {
    let end = line;
    while (end < to && bytes[end] !== LF) end++;
    let colon = -1;
    for (let i = line; i < end; i++) {
      const c = bytes[i]!;
      if (c === COLON) {
        colon = i;
        break;
      }
      if (c === SP || c === HTAB) break; // no colon in a field name: the request line
    }
    if (colon > line && names.has(lowerLatin1(bytes, line, colon))) {
      let v = colon + 1;
      while (v < end && (bytes[v] === SP || bytes[v] === HTAB)) v++;
      let stop = end;
      if (stop > v && bytes[stop - 1] === CR) stop--;
      for (let i = v; i < stop; i++) bytes[i] = STAR;
    }
    line = end + 1;
  }
}

function lowerLatin1(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c); // 'A'..'Z'
  }
  return s;
}

/** `text` with the value of each `name: value` line in `names` replaced by `*`s (a response head). */
export function maskHeadText(text: string, names: ReadonlySet<string>): string {
  if (names.size === 0) return text;
  const bytes = Buffer.from(text, 'latin1');
  maskHeaderLines(bytes, 0, bytes.length, names);
  return bytes.toString('latin1');
}

/** A header value as the inspector shows it: masked when its name is in `names`. */
export function maskValue(name: string, value: string, names: ReadonlySet<string>): string {
  return names.has(name.toLowerCase()) ? '*'.repeat(value.length) : value;
}

/** The `name: value` fields of a serialised head (its status line and empty line left out). */
export function headFields(head: string): [string, string][] {
  const out: [string, string][] = [];
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return out;
}
