/**
 * The Learn path's HTTP/2 chapter: the learner's own request, as HTTP/1.1 bytes and as HTTP/2
 * frames built live with `@strata/http2` (HpackEncoder for the header blocks, HpackDecoder to read
 * them back, the frame layout of RFC 9113 section 4.1 written here), and the response as frames.
 * Pure functions of a {@link LearnRequest}: the page and LEARN.md draw the same walk-through.
 */
import {
  CLIENT_PREFACE,
  DEFAULT_HTTP2_LIMITS,
  Flag,
  FrameType,
  frameTypeName,
  HpackDecoder,
  HpackEncoder,
  Setting,
} from '@strata/http2';

/** The request a chapter page shows: the learner's own, bounded (all strings Latin-1). */
export interface LearnRequest {
  /** `GET`. */
  method: string;
  /** The request target as sent: `/learn/http2`. */
  path: string;
  /** `127.0.0.1:8080`: the `Host` field in HTTP/1.1, `:authority` in HTTP/2. */
  authority: string;
  scheme: 'http' | 'https';
  /** The version this page was really fetched with. */
  version: '1.0' | '1.1' | '2.0';
  /**
   * The other fields, flat `[name, value, ...]`, names as sent: no `Host`, no connection-specific
   * field (HTTP/2 has none), no credentials or cookies.
   */
  fields: string[];
  /** Fields left out: credentials and cookies, and those past {@link MAX_FIELDS}. */
  omitted: number;
  /** The response's `date` value. */
  date: string;
  /** Bytes of the response body (the page), for the DATA frames. */
  pageBytes: number;
  /** A made-up request (LEARN.md's), not one a learner sent: the prose says so. */
  sample?: boolean;
}

/** Fields of the learner's request the page shows at most. */
export const MAX_FIELDS = 32;
/** Characters of one field value the page shows at most (longer ones are cut). */
export const MAX_VALUE = 256;

/**
 * Fields that belong to one HTTP/1.1 connection, not to the request: HTTP/2 forbids them (RFC 9113
 * section 8.2.2), so they are not shown in either form. `host` becomes `:authority`.
 */
const CONNECTION_FIELDS: readonly string[] = [
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
];
/** Never printed on a page: the learner's secrets. */
const SECRET_FIELDS: readonly string[] = ['cookie', 'authorization', 'proxy-authorization'];

/** Characters above U+00FF (cannot be on the wire as sent) become `?`. */
function latin1(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c > 0xff ? '?' : s[i];
  }
  return out;
}

/**
 * The request as the chapter shows it, from what the server received: `rawHeaders` as sent (flat,
 * original case), bounded by {@link MAX_FIELDS} and {@link MAX_VALUE}.
 */
export function learnRequest(from: {
  method: string;
  url: string;
  authority: string;
  tls: boolean;
  version: '1.0' | '1.1' | '2.0';
  rawHeaders: readonly string[];
  date: string;
}): LearnRequest {
  const fields: string[] = [];
  let omitted = 0;
  for (let i = 0; i + 1 < from.rawHeaders.length; i += 2) {
    const name = from.rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower.charCodeAt(0) === 0x3a /* ':' */ || CONNECTION_FIELDS.includes(lower)) continue;
    if (SECRET_FIELDS.includes(lower) || fields.length >= 2 * MAX_FIELDS) {
      omitted++;
      continue;
    }
    let value = latin1(from.rawHeaders[i + 1]!);
    if (value.length > MAX_VALUE) value = `${value.slice(0, MAX_VALUE - 3)}...`;
    fields.push(latin1(name), value);
  }
  return {
    method: latin1(from.method),
    path: latin1(from.url).slice(0, 2 * MAX_VALUE),
    authority: latin1(from.authority),
    scheme: from.tls ? 'https' : 'http',
    version: from.version,
    fields,
    omitted,
    date: from.date,
    pageBytes: 0,
  };
}

/** One frame: its 9-byte header decoded, and all its bytes (header, then payload). */
export interface ShownFrame {
  /** What the frame is for, in words. */
  label: string;
  type: number;
  flags: number;
  stream: number;
  /** The payload's length (also when `bytes` holds only the header, for DATA). */
  length: number;
  /** The frame's bytes: header and payload (for DATA, the header only). */
  bytes: Uint8Array;
}

