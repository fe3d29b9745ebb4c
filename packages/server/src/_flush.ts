/**
 * When the engine's writes leave: the transport owns the batching (its cork copies a batch into its
 * byte pool and sends it in one `write`); the engine decides when a batch ends: at the end of the
 * read that produced it or, for writes made outside a read (async handlers), in one shared
 * microtask for every connection.
 */

/**
 * Response bytes one exchange may have waiting in the engine before its writer is asked to wait
 * (`write` returns false): in the cork buffer for the exchange at the head of the queue (a handler
 * writing synchronously in a loop must see backpressure before the flush that would reveal it), or
 * in its own buffer for one queued behind an unfinished response.
 */
export const RESPONSE_HIGH_WATER = 64 * 1024;

/** Something whose batch of writes is flushed later (a connection's state). */
export interface Flushable {
  /** Set by {@link scheduleFlush}, cleared by `flush` before it writes. */
  flushScheduled: boolean;
  flush(): void;
}

/** Bytes a chunk will occupy on the wire (strings are UTF-8, as the response writer produces them). */
export function byteLength(chunk: string | Uint8Array): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.length;
}

/**
 * Connections with a flush scheduled, flushed by one shared microtask (no per-connection closure).
 * A connection appears at most once: `flushScheduled` guards it, and `flush` clears the flag first.
 */
const flushQueue: Flushable[] = [];
let flushQueued = false;

function runFlushes(): void {
  // A flush may schedule more (a drain listener that writes): they join this same pass.
  let i = 0;
  try {
    for (; i < flushQueue.length; i++) {
      const state = flushQueue[i]!;
      if (state.flushScheduled) state.flush();
    }
  } finally {
    flushQueued = false;
    if (i >= flushQueue.length) flushQueue.length = 0;
    else {
      // A callback threw: the connections after it still get their flush, in a new microtask.
      flushQueue.splice(0, i + 1);
      if (flushQueue.length > 0) {
        flushQueued = true;
        queueMicrotask(runFlushes);
      }
    }
  }
}

/** Flush `f` in the shared microtask (once, however often this is called before it runs). */
export function scheduleFlush(f: Flushable): void {
  if (f.flushScheduled) return;
  f.flushScheduled = true;
  flushQueue.push(f);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(runFlushes);
  }
}
