/**
 * The Learn path's chapters: "networks and cryptography, HTTP and WebSockets, building an HTTP
 * server from scratch", in order. Each chapter is short prose for someone who has never opened a
 * socket, what to run (with the address the learner's browser used), links to try, and the files
 * in `packages/` that implement what it shows. Pages are drawn by `learn.ts`.
 */
import { statusText } from '@strata/response';
import { http2Body, type LearnRequest } from './learn-http2';

/** What a chapter knows about the request that asked for it (all strings already validated). */
export interface LearnContext {
  /** `http://127.0.0.1:8080`: the protocol and the Host the browser sent. */
  origin: string;
  /** `127.0.0.1` (or `::1`, `localhost`) as in the Host field. */
  hostname: string;
  port: number;
  tls: boolean;
  /** The learner's end of the connection: `127.0.0.1:54321`. */
  client: string;
  /** The request that asked for the page (the HTTP/2 chapter draws it as frames). */
  request: LearnRequest;
}

export interface Chapter {
  slug: string;
  title: string;
  /** One line for the index. */
  summary: string;
  /** The chapter's prose (HTML; no interpolated request data except through `ctx`'s validated strings). */
  body(ctx: LearnContext, esc: (s: string) => string): string;
  /** Commands to run, with the real address. */
  run(ctx: LearnContext): string[];
  /** Pages of this demo to open. */
  links: ReadonlyArray<{ href: string; text: string }>;
  /** Files of the repository that implement it (shown under /learn/source/). */
  sources: readonly string[];
  /** The prose states the page's own size (`ctx.request.pageBytes`): drawn until it is right. */
  showsPageSize?: boolean;
}

/** `node apps/demo/examples/NAME.mjs`, run from the repository root once it is built. */
const example = (name: string, args = ''): string =>
  `node apps/demo/examples/${name}.mjs${args === '' ? '' : ` ${args}`}`;

/** The parser specs linked from the request chapter (packages/http-parser/test/specs/). */
export const PARSER_SPECS: ReadonlyArray<{ file: string; text: string }> = [
  { file: '01-simple-get.md', text: 'a simple GET' },
  { file: '02-pipelined.md', text: 'three pipelined requests in one read' },
  { file: '03-chunked-trailers.md', text: 'a chunked body with a trailer' },
  { file: '04-expect-continue.md', text: 'Expect: 100-continue' },
  { file: '05-cl-te.md', text: 'smuggling: Content-Length with Transfer-Encoding (400)' },
  { file: '06-double-content-length.md', text: 'smuggling: two Content-Length fields (400)' },
  { file: '07-bad-chunk-size.md', text: 'smuggling: chunk size 0x5 (400)' },
  { file: '08-obs-fold.md', text: 'a folded field line (400)' },
  { file: '09-bare-lf.md', text: 'a bare LF line end (400)' },
  { file: '10-space-before-colon.md', text: 'space before the colon (400)' },
  { file: '11-bad-version.md', text: 'HTTP/1.10 (400)' },
];
export const SPECS_DIR = 'packages/http-parser/test/specs';

/** Status codes the learner's table explains in words; the rest of the registry is listed by name. */
const STATUS_WORDS: Readonly<Record<number, string>> = {
  100: 'go on, send the body (the answer to <code>Expect: 100-continue</code>)',
  101: 'switching protocols: the WebSocket upgrade succeeded',
  200: 'it worked; the body is the answer',
  201: 'created: a new resource exists now',
  204: 'it worked, and there is no body',
  206: 'here is the byte range you asked for (<code>Range</code>)',
  301: 'moved for good: go to <code>Location</code>',
  304: 'not modified: your cached copy is still right',
  308: 'moved for good, keep the method and the body',
  400: 'bad request: the server cannot read what you sent',
  401: 'who are you? authenticate first',
  403: 'I know who you are, and no',
  404: 'nothing here (the router found no route for this path)',
  405: 'the path exists but not with this method (see <code>Allow</code>)',
  413: 'the body is too large',
  426: 'upgrade required: this route speaks WebSocket',
  429: 'too many requests: slow down',
  431: 'the header fields are too large',
  500: "the server failed: the bug is the server's, not the request's",
  501: 'not implemented: the server does not do this (an unknown transfer coding)',
  503: 'unavailable right now (the thread pool is full): try again later',
  505: 'HTTP version not supported',
};

