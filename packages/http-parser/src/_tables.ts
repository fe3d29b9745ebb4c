/**
 * 256-entry byte class tables for the hot scanning loops. Each table answers one question for one
 * byte with a single indexed load, so the loops never branch on ranges.
 */

function table(pred: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = pred(b) ? 1 : 0;
  return t;
}

const isAlpha = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** tchar (RFC 9110 section 5.6.2): "!#$%&'*+-.^_`|~", DIGIT, ALPHA. */
export const TOKEN: Uint8Array = table(
  (b) => isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)),
);

/** field-value bytes (RFC 9110 section 5.5): HTAB, SP, VCHAR, obs-text. Excludes CR, LF, NUL, other CTLs, DEL. */
export const VALUE: Uint8Array = table((b) => b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80);

/**
 * request-target bytes: VCHAR except '#' (a fragment is never part of a request-target, RFC 9112
 * section 3.2). Non-ASCII, CTLs, SP and DEL end or reject the target.
 */
export const TARGET: Uint8Array = table((b) => b >= 0x21 && b <= 0x7e && b !== 0x23);

/** Hex digit values, 255 for non-hex bytes. */
export const HEX: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let b = 0x30; b <= 0x39; b++) t[b] = b - 0x30;
  for (let b = 0x41; b <= 0x46; b++) t[b] = b - 0x41 + 10;
  for (let b = 0x61; b <= 0x66; b++) t[b] = b - 0x61 + 10;
  return t;
})();

/** reg-name bytes other than pct-encoded (RFC 3986 section 3.2.2): unreserved and sub-delims. */
export const REG_NAME: Uint8Array = table(
  (b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=".includes(String.fromCharCode(b)),
);

/** Bytes inside an IP-literal's brackets: HEXDIG, ':', '.', and IPvFuture's 'v', unreserved, sub-delims. */
export const IP_LITERAL: Uint8Array = table(
  (b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=:".includes(String.fromCharCode(b)),
);

/** qdtext (RFC 9110 section 5.6.4): HTAB, SP, '!', 0x23-0x5B, 0x5D-0x7E, obs-text. */
export const QDTEXT: Uint8Array = table(
  (b) =>
    b === 0x09 ||
    b === 0x20 ||
    b === 0x21 ||
    (b >= 0x23 && b <= 0x5b) ||
    (b >= 0x5d && b <= 0x7e) ||
    b >= 0x80,
);

/** Bytes allowed after a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
export const QUOTED_PAIR: Uint8Array = VALUE;
