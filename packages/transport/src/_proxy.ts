/**
 * PROXY protocol v1 (text) and v2 (binary) header parser.
 * Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 *
 * Pure: bytes in, a result out, no I/O. `parseProxyHeader` is called with everything received so
 * far; it answers INCOMPLETE as long as the bytes are a valid prefix of a header, and fails as soon
 * as they cannot be one (so a bad peer is dropped early, whatever the chunking).
 */
import { TransportError, TransportErrorCode } from './_errors';

/** Address family announced by a PROXY header. */
export type ProxyFamily = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'unixgram' | 'unknown';

/** One v2 Type-Length-Value extension (value copied out of the input). */
export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

/** A parsed PROXY header. */
export interface ProxyHeader {
  version: 1 | 2;
  /** `local`: a health check by the proxy itself; the real socket addresses apply. */
  command: 'proxy' | 'local';
  family: ProxyFamily;
  /** The original client (empty for `local`/`unknown`). */
  sourceAddress: string;
  sourcePort: number;
  /** The address the client connected to on the proxy (empty for `local`/`unknown`). */
  destinationAddress: string;
  destinationPort: number;
  /** v2 TLVs (empty for v1). */
  tlvs: ProxyTlv[];
}

/** Status of {@link parseProxyHeader}. */
export const ProxyParseStatus = { INCOMPLETE: 0, DONE: 1, ERROR: 2 } as const;

/** Result of {@link parseProxyHeader}. */
export type ProxyParseResult =
  | { status: typeof ProxyParseStatus.INCOMPLETE }
  | { status: typeof ProxyParseStatus.DONE; header: ProxyHeader; consumed: number }
  | { status: typeof ProxyParseStatus.ERROR; error: TransportError };

/** The longest v1 line, CRLF included (spec section 2.1). */
export const PROXY_V1_MAX_LENGTH = 107;

const INCOMPLETE: ProxyParseResult = { status: ProxyParseStatus.INCOMPLETE };

// "PROXY " (v1 prefix)
const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20];
// \r\n\r\n\0\r\nQUIT\n (v2 signature)
const V2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function fail(reason: string): ProxyParseResult {
  return {
    status: ProxyParseStatus.ERROR,
    error: new TransportError(TransportErrorCode.PROXY_HEADER, `invalid PROXY header: ${reason}`),
  };
}

/**
 * Parse a PROXY protocol header (v1 or v2) at the start of `input`.
 *
 * @example
 * ```ts
 * const r = parseProxyHeader(bytes);
 * if (r.status === ProxyParseStatus.DONE) console.log(r.header.sourceAddress, r.consumed);
 * ```
 */
export function parseProxyHeader(input: Uint8Array): ProxyParseResult {
  if (input.length === 0) return INCOMPLETE;
  const first = input[0]!;
  if (first === 0x50) return parseV1(input); // 'P'
  if (first === 0x0d) return parseV2(input); // '\r'
  return fail('no PROXY signature');
}