/** The codes `/learn/status/:code` answers with (each one with a body). */
export const STATUS_PLAYGROUND: readonly number[] = [
  200, 201, 202, 400, 401, 403, 404, 409, 410, 422, 429, 500, 501, 502, 503, 504,
];

function statusTable(): string {
  const rows: string[] = [];
  for (let code = 100; code < 600; code++) {
    const text = statusText(code);
    if (text === '') continue;
    const words = STATUS_WORDS[code] ?? '';
    const link = STATUS_PLAYGROUND.includes(code)
      ? `<a href="/learn/status/${code}">${code}</a>`
      : String(code);
    rows.push(`<tr><td>${link}</td><td>${text}</td><td>${words}</td></tr>`);
  }
  return `<div class="scroll"><table id="status-table"><tr><th>code</th><th>reason phrase</th><th>what it means</th></tr>
${rows.join('\n')}</table></div>`;
}

export const CHAPTERS: readonly Chapter[] = [
  {
    slug: 'threads',
    title: 'Threads: light processes',
    summary:
      'processes and threads; kernel and user threads; a thread per task; the worker pool behind /compute',
    body: () => `<p>A <b>process</b> is a running program with its own memory. A <b>thread</b> is a line of
execution inside a process: threads of one process share its memory but each has its own stack and
registers, so starting one is much cheaper than starting a process. That is why threads are called
<em>light processes</em>.</p>
<p><b>Kernel threads</b> are scheduled by the operating system: it spreads them over the CPU cores
and can stop one in the middle of anything to run another. <b>User threads</b> (green threads,
coroutines) are switched by a library inside one kernel thread, only at points where they yield;
they are cheaper still, but one that computes without yielding stops all the others.</p>
<p>Node runs your JavaScript on one kernel thread, the <b>event loop</b>: it waits for sockets to
become readable and runs the callback of each in turn. That is fine while every callback is short.
A callback that computes for a second stops every other connection for that second. The fix is a
<b>thread per task</b>: hand the heavy job to another thread and answer when it is done. The demo's
<code>/compute</code> route counts primes on a fixed pool of worker threads (<code>node:worker_threads</code>,
kernel threads with their own event loop); the answer says which thread did the work. A pool, not a
new thread per request: threads cost memory, and a bounded queue answers 503 when it is full instead
of growing without limit.</p>`,
    run: (c) => [
      example('threads'),
      `curl ${c.origin}/compute?n=5000000 & curl -w ' %{time_total}s\\n' ${c.origin}/hello`,
    ],
    links: [
      { href: '/compute?n=2000000', text: '/compute?n=2000000 (primes on a worker thread)' },
      { href: '/dashboard', text: '/dashboard (the pool size)' },
    ],
    sources: [
      'apps/demo/src/compute-pool.ts',
      'apps/demo/src/prime-worker.ts',
      'apps/demo/examples/threads.mjs',
    ],
  },
  {
    slug: 'ip',
    title: 'IP addresses and localhost',
    summary: '127.0.0.1, ::1 and why a machine talks to itself',
    body: (c, esc) => `<p>Every machine on an IP network has an <b>IP address</b>: 4 bytes in IPv4, written
<code>192.168.1.20</code>, or 16 bytes in IPv6, written <code>2001:db8::20</code>. A packet carries the
address it comes from and the one it goes to, and routers pass it on towards the second.</p>
<p><b>127.0.0.1</b> (IPv6: <b>::1</b>, the name <b>localhost</b>) is the <b>loopback</b> address: a packet
sent there never leaves the machine; the kernel hands it straight back up to a program on the same
machine. It exists so that you can run a server and its client side by side and test them without a
network, a cable or a second computer, and so that a server bound to 127.0.0.1 is reachable only
from this machine. That is why the demo listens on 127.0.0.1 by default.</p>
<p>This page came to you over a connection between two addresses: <code id="conn">client ${esc(c.client)} → server ${esc(c.hostname)}:${c.port}</code>.</p>`,
    run: (c) => [
      `curl -v ${c.origin}/hello`,
      'ip -brief address        # the addresses of this machine (lo is the loopback interface)',
      'node apps/demo/dist/cli.js --host ::1 --port 0     # the demo on IPv6 loopback',
    ],
    links: [{ href: '/echo', text: '/echo (what your browser sent, as JSON)' }],
    sources: ['packages/transport/src/_listener.ts'],
  },
  {
    slug: 'ports',
    title: 'Ports: one service per port',
    summary: 'ports 0-65535, reserved ports, what happens where nobody listens',
    body: (c) => `<p>One address, many programs: a <b>port</b> is a 16-bit number, 0 to 65535, that says which
program on the machine a TCP connection is for. The pair (address, port) names one listening
socket, so <b>one service per port</b>: a second program asking for a port already taken gets
<code>EADDRINUSE</code>. This demo is on port <b>${c.port}</b>.</p>
<p>Ports below 1024 are <b>reserved</b> (well-known: 80 HTTP, 443 HTTPS, 22 SSH, 25 SMTP); on Linux only a
privileged process may listen there (<code>EACCES</code> otherwise). Port <b>0</b> means "any free port":
the kernel picks one, which is how the tests start the demo (<code>--port 0</code>). A client gets an
<b>ephemeral</b> port the same way for its end of each connection. Connecting to a port where nobody
listens fails at once with <code>ECONNREFUSED</code>: the kernel answers the connection request with
a reset.</p>`,
    run: (c) => [
      example('ports'),
      `curl -s ${c.origin}/health   # the one service on port ${c.port}: this demo`,
      `curl -v http://${c.hostname.includes(':') ? `[${c.hostname}]` : c.hostname}:1/   # nobody listens on port 1: connection refused`,
      'node apps/demo/dist/cli.js --port 80   # permission denied unless privileged',
      `ss -ltnp 'sport = :${c.port}'   # who listens on port ${c.port}`,
    ],
    links: [{ href: '/health', text: '/health' }],
    sources: ['packages/transport/src/_listener.ts', 'apps/demo/src/args.ts', 'apps/demo/examples/ports.mjs'],
  },
  {
    slug: 'client-server',
    title: 'Server and client',
    summary: 'the server accepts, the client asks',
    body: (
      c,
      esc,
    ) => `<p>A <b>server</b> opens a socket, binds it to an address and a port, <b>listens</b>, and
<b>accepts</b> each connection that arrives; then it waits for requests and answers them. A <b>client</b>
knows the server's address and port, <b>connects</b>, and asks. The server never calls the client
first: it cannot know who will come.</p>
<p>Your browser is a client; so are <code>curl</code> and the example below, which types an HTTP request
into a TCP socket by hand and prints the reply byte for byte. Right now: client <code>${esc(c.client)}</code>
asked server <code>${esc(c.hostname)}:${c.port}</code>.</p>`,
    run: (c) => [example('http-client', `${c.origin}/hello`), `curl -v ${c.origin}/hello`],
    links: [
      { href: '/hello', text: '/hello' },
      { href: '/inspect', text: '/inspect (every request, as the server received it)' },
    ],
    sources: [
      'packages/transport/src/_listener.ts',
      'packages/server/src/_server.ts',
      'apps/demo/examples/http-client.mjs',
    ],
  },
  {
    slug: 'sockets',
    title: 'Sockets: the ends of a data flow',
    summary: 'a TCP server and a client over localhost, bytes both ways',
    body: () => `<p>A <b>socket</b> is one end of a connection, as a program sees it: a handle it can write
bytes into and read bytes from. A TCP connection has two: the client's, and the one the server's
listening socket created when it accepted. What one end writes, the other reads, in order, none
lost: TCP numbers the bytes and resends what got lost. TCP carries a <b>stream</b> of bytes, not
messages: two writes may arrive as one read, one write as two. Finding where a message ends is the
job of the protocol above (for HTTP, the parser).</p>
<p>The example starts a TCP server with <code>@strata/transport</code> (the bottom layer of this demo)
and a client with <code>node:net</code>, and prints every byte with the addresses and ports of both ends.</p>`,
    run: (c) => [
      example('sockets'),
      `curl -s -o /dev/null --limit-rate 100k ${c.origin}/stream & sleep 0.5; ss -tn '( sport = :${c.port} or dport = :${c.port} )'   # one connection, two sockets`,
    ],
    links: [{ href: '/inspect', text: '/inspect (the bytes of each request)' }],
    sources: [
      'packages/transport/src/_connection.ts',
      'packages/transport/src/_listener.ts',
      'apps/demo/examples/sockets.mjs',
    ],
  },
  {
    slug: 'stack',
    title: 'The protocol stack',
    summary: 'link, network, transport, application, and the Strata package for each',
    body: () => `<p>Networking is built in layers; each uses the one below and knows nothing of the ones above.</p>
<table><tr><th>layer</th><th>what it does</th><th>here</th></tr>
<tr><td>application</td><td>what the bytes mean: HTTP requests, WebSocket messages</td><td><code>@strata/http-parser</code>, <code>response</code>, <code>server</code>, <code>router</code>, <code>websocket</code>, this demo</td></tr>
<tr><td>transport</td><td>a reliable byte stream between two ports (TCP), or single datagrams (UDP); TLS sits on top of TCP</td><td><code>@strata/transport</code> over the kernel's TCP</td></tr>
<tr><td>network</td><td>packets from one IP address to another, across routers</td><td>the kernel (IP)</td></tr>
<tr><td>link</td><td>frames between two machines on one wire or radio (Ethernet, Wi-Fi); on 127.0.0.1, the loopback device</td><td>the kernel and the network card</td></tr>
</table>
<p>A request goes down the client's stack (HTTP text → TCP segments → IP packets → frames) and up the
server's. Each package of Strata owns one layer; the <a href="/">home page</a> draws them, and the
<a href="/inspect">inspector</a> shows what each did with one request.</p>`,
    run: (c) => [`curl -v ${c.origin}/hello   # '*' lines: TCP and TLS; '>' and '<': HTTP`],
    links: [
      { href: '/', text: '/ (the layers)' },
      { href: '/inspect', text: '/inspect' },
    ],
    sources: ['scripts/check-layers.ts', 'packages/server/src/_connection.ts'],
  },
  {
    slug: 'request',
    title: 'The request: Method path version',
    summary:
      'the request line, the URL protocol://host:port/path, fields, and the parser refusing what is ambiguous',
    body: (
      c,
      esc,
    ) => `<p>An HTTP/1.1 request is text: a <b>request line</b> <code>Method SP path SP version CRLF</code>,
then <b>field lines</b> <code>Name: value CRLF</code>, then an <b>empty line</b>, then the body if the fields
announce one (<code>Content-Length</code>, or <code>Transfer-Encoding: chunked</code>). CRLF is the two bytes
13 and 10, <code>\\r\\n</code>.</p>
<pre>GET /hello HTTP/1.1\\r\\n
Host: ${esc(c.hostname.includes(':') ? `[${c.hostname}]` : c.hostname)}:${c.port}\\r\\n
\\r\\n</pre>
<p>The <b>URL</b> you type, <code>${esc(c.origin)}/hello</code>, is <code>protocol://host:port/path</code>:
the protocol and the host and port tell the client where to connect (and whether to use TLS); only the
path travels in the request line, and the host and port go in the <code>Host</code> field. The method
says what to do (<code>GET</code> read, <code>POST</code> send data, <code>PUT</code>, <code>DELETE</code>, ...).</p>
<p>The parser reads these bytes one by one and refuses anything two programs could read two ways: a
Content-Length beside a Transfer-Encoding, two Content-Lengths, a line end without CR. Each case below
is a file of the parser's tests: the raw bytes, then what the parser reported, with byte offsets.</p>
<ul id="specs">${PARSER_SPECS.map((s) => `<li><a href="/learn/source/${SPECS_DIR}/${s.file}">${s.file}</a>: ${s.text}</li>`).join('')}</ul>`,
    run: (c) => [
      example('http-client', `${c.origin}/echo?x=1`),
      `bash -c 'exec 3<>/dev/tcp/${c.hostname}/${c.port}; printf "POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n" >&3; cat <&3'   # 400: CL with TE`,
    ],
    links: [
      { href: '/echo', text: '/echo (your request as JSON)' },
      { href: '/inspect', text: '/inspect' },
      { href: `/learn/source/${SPECS_DIR}/README.md`, text: 'the specs format' },
    ],
    sources: [
      'packages/http-parser/src/_parser.ts',
      'packages/http-parser/src/_errors.ts',
      'packages/http-parser/src/_tables.ts',
      `${SPECS_DIR}/README.md`,
    ],
  },
  {
    slug: 'response',
    title: 'The response: status line, headers, blank line, body',
    summary: 'what the server writes back, byte by byte',
    body: () => `<p>The answer has the same shape as the request: a <b>status line</b>
<code>HTTP/1.1 200 OK CRLF</code> (version, code, reason phrase), <b>header fields</b>, an <b>empty line</b>,
then the <b>body</b>. The client must know where the body ends: the server says
<code>Content-Length: 13</code>, or sends it in chunks (<code>Transfer-Encoding: chunked</code>) when it does
not know the length in advance, as <code>/stream</code> does.</p>
<pre>HTTP/1.1 200 OK\\r\\n
Content-Type: text/plain\\r\\n
Content-Length: 13\\r\\n
Date: ...\\r\\n
\\r\\n
Hello, World!</pre>
<p>The response writer checks every header (no CR or LF can slip into a value and start a new line),
picks the framing, and writes the head and the body in one go.</p>`,
    run: (c) => [`curl -i ${c.origin}/hello`, `curl -i --raw ${c.origin}/stream?chunks=3\\&size=20`],
    links: [
      { href: '/hello', text: '/hello' },
      { href: '/stream?chunks=3&size=20', text: '/stream (chunked)' },
    ],
    sources: [
      'packages/response/src/writer.ts',
      'packages/response/src/_status.ts',
      'packages/response/src/_validate.ts',
    ],
  },
  {
    slug: 'status',
    title: 'Status codes',
    summary: '200, 404, 400, 500 and the whole registry',
    body: () => `<p>The three digits of the status line say how it went; the first digit is the class:
<b>1xx</b> wait, more is coming; <b>2xx</b> success; <b>3xx</b> look elsewhere; <b>4xx</b> the client's
mistake; <b>5xx</b> the server's failure. The four to know first: <a href="/hello">200</a> OK,
<a href="/no-such-page">404</a> Not Found (no route for the path), <a href="/compute?n=abc">400</a> Bad Request
(here: <code>n</code> is not a number), and <a href="/learn/status/500">500</a> Internal Server Error (that
route answers 500 on purpose; a route that throws gets the same from the engine). A client that does
not know a code treats it as the x00 of its class.</p>
<p>Every code in the registry (RFC 9110 and the IANA list) that <code>@strata/response</code> knows; the
linked ones are answered by <code>/learn/status/CODE</code>:</p>
${statusTable()}`,
    run: (c) => [
      `curl -i ${c.origin}/learn/status/500`,
      `curl -s -o /dev/null -w '%{http_code}\\n' ${c.origin}/no-such-page`,
      `curl -i ${c.origin}/compute?n=abc`,
    ],
    links: [
      { href: '/learn/status/500', text: '/learn/status/500' },
      { href: '/learn/status/200', text: '/learn/status/200' },
    ],
    sources: [
      'packages/response/src/_status.ts',
      'packages/server/src/_connection.ts',
      'apps/demo/src/learn.ts',
    ],
  },
  {
    slug: 'routes',
    title: 'Paths mapped to functions',
    summary: '/user the profile, /dashboard the dashboard: a router',
    body: () => `<p>A server decides what to answer from the method and the path: <code>GET /dashboard</code>
runs the function that draws the dashboard; <code>GET /user/ada</code> the one that draws a profile, with
<code>name = "ada"</code> taken from the path. That table from (method, path pattern) to function is the
<b>router</b>. <code>@strata/router</code> keeps the patterns in a tree of path segments, so finding the
route costs the same with 10 routes or 1000. When nothing matches it says 404; when the path exists
with other methods, 405 and the list of allowed ones.</p>`,
    run: (c) => [
      `curl -i ${c.origin}/user/ada`,
      `curl -i -X DELETE ${c.origin}/dashboard   # 405, Allow: GET, HEAD`,
    ],
    links: [
      { href: '/user', text: '/user' },
      { href: '/user/ada', text: '/user/ada' },
      { href: '/dashboard', text: '/dashboard' },
    ],
    sources: ['packages/router/src/_router.ts', 'apps/demo/src/app.ts'],
  },
  {
    slug: 'crypto',
    title: 'Cryptography: hashes, certificates, TLS, signatures',
    summary: 'SHA-256 of an upload, an HMAC-signed cookie, a signature, a certificate and the TLS handshake',
    body: (
      c,
    ) => `<p>A <b>hash</b> such as SHA-256 turns any bytes into 32 bytes. The same input always gives the
same digest; change one bit and the digest is unrecognisable; nobody knows how to find two inputs
with the same one. The <a href="/upload">upload page</a> hashes a file in your browser and the server
hashes what it received: equal digests mean the server got exactly your bytes. An <b>HMAC</b> is a hash
keyed with a secret: a server signs a cookie with it and later knows nobody changed it.</p>
<p>A <b>signature</b> uses a key pair: the private key signs, anyone with the public key verifies. A
<b>certificate</b> is a public key and a name (<code>localhost</code>, <code>example.com</code>) signed by a
certificate authority the browser trusts (or by itself: self-signed, trusted by nobody but you).</p>
<p><b>TLS</b> wraps the TCP connection: in the <b>handshake</b> the client says which versions, ciphers
and protocols (ALPN: <code>h2</code>, <code>http/1.1</code>) it speaks; the server answers with its choice and its
certificate; both derive the same session key by a key exchange (ECDHE) that an eavesdropper cannot
redo; the server signs the handshake with its private key to prove the certificate is its own. Then
every byte of HTTP travels encrypted and authenticated. The demo serves TLS with
<code>--tls-cert</code> and <code>--tls-key</code>${c.tls ? ', and this page came over TLS' : ''}.</p>`,
    run: (c) => {
      const tlsPort = c.tls ? c.port : 8443;
      return [
        example('crypto'),
        `head -c 1M /dev/urandom > f.bin && curl --data-binary @f.bin ${c.origin}/upload && openssl dgst -sha256 f.bin`,
        'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem',
        'openssl x509 -in cert.pem -noout -subject -issuer -dates -pubkey',
        `node apps/demo/dist/cli.js --port ${tlsPort} --tls-cert cert.pem --tls-key key.pem`,
        `openssl s_client -connect 127.0.0.1:${tlsPort} -servername localhost -alpn http/1.1 -brief </dev/null`,
        `curl --cacert cert.pem https://localhost:${tlsPort}/hello`,
        'echo hello > msg.txt && openssl dgst -sha256 -sign key.pem -out msg.sig msg.txt && openssl x509 -in cert.pem -pubkey -noout > pub.pem && openssl dgst -sha256 -verify pub.pem -signature msg.sig msg.txt',
      ];
    },
    links: [{ href: '/upload', text: '/upload (SHA-256 in the browser and on the server)' }],
    sources: ['packages/transport/src/_listener.ts', 'apps/demo/src/app.ts', 'apps/demo/examples/crypto.mjs'],
  },
  {
    slug: 'websockets',
    title: 'WebSockets: the upgrade and frames',
    summary: 'an HTTP request that becomes a two-way message channel',
    body: () => `<p>HTTP is the client asking and the server answering. A <b>WebSocket</b> lets either side
send at any time. It starts as an HTTP request with <code>Connection: Upgrade</code>,
<code>Upgrade: websocket</code> and a random <code>Sec-WebSocket-Key</code>; the server answers
<code>101 Switching Protocols</code> with <code>Sec-WebSocket-Accept</code>, the SHA-1 of the key and a fixed
GUID, in base64, which proves it understood. From then on the same TCP connection carries
<b>frames</b>: a byte with FIN and the opcode (1 text, 2 binary, 8 close, 9 ping, 10 pong), a byte with
the mask bit and the length (126 and 127 announce a longer length in 2 or 8 more bytes), a 4-byte mask
key on frames from the client (the payload is XORed with it), then the payload.</p>
<p>The demo's chat room is <code>/ws</code> (its page: <a href="/chat">/chat</a>); the <a href="/live">live</a> page draws figures sent over
<code>/live/ws</code>. The example does the upgrade by hand and prints every frame's bytes.</p>`,
    run: (c) => [
      example('websocket', `${c.origin.replace(/^http/, 'ws')}/ws`),
      `curl -i -N --max-time 2 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' ${c.origin}/ws`,
    ],
    links: [
      { href: '/chat', text: '/chat' },
      { href: '/live', text: '/live' },
    ],
    sources: [
      'packages/websocket/src/_handshake.ts',
      'packages/websocket/src/_frame.ts',
      'packages/websocket/src/_receiver.ts',
      'apps/demo/examples/websocket.mjs',
    ],
  },
  {
    slug: 'http2',
    title: 'HTTP/2: the same request as frames',
    summary:
      'your request as HTTP/1.1 text and as HTTP/2 frames: binary framing, streams, HPACK, flow control',
    body: (c, esc) => http2Body(c.request, esc, c.origin),
    showsPageSize: true,
    run: (c) => {
      const h = c.hostname.includes(':') ? `[${c.hostname}]` : c.hostname;
      const tlsPort = c.tls ? c.port : 8443;
      const plain = c.tls ? `http://${h}:8080` : c.origin;
      return [
        `curl --http2-prior-knowledge -v ${plain}/hello   # h2c: HTTP/2 in cleartext from the first byte`,
        `nghttp -nv ${plain}/hello ${plain}/echo   # every frame; two streams on one connection, the second HEADERS much shorter (HPACK)`,
        `node apps/demo/dist/cli.js --port ${tlsPort} --tls-cert cert.pem --tls-key key.pem   # the certificate of the cryptography chapter`,
        `curl --http2 -v --cacert cert.pem https://localhost:${tlsPort}/hello   # ALPN: server accepted h2`,
        `curl --http1.1 -v --cacert cert.pem https://localhost:${tlsPort}/hello   # the same port, HTTP/1.1`,
      ];
    },
    links: [
      { href: '/inspect', text: '/inspect (an HTTP/2 connection, frame by frame)' },
      { href: '/learn/request', text: 'the request chapter (the same request as HTTP/1.1 text)' },
      { href: '/learn/crypto', text: 'the cryptography chapter (TLS and ALPN)' },
    ],
    sources: [
      'packages/http2/src/_frames.ts',
      'packages/http2/src/_hpack.ts',
      'packages/http2/src/_huffman.ts',
      'packages/http2/src/_hpack-static.ts',
      'packages/http2/src/_connection.ts',
      'packages/http2/src/_limits.ts',
      'packages/server/src/_h2.ts',
      'apps/demo/src/learn-http2.ts',
    ],
  },
];
