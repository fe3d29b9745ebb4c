/**
 * Shared by the fan-out benchmark's processes: one clock and one latency histogram.
 *
 * The clock is Node's monotonic `hrtime` in ms, the same for every process of the machine, so a
 * send time written by the publisher can be compared with a receive time read in a subscriber
 * process. It is read as `performance.now() + clockOffset()` (no allocation per read).
 */

/** ms to add to `performance.now()` to get `process.hrtime` in ms. */
export function clockOffset(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    const h = process.hrtime();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = h[0] * 1e3 + h[1] / 1e6 - (a + b) / 2;
    }
  }
  return offset;
}

/** Latency histogram: 10 µs bins up to 10 ms, then 1 ms bins up to 10 s (the last bin: above). */
export const HIST_BINS = 1000 + 9990 + 1;

export function histBin(ms: number): number {
  if (ms < 10) return ms <= 0 ? 0 : Math.floor(ms * 100);
  return Math.min(HIST_BINS - 1, 990 + Math.floor(ms));
}

/** The upper edge of a bin, in ms. */
export function binUpper(bin: number): number {
  return bin < 1000 ? (bin + 1) / 100 : bin - 989;
}

/** The q-quantile (0..1) of a histogram given as counts per bin. */
export function quantile(hist: ArrayLike<number>, total: number, q: number): number {
  if (total === 0) return Number.NaN;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return binUpper(i);
  }
  return Number.NaN;
}

/**
 * The stamp at the start of every payload: the sequence number (5 characters, 30 bits) and the send
 * time in µs on the shared clock (8 characters, 48 bits), 6 bits per character in the base64
 * alphabet. Plain ASCII, so the same bytes go as a text message (the default: a chat's) or binary.
 */
export const STAMP_LEN = 13;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Uint8Array(128);
for (let i = 0; i < 64; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

export function writeStamp(buf: Buffer, at: number, seq: number, timeMs: number): void {
  let v = seq;
  for (let i = 4; i >= 0; i--) {
    buf[at + i] = ALPHABET.charCodeAt(v & 63);
    v >>>= 6;
  }
  let us = Math.round(timeMs * 1000);
  for (let i = 12; i >= 5; i--) {
    buf[at + i] = ALPHABET.charCodeAt(us % 64);
    us = Math.floor(us / 64);
  }
}

export function readSeq(buf: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 0; i < 5; i++) v = (v << 6) | DIGIT[buf[at + i]! & 127]!;
  return v;
}

/** The send time of a stamp, in ms. */
export function readTime(buf: Uint8Array, at: number): number {
  let us = 0;
  for (let i = 5; i < 13; i++) us = us * 64 + DIGIT[buf[at + i]! & 127]!;
  return us / 1000;
}
