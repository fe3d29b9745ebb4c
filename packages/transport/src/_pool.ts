/**
 * The one byte pool of the stack. Small copies (cork batches here; request body pieces in
 * `@strata/server`) are carved out of a shared 64 KiB slab, like Node's Buffer pool but for sizes
 * its pool does not serve (it stops at 4 KiB): one ArrayBuffer per 64 KiB of copies instead of one
 * per copy. Lifetime: a carved view is never overwritten (the slab only moves forward; a full slab is
 * replaced, and freed by the GC once its last view is gone), so its holder may keep it as long as it
 * likes, exactly like a fresh buffer.
 */

/** Size of one slab. */
export const POOL_SLAB_SIZE = 64 * 1024;
/** Copies larger than this get a buffer of their own (a slab would be used up by a few of them). */
export const POOL_COPY_LIMIT = 16 * 1024;

/** The slab being carved and where its free space starts. @internal */
export const pool = { slab: Buffer.allocUnsafeSlow(POOL_SLAB_SIZE), at: 0 };

/** Make sure the current slab has `n` free bytes (a fresh slab otherwise). @internal */
export function poolReserve(n: number): void {
  if (POOL_SLAB_SIZE - pool.at < n) {
    pool.slab = Buffer.allocUnsafeSlow(POOL_SLAB_SIZE);
    pool.at = 0;
  }
}

/**
 * A copy of `bytes` that the caller owns: a view carved from the shared pool (up to
 * {@link POOL_COPY_LIMIT} bytes), or a buffer of its own. Nothing ever writes to it again.
 *
 * @example
 * ```ts
 * import { copyToPool } from '@strata/transport';
 * onData(conn, chunk) { kept.push(copyToPool(chunk)); } // `chunk` is only valid during the call
 * ```
 */
export function copyToPool(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > POOL_COPY_LIMIT) {
    const own = Buffer.allocUnsafe(n); // never zero-filled: every byte is overwritten at once
    own.set(bytes);
    return own;
  }
  poolReserve(n);
  const at = pool.at;
  const out = pool.slab.subarray(at, at + n);
  out.set(bytes);
  pool.at = (at + n + 7) & ~7; // keep views 8-byte aligned
  return out;
}