function parseV1(input: Uint8Array): ProxyParseResult {
  const n = input.length;
  const pre = Math.min(n, 6);
  for (let i = 0; i < pre; i++) if (input[i] !== V1_PREFIX[i]) return fail('bad v1 prefix');
  let cr = -1;
  // The CR must sit at index 105 at most so that CRLF ends within 107 bytes.
  const crMax = PROXY_V1_MAX_LENGTH - 1;
  const limit = Math.min(n, crMax);
  for (let i = 6; i < limit; i++) {
    const c = input[i]!;
    if (c === 0x0d) {
      // '\r'
      cr = i;
      break;
    }
    if (c < 0x20 || c > 0x7e) return fail('non-printable byte in v1 line');
  }
  if (cr === -1) return n >= crMax ? fail('v1 line longer than 107 bytes') : INCOMPLETE;
  if (cr + 1 >= n) return INCOMPLETE;
  if (input[cr + 1] !== 0x0a) return fail('v1 line not ended by CRLF'); // '\n'
  let line = '';
  for (let i = 6; i < cr; i++) line += String.fromCharCode(input[i]!);
  const consumed = cr + 2;
  const parts = line.split(' ');
  const proto = parts[0];
  if (proto === 'UNKNOWN') {
    // The receiver must ignore whatever follows UNKNOWN up to CRLF (spec 2.1).
    return {
      status: ProxyParseStatus.DONE,
      header: header(1, 'proxy', 'unknown', '', 0, '', 0, []),
      consumed,
    };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return fail('unknown v1 protocol');
  if (parts.length !== 5) return fail('v1 line needs exactly: protocol source destination sport dport');
  const v4 = proto === 'TCP4';
  const src = parts[1]!;
  const dst = parts[2]!;
  if (!(v4 ? isIPv4Text(src) : isIPv6Text(src))) return fail('bad v1 source address');
  if (!(v4 ? isIPv4Text(dst) : isIPv6Text(dst))) return fail('bad v1 destination address');
  const sport = parsePort(parts[3]!);
  const dport = parsePort(parts[4]!);
  if (sport < 0 || dport < 0) return fail('bad v1 port');
  return {
    status: ProxyParseStatus.DONE,
    header: header(1, 'proxy', v4 ? 'tcp4' : 'tcp6', src, sport, v4 ? dst : dst, dport, []),
    consumed,
  };
}

function parseV2(input: Uint8Array): ProxyParseResult {
  const n = input.length;
  const pre = Math.min(n, 12);
  for (let i = 0; i < pre; i++) if (input[i] !== V2_SIG[i]) return fail('bad v2 signature');
  if (n < 13) return INCOMPLETE;
  const verCmd = input[12]!;
  if (verCmd >> 4 !== 2) return fail('unsupported v2 version');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail('unknown v2 command');
  if (n < 14) return INCOMPLETE;
  const fam = input[13]!;
  let family: ProxyFamily;
  let addrLen: number;
  switch (fam) {
    case 0x00:
      family = 'unknown';
      addrLen = 0;
      break;
    case 0x11:
      family = 'tcp4';
      addrLen = 12;
      break;
    case 0x12:
      family = 'udp4';
      addrLen = 12;
      break;
    case 0x21:
      family = 'tcp6';
      addrLen = 36;
      break;
    case 0x22:
      family = 'udp6';
      addrLen = 36;
      break;
    case 0x31:
      family = 'unix';
      addrLen = 216;
      break;
    case 0x32:
      family = 'unixgram';
      addrLen = 216;
      break;
    default:
      return fail('unknown v2 address family');
  }
  if (n < 16) return INCOMPLETE;
  const len = (input[14]! << 8) | input[15]!;
  if (cmd === 1 && len < addrLen) return fail('v2 length too short for its address family');
  const total = 16 + len;
  if (n < total) return INCOMPLETE;
  if (cmd === 0) {
    // LOCAL: the proxy's own connection (health check); the block is skipped.
    return {
      status: ProxyParseStatus.DONE,
      header: header(2, 'local', family, '', 0, '', 0, []),
      consumed: total,
    };
  }
  let src = '';
  let dst = '';
  let sport = 0;
  let dport = 0;
  const a = 16;
  if (family === 'tcp4' || family === 'udp4') {
    src = `${input[a]}.${input[a + 1]}.${input[a + 2]}.${input[a + 3]}`;
    dst = `${input[a + 4]}.${input[a + 5]}.${input[a + 6]}.${input[a + 7]}`;
    sport = (input[a + 8]! << 8) | input[a + 9]!;
    dport = (input[a + 10]! << 8) | input[a + 11]!;
  } else if (family === 'tcp6' || family === 'udp6') {
    src = formatIPv6(input, a);
    dst = formatIPv6(input, a + 16);
    sport = (input[a + 32]! << 8) | input[a + 33]!;
    dport = (input[a + 34]! << 8) | input[a + 35]!;
  } else if (family === 'unix' || family === 'unixgram') {
    src = unixPath(input, a);
    dst = unixPath(input, a + 108);
  }
  const tlvs: ProxyTlv[] = [];
  let p = a + addrLen;
  while (p < total) {
    if (p + 3 > total) return fail('truncated v2 TLV');
    const type = input[p]!;
    const tlen = (input[p + 1]! << 8) | input[p + 2]!;
    if (p + 3 + tlen > total) return fail('v2 TLV overruns the header');
    tlvs.push({ type, value: input.slice(p + 3, p + 3 + tlen) });
    p += 3 + tlen;
  }
  return {
    status: ProxyParseStatus.DONE,
    header: header(2, 'proxy', family, src, sport, dst, dport, tlvs),
    consumed: total,
  };
}

function header(
  version: 1 | 2,
  command: 'proxy' | 'local',
  family: ProxyFamily,
  sourceAddress: string,
  sourcePort: number,
  destinationAddress: string,
  destinationPort: number,
  tlvs: ProxyTlv[],
): ProxyHeader {
  return { version, command, family, sourceAddress, sourcePort, destinationAddress, destinationPort, tlvs };
}

/** Decimal port 0..65535 without sign or leading zeros; -1 when invalid. */
function parsePort(s: string): number {
  const n = s.length;
  if (n === 0 || n > 5) return -1;
  if (n > 1 && s.charCodeAt(0) === 0x30) return -1; // '0' leading
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30; // '0'
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v > 65535 ? -1 : v;
}

/** Strict dotted quad: four decimal octets 0..255, no leading zeros. */
export function isIPv4Text(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (p.length === 0 || p.length > 3) return false;
    if (p.length > 1 && p.charCodeAt(0) === 0x30) return false; // '0' leading
    let v = 0;
    for (let j = 0; j < p.length; j++) {
      const d = p.charCodeAt(j) - 0x30; // '0'
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
    }
    if (v > 255) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  // '0'-'9', 'A'-'F', 'a'-'f'
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Textual IPv6 (RFC 4291 section 2.2, with an optional trailing dotted quad); no zone id. */
export function isIPv6Text(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  let groups = 0;
  let compressed = false;
  let i = 0;
  const n = s.length;
  if (s.charCodeAt(0) === 0x3a) {
    // ':' must start '::'
    if (s.charCodeAt(1) !== 0x3a) return false;
    compressed = true;
    i = 2;
    if (i === n) return true;
  }
  while (i < n) {
    let j = i;
    while (j < n && isHex(s.charCodeAt(j))) j++;
    const glen = j - i;
    if (j < n && s.charCodeAt(j) === 0x2e) {
      // '.': embedded IPv4 ends the address
      if (!isIPv4Text(s.slice(i))) return false;
      groups += 2;
      i = n;
      break;
    }
    if (glen === 0 || glen > 4) return false;
    groups++;
    if (j === n) {
      i = n;
      break;
    }
    if (s.charCodeAt(j) !== 0x3a) return false; // ':'
    j++;
    if (j < n && s.charCodeAt(j) === 0x3a) {
      // '::'
      if (compressed) return false;
      compressed = true;
      j++;
      if (j === n) {
        i = n;
        break;
      }
    } else if (j === n) {
      return false; // trailing single ':'
    }
    i = j;
  }
  return compressed ? groups < 8 : groups === 8;
}

/** RFC 5952 text of the 16 bytes at `at` (longest zero run compressed; IPv4-mapped as dotted). */
export function formatIPv6(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

function unixPath(b: Uint8Array, at: number): string {
  let end = at;
  while (end < at + 108 && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8');
}
