/**
 * Stable error codes of the form parsers (urlencoded and multipart), each with the HTTP status a
 * server should answer with. Match on `code`, never on `message`.
 */
export const FormErrorCode = {
  /** More fields (urlencoded pairs, or non-file multipart parts) than `maxFields`. */
  FORM_TOO_MANY_FIELDS: 'FORM_TOO_MANY_FIELDS',
  /** A field name longer than `maxFieldNameBytes`, or a field value longer than `maxFieldValueBytes`. */
  FORM_FIELD_TOO_LARGE: 'FORM_FIELD_TOO_LARGE',
  /** The whole body is longer than `maxTotalBytes`. */
  FORM_TOO_LARGE: 'FORM_TOO_LARGE',
  /** Bytes that cannot be decoded as the declared encoding, where the parser is strict about it. */
  FORM_BAD_ENCODING: 'FORM_BAD_ENCODING',
  /** Multipart: the boundary parameter is missing, empty, too long or has a forbidden byte (RFC 2046 5.1.1). */
  FORM_BAD_BOUNDARY: 'FORM_BAD_BOUNDARY',
  /** Multipart: a part header line is malformed, or Content-Disposition is missing or not `form-data`. */
  FORM_BAD_PART_HEADER: 'FORM_BAD_PART_HEADER',
  /** Multipart: the header section of one part is longer than `maxPartHeaderBytes`. */
  FORM_PART_HEADERS_TOO_LARGE: 'FORM_PART_HEADERS_TOO_LARGE',
  /** Multipart: more parts than `maxParts`. */
  FORM_TOO_MANY_PARTS: 'FORM_TOO_MANY_PARTS',
  /** Multipart: more file parts than `maxFiles`. */
  FORM_TOO_MANY_FILES: 'FORM_TOO_MANY_FILES',
  /** Multipart: one file part longer than `maxFileBytes`. */
  FORM_FILE_TOO_LARGE: 'FORM_FILE_TOO_LARGE',
  /** Multipart: the body ended before the close delimiter. */
  FORM_UNEXPECTED_END: 'FORM_UNEXPECTED_END',
  /** Multipart: a part is itself `multipart/mixed` (deprecated by RFC 7578 section 4.3; rejected). */
  FORM_NESTED_MULTIPART: 'FORM_NESTED_MULTIPART',
  /** The Content-Type is not one this parser handles. */
  FORM_UNSUPPORTED_MEDIA_TYPE: 'FORM_UNSUPPORTED_MEDIA_TYPE',
} as const;

/** One of the stable `FORM_*` codes. */
export type FormErrorCode = (typeof FormErrorCode)[keyof typeof FormErrorCode];

/** The HTTP status a server should send for each error code (the single error -> status table). */
export const FORM_ERROR_STATUS: Readonly<Record<FormErrorCode, number>> = {
  FORM_TOO_MANY_FIELDS: 413,
  FORM_FIELD_TOO_LARGE: 413,
  FORM_TOO_LARGE: 413,
  FORM_BAD_ENCODING: 400,
  FORM_BAD_BOUNDARY: 400,
  FORM_BAD_PART_HEADER: 400,
  FORM_PART_HEADERS_TOO_LARGE: 413,
  FORM_TOO_MANY_PARTS: 413,
  FORM_TOO_MANY_FILES: 413,
  FORM_FILE_TOO_LARGE: 413,
  FORM_UNEXPECTED_END: 400,
  FORM_NESTED_MULTIPART: 400,
  FORM_UNSUPPORTED_MEDIA_TYPE: 415,
};

/**
 * An error in a form body. Match on `code`, never on `message`; answer with `status`.
 *
 * @example
 * try {
 *   parseUrlEncoded(body);
 * } catch (err) {
 *   if (err instanceof FormError) respond(err.status, err.code);
 *   else throw err;
 * }
 */
export class FormError extends Error {
  /** Stable `FORM_*` code. */
  readonly code: FormErrorCode;
  /** HTTP status the server should answer with (400, 413 or 415), from `FORM_ERROR_STATUS`. */
  readonly status: number;
  /** Offset of the offending byte, counted from the first byte given to the parser (-1 if none applies). */
  readonly offset: number;

  constructor(code: FormErrorCode, offset: number, reason: string) {
    super(reason);
    this.name = 'FormError';
    this.code = code;
    this.status = FORM_ERROR_STATUS[code];
    this.offset = offset;
  }
}
