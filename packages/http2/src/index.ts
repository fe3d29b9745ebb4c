/**
 * `@strata/http2`: HTTP/2 (RFC 9113) and HPACK (RFC 7541) as a sans-I/O protocol engine. Bytes in,
 * events and bytes out: no sockets, no timers of its own, no other Strata package.
 */
export { type Http2ConnectionOptions, type Http2Handlers, Http2ServerConnection } from './_connection';
export { FRAME_BYTES_KEPT, Http2Channel, type Http2FrameMessage } from './_diagnostics';
export {
  CLIENT_PREFACE,
  Flag,
  FrameType,
  frameTypeName,
  matchPreface,
  Setting,
} from './_frames';
export {
  HpackDecoder,
  type HpackDecoderOptions,
  HpackEncoder,
  type HpackEncoderOptions,
} from './_hpack';
export { DEFAULT_HTTP2_LIMITS, type Http2Limits, resolveHttp2Limits } from './_limits';
export { checkRequest, type RequestHead } from './_request';
export {
  ErrorCode,
  errorCodeName,
  H2_ERROR_WIRE_CODE,
  Http2Error,
  Http2ErrorCode,
} from './errors';
