/**
 * The HTTP/2 layer's `node:diagnostics_channel` channel. Nothing is built or published unless
 * someone subscribes: a connection checks `hasSubscribers` once per frame.
 */
import { channel } from 'node:diagnostics_channel';

/** Channel names of `@strata/http2`. */
export const Http2Channel = {
  /** Every frame a connection reads or writes: {@link Http2FrameMessage}. */
  FRAME: 'strata:http2:frame',
} as const;

/** Bytes of a frame copied into its message at most (the header and the start of the payload). */
export const FRAME_BYTES_KEPT = 256;

/** One frame, as `strata:http2:frame` publishes it. */
export interface Http2FrameMessage {
  /** The `id` option of the connection (the server passes its transport connection's id). */
  connectionId: number;
  /** `'in'`: read from the client; `'out'`: written to it. */
  direction: 'in' | 'out';
  /** Frame type number and its RFC name (`HEADERS`). */
  type: number;
  typeName: string;
  flags: number;
  streamId: number;
  /** Payload length as in the frame header. */
  length: number;
  /**
   * The decoded header list of a header block (flat `[name, value, ...]`, pseudo-headers first), on
   * the HEADERS or CONTINUATION frame that ends it; null otherwise (and for a block that failed).
   */
  fields: string[] | null;
  /** A copy of the frame's first bytes (header included), at most {@link FRAME_BYTES_KEPT}. */
  bytes: Uint8Array;
}

/** The channel itself. @internal */
export const frameChannel = channel(Http2Channel.FRAME);
