import { type ParserCallbacks, type RequestHead, RequestParser } from '@strata/http-parser';
import type { ConnState } from './_connection';
import type { ServerLimits } from './_options';

/**
 * A pooled parser and the callback object it was built with: the callbacks forward to whichever
 * connection holds the slot now, so a parser (its field table is a 1 KiB `Int32Array`, an off-heap
 * backing store) outlives the connection it parsed for. @internal
 */
export class ParserSlot implements ParserCallbacks {
  state: ConnState | null = null;
  readonly parser: RequestParser;

  constructor(limits: ServerLimits) {
    this.parser = new RequestParser(this, {
      maxHeadBytes: limits.maxHeaderBytes,
      maxRequestLineBytes: limits.maxRequestLineBytes,
      maxHeaders: limits.maxHeaders,
      // The engine enforces the body limit itself: a handler may raise it per request
      // (`req.setBodyLimit`) before it reads, which a limit fixed in the parser could not honour.
      maxBodyBytes: Number.POSITIVE_INFINITY,
    });
  }

  onHead(h: RequestHead): boolean {
    return this.state!.onHead(h);
  }

  onBody(chunk: Uint8Array): boolean {
    return this.state!.onBody(chunk);
  }

  onMessageComplete(trailers: string[] | null): boolean {
    return this.state!.onMessageComplete(trailers);
  }
}

/** Most parsers a pool keeps (each holds about 1 KiB plus the largest head it buffered). */
const PARSER_POOL_MAX = 256;

/**
 * Free parsers of one server (all built with its limits). Under `Connection: close` load every
 * request opens a connection: building its parser was a visible share of the per-connection cost.
 * @internal
 */
export class ParserPool {
  private readonly free: ParserSlot[] = [];
  private readonly limits: ServerLimits;

  constructor(limits: ServerLimits) {
    this.limits = limits;
  }

  acquire(state: ConnState): ParserSlot {
    const slot = this.free.pop() ?? new ParserSlot(this.limits);
    slot.state = state;
    return slot;
  }

  /** Back to the pool: the connection is closed and will never call `execute` again. */
  release(slot: ParserSlot): void {
    slot.state = null;
    slot.parser.reset();
    if (this.free.length < PARSER_POOL_MAX) this.free.push(slot);
  }
}
