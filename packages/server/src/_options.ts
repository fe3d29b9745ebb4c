/**
 * Server options, their defaults and the reasons for each default (the README's defaults table is
 * generated from the same reasoning).
 */

/** Size limits. Every limit answers with its own status and closes the connection. */
export interface ServerLimits {
  /** Bytes of request line + header lines (431 when exceeded; 414 when the URL alone is too long). */
  maxHeaderBytes: number;
  /** Bytes of the request line, CRLF included: in practice the URL (414). */
  maxRequestLineBytes: number;
  /** Header field lines in the head (431). */
  maxHeaders: number;
  /**
   * Bytes of one request body, declared or streamed (413). A handler may raise or lower it for one
   * request with `req.setBodyLimit(bytes)` before it reads the body; 0 means no limit.
   */
  maxBodyBytes: number;
  /**
   * Bytes of request body buffered ahead of the handler. Past it the engine stops parsing and
   * reading the socket until the handler takes what is buffered (the client's TCP window closes).
   */
  maxBodyBuffer: number;
  /**
   * Bytes of a request body the handler never read that the engine reads and discards after the
   * response, to keep the connection alive. A longer remainder closes the connection instead.
   */
  maxDrainBytes: number;
  /** Requests served on one connection before the server answers `Connection: close` (0 = no limit). */
  maxRequestsPerConnection: number;
  /**
   * Requests of one connection being handled at once (pipelined requests whose responses are not
   * finished). At the bound the engine stops parsing, even inside one read, until one finishes.
   */
  maxPipelined: number;
}

/** Timeouts in milliseconds (0 disables one). */
export interface ServerTimeouts {
  /** From the first byte of a request to the end of its head (408 then close: defeats slowloris). */
  headers: number;
  /** From the first byte of a request to the end of its body (408 then close). */
  request: number;
  /** An idle keep-alive connection (no request in progress) is closed after this long. */
  keepAlive: number;
  /**
   * A response that makes no progress this long (the peer's window stays closed: nothing written
   * is taken) closes its connection: its handler's stream is aborted and its files are closed.
   * A handler may change it for its own response with `req.setSendTimeout(ms)` (0: none).
   */
  send: number;
  /** An unread request body is drained after its response for at most this long, then the connection closes. */
  drain: number;
}

/** Defaults for {@link ServerLimits}. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  // 16 KiB: Node's --max-http-header-size; big cookies fit, a flood does not.
  maxHeaderBytes: 16 * 1024,
  // 8 KiB: the common proxy limit (nginx large_client_header_buffers, CDNs); longer URLs break there anyway.
  maxRequestLineBytes: 8 * 1024,
  // 100: node:http's maxHeadersCount; real browsers send 10-30.
  maxHeaders: 100,
  // 1 MiB: nginx client_max_body_size and fastify bodyLimit; raise it per route with
  // req.setBodyLimit() for uploads (the body streams, so a large limit costs no memory).
  maxBodyBytes: 1024 * 1024,
  // 64 KiB: one socket read (Node reads 64 KiB at a time); node:http's request stream pauses the
  // socket at 16 KiB. Bounds the memory of a slow consumer to this plus one read.
  maxBodyBuffer: 64 * 1024,
  // 64 KiB: one socket read; a larger unread remainder costs the client less to resend on a new
  // connection than the server to read and throw away.
  maxDrainBytes: 64 * 1024,
  // 0 (no limit), like node:http: reuse is the point of keep-alive; set it behind an L4 balancer to rebalance.
  maxRequestsPerConnection: 0,
  // 16: the deepest pipelines clients use (wrk --pipeline 16). Each handler in flight may hold one
  // write of any size while it waits its turn, so memory per connection is at most this many writes.
  maxPipelined: 16,
};

/** Defaults for {@link ServerTimeouts}. */
export const DEFAULT_TIMEOUTS: Readonly<ServerTimeouts> = {
  // 30 s: a real client sends its head in one packet; a slowloris dribble is cut here.
  headers: 30_000,
  // 300 s: node:http's requestTimeout; enough for a slow upload of maxBodyBytes over a bad link.
  request: 300_000,
  // 75 s: must exceed the idle timeout of the proxies in front (AWS ALB 60 s, nginx upstream
  // keepalive_timeout 60 s, Cloudflare 90 s is the exception to raise it for). If the server closes
  // first, the proxy may send a request on a connection the server is closing and answer 502
  // (node:http's 5 s default is the classic cause).
  keepAlive: 75_000,
  // 30 s: a live client's receive window reopens within milliseconds of its reads; one closed for
  // 30 s is stalled or gone. Half of nginx's send_timeout (60 s), since here each stalled response
  // also holds a handler, its open file and its compressor.
  send: 30_000,
  // 2 s: enough to read maxDrainBytes at any real link speed (node-server drains for 500 ms).
  drain: 2_000,
};

/** Resolve partial limits against the defaults and validate them. */
export function resolveLimits(input: Partial<ServerLimits> | undefined): ServerLimits {
  const out: ServerLimits = { ...DEFAULT_LIMITS, ...input };
  for (const key of Object.keys(out) as (keyof ServerLimits)[]) {
    const v = out[key];
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`limits.${key} must be a non-negative integer`);
  }
  if (out.maxPipelined < 1) throw new RangeError('limits.maxPipelined must be at least 1');
  if (out.maxBodyBuffer < 1) throw new RangeError('limits.maxBodyBuffer must be at least 1');
  return out;
}

/** Resolve partial timeouts against the defaults and validate them. */
export function resolveTimeouts(input: Partial<ServerTimeouts> | undefined): ServerTimeouts {
  const out: ServerTimeouts = { ...DEFAULT_TIMEOUTS, ...input };
  for (const key of Object.keys(out) as (keyof ServerTimeouts)[]) {
    const v = out[key];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`timeouts.${key} must be a non-negative number`);
  }
  return out;
}

/** Interval of the sweep that checks all deadlines: a quarter of the shortest timeout, 10 ms to 1 s. */
export function sweepInterval(t: ServerTimeouts): number {
  let min = Number.POSITIVE_INFINITY;
  if (t.headers > 0) min = Math.min(min, t.headers);
  if (t.request > 0) min = Math.min(min, t.request);
  if (t.keepAlive > 0) min = Math.min(min, t.keepAlive);
  if (t.send > 0) min = Math.min(min, t.send);
  if (t.drain > 0) min = Math.min(min, t.drain);
  if (min === Number.POSITIVE_INFINITY) return 1000;
  return Math.max(10, Math.min(1000, Math.floor(min / 4)));
}
