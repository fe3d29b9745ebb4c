/** The inspector's public data: one entry per request, as `entries()` and the JSON give it. */

/** The request side of an entry: the bytes as they arrived, and what the head said. */
export interface InspectedRequest {
  /** Method, request-target and version from the parsed head; null for a request refused before a head. */
  method: string | null;
  target: string | null;
  version: string | null;
  /** The header fields as sent (original case and order), secrets masked. */
  headers: [string, string][];
  /** Trailer fields of a chunked body, once it has been read (secrets masked). */
  trailers: [string, string][];
  /** Whether the client asked to keep the connection open after this request (null for HTTP/2). */
  keepAlive: boolean | null;
  /**
   * The body framing of the head: `none`, `content-length` (see `contentLength`) or `chunked`;
   * `http2` for an HTTP/2 request (its body is the stream's DATA frames, see `InspectorEntry.http2`).
   */
  framing: 'none' | 'content-length' | 'chunked' | 'http2' | 'unknown';
  /** The declared `Content-Length`, or -1. */
  contentLength: number;
  /**
   * The bytes of this request exactly as the transport read them (head, body, trailers), decoded
   * Latin-1 so that every byte is one character; at most `maxEntryBytes` of them, secret header
   * values overwritten with `*` byte for byte. Null when the bytes were not observed (`unobserved`),
   * and for an HTTP/2 request, whose bytes are frames (`InspectorEntry.http2`).
   */
  bytes: string | null;
  /**
   * Bytes of this request on the wire so far (more than `bytes` holds when it was cut at the bound);
   * for HTTP/2, the frames the client sent on its stream, frame headers included.
   */
  bytesTotal: number;
  /** Whether the last byte of the message has arrived. */
  complete: boolean;
  /** Why `bytes` is null; else null. */
  unobserved: string | null;
}

/** What the router said (from `strata:router:match`), or the route the application named. */
export interface InspectedRoute {
  /** The matched pattern (`/user/:name`), or null when nothing matched. */
  pattern: string | null;
  /** The router's answer: 200 for a match, or 204, 308, 400, 404, 405, 414; null when not from a router. */
  status: number | null;
  /** The route parameters, percent-decoded. */
  params: Record<string, string>;
}

/** The response side of an entry. */
export interface InspectedResponse {
  /** The status sent (0 while nothing has been sent). */
  status: number;
  /**
   * The response head exactly as serialised (`ResponseWriter#head`: status line, fields, empty
   * line), shown as soon as it is on the wire; for a refused request, the server's canned answer.
   * Secrets (`Set-Cookie`) masked. Null until sent.
   */
  head: string | null;
  /** The fields of `head`, in order. */
  headers: [string, string][];
  /** The engine's own answer (a refused request), not a handler's. */
  canned: boolean;
  /** Whether the last byte went out (or the response was cut short: `aborted`). */
  finished: boolean;
  aborted: boolean;
  /** Response bytes (head and body) handed to the socket; -1 until finished. */
  bytesOut: number;
  /** Body bytes received, as the server counted them; -1 until finished. */
  bodyBytesIn: number;
  /** Milliseconds from the end of the request head to the end of the response; -1 until finished. */
  durationMs: number;
}

/** Why the server refused a request (`strata:server:request.refused` and the parser's error). */
export interface InspectedRefusal {
  /** The stable code: `HPE_*` from the parser, `ERR_*` from the server. */
  code: string;
  /** The status the server answered with. */
  status: number;
  /** The parser's words for what was wrong, when it was a parse error. */
  reason: string | null;
  /** Stream offset of the offending byte on the connection (0 = its first byte); -1 when not a parse error. */
  offset: number;
  /** The same byte as an index into `request.bytes`, or -1. */
  at: number;
  /** Bytes that had arrived after the offending one (never parsed; not kept). */
  bytesAfter: number;
}