/** One field of a header block: the octets HPACK wrote for it and how to read them. */
export interface ShownField {
  name: string;
  value: string;
  bytes: Uint8Array;
  /** The representation (RFC 7541 section 6), in words. */
  how: string;
}

/** Everything the chapter draws, computed from one request. */
export interface Http2Walkthrough {
  /** The HTTP/1.1 request head, lines without their CR LF (the last one empty). */
  http1Lines: string[];
  /** Its bytes on the wire (each line plus CR LF). */
  http1Bytes: number;
  /** The header list HTTP/2 sends: pseudo-headers, then lower-case fields (flat). */
  h2Fields: string[];
  /** The client's first bytes: the preface, then its SETTINGS. */
  preface: Uint8Array;
  clientSettings: ShownFrame;
  /** The request's HEADERS frame on stream 1 and its fields, one by one. */
  headers: ShownFrame;
  requestFields: ShownField[];
  /** The HPACK block alone, its size without Huffman, and what HpackDecoder reads from it. */
  block: Uint8Array;
  blockWithoutHuffman: number;
  decoded: string[];
  /** The same request again, on stream 3 of the same connection (the same encoder). */
  again: ShownFrame;
  againFields: ShownField[];
  /** The server's frames: its SETTINGS, WINDOW_UPDATE, SETTINGS ACK, HEADERS, DATA. */
  server: ShownFrame[];
  responseFields: ShownField[];
  /** The response head as HTTP/1.1 would send it, in bytes. */
  http1ResponseBytes: number;
}

/** A frame: the 9-byte header of RFC 9113 section 4.1, then the payload. */
function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array,
  length = payload.length,
): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = (length >>> 16) & 0xff;
  out[1] = (length >>> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = (stream >>> 24) & 0x7f; // the R bit stays 0
  out[6] = (stream >>> 16) & 0xff;
  out[7] = (stream >>> 8) & 0xff;
  out[8] = stream & 0xff;
  out.set(payload, 9);
  return out;
}

function shown(label: string, type: number, flags: number, stream: number, payload: Uint8Array): ShownFrame {
  return { label, type, flags, stream, length: payload.length, bytes: frame(type, flags, stream, payload) };
}

/** A SETTINGS payload: 6 octets per setting (a 16-bit id, a 32-bit value). */
function settingsPayload(pairs: readonly number[]): Uint8Array {
  const out = new Uint8Array(3 * pairs.length);
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const at = 3 * i;
    const v = pairs[i + 1]!;
    out[at] = 0;
    out[at + 1] = pairs[i]!;
    out[at + 2] = (v >>> 24) & 0xff;
    out[at + 3] = (v >>> 16) & 0xff;
    out[at + 4] = (v >>> 8) & 0xff;
    out[at + 5] = v & 0xff;
  }
  return out;
}

/** An HPACK integer with an N-bit prefix at `b[at]` (RFC 7541 section 5.1): value and next position. */
function readInt(b: Uint8Array, at: number, bits: number): [number, number] {
  const max = (1 << bits) - 1;
  let v = b[at]! & max;
  let pos = at + 1;
  if (v < max) return [v, pos];
  let shift = 0;
  for (let k = 0; k < 5 && pos < b.length; k++) {
    const c = b[pos++]!;
    v += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if ((c & 0x80) === 0) break;
  }
  return [v, pos];
}

/** A string literal's header at `b[at]`: Huffman or not, its octets, and the position after it. */
function readString(b: Uint8Array, at: number): { huffman: boolean; octets: number; end: number } {
  const [n, pos] = readInt(b, at, 7);
  return { huffman: (b[at]! & 0x80) !== 0, octets: n, end: pos + n };
}

/** Static table entries (RFC 7541 appendix A): 61; dynamic entries are numbered from 62. */
const STATIC_ENTRIES = 61;

