import { nodeCrypto } from './_builtins';
import { isToken } from './_validate';
import { ResponseError, ResponseErrorCode } from './errors';
import type { ResponseWriter } from './writer';

/** Attributes of a Set-Cookie (RFC 6265 section 4.1, plus SameSite, Partitioned (CHIPS), Priority). */
export interface CookieOptions {
  /** `Domain` (letters, digits, `-`, `.`; a leading dot is dropped by clients). */
  domain?: string;
  /** `Path` (any CHAR except controls and `;`). */
  path?: string;
  /** `Expires` as a date (written as IMF-fixdate). */
  expires?: Date;
  /** `Max-Age` in seconds (integer; 0 or negative expires at once). */
  maxAge?: number;
  /** `Secure`. */
  secure?: boolean;
  /** `HttpOnly`. */
  httpOnly?: boolean;
  /** `SameSite`: `None` requires `secure`. */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** `Partitioned` (CHIPS): requires `secure`. */
  partitioned?: boolean;
  /** `Priority` (Chrome extension). */
  priority?: 'Low' | 'Medium' | 'High';
  /**
   * Encode the value (default: `encodeURIComponent`, whose output is always valid cookie-octets).
   * `false` writes the value as given after checking it is made of cookie-octets.
   */
  encode?: ((value: string) => string) | false;
}

function fail(message: string): never {
  throw new ResponseError(ResponseErrorCode.INVALID_COOKIE, message);
}

/** cookie-octet (RFC 6265 section 4.1.1): 0x21, 0x23-0x2B, 0x2D-0x3A, 0x3C-0x5B, 0x5D-0x7E. */
function isCookieValue(v: string): boolean {
  let s = 0;
  let e = v.length;
  if (e >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(e - 1) === 0x22) {
    s = 1; // '"' quoted form
    e--;
  }
  for (let i = s; i < e; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x3b || c === 0x5c) return false; // '"' ',' ';' '\'
  }
  return true;
}

/** av-octet for Path: any CHAR except CTLs and ';'. */
function isAttrValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3b) return false; // ';'
  }
  return true;
}

function isDomain(v: string): boolean {
  if (v.length === 0 || v.length > 253) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e)) return false; // '-' '.'
  }
  return true;
}

/**
 * Serialises one `Set-Cookie` value. Throws `ERR_INVALID_COOKIE` for a name that is not a token, a
 * value or attribute that would break the header (CR, LF, `;`...), `SameSite=None` or `Partitioned`
 * without `Secure`, or a non-integer `Max-Age`.
 *
 * @example
 * serializeCookie('sid', 'abc', { httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
 * // 'sid=abc; Path=/; HttpOnly; Secure; SameSite=Lax'
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (typeof name !== 'string' || !isToken(name)) fail(`Invalid cookie name: ${JSON.stringify(name)}`);
  if (typeof value !== 'string') fail('Cookie value must be a string');
  const enc = options.encode === undefined ? encodeURIComponent : options.encode;
  const v = enc === false ? value : enc(value);
  if (!isCookieValue(v)) fail(`Invalid cookie value for ${name}`);
  let s = `${name}=${v}`;
  if (options.domain !== undefined) {
    if (!isDomain(options.domain)) fail(`Invalid cookie domain: ${JSON.stringify(options.domain)}`);
    s += `; Domain=${options.domain}`;
  }
  if (options.path !== undefined) {
    if (!isAttrValue(options.path)) fail(`Invalid cookie path: ${JSON.stringify(options.path)}`);
    s += `; Path=${options.path}`;
  }
  if (options.expires !== undefined) {
    if (!(options.expires instanceof Date) || Number.isNaN(options.expires.getTime()))
      fail('Invalid Expires');
    s += `; Expires=${options.expires.toUTCString()}`;
  }
  if (options.maxAge !== undefined) {
    if (!Number.isInteger(options.maxAge)) fail('Max-Age must be an integer');
    s += `; Max-Age=${options.maxAge}`;
  }
  if (options.httpOnly) s += '; HttpOnly';
  if (options.secure) s += '; Secure';
  if (options.sameSite !== undefined) {
    const ss = options.sameSite;
    if (ss !== 'Strict' && ss !== 'Lax' && ss !== 'None') fail(`Invalid SameSite: ${String(ss)}`);
    if (ss === 'None' && !options.secure) fail('SameSite=None requires Secure');
    s += `; SameSite=${ss}`;
  }
  if (options.partitioned) {
    if (!options.secure) fail('Partitioned requires Secure');
    s += '; Partitioned';
  }
  if (options.priority !== undefined) {
    const p = options.priority;
    if (p !== 'Low' && p !== 'Medium' && p !== 'High') fail(`Invalid Priority: ${String(p)}`);
    s += `; Priority=${p}`;
  }
  return s;
}

/**
 * Parses a request `Cookie` header into a null-prototype record. The first occurrence of a name wins;
 * pairs without `=` are skipped; quoted values are unquoted; values are `decodeURIComponent`-decoded
 * when they decode cleanly (else kept as sent). Pass `decode: false` to keep raw values.
 *
 * @example
 * parseCookie('a=1; b=hello%20world'); // { a: '1', b: 'hello world' }
 */
