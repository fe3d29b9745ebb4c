import type { ByteSink, ResponseWriter } from '@strata/response';
import type { ConnState } from './_connection';
import type { RequestTraceContext } from './_diagnostics';
import { byteLength, RESPONSE_HIGH_WATER } from './_flush';
import type { RequestOwner, ServerRequest } from './_request';

/**
 * One request/response pair: the response writer's byte sink and the request's body owner. Only the
 * head of its connection's queue writes to the connection; a later one buffers its bytes until every
 * earlier response has ended. @internal
 */
export class Exchange implements ByteSink, RequestOwner {
  readonly state: ConnState;
  readonly req: ServerRequest | null;
  res: ResponseWriter | null = null;
  next: Exchange | null = null;
  /** Bytes buffered while an earlier response is still open. */
  chunks: (string | Uint8Array)[] | null = null;
  buffered = 0;
  /** The response's bytes are complete. */
  ended = false;
  /** Writes are ignored (the server took over the response, or the connection is gone). */
  dead = false;
  /** The client went away (or the connection was cut) before this response was complete. */
  aborted = false;
  /** Its handler returned (or its promise settled), or it will never run. */
  handlerDone = false;
  /** It left its connection's queue (its response ended, or it was dropped). */
  retired = false;
  /** Whether the connection may stay open after this response. */
  keepAlive: boolean;
  /** `Expect: 100-continue` was asked / answered. */
  expect = false;
  continued = false;
  /** Status when the server wrote the response itself (canned). */
  status = 0;
  bytes = 0;
  start = 0;
  /** Bytes and time are measured (an `onResponse` logger, or a `response.finish` subscriber). */
  measure = false;
  /** The request's trace context when `strata:server:request` is traced. */
  trace: RequestTraceContext | null = null;
  /** This response's send timeout in ms (`req.setSendTimeout`); -1: the server's. */
  sendTimeout = -1;
  drain: (() => void) | null = null;

  constructor(state: ConnState, req: ServerRequest | null, keepAlive: boolean) {
    this.state = state;
    this.req = req;
    this.keepAlive = keepAlive;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.dead || this.ended) return false;
    const s = this.state;
    if (this.measure) this.bytes += byteLength(chunk);
    if (s.head === this) return s.out(chunk);
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.buffered += chunk.length;
    // A response queued behind a slow one holds its bytes here: ask its writer to wait past the mark.
    return this.buffered < RESPONSE_HIGH_WATER;
  }

  cork(): void {
    this.state.corkDepth++;
  }

  uncork(): void {
    const s = this.state;
    if (s.corkDepth > 0 && --s.corkDepth === 0) s.uncorked();
  }

  onDrain(listener: () => void): void {
    this.drain = listener;
    const s = this.state;
    // Not blocked any more (or never was, for a queued exchange that is now the head): call it soon.
    if (s.head === this && !s.blocked) s.scheduleFlush();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const s = this.state;
    if (s.head === this) s.advance();
  }

  /** The server answers instead of the handler (errors): raw bytes, then the exchange ends. */
  respondRaw(bytes: Uint8Array, status: number, keepAlive: boolean): void {
    if (!keepAlive) this.keepAlive = false;
    this.status = status;
    this.write(bytes);
    this.dead = true;
    this.end();
  }

  /**
   * The client is gone or the connection is being cut: the request fails (its signal fires), and a
   * response still being produced is aborted (a stream stops pulling and closes its source).
   */
  abort(reason: Error): void {
    const unfinished = !this.ended;
    this.dead = true;
    if (unfinished) this.aborted = true;
    const req = this.req;
    if (req !== null) req._fail(reason, true);
    const res = this.res;
    if (unfinished && res !== null) res.abort();
    const d = this.drain;
    if (d !== null) {
      this.drain = null;
      d();
    }
  }

  // ---- RequestOwner: what the request asks of its connection --------------------------------------

  bodyWanted(req: ServerRequest): void {
    this.state.bodyWanted(this, req);
  }

  bodyRead(_req: ServerRequest): void {
    this.state.bodyRead(this);
  }

  setSendTimeout(ms: number): void {
    this.sendTimeout = ms;
  }

  setRequestTimeout(ms: number): void {
    this.state.setRequestTimeout(this, ms);
  }

  sendContinue(): void {
    const res = this.res;
    if (res === null || res.headersSent || this.continued) return;
    this.continued = true;
    res.writeContinue();
  }
}
