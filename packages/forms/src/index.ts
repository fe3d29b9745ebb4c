/**
 * @strata/forms: streaming, strict parsers for HTML form bodies, multipart/form-data (RFC 7578) and
 * application/x-www-form-urlencoded (WHATWG URL). Pure leaf: no I/O, no other @strata package.
 */
export { FORM_ERROR_STATUS, FormError, FormErrorCode } from './_errors';
export {
  DEFAULT_MULTIPART_LIMITS,
  type MultipartCallbacks,
  type MultipartLimits,
  MultipartParser,
} from './_multipart';
export { type MultipartContentType, type PartInfo, parseContentType, safeFilename } from './_part-headers';
export { type FormLimits, type FormPart, type FormSource, formData, parts } from './_parts';
export {
  DEFAULT_URLENCODED_LIMITS,
  parseUrlEncoded,
  type UrlEncodedFieldHandler,
  type UrlEncodedLimits,
  UrlEncodedParser,
} from './_urlencoded';
