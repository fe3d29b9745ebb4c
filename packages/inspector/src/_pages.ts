/**
 * The inspector's HTML page: plain strings with inline CSS and JS, no external resource. Every
 * value interpolated into HTML goes through {@link escapeHtml}; wire bytes through {@link showWire}.
 */
import type { InspectedConnection, InspectedFrame, InspectorEntry, RecordingState } from './_types';

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function mark(text: string): string {
  return `<span class="crlf">${text}</span>`;
}

/**
 * Wire bytes (Latin-1 text) as HTML: every line end made visible (`\r\n`, and a bare `\r` or `\n`),
 * every other control byte and DEL as `\xNN`, all of it escaped.
 */
export function showWire(text: string): string {
  return escapeHtml(text)
    .split('\r\n')
    .map((line) =>
      line
        .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) =>
          mark(`\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
        )
        .replaceAll('\r', mark('\\r'))
        .replaceAll('\n', `${mark('\\n')}\n`),
    )
    .join(`${mark('\\r\\n')}\n`);
}

/**
 * Binary bytes (Latin-1 text, one character per byte) as a hex dump: 16 bytes a line, each line its
 * offset, the bytes in hex and the printable ones (others as `.`). Plain text: escape it for HTML.
 */
export function hexDump(text: string): string {
  let out = '';
  for (let at = 0; at < text.length; at += 16) {
    let hex = '';
    let shown = '';
    for (let i = at; i < at + 16; i++) {
      if (i >= text.length) {
        hex += '   ';
        continue;
      }
      const c = text.charCodeAt(i);
      hex += `${c.toString(16).padStart(2, '0')} `;
      shown += c >= 32 && c < 127 ? text[i] : '.'; // printable ASCII, ' '..'~'
    }
    out += `${at.toString(16).padStart(4, '0')}  ${hex} ${shown}\n`;
  }
  return out;
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6678; --bg: #fbfbfd; --card: #fff;
    --line: #d8dde6; --accent: #0b6bcb; --accent2: #c2410c; --bad: #b91c1c; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa4b5; --bg: #10141b;
    --card: #171c25; --line: #2a3140; --accent: #5aa9ff; --accent2: #fb923c; --bad: #f87171; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  main { max-width: 1100px; margin: 0 auto; padding: 18px 24px 48px; }
  h1 { font-size: 24px; margin: 8px 0 4px; } h3 { font-size: 15px; margin: 12px 0 4px; }
  code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
  pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
    overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0 10px; }
  .muted { color: var(--muted); } .card { background: var(--card); border: 1px solid var(--line);
    border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
  .crlf { color: var(--accent2); } summary { cursor: pointer; } summary .muted { display: block; margin-left: 18px; }
  .layers { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 18px; }
  .refused { color: var(--bad); } mark.error-byte { background: var(--bad); color: #fff; }
  table.frames { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 10px; }
  table.frames th, table.frames td { border-top: 1px solid var(--line); padding: 3px 6px; text-align: left;
    vertical-align: top; } table.frames pre { margin: 0; padding: 4px 6px; }
  table.frames pre.frame-bytes { white-space: pre; word-break: normal; font-size: 12px; }
  tr.frame.out td.frame-dir { color: var(--accent); } tr.frame.in td.frame-dir { color: var(--accent2); }
`;

function section(title: string, body: string): string {
  return `<div><h3>${title}</h3>\n${body}</div>`;
}

function frameRow(f: InspectedFrame): string {
  const fields =
    f.fields === null
      ? ''
      : `<pre class="fields">${escapeHtml(f.fields.map((h) => `${h[0]}: ${h[1]}`).join('\n'))}</pre>`;
  const bytes =
    f.bytes !== null
      ? `<pre class="frame-bytes">${escapeHtml(hexDump(f.bytes))}</pre>${f.bytes.length < 9 + f.length ? `<span class="muted">first ${f.bytes.length} of ${9 + f.length} bytes</span>` : ''}`
      : `<span class="muted frame-hidden">[${escapeHtml(f.hidden ?? 'not kept')}]</span>`;
  return `<tr class="frame ${f.direction}"><td class="frame-dir">${f.direction === 'in' ? 'in &larr;' : 'out &rarr;'}</td><td class="frame-type">${escapeHtml(f.typeName)}</td><td class="frame-flags">${escapeHtml(f.flagNames)}</td><td class="frame-stream">${f.streamId}</td><td class="frame-length">${f.length}</td><td>${fields}</td><td>${bytes}</td></tr>`;
}

/** An HTTP/2 frames table: direction, type, flags by name, stream, length, decoded fields, bytes. */
function framesTable(frames: readonly InspectedFrame[], total: number): string {
  const cut = total > frames.length ? `<p class="muted">${frames.length} of ${total} frames kept</p>` : '';
  return `<table class="frames"><thead><tr><th>dir</th><th>type</th><th>flags</th><th>stream</th><th>length</th><th>decoded header list</th><th>bytes (header and payload)</th></tr></thead>
<tbody>${frames.map(frameRow).join('\n')}</tbody></table>${cut}`;
}

function streamSection(e: InspectorEntry): string {
  const s = e.http2;
  if (s === null) return '';
  return `<div class="h2-stream"><h3>HTTP/2 stream ${s.streamId}: its frames, request and response</h3>
${framesTable(s.frames, s.framesTotal)}</div>`;
}

function requestSection(e: InspectorEntry): string {
  const r = e.request;
  if (r.framing === 'http2' && r.unobserved === null)
    return e.http2 === null
      ? '<p class="muted">HTTP/2: no stream (a connection error)</p>'
      : `<p class="muted">HTTP/2: the request came as frames on stream ${e.http2.streamId} (below), ${r.bytesTotal} bytes with their frame headers</p>`;
  if (r.bytes === null)
    return `<p class="muted unobserved">${escapeHtml(r.unobserved ?? 'not observed')}</p>`;
  const cut =
    r.bytesTotal > r.bytes.length
      ? `<p class="muted">first ${r.bytes.length} of ${r.bytesTotal} bytes</p>`
      : '';
  const at = e.refused?.at ?? -1;
  const wire =
    at >= 0 && at < r.bytes.length
      ? `${showWire(r.bytes.slice(0, at))}<mark class="error-byte" title="the byte the parser refused">${showWire(r.bytes.slice(at, at + 1))}</mark>${showWire(r.bytes.slice(at + 1))}`
      : showWire(r.bytes);
  return `<pre class="wire-in">${wire}</pre>${cut}`;
}

function refusedSection(e: InspectorEntry): string {
  const f = e.refused;
  if (f === null) return '';
  const where =
    f.offset >= 0
      ? ` at byte <b class="refused-offset">${f.offset}</b> of the connection${f.at >= 0 ? ` (byte ${f.at} of this request, marked)` : ''}`
      : '';
  const after = f.bytesAfter > 0 ? ` ${f.bytesAfter} bytes after it were never parsed.` : '';
  if (e.request.framing === 'http2')
    return `<p class="refused">refused by the HTTP/2 engine: <b class="refused-code">${escapeHtml(f.code)}</b>${f.reason === null ? '' : `: ${escapeHtml(f.reason)}`};
counted as <b class="refused-status">${f.status}</b>. ${e.http2 === null ? 'A connection error: the connection ends with GOAWAY (see its frames below).' : 'The stream was reset or answered on its own (see its frames).'}</p>`;
  return `<p class="refused">refused: <b class="refused-code">${escapeHtml(f.code)}</b>${where}${f.reason === null ? '' : `: ${escapeHtml(f.reason)}`};
the server answered <b class="refused-status">${f.status}</b> and closed the connection.${after}</p>`;
}

function routeSection(e: InspectorEntry): string {
  if (e.route === null)
    return e.refused !== null
      ? '<p class="route">not routed: the server refused the request and answered it itself</p>'
      : '<p class="route muted">no route reported</p>';
  const params =
    Object.keys(e.route.params).length > 0
      ? ` params <code>${escapeHtml(JSON.stringify(e.route.params))}</code>`
      : '';
  const pattern = e.route.pattern === null ? 'no route' : `<code>${escapeHtml(e.route.pattern)}</code>`;
  return `<p class="route">${pattern}${e.route.status === null ? '' : ` &rarr; ${e.route.status}`}${params}</p>`;
}

function responseSection(e: InspectorEntry): string {
  const r = e.response;
  if (r === null || r.head === null) return '<p class="muted">head not sent yet</p>';
  const what = r.canned
    ? "the server's canned answer (no handler ran):"
    : 'the head exactly as the writer serialised it (<code>res.head</code>):';
  const figures = r.finished
    ? `<p class="muted">${r.bytesOut >= 0 ? `${r.bytesOut} bytes out` : ''}${r.durationMs >= 0 ? ` · ${r.durationMs} ms` : ''}${r.bodyBytesIn > 0 ? ` · ${r.bodyBytesIn} body bytes in` : ''}${r.aborted ? ' · cut short' : ''}</p>`
    : '<p class="muted">still sending</p>';
  return `<p class="muted">${what}</p><pre class="wire-out">${showWire(r.head)}</pre>${figures}`;
}

/** The request line of an entry: from the parsed head, else from its first bytes. */
export function requestLine(e: InspectorEntry): string {
  const r = e.request;
  if (r.method !== null) return `${r.method} ${r.target} HTTP/${r.version}`;
  if (r.bytes === null) return '(no bytes)';
  const end = r.bytes.indexOf('\r\n');
  return (end === -1 ? r.bytes : r.bytes.slice(0, end)).slice(0, 120);
}

/** The HTTP/2 connections and their connection-level (stream 0) frames, newest first. */
export function connectionsHtml(connections: readonly InspectedConnection[]): string {
  if (connections.length === 0) return '';
  let out = '<h3 id="h2-connections">HTTP/2 connections: their stream-0 frames</h3>\n';
  for (let i = connections.length - 1; i >= 0; i--) {
    const c = connections[i]!;
    out += `<details class="card h2-conn" data-conn="${c.connectionId}">
<summary>connection <b>${c.connectionId}</b>${c.remote === '' ? '' : ` from ${escapeHtml(c.remote)}`} <span class="muted">${c.framesTotal} connection frames${c.open ? '' : ' · closed'}${c.fromStart ? '' : ' · followed from the middle'}</span></summary>
${framesTable(c.frames, c.framesTotal)}
</details>\n`;
  }
  return out;
}

/** The list of entries (the part of the page that the live feed redraws), then the HTTP/2 connections. */
export function entriesHtml(
  entries: readonly InspectorEntry[],
  connections: readonly InspectedConnection[] = [],
): string {
  if (entries.length === 0)
    return `<p id="empty">No requests yet: make one (in another tab, or with curl); this page updates itself.</p>${connectionsHtml(connections)}`;
  return `${entries
    .map((e, i) => {
      const status = e.response !== null && e.response.status !== 0 ? String(e.response.status) : '&hellip;';
      const figures = `${e.request.bytesTotal} bytes in${e.response?.finished && e.response.durationMs >= 0 ? ` · ${e.response.durationMs} ms` : ''}`;
      return `<details class="card entry${e.refused === null ? '' : ' refused-entry'}" data-id="${e.id}"${i === 0 ? ' open' : ''}>
<summary><b>#${e.id}</b> <code>${escapeHtml(requestLine(e))}</code> &rarr; <b class="status">${status}</b>${e.refused === null ? '' : ` <b class="refused">${escapeHtml(e.refused.code)}</b>`}
<span class="muted">${escapeHtml(e.time)} · from ${escapeHtml(e.remote)} · ${figures}</span></summary>
${refusedSection(e)}
<div class="layers">
${section('request bytes, as read', requestSection(e))}
${section('route', routeSection(e))}
${section('response', responseSection(e))}
</div>
${streamSection(e)}
</details>`;
    })
    .join('\n')}\n${connectionsHtml(connections)}`;
}

function recordingText(state: RecordingState): string {
  if (state.mode === 'on') return 'Recording every request (mode on).';
  if (state.mode === 'off') return 'Not recording (mode off).';
  return (
    'Recording while this page is open (mode watch): with nobody watching nothing is subscribed and ' +
    'the server runs at full speed. A connection is followed from its first byte; one that was ' +
    'already open when recording started shows its requests without their bytes.'
  );
}

/** The whole page at the inspector's base path. */
export function inspectorPage(
  entries: readonly InspectorEntry[],
  state: RecordingState,
  basePath: string,
  capacity: number,
  connections: readonly InspectedConnection[] = [],
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wire inspector</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Wire inspector</h1>
<p class="muted">The last ${capacity} requests, newest first: the bytes as the transport read them (line ends shown),
the route, the response head as sent; an HTTP/2 request as the frames of its stream. Secrets are masked. <a href="${escapeHtml(basePath)}/entries.json">JSON</a></p>
<div class="card" id="recording"><b id="recording-state">${state.on ? 'recording' : 'not recording'}</b>
<span class="muted">${escapeHtml(recordingText(state))}</span></div>
<div id="entries">
${entriesHtml(entries, connections)}
</div>
</main>
<script>${pageScript(basePath)}</script>
</body>
</html>
`;
}

/**
 * Holds the live feed (`BASE/events`, server-sent events) open, which keeps recording on, and
 * redraws the list whenever the server says it changed, keeping open the entries the reader opened.
 */
function pageScript(basePath: string): string {
  return `
(() => {
  const base = ${JSON.stringify(basePath).replaceAll('<', '\\u003c')};
  const state = document.getElementById('recording-state');
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const html = await (await fetch(base + '/entries.html', { cache: 'no-store' })).text();
      const list = document.getElementById('entries');
      const fresh = document.createElement('div');
      fresh.innerHTML = html;
      const known = new Map();
      for (const d of list.querySelectorAll('details.entry')) known.set(d.dataset.id, d.open);
      for (const d of fresh.querySelectorAll('details.entry'))
        if (known.has(d.dataset.id)) d.open = known.get(d.dataset.id);
      list.replaceChildren(...fresh.childNodes);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const feed = new EventSource(base + '/events');
  feed.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    state.textContent = msg.on ? 'recording' : 'not recording';
    if (msg.type === 'changed') refresh();
  };
  feed.onerror = () => { state.textContent = 'disconnected, reconnecting'; };
})();
`;
}
