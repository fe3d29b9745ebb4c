/**
 * The demo's HTML pages. Plain strings with inline CSS and JS: no CDN, no external network, no
 * build step for the browser. Every value interpolated into HTML goes through `escapeHtml`.
 */
import { showWire } from '@strata/inspector';

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6678; --bg: #fbfbfd; --card: #fff;
    --line: #d8dde6; --accent: #0b6bcb; --accent2: #c2410c; --ok: #15803d; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa4b5; --bg: #10141b;
    --card: #171c25; --line: #2a3140; --accent: #5aa9ff; --accent2: #fb923c; --ok: #4ade80; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 24px; border-bottom: 1px solid var(--line); display: flex; gap: 18px;
    align-items: baseline; flex-wrap: wrap; }
  header b { font-size: 18px; } header a { color: var(--accent); text-decoration: none; }
  main { max-width: 1100px; margin: 0 auto; padding: 18px 24px 48px; }
  h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 26px 0 8px; }
  code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
  pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
    overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 4px 0 10px; }
  table { border-collapse: collapse; width: 100%; background: var(--card); }
  th, td { border: 1px solid var(--line); padding: 6px 9px; text-align: left; vertical-align: top; }
  th { background: color-mix(in srgb, var(--accent) 8%, var(--card)); }
  .muted { color: var(--muted); } .card { background: var(--card); border: 1px solid var(--line);
    border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
  .figures { display: flex; gap: 12px; flex-wrap: wrap; }
  .figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
    min-width: 150px; } .figure b { display: block; font-size: 26px; }
  .crlf { color: var(--accent2); } summary { cursor: pointer; } summary .muted { display: block; margin-left: 18px; }
  .layers { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(420px, 100%), 1fr)); gap: 0 18px; }
  h3 { font-size: 15px; margin: 12px 0 4px; } .tag { display: inline-block; border: 1px solid var(--line);
    border-radius: 4px; padding: 0 6px; margin: 0 4px 4px 0; font-size: 13px; }
  .scroll { overflow-x: auto; } td.num { text-align: right; } #parts code { word-break: break-all; }
  .layers > div { min-width: 0; } summary code, td code, .tag, .route { overflow-wrap: anywhere; } .tag { max-width: 100%; }
  .chat-log { list-style: none; padding: 0; margin: 0; max-height: 50vh; overflow-y: auto; }
  .chat-log li { padding: 3px 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
  .chat-log .note { color: var(--muted); font-style: italic; }
  form.row { display: flex; gap: 8px; flex-wrap: wrap; } form.row input[type=text] { flex: 1; min-width: 0; }
  input, button { font: inherit; padding: 4px 8px; }
  .users { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
  .avatar { display: inline-grid; place-items: center; width: 56px; height: 56px; border-radius: 50%;
    background: var(--accent); color: var(--bg); font-size: 26px; font-weight: 600; float: left;
    margin: 0 14px 6px 0; }
  .error-code { font-size: 64px; font-weight: 700; color: var(--accent2); margin: 12px 0 0; line-height: 1; }
  @media (max-width: 600px) { header { padding: 10px 12px; gap: 4px 12px; } main { padding: 12px 12px 32px; }
    th, td { padding: 4px 6px; } .layers { grid-template-columns: 1fr; } }
`;

/** The favicon (`/favicon.ico` and `/favicon.svg`): a small SVG, three strata. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">\
<rect width="32" height="32" rx="6" fill="#0b6bcb"/>\
<rect x="6" y="7" width="20" height="4" rx="1" fill="#fff"/>\
<rect x="6" y="14" width="20" height="4" rx="1" fill="#fb923c"/>\
<rect x="6" y="21" width="20" height="4" rx="1" fill="#fff"/></svg>
`;

export function layout(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Strata demo</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>${STYLE}</style>
</head>
<body>
<header><b>Strata demo</b>
<a href="/learn">learn</a><a href="/">layers</a><a href="/live">live</a><a href="/chat">chat</a><a href="/inspect">inspector</a><a href="/dashboard">dashboard</a>
<a href="/user">users</a><a href="/static/">static files</a><a href="/upload">upload</a><a href="/echo">echo</a></header>
<main>
${body}
</main>
${script === '' ? '' : `<script>${script}</script>`}
</body>
</html>
`;
}

/** `/`: the layers drawn against the IP stack, and a link to every route. */
export function indexPage(info: { mode: string; workers: number; tls: boolean; origin?: string }): string {
  const origin = escapeHtml(info.origin ?? 'http://HOST:PORT');
  return layout(
    'Layers',
    `<h1>Strata: HTTP/1.1 and WebSocket, layer by layer</h1>
<p class="muted">This server is built from small packages stacked like the IP stack. Each layer only
talks to the one below it through an interface, so every layer can be read, tested and replaced alone.
Running ${info.workers > 0 ? `${info.workers} worker processes` : 'one process'}${info.tls ? ' over TLS' : ''}.</p>
<p>New to sockets and HTTP? <a href="/learn">The Learn path</a> takes the tutorial's chapters in order:
threads, IP addresses, ports, sockets, the request and the response, status codes, routes,
cryptography and WebSockets, each with an experiment on your own machine.</p>

<h2>The layers, against the IP stack</h2>
<div class="scroll"><table id="layers">
<tr><th>IP stack</th><th>Strata package</th><th>what it does for this page</th></tr>
<tr><td rowspan="6">application (HTTP, WebSocket)</td><td><code>apps/demo</code></td>
  <td>routes and pages only: this HTML, <code>/hello</code>, the chat room, the live chart</td></tr>
<tr><td><code>@strata/router</code></td><td>maps <code>GET /user/ada</code> to a route and <code>{ name: 'ada' }</code>;
  404, 405 with the full <code>Allow</code> list, HEAD from GET, OPTIONS</td></tr>
<tr><td><code>@strata/websocket</code></td><td>after an <code>Upgrade</code>: RFC 6455 frames, masking, ping/pong,
  close handshake, permessage-deflate (<a href="/live">live</a> and <code>/ws</code>)</td></tr>
<tr><td><code>@strata/inspector</code></td><td>the <a href="/inspect">wire inspector</a>'s recording: each request's
  bytes, route and response, heard on every layer's diagnostics channels while a page is open</td></tr>
<tr><td><code>@strata/server</code></td><td>the connection engine: keep-alive, pipelining, limits, timeouts,
  one flush per batch of responses, errors to canned responses</td></tr>
<tr><td><code>@strata/response</code> · <code>@strata/http-parser</code></td><td>RFC 9110 semantics (status line,
  headers, framing, files, ranges, compression) · RFC 9112 syntax (request line, fields, body framing,
  smuggling shapes refused)</td></tr>
<tr><td>transport (TCP, TLS)</td><td><code>@strata/transport</code></td><td>listeners, connections,
  backpressure, idle timeouts, graceful close, worker processes; knows nothing of HTTP</td></tr>
<tr><td>network, link (IP, Ethernet)</td><td>the kernel</td><td>addresses, routing, loopback</td></tr>
</table></div>
<p>Watch each layer work on a real request in the <a href="/inspect">wire inspector</a>: the bytes
as they arrived, what the parser made of them, the route that matched, and what the response writer sent.</p>

<h2>Routes</h2>
<div class="scroll"><table id="routes">
<tr><th>route</th><th>what it shows</th></tr>
<tr><td><a href="/hello">/hello</a></td><td>plain text <code>Hello, World!</code> (the benchmark route)</td></tr>
<tr><td><a href="/user">/user</a>, <a href="/user/ada">/user/:name</a></td><td>a few users, and a profile page per
  name: a route parameter, decoded by the router</td></tr>
<tr><td><a href="/dashboard">/dashboard</a></td><td>an HTML page with this process's figures</td></tr>
<tr><td><a href="/health">/health</a></td><td>for load balancers: <code>{"status":"ok"}</code></td></tr>
<tr><td><a href="/echo">/echo</a> (any method, any subpath)</td><td>the request as received, as JSON: method, url,
  version, raw headers, body, raw trailers</td></tr>
<tr><td><a href="/static/">/static/*</a></td><td>files with ETags, conditional requests and byte ranges</td></tr>
<tr><td><a href="/stream">/stream</a></td><td>a chunked response written with backpressure</td></tr>
<tr><td><a href="/download/1048576">/download/:size</a></td><td>a generated body of that many bytes</td></tr>
<tr><td><a href="/upload">/upload</a></td><td>upload a file of any size: it streams through SHA-256 and the
  server answers its size and digest, never holding the file</td></tr>
<tr><td><a href="/compute?n=2000000">/compute?n=</a></td><td>count primes on a pool of worker threads,
  while <code>/hello</code> stays fast</td></tr>
<tr><td><a href="/chat">/chat</a> (<code>/ws</code>)</td><td>a WebSocket chat room: every text message goes to everyone connected</td></tr>
<tr><td><a href="/live">/live</a></td><td>requests/s, connections and per-worker counts, drawn live from a WebSocket feed</td></tr>
<tr><td><a href="/inspect">/inspect</a></td><td>the wire inspector (JSON at <a href="/inspect.json">/inspect.json</a>)</td></tr>
</table></div>
<p class="muted" id="try">Try: <code>curl -i ${origin}/hello</code>, <code>curl -r 0-9 ${origin}/static/hello.txt</code>,
<code>curl -i -H 'If-None-Match: ETAG' ${origin}/static/hello.txt</code>, or <code>strata-demo echo</code> to echo everything.</p>`,
  );
}

/** `/dashboard`: the tutorial's example page, with this process's figures. */
export function dashboardPage(figures: {
  pid: number;
  uptimeS: number;
  requests: number;
  connections: number;
  /** The engine's counts of client faults (`server.stats()`): never reported as errors. */
  aborted: number;
  timedOut: number;
  rejected: number;
  rssMb: number;
  threads: number;
}): string {
  return layout(
    'Dashboard',
    `<h1>Dashboard</h1>
<p class="muted">Figures for the process that answered this request (pid ${figures.pid}).
See <a href="/live">/live</a> for the whole server, drawn as it runs.</p>
<div class="figures">
<div class="figure"><span class="muted">uptime</span><b>${figures.uptimeS} s</b></div>
<div class="figure"><span class="muted">requests served</span><b id="requests">${figures.requests}</b></div>
<div class="figure"><span class="muted">open connections</span><b>${figures.connections}</b></div>
<div class="figure"><span class="muted">resident memory</span><b>${figures.rssMb} MB</b></div>
<div class="figure"><span class="muted">compute threads</span><b>${figures.threads}</b></div>
</div>
<h2>Client faults</h2>
<p class="muted">Counted by the connection engine, not logged: none of them is a bug in this server.</p>
<div class="figures">
<div class="figure"><span class="muted">aborted (unfinished: client gone or cut)</span><b id="aborted">${figures.aborted}</b></div>
<div class="figure"><span class="muted">timed out (too slow to send or to read)</span><b id="timedOut">${figures.timedOut}</b></div>
<div class="figure"><span class="muted">rejected (limits, bad syntax)</span><b id="rejected">${figures.rejected}</b></div>
</div>`,
  );
}

/** `/live`: a canvas chart fed by the `/live/ws` WebSocket, one sample per half second. */
export function livePage(): string {
  return layout(
    'Live',
    `<h1>Live server figures</h1>
<p class="muted">One sample every half second over a WebSocket (<code>/live/ws</code>), drawn on a
plain canvas. Send some traffic (<code>curl</code> in a loop, or reload a page) and watch it move.</p>
<p class="muted">With <code>--workers N</code> or <code>--redis URL</code> every process shares its
sample with the others over the pub/sub backend, so this page shows the same figures whichever
process serves it: the totals are sums over the processes heard from in the last 3 seconds (a
process that stops drops out), and each process counts requests served from its own start.</p>
<div class="figures">
<div class="figure"><span class="muted">requests/s</span><b id="rps">–</b></div>
<div class="figure"><span class="muted">open connections</span><b id="conns">–</b></div>
<div class="figure"><span class="muted">requests served</span><b id="total">–</b></div>
<div class="figure"><span class="muted">processes</span><b id="nworkers">–</b></div>
<div class="figure"><span class="muted">chat members</span><b id="chat">–</b></div>
<div class="figure"><span class="muted">feed</span><b id="state">connecting</b></div>
</div>
<div class="figures" title="client faults, counted by the engine and never logged">
<div class="figure"><span class="muted">aborted by clients</span><b id="aborted">–</b></div>
<div class="figure"><span class="muted">timed out</span><b id="timedOut">–</b></div>
<div class="figure"><span class="muted">rejected</span><b id="rejected">–</b></div>
</div>
<div class="card"><canvas id="chart" width="1040" height="260" style="width:100%;height:260px" data-samples="0"></canvas>
<div class="muted"><span style="color:var(--accent)">■</span> requests/s &nbsp;
<span style="color:var(--accent2)">■</span> open connections</div></div>
<h2>Per worker</h2>
<div class="scroll"><table id="workers"><tr><th>worker (pid)</th><th>requests/s</th><th>requests served</th><th>open connections</th><th>share</th></tr></table></div>`,
    LIVE_SCRIPT,
  );
}

const LIVE_SCRIPT = `
(() => {
  const canvas = document.getElementById('chart');
  const ctx = canvas.getContext('2d');
  const points = [];
  const MAX = 120;
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  function draw() {
    const w = canvas.width, h = canvas.height, pad = 34;
    ctx.clearRect(0, 0, w, h);
    ctx.strokeStyle = css('--line'); ctx.fillStyle = css('--muted'); ctx.font = '12px system-ui';
    let top = 1;
    for (const p of points) top = Math.max(top, p.rps, p.connections);
    top = Math.ceil(top * 1.15);
    for (let i = 0; i <= 4; i++) {
      const y = pad / 2 + (h - pad) * i / 4;
      ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke();
      ctx.fillText(String(Math.round(top * (4 - i) / 4)), 2, y + 4);
    }
    const line = (key, color) => {
      ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
      points.forEach((p, i) => {
        const x = pad + (w - pad) * i / (MAX - 1);
        const y = pad / 2 + (h - pad) * (1 - p[key] / top);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    };
    line('rps', css('--accent'));
    line('connections', css('--accent2'));
  }
  function show(s) {
    points.push({ rps: s.rps, connections: s.connections });
    if (points.length > MAX) points.shift();
    canvas.dataset.samples = String(Number(canvas.dataset.samples) + 1);
    document.getElementById('rps').textContent = s.rps.toFixed(0);
    document.getElementById('conns').textContent = String(s.connections);
    document.getElementById('total').textContent = String(s.requests);
    document.getElementById('nworkers').textContent = String(s.workers.length);
    document.getElementById('chat').textContent = String(s.chat);
    for (const key of ['aborted', 'timedOut', 'rejected']) document.getElementById(key).textContent = String(s[key]);
    const table = document.getElementById('workers');
    while (table.rows.length > 1) table.deleteRow(1);
    for (const wk of s.workers) {
      const row = table.insertRow();
      const share = s.requests > 0 ? (100 * wk.requests / s.requests).toFixed(0) + '%' : '–';
      for (const text of [wk.label + ' (' + wk.pid + ')', wk.rps.toFixed(0), wk.requests, wk.connections, share]) {
        row.insertCell().textContent = String(text);
      }
    }
    draw();
  }
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live/ws');
    ws.onopen = () => { document.getElementById('state').textContent = 'live'; };
    ws.onmessage = (e) => show(JSON.parse(e.data));
    ws.onclose = () => { document.getElementById('state').textContent = 'reconnecting'; setTimeout(connect, 1000); };
  }
  draw();
  connect();
})();
`;

/** A byte count for people: `1 GiB`, `512 MiB`, `1000 bytes`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * `/upload`: a file input and a few lines of script that POST the file with `fetch` and show the
 * server's answer next to the digest the browser computed itself (Web Crypto), when it can.
 */
export function uploadPage(maxUpload: number, originText = 'http://HOST:PORT'): string {
  const origin = escapeHtml(originText);
  const limit = maxUpload === 0 ? 'no limit (<code>--max-upload 0</code>)' : formatBytes(maxUpload);
  return layout(
    'Upload',
    `<h1>Upload: a file through SHA-256</h1>
<p>Pick a file: the page sends it with <code>fetch('/upload', { method: 'POST', body: file })</code>. The
server never holds it: each piece that arrives goes through a SHA-256 hash (<code>node:crypto</code>) and
is dropped, so a 1 GiB file costs it about as much memory as a small one. It answers with the number of
bytes it received and their digest. Largest upload: <b id="limit" data-bytes="${maxUpload}">${limit}</b>; a larger one gets
<code>413 Content Too Large</code>.</p>
<p><b>What SHA-256 is, and why the digest proves the bytes arrived intact.</b> SHA-256 is a
cryptographic hash function: it turns any sequence of bytes into a 256-bit value (64 hex digits), always
the same for the same bytes. Change, add or lose a single byte anywhere and the digest changes
completely, and nobody knows how to find two different inputs with the same digest. So when the
digest the server computed from what it received equals the one computed from your file on your side
(the page does that below with the browser's Web Crypto, or run <code>sha256sum FILE</code>), the
server received exactly your bytes, in order, none missing.</p>
<div class="card">
<input type="file" id="file"> <button id="send" disabled>Upload</button>
<p id="status" class="muted">No file chosen.</p>
<pre id="result" hidden></pre>
</div>
<p class="muted">With curl: <code>curl --data-binary @FILE ${origin}/upload</code>, then compare with
<code>sha256sum FILE</code>.</p>
<h2>A form with several files</h2>
<p>An HTML <code>&lt;form enctype="multipart/form-data"&gt;</code> sends its fields and files in one
body, cut into <i>parts</i> by a boundary line the browser picks (RFC 7578). Each part has its own
small header block: the field's <code>name</code>, a file's <code>filename</code> and its type. The
server reads the parts one after the other with <code>req.parts()</code> (<code>@strata/forms</code>) and
hashes each file while it streams in, so several large files cost no more memory than one small one.
The answer lists every part: name, file name, type, bytes and SHA-256.</p>
<div class="card">
<form id="form" method="post" action="/upload" enctype="multipart/form-data">
<p><label>Your name <input name="who" value="Ada"></label></p>
<p><input type="file" id="files" name="files" multiple></p>
<p><button id="submit">Send the form</button></p>
</form>
</div>
<p class="muted">With curl: <code>curl -F who=Ada -F files=@a.txt -F files=@b.png ${origin}/upload</code>
(one <code>-F</code> per part; <code>@</code> sends a file).</p>`,
    UPLOAD_SCRIPT,
  );
}

/** One part of a `multipart/form-data` upload, as `POST /upload` answers it. */
export interface UploadedPart {
  name: string;
  /** The file name as sent (raw: never used as a path), or null for a text field. */
  filename: string | null;
  type: string;
  bytes: number;
  sha256: string;
  /** A text field's value. */
  value?: string;
}

/** The answer to the upload page's form: one row per part, and the way back. */
export function uploadResultPage(parts: UploadedPart[]): string {
  const rows = parts
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${p.filename === null ? '<span class="muted">(field)</span>' : escapeHtml(p.filename)}</td>` +
        `<td>${escapeHtml(p.type)}</td><td class="num">${p.bytes}</td><td><code>${p.sha256}</code></td>` +
        `<td>${p.value === undefined ? '' : escapeHtml(p.value.length > 200 ? `${p.value.slice(0, 200)}...` : p.value)}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Upload: the parts received',
    `<h1>The parts the server received</h1>
<p>${parts.length} part${parts.length === 1 ? '' : 's'}, in the order the browser sent them. Each file was
hashed as it arrived and never held whole; compare a digest with <code>sha256sum FILE</code> on your side.</p>
<div class="scroll"><table id="parts">
<tr><th>name</th><th>file name</th><th>type</th><th>bytes</th><th>SHA-256</th><th>value</th></tr>
${rows}
</table></div>
<p><a href="/upload">Back to the upload page</a></p>`,
  );
}

/** Files up to this size are also hashed in the browser (Web Crypto needs the whole file in memory). */
const LOCAL_HASH_MAX = 256 * 1024 * 1024;

const UPLOAD_SCRIPT = `
(() => {
  const input = document.getElementById('file');
  const button = document.getElementById('send');
  const status = document.getElementById('status');
  const result = document.getElementById('result');
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  input.onchange = () => {
    const file = input.files[0];
    button.disabled = !file;
    status.textContent = file ? file.name + ': ' + file.size + ' bytes' : 'No file chosen.';
  };
  button.onclick = async () => {
    const file = input.files[0];
    if (!file) return;
    button.disabled = true;
    result.hidden = true;
    status.textContent = 'Uploading ' + file.size + ' bytes...';
    const started = performance.now();
    try {
      const res = await fetch('/upload', { method: 'POST', body: file });
      const ms = performance.now() - started;
      const text = await res.text();
      result.textContent = res.status + ' ' + res.statusText + '\\n' + text;
      result.hidden = false;
      if (!res.ok) { status.textContent = 'The server refused the upload.'; return; }
      const answer = JSON.parse(text);
      let line = answer.bytes + ' bytes in ' + ms.toFixed(0) + ' ms.';
      if (window.crypto && crypto.subtle && file.size <= ${LOCAL_HASH_MAX}) {
        const local = hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
        line += local === answer.sha256
          ? ' The digest computed here is the same: the server received exactly this file.'
          : ' The digest computed here differs (' + local + '): the bytes changed on the way.';
      } else {
        line += ' Compare the digest with sha256sum on your side.';
      }
      status.textContent = line;
    } catch (err) {
      const max = Number(document.getElementById('limit').dataset.bytes);
      status.textContent = max > 0 && file.size > max
        ? 'The file is larger than the limit: the server answered 413 and closed the connection ' +
          'before the browser had sent it all (' + err.message + ').'
        : 'Upload failed: ' + err.message;
    } finally {
      button.disabled = false;
    }
  };
})();
`;

/** One request as the inspector shows it (`/inspect` and `/inspect.json`). */
export interface InspectEntry {
  id: number;
  time: string;
  remote: string;
  /**
   * The bytes of this request as the transport read them, decoded latin1 (secret header values
   * masked); null when not observed.
   */
  received: string | null;
  /** Bytes of this request on the wire (may exceed what `received` keeps). */
  receivedBytes: number | null;
  /** Why `received` is null (a connection opened before recording started); else null. */
  unobserved: string | null;
  /**
   * What the server reported of the parse, in order: the head, the body's size, the trailers, the
   * message's end, or the error that refused it.
   */
  parserEvents: string[];
  /** The body framing the parser chose: Content-Length, chunked, or none. */
  framing: string;
  /** The router's answer; null when the request never reached it (refused by the server). */
  route: { pattern: string | null; status: number; params: Record<string, string> } | null;
  /** Status and the headers the route set (the writer adds Date, Connection and framing). */
  response: { status: number; headers: [string, string][]; bodyBytes: number; ms: number } | null;
  /**
   * The response head exactly as the writer serialised it (`ResponseWriter.head`: status line,
   * fields, empty line), taken once the head is sent (streaming routes show it while the body still
   * flows); for a request the server refused, the head of its canned answer; null before that.
   */
  responseHead: string | null;
  /** For an HTTP/2 request: the frames of its stream, both ways (from `strata:http2:frame`); else null. */
  http2: {
    streamId: number;
    /** Frames seen on the stream (more than `frames` keeps past the inspector's bound). */
    framesTotal: number;
    frames: {
      direction: 'in' | 'out';
      /** `HEADERS`, `DATA`, ... */
      type: string;
      /** `END_STREAM|END_HEADERS`, or `''`. */
      flags: string;
      length: number;
      /** The decoded header list on the frame that ends a header block, secrets masked; else null. */
      fields: [string, string][] | null;
      /** The frame's first bytes (header, then payload; at most 256), decoded latin1; null when hidden. */
      bytes: string | null;
      hidden: string | null;
    }[];
  } | null;
}

/** `00 00 1d 01 05`: a latin1 string's bytes in hex, 16 to a line. */
function hexBytes(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += i % 16 === 0 ? '\n' : ' ';
    out += bytes.charCodeAt(i).toString(16).padStart(2, '0');
  }
  return out;
}

/** An HTTP/2 entry's frames, in the order read and written: the transport and HTTP/2 layers' view. */
function framesSection(h2: NonNullable<InspectEntry['http2']>): string {
  const rows = h2.frames
    .map((f) => {
      const fields =
        f.fields === null
          ? ''
          : `<pre class="h2-fields">${f.fields.map(([n, v]) => `${escapeHtml(n)}: ${escapeHtml(v)}`).join('\n')}</pre>`;
      const bytes =
        f.bytes === null
          ? `<span class="muted">bytes ${escapeHtml(f.hidden ?? 'hidden')}</span>`
          : `<pre class="h2-bytes">${hexBytes(f.bytes)}</pre>`;
      return `<tr><td>${f.direction === 'in' ? 'client &rarr;' : '&larr; server'}</td><td><b>${escapeHtml(f.type)}</b></td><td><code>${escapeHtml(f.flags === '' ? '-' : f.flags)}</code></td><td class="num">${f.length}</td><td>${fields}${bytes}</td></tr>`;
    })
    .join('\n');
  const cut =
    h2.framesTotal > h2.frames.length
      ? `<p class="muted">${h2.frames.length} of ${h2.framesTotal} frames kept</p>`
      : '';
  return `<p class="muted">HTTP/2, stream ${h2.streamId}: no text lines, binary frames (a 9-byte header, then the
payload; header blocks HPACK-coded, shown decoded). <a href="/learn/http2">What the frames mean</a>.</p>
<div class="scroll"><table class="h2-frames"><tr><th>way</th><th>frame</th><th>flags</th><th>length</th><th>decoded / first bytes</th></tr>
${rows}</table></div>${cut}`;
}

function responseSection(e: InspectEntry): string {
  const head =
    e.responseHead === null
      ? e.route === null
        ? '<p class="muted">the server wrote its canned error response; no writer head to show</p>'
        : '<p class="muted">head not sent yet</p>'
      : e.route === null
        ? `<p class="muted">the server's canned error response (no handler ran):</p><pre class="wire-out">${showWire(e.responseHead)}</pre>`
        : `<p class="muted">the head as the writer serialised it (<code>res.head</code>), Date, Connection and
framing included:</p><pre class="wire-out">${showWire(e.responseHead)}</pre>`;
  if (e.response === null) return e.responseHead === null ? '<p class="muted">no response yet</p>' : head;
  const lines = e.response.headers.map(([n, v]) => `${escapeHtml(n)}: ${escapeHtml(v)}`).join('\n');
  return `${head}<p class="muted">status and header fields sent:</p><pre class="res-headers">${e.response.status}\n${lines}</pre>`;
}

function routeSection(e: InspectEntry): string {
  if (e.route === null)
    return '<p class="route">not routed: the parser refused the request, the server answered with a canned error</p>';
  const params =
    Object.keys(e.route.params).length > 0
      ? ` params <code>${escapeHtml(JSON.stringify(e.route.params))}</code>`
      : '';
  const pattern = e.route.pattern === null ? 'no route' : `<code>${escapeHtml(e.route.pattern)}</code>`;
  return `<p class="route">${pattern} → ${e.route.status}${params}</p>`;
}

/** What `/inspect` says about recording (`/inspect.json` has it as `recording`). */
export interface RecordingState {
  /** `--inspector`: `watch` (default), `on` or `off`. */
  mode: 'watch' | 'on' | 'off';
  /** Whether requests are recorded right now. */
  on: boolean;
  /** Inspector pages connected now (`/inspect/ws`). */
  watchers: number;
  tls: boolean;
  workers: number;
}

/** Why the inspector records or not, and what that costs, in one paragraph. */
export function recordingText(state: RecordingState, pid: number): string {
  const parts: string[] = [];
  if (state.mode === 'on') parts.push('Started with --inspector on: every request is recorded.');
  else if (state.mode === 'off')
    parts.push('Started with --inspector off: nothing is recorded. Restart with --inspector watch or on.');
  else
    parts.push(
      'Recording while an inspector page is open (--inspector watch, the default). Recording ' +
        "subscribes to every layer's diagnostics channels and copies the bytes of every request, so " +
        'with no inspector page open nothing is subscribed and the server serves at full speed. ' +
        'Start with --inspector on to record always.',
    );
  if (state.mode !== 'off')
    parts.push(
      'A connection is followed from its first byte: one that was already open when recording ' +
        'started shows its requests without their bytes; a new one (another client, curl) shows its bytes.',
    );
  if (state.tls)
    parts.push(
      'Over TLS the bytes shown are the decrypted ones (the transport publishes them after decryption).',
    );
  if (state.workers > 0)
    parts.push(`Each of the ${state.workers} workers records on its own; this is pid ${pid}.`);
  return parts.join(' ');
}

/**
 * `/inspect` in the browser: holds `/inspect/ws` open (which keeps recording on) and redraws the
 * list when the server says the log changed, keeping the entries the reader opened open.
 */
const INSPECT_SCRIPT = `
(() => {
  const state = document.getElementById('recording-state');
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const html = await (await fetch('/inspect', { cache: 'no-store' })).text();
      const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('entries');
      const list = document.getElementById('entries');
      if (fresh && list) {
        const known = new Map();
        for (const d of list.querySelectorAll('details.entry')) known.set(d.dataset.id, d.open);
        for (const d of fresh.querySelectorAll('details.entry'))
          if (known.has(d.dataset.id)) d.open = known.get(d.dataset.id);
        list.replaceChildren(...fresh.childNodes);
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  function show(msg) {
    state.textContent = msg.on ? 'recording' + (msg.watchers > 1 ? ' (' + msg.watchers + ' pages open)' : '') : 'not recording';
  }
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/inspect/ws');
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      show(msg);
      if (msg.type === 'changed') refresh();
    };
    ws.onclose = () => { state.textContent = 'disconnected, reconnecting'; setTimeout(connect, 1000); };
  }
  connect();
})();
`;

/** `/inspect`: the last requests, each layer's view of it. */
export function inspectPage(
  entries: readonly InspectEntry[],
  capacity: number,
  pid: number,
  recording: RecordingState,
): string {
  const rows = entries
    .map((e, i) => {
      const status = e.response?.status ?? (e.route === null ? 'refused' : '…');
      const timing =
        e.response === null ? '' : ` · ${e.response.ms} ms · ${e.response.bodyBytes} body bytes out`;
      const size = e.receivedBytes === null ? '' : ` · ${e.receivedBytes} bytes in`;
      return `<details class="card entry" data-id="${e.id}"${i === 0 ? ' open' : ''}>
<summary><b>#${e.id}</b> <code>${escapeHtml(firstLine(e))}</code> → <b>${status}</b>
<span class="muted">${escapeHtml(e.time)} · from ${escapeHtml(e.remote)}${size}${timing}</span></summary>
<div class="layers">
${
  e.http2 !== null
    ? `<div><h3>1. transport and http2: the frames of this stream</h3>
${framesSection(e.http2)}</div>`
    : `<div><h3>1. transport: bytes received</h3>
${e.received === null ? `<p class="muted unobserved">${escapeHtml(e.unobserved ?? 'not observed')}</p>` : `<pre class="wire-in">${showWire(e.received)}</pre>`}</div>`
}
<div><h3>2. http-parser: head, body and framing</h3>
<p>${e.parserEvents.map((ev) => `<span class="tag">${escapeHtml(ev)}</span>`).join('')}</p>
<p>framing: <b class="framing">${escapeHtml(e.framing)}</b></p></div>
<div><h3>3. router: match</h3>
${routeSection(e)}</div>
<div><h3>4. response</h3>
${responseSection(e)}</div>
</div>
</details>`;
    })
    .join('\n');
  return layout(
    'Inspector',
    `<h1>Wire inspector</h1>
<p class="muted">The last ${capacity} requests served by this process (pid ${pid}), newest first, as each
layer saw them (click one to open it). Requests for the inspector itself are not recorded. <a href="/inspect">Refresh</a> ·
<a href="/inspect.json">JSON</a></p>
<div class="card" id="recording"><b id="recording-state">${recording.on ? 'recording' : 'not recording'}</b>
<span class="muted">${escapeHtml(recordingText(recording, pid))}</span></div>
<div id="entries">
${entries.length === 0 ? `<p id="empty">No requests yet: open <a href="/hello" target="_blank">/hello</a> (in another tab: this page updates itself) or send one with curl.</p>` : rows}
</div>`,
    INSPECT_SCRIPT,
  );
}

/** The request line: from the bytes when observed, else from the parser's head event. */
function firstLine(e: InspectEntry): string {
  if (e.received !== null) {
    const end = e.received.indexOf('\r\n');
    return end === -1 ? e.received.slice(0, 80) : e.received.slice(0, end);
  }
  const head = /^head (\S+ \S+ HTTP\/(?:1\.\d|2))/.exec(e.parserEvents[0] ?? '');
  return head === null ? '' : head[1]!;
}

// ---- the chat room, the users, the error pages --------------------------------------------------

/**
 * `/chat`: the `/ws` room in a page. "Join" opens the WebSocket; the server's `welcome` names this
 * member and gives the online count; `join`, `message`, `leave` and `online` update the page.
 */
export function chatPage(): string {
  return layout(
    'Chat',
    `<h1>Chat room</h1>
<p class="muted">A WebSocket (<code>/ws</code>, <code>@strata/websocket</code>): one HTTP request with
<code>Upgrade: websocket</code>, answered <code>101 Switching Protocols</code>, then frames both ways on the
same TCP connection. Every text message goes to everyone in the room (open this page in two tabs).</p>
<div class="figures">
<div class="figure"><span class="muted">you are</span><b id="me">–</b></div>
<div class="figure"><span class="muted">online</span><b id="online">–</b></div>
<div class="figure"><span class="muted">connection</span><b id="state">not joined</b></div>
</div>
<div class="card">
<p><button id="join">Join the room</button> <button id="leave" disabled>Leave</button></p>
<form id="send" class="row"><input type="text" id="text" maxlength="4096" placeholder="a message" autocomplete="off" disabled>
<button id="post" disabled>Send</button></form>
</div>
<ul id="log" class="chat-log card"></ul>`,
    CHAT_SCRIPT,
  );
}

const CHAT_SCRIPT = `
(() => {
  const $ = (id) => document.getElementById(id);
  const log = $('log');
  let ws = null;
  function line(text, cls) {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    li.textContent = text;
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }
  function joined(on) {
    $('join').disabled = on; $('leave').disabled = !on; $('text').disabled = !on; $('post').disabled = !on;
    $('state').textContent = on ? 'joined' : 'not joined';
    if (!on) $('online').textContent = '–';
  }
  $('join').onclick = () => {
    if (ws) return;
    $('state').textContent = 'connecting';
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === 'welcome') {
        $('me').textContent = m.name; $('online').textContent = String(m.online); joined(true);
        line('you joined as ' + m.name + ' (served by pid ' + m.pid + ')', 'note');
      } else if (m.type === 'join') line(m.name + ' joined', 'note');
      else if (m.type === 'leave') line(m.name + ' left', 'note');
      else if (m.type === 'online') $('online').textContent = String(m.online);
      else if (m.type === 'message') {
        const li = document.createElement('li');
        li.className = 'message';
        const b = document.createElement('b');
        b.textContent = m.from + ': ';
        li.append(b, document.createTextNode(m.text));
        log.appendChild(li);
        log.scrollTop = log.scrollHeight;
      }
    };
    ws.onclose = (e) => {
      ws = null; joined(false);
      line('disconnected (' + e.code + (e.reason ? ' ' + e.reason : '') + ')', 'note');
    };
  };
  $('leave').onclick = () => { if (ws) ws.close(1000, 'bye'); };
  $('send').onsubmit = (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (!ws || ws.readyState !== 1 || text === '') return;
    ws.send(text);
    $('text').value = '';
    $('text').focus();
  };
})();
`;

/** One of the demo's users (`/user`, `/user/:name`). */
export interface DemoUser {
  name: string;
  fullName: string;
  known: string;
}

/** A few people the network owes something to. Any other name gets a guest profile. */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { name: 'ada', fullName: 'Ada Lovelace', known: 'the first published program (1843)' },
  { name: 'alan', fullName: 'Alan Turing', known: 'computability, and the machine that bears his name' },
  { name: 'grace', fullName: 'Grace Hopper', known: 'the first compiler, and COBOL' },
  { name: 'vint', fullName: 'Vint Cerf', known: 'TCP/IP, with Bob Kahn (1974)' },
  { name: 'tim', fullName: 'Tim Berners-Lee', known: 'HTTP, HTML and the first web server (1990)' },
]);

