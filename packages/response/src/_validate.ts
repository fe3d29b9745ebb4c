import { ResponseError, ResponseErrorCode } from './errors';

/**
 * RFC 9110 section 5.6.2 `tchar`: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. 1 = allowed.
 */
export const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1; // '0'..'9'
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1; // 'A'..'Z'
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1; // 'a'..'z'
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

/** True when `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Field value check (RFC 9110 section 5.5: field-vchar / SP / HTAB). Returns 0 for ASCII-only, 1 when
 * obs-text (0x80..0xFF) is present (the head must then be written as latin1 bytes), -1 when invalid:
 * CR, LF, NUL, any other control except HTAB, DEL, or a code unit above 0xFF (cannot be one octet).
 */
export function valueClass(s: string): number {
  let high = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x09) return -1; // only '\t' among the controls
    } else if (c >= 0x7f) {
      if (c === 0x7f || c > 0xff) return -1; // DEL, or not one octet
      high = 1;
    }
  }
  return high;
}

/** Throws `ERR_INVALID_HEADER_NAME` unless `name` is a token. */
export function assertName(name: string): void {
  if (typeof name !== 'string' || !isToken(name))
    throw new ResponseError(
      ResponseErrorCode.INVALID_HEADER_NAME,
      `Invalid header name: ${JSON.stringify(name)}`,
    );
}

/** Throws `ERR_INVALID_HEADER_VALUE` on an invalid value; returns 1 when it holds obs-text. */
export function assertValue(name: string, value: string): number {
  if (typeof value !== 'string')
    throw new ResponseError(ResponseErrorCode.INVALID_HEADER_VALUE, `Header ${name}: value must be a string`);
  const k = valueClass(value);
  if (k < 0)
    throw new ResponseError(
      ResponseErrorCode.INVALID_HEADER_VALUE,
      `Invalid character in header ${name}: ${JSON.stringify(value)}`,
    );
  return k;
}
