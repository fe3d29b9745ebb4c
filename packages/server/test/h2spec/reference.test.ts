/**
 * The conformance catalogue checked against two reference servers, so that its own verdicts can be
 * trusted before they are used on Strata: node:http2 (h2c and TLS with ALPN h2) and Debian's nginx
 * (h2c with prior knowledge). Each test asserts the exact list of cases the server fails: a catalogue
 * change that flips a verdict shows up here. The reasons, from RFC 9113 and RFC 7541, are in the
 * tables below and in README.md.
 *
 * nginx comes from `node scripts/system-tools.mjs` (which `pnpm test` runs first); a missing one
 * fails here, never a skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaseResult, runCatalogue } from './catalogue.ts';

/** Per-wait timeout: the failing cases each cost one of these. */
const TIMEOUT_MS = 1000;

/*
 * node:http2 (nghttp2), failing cases:
 *
 * | case            | reason                                                                                  |
 * |-----------------|-----------------------------------------------------------------------------------------|
 * | http2/5.1.1/2   | HEADERS on stream 3 after stream 5 is ignored; RFC 9113 5.1.1 makes a lower new stream  |
 * |                 | id a connection error PROTOCOL_ERROR                                                    |
 * | http2/6.7/2     | an unsolicited PING ACK makes Node destroy the session (GOAWAY INTERNAL_ERROR); RFC 9113 |
 * |                 | 6.7 only says a PING ACK must not be answered                                           |
 * | http2/6.9.1/2   | the connection window overflow gets GOAWAY INTERNAL_ERROR, not the FLOW_CONTROL_ERROR    |
 * |                 | RFC 9113 6.9.1 names                                                                    |
 *
 * Node also answers most connection errors with GOAWAY INTERNAL_ERROR instead of the code the RFC
 * names; as in h2spec those cases pass (the connection closes) and carry a `warning`. Skipped:
 * http2/5.1.2/1 (Node advertises no SETTINGS_MAX_CONCURRENT_STREAMS).
 */
const NODE_20_FAILS = ['http2/5.1.1/2', 'http2/6.7/2', 'http2/6.9.1/2'];

/*
 * Node 22 and later bundle a newer nghttp2 that no longer reads PRIORITY at all (RFC 9113 5.3.2
 * deprecates the tree), and answers a stream window overflow differently:
 *
 * | case            | reason                                                                                  |
 * |-----------------|-----------------------------------------------------------------------------------------|
 * | http2/5.1.1/2   | as on Node 20                                                                           |
 * | http2/5.3.1/2   | a PRIORITY frame making a stream depend on itself is ignored; RFC 9113 5.3.1 still makes |
 * |                 | it a stream error PROTOCOL_ERROR                                                        |
 * | http2/6.3/1     | PRIORITY on stream 0 is ignored; RFC 9113 6.3 makes it a connection error PROTOCOL_ERROR |
 * | http2/6.7/2     | as on Node 20                                                                           |
 * | http2/6.9.1/3   | a stream window overflow by WINDOW_UPDATE closes the whole connection (GOAWAY            |
 * |                 | FLOW_CONTROL_ERROR) where RFC 9113 6.9.1 names a stream error                           |
 *
 * http2/6.9.1/2 (the connection window) passes there.
 */
const NODE_22_FAILS = ['http2/5.1.1/2', 'http2/5.3.1/2', 'http2/6.3/1', 'http2/6.7/2', 'http2/6.9.1/3'];

/** The failing cases of the node:http2 this test runs on (CI runs the suite on Node 20 and 24). */
const NODE_FAILS = Number(process.versions.node.split('.')[0]) >= 22 ? NODE_22_FAILS : NODE_20_FAILS;