/** `/user`: the users, and a form to open any name's profile. */
export function usersPage(users: readonly DemoUser[]): string {
  const cards = users
    .map(
      (u) =>
        `<a class="card user" href="/user/${encodeURIComponent(u.name)}"><b>${escapeHtml(u.fullName)}</b><br><span class="muted">/user/${escapeHtml(u.name)}</span></a>`,
    )
    .join('\n');
  return layout(
    'Users',
    `<h1>Users</h1>
<p class="muted">One route, <code>GET /user/:name</code>, serves every profile: the router matches the
pattern and hands the route <code>{ name }</code>, percent-decoded. Pick one, or type any name.</p>
<div class="users">
${cards}
</div>
<form class="row card" method="get" action="/user/" id="pick" onsubmit="event.preventDefault(); const n = this.elements.name.value.trim(); if (n) location.href = '/user/' + encodeURIComponent(n);">
<label for="name">A name:</label> <input type="text" id="name" name="name" placeholder="ada" required>
<button>Open the profile</button></form>`,
  );
}

/** `/user/:name`: a profile; `user` is null for a name that is not one of the demo's users. */
export function userPage(name: string, user: DemoUser | null): string {
  const initial = escapeHtml((user?.fullName ?? name).slice(0, 1).toUpperCase() || '?');
  const about =
    user === null
      ? `<p class="muted">Not one of the demo's users, so a guest profile: the route answers any name.</p>`
      : `<p><b>${escapeHtml(user.fullName)}</b>: ${escapeHtml(user.known)}.</p>`;
  return layout(
    name,
    `<div class="card profile">
<span class="avatar" aria-hidden="true">${initial}</span>
<h1>Hello, ${escapeHtml(name)}!</h1>
${about}
<p class="muted" style="clear: both">Served by the route <code>GET /user/:name</code> with params
<code>${escapeHtml(JSON.stringify({ name }))}</code>.</p>
</div>
<p><a href="/user">All users</a> · <a href="/">Home</a></p>`,
  );
}

/** An error page for a browser (`Accept: text/html`): the status, what happened, the way back. */
export function errorPage(status: number, title: string, message: string, path: string): string {
  return layout(
    `${status} ${title}`,
    `<p class="error-code">${status}</p>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p class="muted">Path: <code>${escapeHtml(path)}</code></p>
<p><a href="/" id="back">Back to the home page</a> · <a href="javascript:history.back()">previous page</a></p>`,
  );
}
