/** What `execute` and `finish` return. A plain `as const` object, not an enum. */
export const ParseStatus = {
  /** Every byte of the chunk was consumed (the parser may be in the middle of a message). */
  OK: 0,
  /**
   * Stopped right after the head of an Upgrade or CONNECT request. `parser.consumed` is the number of
   * bytes of this chunk that belong to the head; the rest belongs to the new protocol.
   */
  UPGRADE: 1,
  /** Stopped on bad input; `parser.error` says why. Nothing more is parsed on this connection. */
  ERROR: 2,
  /** A callback returned `true`. `parser.consumed` says where; call `execute` again with the rest. */
  PAUSED: 3,
} as const;

/** One of the `ParseStatus` values. */
export type ParseStatus = (typeof ParseStatus)[keyof typeof ParseStatus];

/** The parsed head of one request. A fresh object per request; the parser never touches it again. */
export interface RequestHead {
  /** The method exactly as sent (case-sensitive token). */
  method: string;
  /** The request-target exactly as sent (origin, absolute, authority or asterisk form). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor: 0 | 1;
  /** Field lines in order, original case, values with surrounding SP/HTAB trimmed: `[name, value, ...]`. */
  rawHeaders: string[];
  /** The authoritative host: the absolute-form or authority-form authority, else the Host field, else null. */
  host: string | null;
  /** The Content-Length, or -1 when the request has none (also -1 when chunked). */
  contentLength: number;
  /** True when the final transfer coding is `chunked`. */
  chunked: boolean;
  /** Whether the connection stays open after this request (version default + Connection tokens). */
  keepAlive: boolean;
  /** Upgrade field with a Connection `upgrade` token in HTTP/1.1, or a CONNECT request. */
  upgrade: boolean;
  /** `Expect: 100-continue` in an HTTP/1.1 request. */
  expectContinue: boolean;
}

/**
 * The three events. Returning `true` from any of them pauses the parser right after the event
 * (`execute` returns `ParseStatus.PAUSED`).
 */
export interface ParserCallbacks {
  /** A complete, validated head. */
  onHead(head: RequestHead): unknown;
  /**
   * A piece of the body (chunked framing removed). ZERO-COPY: `chunk` is a view into the buffer given
   * to `execute`, valid only during this call; copy it to keep it.
   */
  onBody(chunk: Uint8Array): unknown;
  /** The message is complete. `trailers` is a flat `[name, value, ...]` list, or null when none. */
  onMessageComplete(trailers: string[] | null): unknown;
}

/** Size limits. Every limit is a byte or item count; exceeding it is an error with the noted status. */
export interface ParserLimits {
  /** Request line, CRLF included (414; 501 when the method alone is that long). Default 8192. */
  maxRequestLineBytes: number;
  /** Whole head: request line + field lines + final CRLF (431). Also caps the trailer section. Default 16384. */
  maxHeadBytes: number;
  /** Field lines in the head, and separately in the trailers (431). Default 100. */
  maxHeaders: number;
  /** Extension bytes after one chunk size (400). Default 1024. */
  maxChunkExtensionBytes: number;
  /** Body bytes of one request, Content-Length or chunked (413). Default 16 MiB; `Infinity` for none. */
  maxBodyBytes: number;
}

/** Limits plus behaviour switches. */
export interface ParserOptions extends ParserLimits {
  /**
   * Require exactly one valid Host field in HTTP/1.1 requests (RFC 9112 section 3.2). Default true.
   * Turn off only for tools that are not origin servers (Node's `requireHostHeader: false`).
   */
  requireHost: boolean;
}

/** The defaults used for every option not given. */
export const DEFAULT_LIMITS: Readonly<ParserOptions> = Object.freeze({
  maxRequestLineBytes: 8192,
  maxHeadBytes: 16384,
  maxHeaders: 100,
  maxChunkExtensionBytes: 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  requireHost: true,
});