/*
 * nginx 1.22, failing cases:
 *
 * | case            | reason                                                                                  |
 * |-----------------|-----------------------------------------------------------------------------------------|
 * | http2/5.1/1     | DATA on an idle stream is skipped silently; RFC 9113 5.1 makes any frame but HEADERS or  |
 * |                 | PRIORITY on an idle stream a connection error PROTOCOL_ERROR                             |
 * | http2/5.1/2     | same for RST_STREAM on an idle stream                                                   |
 * | http2/5.1/3     | same for WINDOW_UPDATE on an idle stream                                                |
 * | http2/6.4/2     | RST_STREAM on an idle stream is ignored (RFC 9113 6.4: connection error PROTOCOL_ERROR)  |
 * | http2/6.9.1/3   | stream window overflow gets RST_STREAM NO_ERROR, not FLOW_CONTROL_ERROR (RFC 9113 6.9.1) |
 * | http2/8.1.2.1/1 | unknown pseudo-header: a 400 response ends the stream, no stream error PROTOCOL_ERROR    |
 * |                 | (RFC 9113 8.1.1 allows a response only before the reset)                                |
 * | http2/8.1.2.1/2 | response pseudo-header in a request: 400, no stream error                               |
 * | http2/8.1.2.1/4 | pseudo-header after a regular field: accepted, 200 (RFC 9113 8.3 makes it malformed)    |
 * | http2/8.1.2.2/1 | `connection` field: accepted, 200 (RFC 9113 8.2.2 makes it malformed)                   |
 * | http2/8.1.2.2/2 | `te: trailers, deflate`: accepted, 200 (RFC 9113 8.2.2 allows only "trailers")           |
 * | http2/8.1.2.3/2 | no :method: 400, no stream error                                                        |
 * | http2/8.1.2.3/3 | no :scheme: 400, no stream error                                                        |
 * | http2/8.1.2.3/4 | no :path: 400, no stream error                                                          |
 * | http2/8.1.2.3/5 | two :method: 400, no stream error                                                       |
 * | http2/8.1.2.3/6 | two :scheme: 400, no stream error                                                       |
 * | http2/8.1.2.3/7 | two :path: 400, no stream error                                                         |
 * | http2/8.1.2.6/1 | content-length 1 with 4 octets of DATA: RST_STREAM NO_ERROR, not PROTOCOL_ERROR          |
 * | http2/8.1.2.6/2 | same with two DATA frames                                                               |
 * | hpack/4.2/1     | a table size update after a field is accepted; RFC 7541 4.2 makes it a decoding error   |
 * | hpack/5.2/1     | Huffman padding longer than 7 bits is accepted; RFC 7541 5.2 makes it a decoding error   |
 *
 * Skipped: http2/4.2/2 and 4.2/3 (nginx advertises SETTINGS_MAX_FRAME_SIZE 2^24-1: no frame can be
 * larger, and the catalogue does not send multi-megabyte frames).
 */
const NGINX_FAILS = [
  'http2/5.1/1',
  'http2/5.1/2',
  'http2/5.1/3',
  'http2/6.4/2',
  'http2/6.9.1/3',
  'http2/8.1.2.1/1',
  'http2/8.1.2.1/2',
  'http2/8.1.2.1/4',
  'http2/8.1.2.2/1',
  'http2/8.1.2.2/2',
  'http2/8.1.2.3/2',
  'http2/8.1.2.3/3',
  'http2/8.1.2.3/4',
  'http2/8.1.2.3/5',
  'http2/8.1.2.3/6',
  'http2/8.1.2.3/7',
  'http2/8.1.2.6/1',
  'http2/8.1.2.6/2',
  'hpack/4.2/1',
  'hpack/5.2/1',
];

function ids(results: CaseResult[], status: CaseResult['status']): string[] {
  return results.filter((r) => r.status === status).map((r) => r.id);
}

/** A readable dump of the failures, shown when an assertion does not hold. */
function explain(results: CaseResult[]): string {
  return results
    .filter((r) => r.status !== 'pass')
    .map((r) => `${r.status} ${r.id}: expected ${r.expected}; observed ${r.observed}`)
    .join('\n');
}

