/** Frame types (RFC 9113 section 6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 section 6). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS parameters (RFC 9113 section 6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

const TYPE_NAMES = [
  'DATA',
  'HEADERS',
  'PRIORITY',
  'RST_STREAM',
  'SETTINGS',
  'PUSH_PROMISE',
  'PING',
  'GOAWAY',
  'WINDOW_UPDATE',
  'CONTINUATION',
];

/** The RFC name of a frame type (`0x1` is `HEADERS`); unknown types as `UNKNOWN(0x..)`. */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(0x${type.toString(16)})`;
}

/** The 24-byte client connection preface (RFC 9113 section 3.4): `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`. */
export const CLIENT_PREFACE: Uint8Array = new Uint8Array([
  0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
  0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
]);

/** Length of a frame header. */
export const FRAME_HEADER = 9;
/** Largest window (2^31 - 1, RFC 9113 section 6.9.1). */
export const MAX_WINDOW = 0x7fffffff;
/** The protocol's default initial window and SETTINGS_MAX_FRAME_SIZE bounds. */
export const DEFAULT_WINDOW = 65_535;
export const MIN_MAX_FRAME_SIZE = 16_384;
export const MAX_MAX_FRAME_SIZE = 16_777_215;

/**
 * How far `bytes` (from `offset`) matches the client preface: 24 when it all matched, the count
 * matched so far when `bytes` ended inside it, or -1 at the first byte that differs.
 */
export function matchPreface(bytes: Uint8Array, offset = 0): number {
  const n = Math.min(bytes.length - offset, 24);
  for (let i = 0; i < n; i++) if (bytes[offset + i] !== CLIENT_PREFACE[i]) return -1;
  return n;
}

/** Writes a 9-byte frame header into `out` at `at`. */
export function putFrameHeader(
  out: Uint8Array,
  at: number,
  length: number,
  type: number,
  flags: number,
  stream: number,
): void {
  out[at] = (length >>> 16) & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out[at + 5] = (stream >>> 24) & 0x7f; // the reserved bit is always sent as 0
  out[at + 6] = (stream >>> 16) & 0xff;
  out[at + 7] = (stream >>> 8) & 0xff;
  out[at + 8] = stream & 0xff;
}

/** Reads a big-endian 31-bit value (the reserved high bit is ignored). */
export function get31(b: Uint8Array, at: number): number {
  return ((b[at]! & 0x7f) << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** Reads a big-endian unsigned 32-bit value. */
export function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** Writes a big-endian unsigned 32-bit value. */
export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