/** How one field's octets read (RFC 7541 section 6), in words. */
function describe(bytes: Uint8Array, name: string, value: string): string {
  const first = bytes[0]!;
  const where = (i: number) =>
    i <= STATIC_ENTRIES
      ? `static table entry ${i}`
      : `dynamic table entry ${i} (added earlier on this connection)`;
  if ((first & 0x80) !== 0) {
    const [i] = readInt(bytes, 0, 7);
    return `indexed: ${where(i)} holds this exact name and value, so one index stands for the whole field`;
  }
  let kind: string;
  let bits: number;
  if ((first & 0xc0) === 0x40) {
    kind = 'literal, added to the dynamic table (incremental indexing)';
    bits = 6;
  } else if ((first & 0xf0) === 0x10) {
    kind = 'literal, never indexed (a secret: no proxy may index it either)';
    bits = 4;
  } else {
    kind = 'literal, not indexed (its value changes with every message)';
    bits = 4;
  }
  const [index, pos] = readInt(bytes, 0, bits);
  let at = pos;
  let nameText: string;
  if (index === 0) {
    const s = readString(bytes, at);
    nameText = `the name spelled out (${s.huffman ? `Huffman: ${s.octets} octets for ${name.length} characters` : `${s.octets} octets`})`;
    at = s.end;
  } else {
    nameText = `the name from ${where(index)}`;
  }
  const v = readString(bytes, at);
  const valueText = v.huffman
    ? `the value Huffman-coded: ${v.octets} octets for ${value.length} characters`
    : `the value as is: ${v.octets} octets`;
  return `${kind}; ${nameText}; ${valueText}`;
}

/** Encodes `fields` field by field with `enc` (the same octets as one block) and says how each reads. */
function encodeFields(
  enc: HpackEncoder,
  fields: readonly string[],
): { block: Uint8Array; shown: ShownField[] } {
  const parts: ShownField[] = [];
  let total = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const bytes = enc.encode([name, value]).slice();
    parts.push({ name, value, bytes, how: describe(bytes, name, value) });
    total += bytes.length;
  }
  const block = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    block.set(p.bytes, at);
    at += p.bytes.length;
  }
  return { block, shown: parts };
}

/** The SETTINGS a client might send first (a browser's values differ; these are an example). */
const CLIENT_SETTINGS: readonly number[] = [Setting.ENABLE_PUSH, 0, Setting.INITIAL_WINDOW_SIZE, 6_291_456];

