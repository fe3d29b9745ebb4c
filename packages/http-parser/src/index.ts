/**
 * @strata/http-parser: a strict, incremental, zero-copy HTTP/1.1 request parser (RFC 9112).
 * Pure leaf: no I/O, no other @strata package.
 */
export { ERROR_CONTEXT_BYTES, type ParseErrorMessage, ParserChannel } from './_diagnostics';
export { ERROR_STATUS, ErrorCode, HttpParseError } from './_errors';
export { RequestParser } from './_parser';
export {
  DEFAULT_LIMITS,
  type ParserCallbacks,
  type ParserLimits,
  type ParserOptions,
  ParseStatus,
  type RequestHead,
} from './_types';