/** The reference handler: reads the whole request body, then answers 200 'hello'. */
function onStream(stream: http2.ServerHttp2Stream): void {
  stream.on('error', () => {});
  stream.resume();
  stream.on('end', () => {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ ':status': 200 });
    stream.end('hello');
  });
}

/** Sessions still open, destroyed by `close` so that it does not wait on them. */
const sessions = new Set<http2.ServerHttp2Session>();

function listen(server: http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {});
  });
  server.on('stream', onStream);
  server.on('error', () => {});
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function close(server: http2.Http2Server | http2.Http2SecureServer): Promise<void> {
  for (const s of sessions) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('node:http2 h2c (prior knowledge)', () => {
  const server = http2.createServer();
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('fails exactly the known cases', async () => {
    const results = await runCatalogue({ host: '127.0.0.1', port }, { timeoutMs: TIMEOUT_MS });
    expect(results.length).toBe(148);
    expect(ids(results, 'fail'), explain(results)).toEqual(NODE_FAILS);
    expect(ids(results, 'skip'), explain(results)).toEqual(['http2/5.1.2/1']);
    // The decoder followed Node's Huffman and dynamic-table responses: every response was readable.
    expect(results.filter((r) => r.observed.includes('hpack:'))).toEqual([]);
  });
});

describe('node:http2 over TLS (ALPN h2)', () => {
  let dir = '';
  let server: http2.Http2SecureServer;
  let port = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-h2spec-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore', input: '', env: { ...process.env }, timeout: 20_000 },
    );
    server = http2.createSecureServer({ key: readFileSync(key), cert: readFileSync(cert) });
    port = await listen(server);
  }, 30_000);
  afterAll(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails exactly the same cases as h2c', async () => {
    const results = await runCatalogue({ host: '127.0.0.1', port, tls: true }, { timeoutMs: TIMEOUT_MS });
    expect(ids(results, 'fail'), explain(results)).toEqual(NODE_FAILS);
    expect(ids(results, 'skip'), explain(results)).toEqual(['http2/5.1.2/1']);
  });
});

// ---------------------------------------------------------------------------------------------
// nginx

/** Finds an executable on PATH or in the sbin directories (Debian puts nginx in /usr/sbin). */
function findTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  throw new Error(`${name} not found: run \`node scripts/system-tools.mjs\` first`);
}

/** A port that was free a moment ago (nginx cannot listen on port 0 and report it). */
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

/** Waits (bounded) until `port` accepts connections or the child exits. */
async function waitListening(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nginx exited at startup (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within 10 s:\n${output()}`);
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

describe('nginx h2c (prior knowledge)', () => {
  let dir = '';
  let child: ChildProcess | undefined;
  let port = 0;
  beforeAll(async () => {
    const file = findTool('nginx');
    dir = mkdtempSync(join(tmpdir(), 'strata-h2spec-nginx-'));
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    port = await freePort();
    const conf = join(dir, 'nginx.conf');
    const log = join(dir, 'error.log');
    writeFileSync(
      conf,
      `worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port} http2;
    location / { return 200 'hello'; }
  }
}
`,
    );
    child = spawn(
      file,
      [
        '-p',
        dir,
        '-c',
        conf,
        '-e',
        log,
        '-g',
        `daemon off; master_process off; pid ${join(dir, 'nginx.pid')}; error_log ${log};`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitListening(child, port, () => out);
  }, 30_000);
  afterAll(async () => {
    if (child) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails exactly the known cases', async () => {
    const results = await runCatalogue({ host: '127.0.0.1', port }, { timeoutMs: TIMEOUT_MS });
    expect(ids(results, 'fail'), explain(results)).toEqual(NGINX_FAILS);
    expect(ids(results, 'skip'), explain(results)).toEqual(['http2/4.2/2', 'http2/4.2/3']);
  });
});