/** The HTTP/2 walk-through of one request: every byte computed here, now. */
export function http2Walkthrough(r: LearnRequest): Http2Walkthrough {
  // (a) HTTP/1.1: the request line, Host, the fields as sent, the empty line.
  const http1Lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${r.authority}`];
  for (let i = 0; i + 1 < r.fields.length; i += 2) http1Lines.push(`${r.fields[i]}: ${r.fields[i + 1]}`);
  http1Lines.push('');
  let http1Bytes = 0;
  for (const line of http1Lines) http1Bytes += line.length + 2;

  // (b) HTTP/2: pseudo-headers first (RFC 9113 section 8.3.1), then the fields, names lower-case.
  const h2Fields = [':method', r.method, ':scheme', r.scheme, ':authority', r.authority, ':path', r.path];
  for (let i = 0; i + 1 < r.fields.length; i += 2)
    h2Fields.push(r.fields[i]!.toLowerCase(), r.fields[i + 1]!);

  // The client's encoder: one per connection and direction, its dynamic table lives as long.
  const client = new HpackEncoder();
  const first = encodeFields(client, h2Fields);
  const blockWithoutHuffman = new HpackEncoder({ huffman: false }).encode(h2Fields).length;
  const decoded = new HpackDecoder().decode(first.block) ?? [];
  const again = encodeFields(client, h2Fields);
  const endBoth = Flag.END_STREAM | Flag.END_HEADERS;

  // The server's side: the server preface (its SETTINGS) and connection window, as
  // @strata/http2's connection writes them with the default limits, the ACK of the client's
  // SETTINGS, then the response on stream 1.
  const limits = DEFAULT_HTTP2_LIMITS;
  const server: ShownFrame[] = [
    shown(
      "the server's SETTINGS (its connection preface)",
      FrameType.SETTINGS,
      0,
      0,
      settingsPayload([
        Setting.MAX_CONCURRENT_STREAMS,
        limits.maxConcurrentStreams,
        Setting.INITIAL_WINDOW_SIZE,
        limits.initialWindowSize,
        Setting.MAX_HEADER_LIST_SIZE,
        limits.maxHeaderListSize,
      ]),
    ),
  ];
  const increment = limits.connectionWindowSize - 65_535;
  if (increment > 0) {
    server.push(
      shown(
        `WINDOW_UPDATE on stream 0: the client may send ${increment} more bytes on the connection`,
        FrameType.WINDOW_UPDATE,
        0,
        0,
        new Uint8Array([
          (increment >>> 24) & 0x7f,
          (increment >>> 16) & 0xff,
          (increment >>> 8) & 0xff,
          increment & 0xff,
        ]),
      ),
    );
  }
  server.push(
    shown(
      "SETTINGS with ACK: the client's settings are in force",
      FrameType.SETTINGS,
      Flag.ACK,
      0,
      new Uint8Array(0),
    ),
  );
  const responseList = [
    ':status',
    '200',
    'content-type',
    'text/html; charset=utf-8',
    'cache-control',
    'no-store',
    'date',
    r.date,
    'content-length',
    String(r.pageBytes),
  ];
  const response = encodeFields(new HpackEncoder(), responseList);
  server.push(
    shown('HEADERS: the response head on stream 1', FrameType.HEADERS, Flag.END_HEADERS, 1, response.block),
  );
  // DATA: the page in frames of at most SETTINGS_MAX_FRAME_SIZE, the last one with END_STREAM.
  const max = limits.maxFrameSize;
  let left = r.pageBytes;
  let n = 0;
  do {
    const len = Math.min(left, max);
    left -= len;
    n++;
    const last = left === 0;
    const bytes = frame(FrameType.DATA, last ? Flag.END_STREAM : 0, 1, new Uint8Array(0), len);
    server.push({
      label: `DATA ${n}: ${len} bytes of the page${last ? ', the last (END_STREAM)' : ''}`,
      type: FrameType.DATA,
      flags: last ? Flag.END_STREAM : 0,
      stream: 1,
      length: len,
      bytes,
    });
  } while (left > 0 && n < 1000);

  let http1ResponseBytes = 'HTTP/1.1 200 OK\r\n\r\n'.length;
  for (let i = 2; i + 1 < responseList.length; i += 2)
    http1ResponseBytes += responseList[i]!.length + 2 + responseList[i + 1]!.length + 2;

  return {
    http1Lines,
    http1Bytes,
    h2Fields,
    preface: CLIENT_PREFACE,
    clientSettings: shown(
      "the client's SETTINGS",
      FrameType.SETTINGS,
      0,
      0,
      settingsPayload(CLIENT_SETTINGS),
    ),
    headers: shown('HEADERS: the request on stream 1', FrameType.HEADERS, endBoth, 1, first.block),
    requestFields: first.shown,
    block: first.block,
    blockWithoutHuffman,
    decoded,
    again: shown('HEADERS: the same request again, on stream 3', FrameType.HEADERS, endBoth, 3, again.block),
    againFields: again.shown,
    server,
    responseFields: response.shown,
    http1ResponseBytes,
  };
}

/** `00 00 1d 01 05`: octets in hex, 16 to a line. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += i % 16 === 0 ? '\n' : ' ';
    out += bytes[i]!.toString(16).padStart(2, '0');
  }
  return out;
}

/** The names of a frame's flags (RFC 9113 section 6), `|`-separated, or `none`. */
function flagNames(type: number, flags: number): string {
  const names: string[] = [];
  if (type === FrameType.SETTINGS || type === FrameType.PING) {
    if ((flags & Flag.ACK) !== 0) names.push('ACK');
  } else {
    if ((flags & Flag.END_STREAM) !== 0 && (type === FrameType.DATA || type === FrameType.HEADERS))
      names.push('END_STREAM');
    if ((flags & Flag.END_HEADERS) !== 0) names.push('END_HEADERS');
  }
  return names.length === 0 ? 'none' : names.join(' | ');
}

/** The 9-byte header of `f`, decoded field by field. */
function headerText(f: ShownFrame): string {
  const b = f.bytes;
  const h = (from: number, to: number) => hex(b.subarray(from, to));
  return `length ${h(0, 3)} = ${f.length}, type ${h(3, 4)} = ${frameTypeName(f.type)}, flags ${h(4, 5)} = ${flagNames(f.type, f.flags)}, stream ${h(5, 9)} = ${f.stream}`;
}

const SETTING_NAMES: Readonly<Record<number, string>> = {
  1: 'HEADER_TABLE_SIZE',
  2: 'ENABLE_PUSH',
  3: 'MAX_CONCURRENT_STREAMS',
  4: 'INITIAL_WINDOW_SIZE',
  5: 'MAX_FRAME_SIZE',
  6: 'MAX_HEADER_LIST_SIZE',
};

/** A SETTINGS payload in words. */
function settingsText(f: ShownFrame): string {
  const b = f.bytes;
  const out: string[] = [];
  for (let at = 9; at + 6 <= b.length; at += 6) {
    const id = b[at + 1]!;
    const v = ((b[at + 2]! << 24) >>> 0) + (b[at + 3]! << 16) + (b[at + 4]! << 8) + b[at + 5]!;
    out.push(`${SETTING_NAMES[id] ?? id} = ${v}`);
  }
  return out.join(', ');
}

/** One frame as the page shows it: label, decoded header, bytes. */
function frameHtml(f: ShownFrame, esc: (s: string) => string, id = ''): string {
  const settings = f.type === FrameType.SETTINGS && f.length > 0 ? `<br>\n${esc(settingsText(f))}` : '';
  const payload = f.type === FrameType.DATA ? `\n(then the ${f.length} payload bytes)` : '';
  return `<p><b>${esc(f.label)}</b> (${f.bytes.length} bytes${f.type === FrameType.DATA ? ' of header' : ''}):<br>
<code>${esc(headerText(f))}</code>${settings}</p>
<pre${id === '' ? '' : ` id="${id}"`}>${esc(hex(f.bytes))}${payload}</pre>`;
}

/** A header block's fields as a table: name, value, the octets, how they read. */
function fieldsTable(fields: readonly ShownField[], esc: (s: string) => string, id: string): string {
  const rows = fields
    .map(
      (f) =>
        `<tr><td><code>${esc(f.name)}</code></td><td><code>${esc(f.value)}</code></td><td><code>${esc(hex(f.bytes).replaceAll('\n', ' '))}</code></td><td>${f.bytes.length}</td><td>${esc(f.how)}</td></tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table id="${id}"><tr><th>name</th><th>value</th><th>HPACK octets</th><th>bytes</th><th>how they read</th></tr>
${rows}</table></div>`;
}

/** The chapter's prose: the learner's request both ways, the frames, and what they show. */
export function http2Body(r: LearnRequest, esc: (s: string) => string, origin: string): string {
  const w = http2Walkthrough(r);
  const crlf = '<span class="crlf">\\r\\n</span>';
  const h1 = w.http1Lines.map((l) => `${esc(l)}${crlf}`).join('\n');
  const decodedRows: string[] = [];
  for (let i = 0; i + 1 < w.decoded.length; i += 2)
    decodedRows.push(`${esc(w.decoded[i]!)}: ${esc(w.decoded[i + 1]!)}`);
  const headersBytes = w.headers.bytes.length;
  const againBytes = w.again.bytes.length;
  const via = r.sample
    ? 'Open this chapter on the running demo to see your own.'
    : r.version === '2.0'
      ? `Your client fetched this very page over <b>HTTP/2</b>${r.scheme === 'https' ? ' (ALPN chose h2 during the TLS handshake)' : ' (h2c: it started with the preface, by prior knowledge)'}, so the frames below are close to what it really sent.`
      : `Your client fetched this page over <b>HTTP/${esc(r.version)}</b>${r.scheme === 'http' ? ': browsers speak HTTP/2 only over TLS, so over plain <code>http://</code> they stay with HTTP/1.1 (curl and nghttp can speak h2c, HTTP/2 in cleartext, to this same port)' : ''}. The frames below are what the same request becomes in HTTP/2.`;
  const omitted =
    r.omitted > 0
      ? ` (${r.omitted} field${r.omitted === 1 ? '' : 's'} left out: cookies and credentials are never printed on a page)`
      : '';
  return `<p>HTTP/2 (RFC 9113) carries the same requests and responses as HTTP/1.1: the same methods, paths,
status codes and fields, the same routes in this demo. What changes is how they travel: not as lines of
text, but as <b>binary frames</b>. Below, one request, ${r.sample ? "a browser's request for this chapter" : 'yours, the one that asked for this page'}
(<code>${esc(r.method)} ${esc(r.path)}</code>)${omitted}, written both ways, byte for byte. ${via}</p>

<h3>(a) As HTTP/1.1: text lines</h3>
<p>The request line, the fields, the empty line; every line ends with CR LF. ${w.http1Bytes} bytes:</p>
<pre id="h1-bytes">${h1}</pre>

<h3>(b) As HTTP/2: frames</h3>
<p>Every frame starts with the same <b>9-byte header</b>: a 24-bit <b>length</b> of the payload, an 8-bit
<b>type</b> (DATA, HEADERS, SETTINGS, WINDOW_UPDATE...), 8 bits of <b>flags</b>, and a 31-bit <b>stream
id</b>. A program reads 9 bytes and knows exactly how many follow: no searching for CR LF, no ambiguous
lengths (the smuggling cases of the request chapter cannot be written). The client opens the
connection with a fixed <b>preface</b>, 24 bytes, then its SETTINGS:</p>
<pre id="h2-preface">${esc(hex(w.preface))}
(PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n)</pre>
${frameHtml(w.clientSettings, esc)}
<p>Then the request, in one HEADERS frame on <b>stream 1</b> (client streams are odd: 1, 3, 5...). Its
flags are END_HEADERS (the whole header block is in this frame) and END_STREAM (no body follows: a GET):</p>
${frameHtml(w.headers, esc, 'h2-headers')}
<p>Its payload, ${w.block.length} bytes, is the <b>HPACK</b> block (RFC 7541). HTTP/2 has no request
line: the method, the scheme, the host and the path are <b>pseudo-headers</b>, fields whose names start
with a colon, sent first; the other names are lower-case. Field by field, as <code>HpackEncoder</code>
wrote them:</p>
${fieldsTable(w.requestFields, esc, 'hpack-fields')}
<p>Read back by <code>HpackDecoder</code> (the server's side of the same code), the block gives exactly
the list the client meant:</p>
<pre id="h2-decoded">${decodedRows.join('\n')}</pre>

<h3>The response, as frames</h3>
<p>The server's first frames are its own SETTINGS (its limits: how many streams at once, its windows,
the largest header list it reads) and a WINDOW_UPDATE; it acknowledges the client's SETTINGS with an
empty SETTINGS frame flagged ACK. Then the answer on stream 1: a HEADERS frame whose block starts with
<code>:status</code> (there is no status line, and no reason phrase), then DATA frames with the page;
the last DATA frame carries END_STREAM, which is how the client knows the body is complete. There is no
chunked encoding in HTTP/2: the frames are the chunks.</p>
${w.server.map((f, i) => frameHtml(f, esc, i === w.server.length - 1 ? 'h2-data-last' : f.type === FrameType.HEADERS ? 'h2-response' : '')).join('\n')}
${fieldsTable(w.responseFields, esc, 'hpack-response')}

<h3>Streams and multiplexing</h3>
<p>Every frame names its stream, so frames of many requests can take turns on <b>one connection</b>:
the client sends HEADERS on streams 1, 3, 5 without waiting, and the server answers each as soon as it
is ready, DATA frames of different streams interleaved. In HTTP/1.1 a connection carries one response at
a time, in order: a slow answer holds up every answer behind it (<b>head-of-line blocking</b>), which is
why browsers opened six connections per site. HTTP/2 removes that blocking at the HTTP layer. (TCP
still delivers bytes in order: one lost packet delays every stream until it is resent. HTTP/3 moves to
QUIC to remove that too.) Closing one stream (RST_STREAM) cancels a request without closing the
connection.</p>

<h3>HPACK: why the headers shrink</h3>
<p>Three tools, all visible in the table above. The <b>static table</b>: 61 common fields fixed by the
RFC (entry 2 is <code>:method: GET</code>, entry 7 <code>:scheme: https</code>); a field found there is one
byte. The <b>dynamic table</b>: fields the encoder chose to index are remembered, by both ends, for the
life of the connection (4,096 bytes by default), numbered from 62. <b>Huffman coding</b>: a fixed code,
shorter for the frequent characters, so text values usually take a fifth to a third less. Credentials are sent
<i>never indexed</i>, and values that change with every message (<code>date</code>,
<code>content-length</code>) are not indexed, so they do not push useful entries out of the table.</p>
<div class="scroll"><table id="hpack-sizes"><tr><th>this request as</th><th>bytes</th></tr>
<tr><td>HTTP/1.1 text (request line, fields, empty line)</td><td id="size-http1">${w.http1Bytes}</td></tr>
<tr><td>HTTP/2: HPACK without Huffman (static and dynamic tables only)</td><td id="size-no-huffman">${w.blockWithoutHuffman}</td></tr>
<tr><td>HTTP/2: HPACK block, the first time on a connection</td><td id="hpack-first">${w.block.length}</td></tr>
<tr><td>HTTP/2: the whole HEADERS frame (9-byte header + block)</td><td>${headersBytes}</td></tr>
<tr><td>HTTP/2: HPACK block of the same request again, same connection</td><td id="hpack-second">${w.again.length}</td></tr>
<tr><td>HTTP/2: its HEADERS frame</td><td>${againBytes}</td></tr>
</table></div>
<p>The second time, the same encoder (one per connection) finds every field in a table, so each one
is a single index byte:</p>
${frameHtml(w.again, esc, 'h2-again')}
${fieldsTable(w.againFields, esc, 'hpack-again')}
<p>That is the point of HPACK: a page that loads fifty images sends fifty requests with the same long
<code>user-agent</code> and <code>accept</code> values, and HTTP/1.1 repeats them fifty times in full.
The response head as HTTP/1.1 text would be ${w.http1ResponseBytes} bytes; its HPACK block above is
${w.server.find((f) => f.type === FrameType.HEADERS)?.length ?? 0}.</p>

<h3>Flow control</h3>
<p>Many streams share one connection, so one big download must not fill a receiver that cannot keep
up. Each side grants the other a <b>window</b> per stream and one for the whole connection, 65,535
bytes at the start. Every DATA byte sent uses up window; the receiver gives it back with
<b>WINDOW_UPDATE</b> frames as it consumes the data. A sender with no window left waits. Only DATA
counts: HEADERS and control frames always pass. This server grants ${DEFAULT_HTTP2_LIMITS.initialWindowSize}
bytes per stream, raises the connection window to ${DEFAULT_HTTP2_LIMITS.connectionWindowSize} (the
WINDOW_UPDATE above), and gives a request body's window back only as the handler reads the body: a slow
handler slows that client down, not the server.</p>

<h3>See it yourself</h3>
<p><code>curl --http2-prior-knowledge -v</code> speaks HTTP/2 in cleartext (h2c) from the first byte;
its <code>*</code> lines show the pseudo-headers and the stream id. <code>nghttp -nv</code> (package
<code>nghttp2-client</code>) prints every frame in and out, with its length, flags and stream, the
SETTINGS above included; give it two URLs and both requests share one connection, the second HEADERS frame much shorter than the first. Over
TLS (<code>--tls-cert</code>, <code>--tls-key</code>), browsers and <code>curl --http2</code> agree on h2
in the TLS handshake (ALPN). The <a href="/inspect">inspector</a> lists an HTTP/2 connection's frames,
stream by stream, with the decoded header lists. This demo at <code>${esc(origin)}</code> speaks HTTP/1.1
and HTTP/2 on the same port.</p>`;
}
