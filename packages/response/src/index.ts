/**
 * `@strata/response`: an RFC 9110 / RFC 9112 HTTP/1.1 response writer for a byte sink it declares,
 * plus helpers (cookies, conditional requests, ranges, static files, compression, redirects, errors).
 * Pure leaf layer: no socket import, no other `@strata` package.
 *
 * @packageDocumentation
 */
export { type RequestLike, requestFrom } from './_headers';
export { statusText } from './_status';
export { cannedResponse } from './canned';
export {
  type CompressionOptions,
  type Encoding,
  isCompressible,
  negotiateEncoding,
  sendCompressed,
} from './compress';
export {
  type ConditionResult,
  type EntityTag,
  etagFor,
  evaluateConditions,
  parseETag,
  parseETagList,
  parseHttpDate,
  respondConditionally,
  strongMatch,
  type Validators,
  weakMatch,
} from './conditional';
export {
  type CookieOptions,
  type CookieSecrets,
  clearCookie,
  parseCookie,
  serializeCookie,
  setCookie,
  signCookie,
  unsignCookie,
} from './cookies';
export { ResponseError, ResponseErrorCode, type ResponseErrorCodeValue } from './errors';
export {
  type ByteRange,
  ifRangeAllows,
  type MultipartPlan,
  parseRange,
  planMultipart,
  type RangeOptions,
  type RangeResult,
  rangeFor,
  sendRanged,
} from './range';
export {
  type ErrorFormat,
  errorFormatFor,
  type Problem,
  type RedirectStatus,
  redirect,
  sendError,
  sendProblem,
} from './reply';
export {
  PathErrorCode,
  resolveSafePath,
  type SafePath,
  type StaticHandler,
  type StaticOptions,
  type StaticRequest,
  serveStatic,
} from './static';
export {
  type ByteSink,
  type FieldSink,
  type HeaderValue,
  ResponseWriter,
  type ResponseWriterOptions,
  type StreamOptions,
  type StreamSource,
} from './writer';
