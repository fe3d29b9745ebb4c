/**
 * Path helpers that run off the hot path: only when a path holds `%`, a `/.` or upper-case letters
 * under case-insensitive routing. All of them are pure string functions.
 */

/** Hex digit value per char code, -1 when not a hex digit. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i; // '0'..'9'
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i; // 'A'..'F'
  HEX[97 + i] = 10 + i; // 'a'..'f'
}

/** RFC 3986 unreserved characters: ALPHA / DIGIT / '-' / '.' / '_' / '~'. */
const UNRESERVED = new Uint8Array(128);
for (let c = 65; c <= 90; c++) UNRESERVED[c] = 1; // 'A'..'Z'
for (let c = 97; c <= 122; c++) UNRESERVED[c] = 1; // 'a'..'z'
for (let c = 48; c <= 57; c++) UNRESERVED[c] = 1; // '0'..'9'
UNRESERVED[45] = 1; // '-'
UNRESERVED[46] = 1; // '.'
UNRESERVED[95] = 1; // '_'
UNRESERVED[126] = 1; // '~'

/**
 * Characters a pattern's static text may hold literally (RFC 3986 pchar minus pct-encoded):
 * unreserved, sub-delims `!$&'()*+,;=`, `:` and `@`. Everything else is percent-encoded at
 * registration so that patterns and request paths meet in one canonical form.
 */
const PCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) PCHAR[c] = UNRESERVED[c]!;
for (const ch of "!$&'()*+,;=:@") PCHAR[ch.charCodeAt(0)] = 1;

const UPPER_HEX = '0123456789ABCDEF';

/**
 * Canonical percent-encoding of a raw path: `%XX` that encode an unreserved character are decoded
 * (`%7E` -> `~`, RFC 3986 section 6.2.2.2), every other `%XX` keeps its encoding with upper-case hex
 * (`%2f` -> `%2F`, so an encoded slash never becomes a separator). Returns `null` when a `%` is not
 * followed by two hex digits.
 */
export function normalizePercent(path: string): string | null {
  let out = '';
  let from = 0;
  let i = path.indexOf('%');
  while (i !== -1) {
    const h = path.charCodeAt(i + 1);
    const l = path.charCodeAt(i + 2);
    const hv = h < 128 ? HEX[h]! : -1;
    const lv = l < 128 ? HEX[l]! : -1;
    if (hv < 0 || lv < 0) return null; // NaN (past the end) also lands here
    const byte = hv * 16 + lv;
    out += path.slice(from, i);
    if (byte < 128 && UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
    else out += `%${UPPER_HEX[hv]}${UPPER_HEX[lv]}`;
    from = i + 3;
    i = path.indexOf('%', from);
  }
  return from === 0 ? path : out + path.slice(from);
}

/**
 * Canonical form of a pattern's static text: characters outside {@link PCHAR} are UTF-8
 * percent-encoded, existing `%XX` are normalised like request paths. Throws on a lone `%`.
 */
export function canonicalStatic(text: string): string | null {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c < 128 && (PCHAR[c] === 1 || c === 37))
      out += ch; // '%' kept, normalised below
    else out += encodeURIComponent(ch);
  }
  return normalizePercent(out);
}

/** ASCII-only lower-casing (keeps the length, so offsets stay valid against the original). */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      // 'A'..'Z' found: lower the rest char by char
      let out = s.slice(0, i);
      for (let j = i; j < s.length; j++) {
        const d = s.charCodeAt(j);
        out += d >= 65 && d <= 90 ? String.fromCharCode(d + 32) : s[j];
      }
      return out;
    }
  }
  return s;
}

/**
 * True when some segment of `path` is exactly `.` or `..` (after percent normalisation). With
 * `from`, only segments from that index on are checked (`from` must follow a `/`).
 */
export function hasDotSegment(path: string, from = 0): boolean {
  let i = path.indexOf('.', from);
  while (i !== -1) {
    if (path.charCodeAt(i - 1) === 47) {
      // '/' then '.': a dot segment when followed by end or '/', or by '.' and then end or '/'
      const a = path.charCodeAt(i + 1);
      if (Number.isNaN(a) || a === 47) return true;
      if (a === 46) {
        const b = path.charCodeAt(i + 2);
        if (Number.isNaN(b) || b === 47) return true;
      }
    }
    i = path.indexOf('.', i + 1);
  }
  return false;
}

/** RFC 3986 section 5.2.4 remove_dot_segments, for absolute paths (`/a/./b/../c` -> `/a/c`). */
export function removeDotSegments(path: string): string {
  const input = path.split('/');
  const out: string[] = [];
  // input[0] is '' (the path starts with '/')
  for (let i = 1; i < input.length; i++) {
    const seg = input[i]!;
    const lastSeg = i === input.length - 1;
    if (seg === '.') {
      if (lastSeg) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (lastSeg) out.push('');
    } else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** `decodeURIComponent` that answers `null` instead of throwing on bad UTF-8. */
export function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
