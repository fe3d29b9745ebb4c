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
  /** Whether the client asked to keep the connection open after this request. */
  keepAlive: boolean | null;
  /** The body framing of the head: `none`, `content-length` (see `contentLength`) or `chunked`. */
  framing: 'none' | 'content-length' | 'chunked' | 'unknown';
  /** The declared `Content-Length`, or -1. */
  contentLength: number;
  /**
   * The bytes of this request exactly as the transport read them (head, body, trailers), decoded
   * Latin-1 so that every byte is one character; at most `maxEntryBytes` of them, secret header
   * values overwritten with `*` byte for byte. Null when the bytes were not observed (`unobserved`).
   */
  bytes: string | null;
  /** Bytes of this request on the wire so far (more than `bytes` holds when it was cut at the bound). */
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