/** One request as the inspector recorded it. */
export interface InspectorEntry {
  /** Increasing number, unique per inspector. */
  id: number;
  /** When the request started (the handler was called, or the server refused it), ISO 8601. */
  time: string;
  /** The transport connection's id (requests of one keep-alive connection share it). */
  connectionId: number;
  /** `address:port` of the peer. */
  remote: string;
  request: InspectedRequest;
  route: InspectedRoute | null;
  response: InspectedResponse | null;
  /** Set when the server refused the request (it never reached a handler, or its body was refused). */
  refused: InspectedRefusal | null;
  /** For an HTTP/2 request: the frames of its stream, both ways; null for HTTP/1.x. */
  http2: InspectedStream | null;
}

/**
 * One HTTP/2 frame, as `strata:http2:frame` published it, with its flags named, its header block
 * decoded and masked, and its first bytes (the 9-byte frame header, then the payload).
 */
export interface InspectedFrame {
  /** `in`: read from the client; `out`: written to it. */
  direction: 'in' | 'out';
  /** The frame type number and its RFC 9113 name (`HEADERS`, `DATA`, `SETTINGS`, ...). */
  type: number;
  typeName: string;
  flags: number;
  /** The flags set, by name for this type, joined with `|` (`END_STREAM|END_HEADERS`); unknown bits as `0x..`; `''` when none. */
  flagNames: string;
  streamId: number;
  /** Payload length, as in the frame header. */
  length: number;
  /**
   * The decoded header list on the frame that ends a header block (HEADERS or CONTINUATION with
   * END_HEADERS), pseudo-header fields first, secrets masked; null on every other frame.
   */
  fields: [string, string][] | null;
  /**
   * The frame's first bytes (header included, at most 256 per frame) decoded Latin-1, so that every
   * byte is one character; null when hidden (see `hidden`).
   */
  bytes: string | null;
  /**
   * Why `bytes` is null: `masked` (a header block that holds a masked field: its raw HPACK bytes
   * would show the secret), `not decoded` (a header block with no decoded list, which may hold one),
   * `block not ended` (its header block has not ended yet), `over maxEntryBytes`; else null.
   */
  hidden: 'masked' | 'not decoded' | 'block not ended' | 'over maxEntryBytes' | null;
}

/** The frames of one HTTP/2 stream (a request and its response). */
export interface InspectedStream {
  streamId: number;
  /** In the order they were read or written, at most `MAX_STREAM_FRAMES` (the first ones). */
  frames: InspectedFrame[];
  /** Frames seen on this stream (more than `frames` holds past the bound). */
  framesTotal: number;
}

/** An HTTP/2 connection and its connection-level frames (stream 0: SETTINGS, PING, GOAWAY, WINDOW_UPDATE). */
export interface InspectedConnection {
  /** The transport connection's id (its entries have the same `connectionId`). */
  connectionId: number;
  /** `address:port` of the peer, when the connection was opened while recording; else `''`. */
  remote: string;
  protocol: 'h2';
  /** Whether its frames are followed from the first (false: recording started while it was open). */
  fromStart: boolean;
  /** Whether the connection was open when last seen (false once it closed, or once recording stopped). */
  open: boolean;
  /**
   * The stream-0 frames, both ways: the first `MAX_CONNECTION_FRAMES / 2` and the latest ones
   * (SETTINGS at the start and GOAWAY at the end both stay).
   */
  frames: InspectedFrame[];
  /** Stream-0 frames seen (more than `frames` holds past the bound). */
  framesTotal: number;
}

/** When the inspector records: `watch` while someone looks, `on` always, `off` never. */
export type RecordingMode = 'watch' | 'on' | 'off';

/** Whether the inspector records now, and why. */
export interface RecordingState {
  mode: RecordingMode;
  /** Whether requests are recorded right now. */
  on: boolean;
  /** Live feeds (pages) and `watch()` handles open now. */
  watchers: number;
}