export function parseCookie(
  header: string | undefined,
  options: { decode?: boolean } = {},
): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  const decode = options.decode !== false;
  const n = header.length;
  let i = 0;
  for (let guard = 0; i < n && guard < n; guard++) {
    let end = header.indexOf(';', i);
    if (end < 0) end = n;
    const eq = header.indexOf('=', i);
    if (eq > i && eq < end) {
      const name = header.slice(i, eq).trim();
      if (name !== '' && !(name in out)) {
        let value = header.slice(eq + 1, end).trim();
        if (value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22)
          value = value.slice(1, -1); // '"'
        if (decode && value.indexOf('%') >= 0) {
          try {
            value = decodeURIComponent(value);
          } catch {
            // keep the raw value
          }
        }
        out[name] = value;
      }
    }
    i = end + 1;
  }
  return out;
}

/** A secret for signed cookies: the first one signs, all of them verify (key rotation). */
export type CookieSecrets = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

function secretList(secrets: CookieSecrets): ReadonlyArray<string | Uint8Array> {
  const list = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets;
  if (list.length === 0) fail('At least one cookie secret is required');
  return list;
}

function mac(value: string, secret: string | Uint8Array): Buffer {
  return nodeCrypto().createHmac('sha256', secret).update(value).digest();
}

/**
 * Signs a cookie value: `value.<base64url HMAC-SHA256>` with the first secret.
 *
 * @example
 * const signed = signCookie('user42', ['new-key', 'old-key']);
 */
export function signCookie(value: string, secrets: CookieSecrets): string {
  return `${value}.${mac(value, secretList(secrets)[0]!).toString('base64url')}`;
}

/**
 * Verifies a value made by {@link signCookie} against every secret (rotation) with a timing-safe
 * compare. Returns the original value, or `false` when the signature matches no secret.
 */
export function unsignCookie(signed: string, secrets: CookieSecrets): string | false {
  const dot = signed.lastIndexOf('.');
  if (dot < 0) return false;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1), 'base64url');
  if (given.length !== 32) return false;
  const { timingSafeEqual } = nodeCrypto();
  let ok = false;
  for (const secret of secretList(secrets)) if (timingSafeEqual(given, mac(value, secret))) ok = true; // no early exit
  return ok ? value : false;
}

/**
 * Appends a `Set-Cookie` line to the response (never joined with other cookies).
 *
 * @example
 * setCookie(res, 'sid', token, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
 */
export function setCookie(res: ResponseWriter, name: string, value: string, options?: CookieOptions): void {
  res.appendHeader('Set-Cookie', serializeCookie(name, value, options));
}

/** Appends a `Set-Cookie` that deletes the cookie (empty value, epoch Expires, Max-Age=0). */
export function clearCookie(res: ResponseWriter, name: string, options: CookieOptions = {}): void {
  res.appendHeader('Set-Cookie', serializeCookie(name, '', { ...options, expires: new Date(0), maxAge: 0 }));
}
