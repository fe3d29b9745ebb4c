/**
 * A reverse proxy in front: Debian's nginx and haproxy forward to a `@strata/server`, keeping their
 * upstream connections alive and reusing them (`keepalive` / `http-reuse always`), which is where a
 * request smuggled past the proxy would poison the next client's request. Through each proxy, every
 * case sends one hostile or ambiguous request on its own client connection (CL + TE, obfuscated
 * Transfer-Encoding, duplicate or signed Content-Length, chunk-size overflow, bare LF and CR, obs-fold,
 * hop-by-hop abuse, absolute-form, h2c upgrade, ...), then a normal "victim" request on a second client
 * connection, sent while the first is still open.
 *
 * A desync is any of: the handler sees a path that no case sent as a real request line (every
 * smuggled request asks for `/admin`); a victim gets a response that is not its own (its body names
 * the victim's path) or more than one; a client gets a 200 for a path it never asked for. Through
 * both proxies there must be none, and every byte a client gets back must be well-formed HTTP/1.1
 * responses. The proxy refusing a shape with 400 is expected and fine.
 *
 * Each payload is built so that a proxy and a server that agree on its framing never forward
 * `/admin`: the smuggled request is body under one reading and an unfinished request head under the
 * other, so only a disagreement between the proxy and Strata delivers it, prefixed to the victim's
 * request on a reused upstream connection. Where the other reading necessarily makes it a complete
 * request (chunked carrying a request, Content-Length covering only the size line), it asks for a
 * path of the case's own instead, and counts as the client's pipelined request only when its
 * response came back to that client (see `pipelinedIfCl`); its Content-Length swallows the victim.
 *
 * 47 cases per proxy (at least 30 asserted), about 3.5 s per proxy. `STRATA_PROXY_LOG=1` prints what each case got back.
 *
 * nginx and haproxy come from `node scripts/system-tools.mjs` (which `pnpm test` runs first); a
 * missing one fails here with that instruction, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer, type Server } from '@strata/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** How long one client connection waits for its responses (a proxy holding a request open). */
const REQUEST_TIMEOUT_MS = 2000;
/** Quiet time after the last complete response before a connection counts as done. */
const SETTLE_MS = 60;
/** The path every smuggled request asks for. */
const SMUGGLED = '/admin';

// ---------------------------------------------------------------------------------------------
// The cases: each builds its bytes from a path of its own, `p`, and lists the paths it sends as
// real request lines (`own`); `expect200` are the ones that must come back 200 on the same client
// connection, in order (the controls that show the proxy forwards at all).

interface Case {
  id: string;
  send: string;
  own: string[];
  expect200?: string[];
  /**
   * A request that is a real pipelined request to a proxy that frames the body by Content-Length
   * and body to one that reads it as chunked. Reaching the handler is fine only when the proxy
   * framed it too, which shows as its 200 coming back to the client that sent it; reaching the
   * handler without that is a desync.
   */
  pipelinedIfCl?: string;
}

/** A smuggled request head that never ends: whatever the upstream reads next becomes its header. */
const PREFIX = `GET ${SMUGGLED} HTTP/1.1\r\nX-Ignore: `;
/** A smuggled request whose Content-Length swallows what follows it (the victim's request). */
const swallow = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\nx`;

/** `te` framed, but Content-Length covers the whole body: a CL reader ends there, a chunked one
 * ends at `0\r\n\r\n` and sees the unfinished `/admin` head next. */
function clWins(id: string, p: string, te: string): Case {
  const body = `0\r\n\r\n${PREFIX}`;
  return {
    id,
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${te}\r\n\r\n${body}`,
  };
}

/**
 * `te` framed and complete as chunked, with a request inside the chunk; Content-Length covers only
 * the chunk-size line, so a CL reader sees that request next. A proxy that reads CL forwards it as
 * the client's own pipelined request (the same bytes a CL-reading server would see after the body),
 * so it is not `/admin` but `pipelinedIfCl`: its response must then come back to this client.
 */
