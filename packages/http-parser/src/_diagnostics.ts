/**
 * The parser's `node:diagnostics_channel` channel. Nothing is built or published unless someone
 * subscribes; the parser checks the channel only after it has failed, so a healthy stream pays one
 * integer compare per `execute`.
 */
import { channel } from 'node:diagnostics_channel';
import type { HttpParseError } from './_errors';

/** Channel names (`strata:http-parser:*`). */
export const ParserChannel = {
  /** The parser refused its input: once per failed parser, from `execute` or `finish`. */
  ERROR: 'strata:http-parser:error',
} as const;

/** Bytes kept on each side of the offending byte in an error message. */
export const ERROR_CONTEXT_BYTES = 64;

/** The message of `strata:http-parser:error`. */
export interface ParseErrorMessage {
  /** The error itself (`parser.error`). */
  error: HttpParseError;
  /** Its stable `HPE_*` code. */
  code: string;
  /** The HTTP status a server answers with. */
  status: number;
  /** Stream offset of the offending byte (0 = the first byte the parser was given). */
  offset: number;
  /** What was wrong, in words. */
  reason: string;
  /**
   * A copy of the bytes around the offset that were in the failing chunk: up to
   * {@link ERROR_CONTEXT_BYTES} before and after it (empty for an error at the end of the stream).
   */
  bytes: Uint8Array;
  /** Stream offset of `bytes[0]`. */
  bytesOffset: number;
}

/** @internal */
export const errorChannel = channel(ParserChannel.ERROR);

/** @internal `base` is the stream offset of `chunk[0]`. */
export function publishError(error: HttpParseError, chunk: Uint8Array, base: number): void {
  const at = error.offset - base;
  const from = Math.max(0, Math.min(chunk.length, at - ERROR_CONTEXT_BYTES));
  const to = Math.max(from, Math.min(chunk.length, at + ERROR_CONTEXT_BYTES));
  const msg: ParseErrorMessage = {
    error,
    code: error.code,
    status: error.status,
    offset: error.offset,
    reason: error.message,
    bytes: chunk.slice(from, to),
    bytesOffset: base + from,
  };
  errorChannel.publish(msg);
}
