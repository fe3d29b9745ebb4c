/**
 * Every per-connection resource an HTTP/2 peer can make the server spend, each with its bound. What
 * happens at the bound is named beside it; the `H2_*` codes are in `errors.ts`.
 */
export interface Http2Limits {
  /**
   * Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). A stream past it is
   * refused with RST_STREAM REFUSED_STREAM (`H2_TOO_MANY_STREAMS`). Default 100 (nginx, node:http2).
   */
  maxConcurrentStreams: number;
  /**
   * Bytes of request body a stream may send before the handler reads them
   * (SETTINGS_INITIAL_WINDOW_SIZE). Buffered request bytes per connection are bounded by
   * `maxConcurrentStreams * initialWindowSize`. Default 65,535 (the protocol's default).
   */
  initialWindowSize: number;
  /** The connection-level receive window, replenished as DATA arrives. Default 1 MiB. */
  connectionWindowSize: number;
  /** The largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE); larger: FRAME_SIZE_ERROR. Default 16,384. */
  maxFrameSize: number;
  /** The HPACK dynamic table the client may use (SETTINGS_HEADER_TABLE_SIZE). Default 4,096. */
  headerTableSize: number;
  /**
   * Decoded header list size (SETTINGS_MAX_HEADER_LIST_SIZE: name + value + 32 per field). Past it
   * the request is answered 431 and its stream closed (`H2_HEADER_LIST_TOO_LARGE`). Default 16,384.
   */
  maxHeaderListSize: number;
  /**
   * Encoded bytes of one header block, HEADERS and every CONTINUATION together: past it the
   * connection is closed with GOAWAY ENHANCE_YOUR_CALM (`H2_CONTINUATION_FLOOD`). Default 65,536.
   */
  maxHeaderBlockBytes: number;
  /**
   * Rapid Reset (CVE-2023-44487): streams the client opens and resets (or that are refused) before
   * their response ends, as a token bucket of this size refilled at `resetsPerSecond`. Empty:
   * GOAWAY ENHANCE_YOUR_CALM (`H2_RAPID_RESET`). Default 200.
   */
  resetBurst: number;
  /** Refill rate of `resetBurst`, per second. Default 100. */
  resetsPerSecond: number;
  /**
   * SETTINGS, PING and PRIORITY frames (each costs work or an answer), as a token bucket of this size
   * refilled at `controlFramesPerSecond`. Empty: GOAWAY ENHANCE_YOUR_CALM (`H2_CONTROL_FLOOD`).
   * Default 1,000.
   */
  controlFrameBurst: number;
  /** Refill rate of `controlFrameBurst`, per second. Default 200. */
  controlFramesPerSecond: number;
  /**
   * Frames in a row that carry nothing (an empty DATA without END_STREAM, an empty CONTINUATION or
   * HEADERS fragment): past it, GOAWAY ENHANCE_YOUR_CALM (`H2_EMPTY_FRAME_FLOOD`). Default 100.
   */
  maxEmptyFrames: number;
  /**
   * Response bytes queued per stream before `sendData` returns false (the writer then waits for
   * `onStreamWritable`). Default 65,536.
   */
  streamHighWater: number;
  /** Milliseconds the client has to acknowledge our SETTINGS (`H2_SETTINGS_TIMEOUT`). Default 10,000. */
  settingsTimeout: number;
}

/** The defaults of {@link Http2Limits}. */
export const DEFAULT_HTTP2_LIMITS: Readonly<Http2Limits> = Object.freeze({
  maxConcurrentStreams: 100,
  initialWindowSize: 65_535,
  connectionWindowSize: 1_048_576,
  maxFrameSize: 16_384,
  headerTableSize: 4_096,
  maxHeaderListSize: 16_384,
  maxHeaderBlockBytes: 65_536,
  resetBurst: 200,
  resetsPerSecond: 100,
  controlFrameBurst: 1_000,
  controlFramesPerSecond: 200,
  maxEmptyFrames: 100,
  streamHighWater: 65_536,
  settingsTimeout: 10_000,
});

/** `limits` over the defaults, each checked: a non-negative integer in its protocol range. */
export function resolveHttp2Limits(limits?: Partial<Http2Limits>): Http2Limits {
  const out: Http2Limits = { ...DEFAULT_HTTP2_LIMITS };
  if (limits === undefined) return out;
  for (const key of Object.keys(limits) as (keyof Http2Limits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!(key in DEFAULT_HTTP2_LIMITS)) throw new RangeError(`Unknown HTTP/2 limit ${key}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new RangeError(`HTTP/2 limit ${key} must be a non-negative integer`);
    out[key] = v;
  }
  if (out.maxFrameSize < 16_384 || out.maxFrameSize > 16_777_215)
    throw new RangeError('maxFrameSize must be 16384..16777215');
  if (out.initialWindowSize > 0x7fffffff || out.connectionWindowSize > 0x7fffffff)
    throw new RangeError('windows must be at most 2^31-1');
  if (out.connectionWindowSize < 65_535) throw new RangeError('connectionWindowSize must be at least 65535');
  return out;
}