function teWins(id: string, p: string, te: string): Case {
  const inner = swallow(`${p}-inner`);
  const size = `${inner.length.toString(16)}\r\n`;
  return {
    id,
    own: [p],
    pipelinedIfCl: `${p}-inner`,
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size.length}\r\n${te}\r\n\r\n${size}${inner}\r\n0\r\n\r\n`,
  };
}

/** Transfer-Encoding as written plainly and in the obfuscations parsers disagree about. */
const TE_SHAPES: [string, string][] = [
  ['te', 'Transfer-Encoding: chunked'],
  ['te-space-before-colon', 'Transfer-Encoding : chunked'],
  ['te-xchunked', 'Transfer-Encoding: xchunked'],
  ['te-chunked-identity', 'Transfer-Encoding: chunked, identity'],
  ['te-tab', 'Transfer-Encoding:\tchunked'],
  ['te-quoted', 'Transfer-Encoding: "chunked"'],
  ['te-upper', 'Transfer-Encoding: CHUNKED'],
  ['te-twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x'],
  ['te-underscore', 'Transfer_Encoding: chunked'],
  ['te-obs-fold', 'X-Pad: 1\r\n Transfer-Encoding: chunked'],
  ['te-after-bare-lf', 'X-Pad: 1\nTransfer-Encoding: chunked'],
  ['te-after-bare-cr', 'X-Pad: 1\rTransfer-Encoding: chunked'],
];

function cases(): Case[] {
  let k = 0;
  const path = () => `/c${++k}`;
  const out: Case[] = [];
  const add = (make: (p: string) => Case) => out.push(make(path()));

  add((p) => ({
    id: 'control: GET',
    own: [p],
    expect200: [p],
    send: `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`,
  }));
  add((p) => ({
    id: 'control: two pipelined GETs',
    own: [`${p}a`, `${p}b`],
    expect200: [`${p}a`, `${p}b`],
    send: `GET ${p}a HTTP/1.1\r\nHost: x\r\n\r\nGET ${p}b HTTP/1.1\r\nHost: x\r\n\r\n`,
  }));
  add((p) => ({
    id: 'control: chunked POST with a chunk extension',
    own: [p],
    expect200: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n`,
  }));
  for (const [name, te] of TE_SHAPES) {
    add((p) => clWins(`CL+TE (${name}), CL covers the smuggled head`, p, te));
    add((p) => teWins(`CL+TE (${name}), chunked carries the smuggled request`, p, te));
  }
  add((p) => {
    const body = `hello${PREFIX}`;
    return {
      id: 'duplicate Content-Length: 5 then the whole body',
      own: [p],
      send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    };
  });
  add((p) => {
    const body = `hello${PREFIX}`;
    return {
      id: 'duplicate Content-Length: the whole body then 5',
      own: [p],
      send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`,
    };
  });
  add((p) => {
    const body = `hello${PREFIX}`;
    return {
      id: 'Content-Length list with different values',
      own: [p],
      send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5, ${body.length}\r\n\r\n${body}`,
    };
  });
  add((p) => ({
    id: 'Content-Length: +N',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: +${PREFIX.length}\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'Content-Length: -1',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'Content-Length past 2^64',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551621\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'GET with a body (CL.0)',
    own: [p],
    send: `GET ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: ${PREFIX.length}\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'Connection names Content-Length (hop-by-hop strip)',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Content-Length\r\nContent-Length: ${PREFIX.length}\r\n\r\n${PREFIX}`,
  }));
  add((p) => {
    const size = `${swallow(SMUGGLED).length.toString(16)}\r\n`;
    return {
      id: 'Connection names Transfer-Encoding (hop-by-hop strip)',
      own: [p],
      send: `POST ${p} HTTP/1.1\r\nHost: x\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n${size}${swallow(SMUGGLED)}\r\n0\r\n\r\n`,
    };
  });
  add((p) => ({
    id: 'Transfer-Encoding on HTTP/1.0 with Content-Length',
    own: [p],
    send: clWins('', p, 'Transfer-Encoding: chunked').send.replace('HTTP/1.1', 'HTTP/1.0'),
  }));
  add((p) => ({
    id: 'chunk size ffffffffffffffff1 (overflow)',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\nx\r\n0\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'chunk size 100000000000000005 (wraps to 5)',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000000000000005\r\nhello\r\n0\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'chunk extension with a bare LF',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'chunk framing with bare LF',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'chunk size with trailing space and 0x prefix',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5 \r\nhello\r\n0\r\n\r\n${PREFIX}`,
  }));
  add((p) => ({
    id: 'request with bare LF line ends',
    own: [p],
    send: `GET ${p} HTTP/1.1\nHost: x\n\n`,
  }));
  // A proxy may forward absolute-form as it came (haproxy does; nginx rewrites it to origin-form),
  // and Strata's `req.path` is then the whole target before `?`: both are the request line sent.
  add((p) => ({
    id: 'absolute-form target',
    own: [p, `http://x${p}`],
    send: `GET http://x${p} HTTP/1.1\r\nHost: x\r\n\r\n`,
  }));
  add((p) => ({
    id: 'absolute-form target naming another host, with userinfo',
    own: [p, `http://u@evil.example${p}`],
    send: `GET http://u@evil.example${p}?q=1 HTTP/1.1\r\nHost: x\r\n\r\n`,
  }));
  add((p) => ({
    id: 'Upgrade: h2c, then the HTTP/2 preface',
    own: [p],
    send: `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
  }));
  add((p) => ({
    id: 'Expect: 100-continue with the smuggled head as body',
    own: [p],
    send: `POST ${p} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${PREFIX.length}\r\n\r\n${PREFIX}`,
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// A response reader for what the client gets back: a strict HTTP/1.1 response parser over the
// whole byte stream of one connection.

interface Response {
  status: number;
  body: string;
}

/** Parses every response in `text`; `error` says where it stops being well-formed HTTP/1.1. */
function parseResponses(text: string, closed: boolean): { responses: Response[]; error?: string } {
  const responses: Response[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return { responses, error: `unfinished response head at byte ${at}` };
    const lines = text.slice(at, headEnd).split('\r\n');
    const statusLine = /^HTTP\/1\.1 ([1-5]\d\d) [\x09\x20-\x7e\x80-\xff]*$/.exec(lines[0] ?? '');
    if (!statusLine) return { responses, error: `bad status line ${JSON.stringify(lines[0])} at byte ${at}` };
    const status = Number(statusLine[1]);
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) return { responses, error: `bad header line ${JSON.stringify(line)} at byte ${at}` };
      const name = m[1]!.toLowerCase();
      if (name === 'content-length') {
        if (!/^\d+$/.test(m[2]!) || (length !== undefined && length !== Number(m[2]))) {
          return { responses, error: `bad Content-Length ${JSON.stringify(m[2])}` };
        }
        length = Number(m[2]);
      }
      if (name === 'transfer-encoding') chunked = /(^|,)\s*chunked\s*$/i.test(m[2]!);
    }
    at = headEnd + 4;
    if (status < 200 || status === 204 || status === 304) {
      // A 304 may carry the Content-Length of the representation; 1xx and 204 carry no framing.
      if (status !== 304 && (length !== undefined || chunked)) {
        return { responses, error: `${status} with body framing` };
      }
      responses.push({ status, body: '' });
      if (status === 101) return { responses, error: 'a 101 Switching Protocols reached the client' };
      continue;
    }
    if (chunked) {
      let body = '';
      for (;;) {
        const eol = text.indexOf('\r\n', at);
        if (eol < 0) return { responses, error: 'unfinished chunked body' };
        const size = /^([0-9a-fA-F]+)(;.*)?$/.exec(text.slice(at, eol));
        if (!size) return { responses, error: `bad chunk size line at byte ${at}` };
        const n = Number.parseInt(size[1]!, 16);
        if (n === 0) {
          const end = text.indexOf('\r\n\r\n', eol);
          const trailerEnd = text.startsWith('\r\n', eol + 2) ? eol + 4 : end < 0 ? -1 : end + 4;
          if (trailerEnd < 0) return { responses, error: 'unfinished chunked trailer' };
          at = trailerEnd;
          break;
        }
        if (text.length < eol + 2 + n + 2) return { responses, error: 'unfinished chunk' };
        body += text.slice(eol + 2, eol + 2 + n);
        if (!text.startsWith('\r\n', eol + 2 + n)) return { responses, error: 'chunk without its CRLF' };
        at = eol + 2 + n + 2;
      }
      responses.push({ status, body });
    } else if (length !== undefined) {
      if (text.length < at + length)
        return { responses, error: `body shorter than Content-Length ${length}` };
      responses.push({ status, body: text.slice(at, at + length) });
      at += length;
    } else {
      if (!closed) return { responses, error: 'a close-delimited body on a connection still open' };
      responses.push({ status, body: text.slice(at) });
      at = text.length;
    }
  }
  return { responses };
}

/** What one client connection got back. */
interface Exchange {
  text: string;
  closed: boolean;
  timedOut: boolean;
  socket: net.Socket;
}

/**
 * Connects to `port`, writes `bytes`, and resolves once the connection closed, or `want` complete
 * responses arrived and nothing more came for SETTLE_MS, or REQUEST_TIMEOUT_MS passed. The socket
 * stays open (the caller destroys it), so a proxy can keep reading from it meanwhile. `onAnswer`
 * runs once, at the first complete final response or at the close.
 */
function exchange(port: number, bytes: string, want: number, onAnswer = () => {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const got: Buffer[] = [];
    let settle: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(settle);
      resolve({ text: Buffer.concat(got).toString('latin1'), closed: socket.destroyed, timedOut, socket });
    };
    const timer = setTimeout(() => finish(true), REQUEST_TIMEOUT_MS);
    socket.on('data', (d) => {
      got.push(d);
      clearTimeout(settle);
      const { responses } = parseResponses(Buffer.concat(got).toString('latin1'), false);
      const final = responses.filter((r) => r.status >= 200).length;
      if (final >= 1) onAnswer();
      if (final >= want) settle = setTimeout(() => finish(false), SETTLE_MS);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      onAnswer();
      finish(false);
    });
    socket.on('connect', () => socket.write(bytes, 'latin1'));
  });
}

// ---------------------------------------------------------------------------------------------
// The upstream Strata server, the proxies, and their processes.

interface Seen {
  method: string;
  path: string;
  n: number;
  during: string;
}

/** A Strata server that answers every request with `{ method, path, n }`, `n` counting the
 * requests on its (upstream) connection, and records what its handler saw. */
async function upstream(): Promise<{ server: Server; port: number; seen: Seen[]; during: { id: string } }> {
  const seen: Seen[] = [];
  const during = { id: 'startup' };
  const perConnection = new Map<number, number>();
  const server = createServer({
    handler(req, res) {
      const n = (perConnection.get(req.remotePort) ?? 0) + 1;
      perConnection.set(req.remotePort, n);
      seen.push({ method: req.method, path: req.path, n, during: during.id });
      res
        .header('content-type', 'application/json')
        .send(JSON.stringify({ method: req.method, path: req.path, n }));
    },
  });
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return { server, port: addr.port, seen, during };
}

/** `name` on PATH or in /usr/sbin (where Debian installs both proxies), or a failure saying how to
 * install it. */
function findTool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin']) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  throw new Error(
    `${name} is missing (Debian package ${name}, looked up on PATH and in /usr/sbin): ` +
      `run 'node scripts/system-tools.mjs' (pnpm test does), which installs it with apt-get as root`,
  );
}

/** A port that was free a moment ago (nginx and haproxy cannot listen on port 0 and report it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Proxy {
  name: string;
  port: number;
  child: ChildProcess;
  output: () => string;
}

/** Starts `file args`, then waits (bounded) until `port` accepts connections. */
async function startProxy(
  name: string,
  file: string,
  args: string[],
  port: number,
  log?: string,
): Promise<Proxy> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(String(e))));
  const output = () => {
    let logText = '';
    try {
      if (log) logText = readFileSync(log, 'utf8').slice(-4000);
    } catch {}
    return `${out}${logText}`;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited at startup (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return { name, port, child, output };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen on 127.0.0.1:${port} within 10 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGTERM, then SIGKILL after 2 s; resolves once the process is gone (bounded). */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    const giveUp = setTimeout(resolve, 4000);
    child.once('exit', () => {
      clearTimeout(kill);
      clearTimeout(giveUp);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startNginx(dir: string, upstreamPort: number): Promise<Proxy> {
  const file = findTool('nginx');
  const port = await freePort();
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  upstream strata {
    server 127.0.0.1:${upstreamPort};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://strata;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  return startProxy(
    'nginx',
    file,
    ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')],
    port,
    join(dir, 'error.log'),
  );
}

async function startHaproxy(dir: string, upstreamPort: number): Promise<Proxy> {
  const file = findTool('haproxy');
  const port = await freePort();
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  maxconn 256
defaults
  mode http
  http-reuse always
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend front
  bind 127.0.0.1:${port}
  default_backend strata
backend strata
  server s1 127.0.0.1:${upstreamPort}
`,
  );
  return startProxy('haproxy', file, ['-db', '-f', conf], port);
}

// ---------------------------------------------------------------------------------------------
// The run: every case through one proxy, one after another, so that each victim rides the upstream
// connection the hostile request just used.

interface Outcome {
  id: string;
  attack: Exchange;
  attackParsed: ReturnType<typeof parseResponses>;
  victimPath: string;
  victim: Exchange;
  victimParsed: ReturnType<typeof parseResponses>;
}

function jsonPath(body: string): string | undefined {
  try {
    const v = JSON.parse(body) as { path?: unknown };
    return typeof v.path === 'string' ? v.path : undefined;
  } catch {
    return undefined;
  }
}

async function runThrough(proxy: Proxy, up: Awaited<ReturnType<typeof upstream>>) {
  const list = cases();
  const outcomes: Outcome[] = [];
  for (const [i, c] of list.entries()) {
    up.during.id = c.id;
    const victimPath = `/victim-${proxy.name}-${i}`;
    let answered = () => {};
    const answer = new Promise<void>((r) => {
      answered = r;
    });
    const attackDone = exchange(proxy.port, c.send, Math.max(1, c.expect200?.length ?? 1), () => answered());
    // The victim goes out as soon as the proxy answered the hostile request (its upstream connection
    // is then back in the proxy's pool, with whatever was smuggled onto it), while the hostile
    // connection is still open; or once the hostile exchange gave up (bounded by REQUEST_TIMEOUT_MS).
    await Promise.race([answer, attackDone]);
    const victim = await exchange(proxy.port, `GET ${victimPath} HTTP/1.1\r\nHost: x\r\n\r\n`, 1);
    const attack = await attackDone;
    attack.socket.destroy();
    victim.socket.destroy();
    outcomes.push({
      id: c.id,
      attack,
      attackParsed: parseResponses(attack.text, attack.closed),
      victimPath,
      victim,
      victimParsed: parseResponses(victim.text, victim.closed),
    });
  }
  // Anything still in flight upstream gets a moment to reach the handler before the verdict.
  up.during.id = 'after the last case';
  await new Promise((r) => setTimeout(r, 100));

  const allowed = new Set<string>(list.flatMap((c) => c.own));
  for (const o of outcomes) allowed.add(o.victimPath);
  const desyncs: string[] = [];
  const malformed: string[] = [];
  // A `pipelinedIfCl` request is the client's own when the proxy framed it as one, that is when its
  // 200 came back to that client; otherwise the proxy took it for body and Strata did not.
  const pipelined = new Map<string, Outcome>();
  for (const [i, c] of list.entries()) {
    const o = outcomes[i]!;
    if (c.pipelinedIfCl && o.attackParsed.responses.some((r) => jsonPath(r.body) === c.pipelinedIfCl)) {
      pipelined.set(c.pipelinedIfCl, o);
    }
  }
  for (const s of up.seen) {
    if (s.path.startsWith(SMUGGLED) || !(allowed.has(s.path) || pipelined.has(s.path))) {
      desyncs.push(`handler saw ${s.method} ${s.path} (upstream request ${s.n}) during "${s.during}"`);
    }
  }
  for (const [i, o] of outcomes.entries()) {
    const c = list[i]!;
    const v = o.victimParsed.responses;
    const vPath = v[0] ? jsonPath(v[0].body) : undefined;
    if (v.length !== 1 || v[0]!.status !== 200 || vPath !== o.victimPath) {
      desyncs.push(
        `victim after "${o.id}" got ${v.length} response(s): ${v.map((r) => `${r.status} ${r.body.slice(0, 80)}`).join(' | ')}`,
      );
    }
    const own = new Set(c.pipelinedIfCl ? [...c.own, c.pipelinedIfCl] : c.own);
    for (const r of o.attackParsed.responses) {
      const p = r.status === 200 ? jsonPath(r.body) : undefined;
      if (r.status === 200 && (p === undefined || !own.has(p))) {
        desyncs.push(`"${o.id}" got a 200 that is not its own: ${r.body.slice(0, 80)}`);
      }
    }
    if (c.expect200) {
      const got = o.attackParsed.responses.map((r) => (r.status === 200 ? jsonPath(r.body) : r.status));
      if (JSON.stringify(got) !== JSON.stringify(c.expect200)) {
        desyncs.push(`control "${o.id}" got ${JSON.stringify(got)}, not ${JSON.stringify(c.expect200)}`);
      }
    }
    for (const [who, ex, parsed] of [
      ['client', o.attack, o.attackParsed],
      ['victim', o.victim, o.victimParsed],
    ] as const) {
      if (parsed.error)
        malformed.push(`"${o.id}" ${who}: ${parsed.error}: ${JSON.stringify(ex.text.slice(0, 200))}`);
    }
  }
  const reused = outcomes.filter((o) => {
    const body = o.victimParsed.responses[0]?.body ?? '';
    try {
      return (JSON.parse(body) as { n?: number }).n! > 1;
    } catch {
      return false;
    }
  }).length;
  const table = outcomes.map(
    (o) =>
      `${o.attackParsed.responses.map((r) => r.status).join(',') || (o.attack.timedOut ? 'timeout' : 'closed')}` +
      ` | victim ${o.victimParsed.responses.map((r) => r.status).join(',')} | ${o.id}`,
  );
  if (process.env.STRATA_PROXY_LOG)
    console.log(`${proxy.name}:\n  ${table.join('\n  ')}\n  reused: ${reused}`);
  return { count: list.length, desyncs, malformed, reused, table };
}

// ---------------------------------------------------------------------------------------------

const resources: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const release of resources.splice(0).reverse()) await release();
});

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`${kind} in front of @strata/server`, () => {
    let proxy: Proxy;
    let up: Awaited<ReturnType<typeof upstream>>;

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), `strata-${kind}-`));
      resources.push(() => rmSync(dir, { recursive: true, force: true }));
      up = await upstream();
      resources.push(() => up.server.close({ deadline: 500 }));
      proxy = await (kind === 'nginx' ? startNginx(dir, up.port) : startHaproxy(dir, up.port));
      resources.push(() => stop(proxy.child));
    });

    it('forwards no smuggled request and no foreign response (0 desyncs), every response well-formed', async () => {
      const r = await runThrough(proxy, up);
      const why = `\n${r.table.join('\n')}\n${proxy.output()}`;
      expect(r.count).toBeGreaterThanOrEqual(30);
      expect(r.desyncs, why).toEqual([]);
      expect(r.malformed, why).toEqual([]);
      // The victims rode reused upstream connections: the shape in which a desync would show.
      expect(r.reused, why).toBeGreaterThan(r.count / 2);
    });
  });
}
