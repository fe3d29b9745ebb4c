/**
 * RFC 9113 section 8 checks of a decoded request header list: one pass over the flat
 * `[name, value, ...]` list the HPACK decoder produced. A failure is a malformed request (a stream
 * error of type PROTOCOL_ERROR); its reason is returned as text, never thrown.
 */

/** A request head as the connection reports it. Strings are latin1 (one char per byte). */
export interface RequestHead {
  /** `:method`. */
  method: string;
  /** `:scheme` (`''` for CONNECT). */
  scheme: string;
  /** `:authority`, or `''` when absent (then `host` may name the target). */
  authority: string;
  /** `:path` (`''` for CONNECT). */
  path: string;
  /**
   * The regular fields, flat `[name, value, ...]`, lower-case names, in order; a view of the
   * decoder's list from `fieldsStart` (pseudo-headers come first and are skipped).
   */
  fields: string[];
  /** Index in `fields` of the first regular field. */
  fieldsStart: number;
  /** The declared `content-length`, or -1. */
  contentLength: number;
}

// Bytes allowed in a field name (RFC 9110 section 5.6.2 tchar), lower case only (RFC 9113
// section 8.2.1: an uppercase name makes the request malformed).
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

/** True when `name` is a non-empty lower-case token. */
export function validName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/**
 * True when `value` has no NUL, CR, LF or other control byte but HTAB, and no leading or trailing
 * space or tab (RFC 9113 section 8.2.1; RFC 9110 section 5.5).
 */
export function validValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  let c = value.charCodeAt(0);
  if (c === 0x20 || c === 0x09) return false; // ' ' or '\t' first
  c = value.charCodeAt(n - 1);
  if (c === 0x20 || c === 0x09) return false; // ' ' or '\t' last
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** Connection-specific fields (RFC 9113 section 8.2.2); `te` is checked apart. */
function connectionSpecific(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    default:
      return false;
  }
}

/** A `content-length` value: 1 to 15 digits. Returns the number or -1. */
function parseLength(v: string): number {
  const n = v.length;
  if (n === 0 || n > 15) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1; // '0'..'9'
    x = x * 10 + (c - 0x30);
  }
  return x;
}

/**
 * Checks a request header list. Returns the head, or a string naming why it is malformed.
 * `extendedConnect`: `:protocol` is allowed (RFC 8441), off here.
 */
export function checkRequest(list: string[]): RequestHead | string {
  let method: string | null = null;
  let scheme: string | null = null;
  let authority: string | null = null;
  let path: string | null = null;
  let host: string | null = null;
  let contentLength = -1;
  const n = list.length;
  let i = 0;
  // Pseudo-headers: all before the first regular field, each at most once.
  for (; i < n; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) !== 0x3a) break; // ':'
    const value = list[i + 1]!;
    switch (name) {
      case ':method':
        if (method !== null) return 'duplicate :method';
        if (!validName(value.toLowerCase()) || value.length === 0) return 'invalid :method';
        method = value;
        break;
      case ':scheme':
        if (scheme !== null) return 'duplicate :scheme';
        if (value.length === 0 || !validValue(value)) return 'invalid :scheme';
        scheme = value;
        break;
      case ':authority':
        if (authority !== null) return 'duplicate :authority';
        if (!validValue(value)) return 'invalid :authority';
        authority = value;
        break;
      case ':path':
        if (path !== null) return 'duplicate :path';
        if (!validValue(value)) return 'invalid :path';
        path = value;
        break;
      default:
        return `pseudo-header ${name} not allowed in a request`;
    }
  }
  const fieldsStart = i;
  for (; i < n; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} after a regular field`; // ':'
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!validValue(value)) return `invalid value of ${name}`;
    if (connectionSpecific(name)) return `connection-specific field ${name}`;
    if (name === 'te') {
      if (value !== 'trailers') return 'te other than trailers';
    } else if (name === 'content-length') {
      const len = parseLength(value);
      if (len < 0 || (contentLength >= 0 && len !== contentLength)) return 'invalid content-length';
      contentLength = len;
    } else if (name === 'host') {
      if (host !== null) return 'duplicate host';
      host = value;
    }
  }
  if (method === null) return 'missing :method';
  if (method === 'CONNECT') {
    // RFC 9113 section 8.5: :authority only; no :scheme, no :path.
    if (scheme !== null || path !== null) return 'CONNECT with :scheme or :path';
    if (authority === null || authority.length === 0) return 'CONNECT without :authority';
    scheme = '';
    path = '';
  } else {
    if (scheme === null) return 'missing :scheme';
    if (path === null || path.length === 0) return 'missing or empty :path';
    const c = path.charCodeAt(0);
    if (c !== 0x2f && !(path === '*' && method === 'OPTIONS')) return 'invalid :path'; // '/' or '*'
  }
  if (authority !== null && host !== null && authority !== host) return ':authority and host differ';
  return {
    method,
    scheme,
    authority: authority ?? '',
    path,
    fields: list,
    fieldsStart,
    contentLength,
  };
}

/** Checks a trailer list: no pseudo-headers, valid lower-case names and values. Returns a reason or null. */
export function checkTrailers(list: string[]): string | null {
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`; // ':'
    if (!validName(name)) return `invalid field name ${JSON.stringify(name)}`;
    if (!validValue(list[i + 1]!)) return `invalid value of ${name}`;
    if (connectionSpecific(name)) return `connection-specific field ${name}`;
  }
  return null;
}
