/**
 * The Learn path over real sockets: every example command a chapter prints (`node
 * apps/demo/examples/...`), run from the repository root exactly as printed, against the demo that
 * printed it; what each example must show; the openssl commands of the cryptography chapter; and
 * the Learn routes (`/learn/status/:code`, `/learn/source/*` serving only the linked files).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HpackDecoder } from '@strata/http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAPTERS } from '../src/learn-chapters';
import { APP_DIR, curl, type Demo, startDemo } from './_harness';

const REPO = join(APP_DIR, '..', '..');

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo(['--port', '0']);
});
afterAll(async () => {
  await demo?.stop();
});

function run(
  file: string,
  args: string[],
  options: { cwd?: string; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? REPO, timeout: options.timeout ?? 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The `<pre class="run">` commands of a chapter page, HTML entities decoded. */
async function commands(slug: string): Promise<string[]> {
  const html = await (await fetch(`${demo.url}/learn/${slug}`)).text();
  return [...html.matchAll(/<pre class="run">([^<]*)<\/pre>/g)].map((m) =>
    m[1]!
      .replaceAll('&#39;', "'")
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&'),
  );
}

/** Runs the chapter's `node apps/demo/examples/NAME.mjs ...` command as printed. */
async function runExample(slug: string, name: string) {
  const cmd = (await commands(slug)).find((c) => c.startsWith(`node apps/demo/examples/${name}.mjs`));
  expect(cmd, `${slug} prints the ${name} example`).toBeDefined();
  const [, ...args] = cmd!.split(' ');
  const result = await run(process.execPath, args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('the examples, run as their chapters print them', () => {
  it('every chapter prints at least one command with the address of this demo', async () => {
    for (const c of CHAPTERS) {
      const cmds = await commands(c.slug);
      expect(cmds.length, c.slug).toBeGreaterThan(0);
      expect(cmds.join('\n'), c.slug).toContain(`${demo.host}:${demo.port}`);
    }
  });

  it('sockets: a TCP server (@strata/transport) and a client, bytes both ways with both ends', async () => {
    const out = await runExample('sockets', 'sockets');
    const client = /client (127\.0\.0\.1:\d+) connected to server (127\.0\.0\.1:\d+)/.exec(out);
    expect(client).not.toBeNull();
    const [, me, server] = client!;
    expect(out).toContain(`server ${server} <- client ${me}: "hello over TCP\\n" (15 bytes)`);
    expect(out).toContain(`server ${server} -> client ${me}: "got 15 bytes\\n"`);
    expect(out).toContain(`client ${me} <- server: "got 15 bytes\\n"`);
    expect(out).toContain('both sockets closed');
  });

  it('client: a request line typed into a socket, and the raw reply from this demo', async () => {
    const out = await runExample('client-server', 'http-client');
    expect(out).toContain(`GET /hello HTTP/1.1\\r\\n\nHost: ${demo.host}:${demo.port}\\r\\n`);
    expect(out).toMatch(/connected: client 127\.0\.0\.1:\d+ -> server 127\.0\.0\.1:\d+/);
    expect(out).toContain('status line: HTTP/1.1 200 OK');
    expect(out).toContain('Content-Length: 13\\r\\n');
    expect(out).toContain('Hello, World!');
    const echo = await runExample('request', 'http-client');
    expect(echo).toContain('GET /echo?x=1 HTTP/1.1');
    expect(echo).toContain('"url":"/echo?x=1"');
  });

  it('threads: the same count blocks the event loop on the main thread, not on a worker', async () => {
    const out = await runExample('threads', 'threads');
    const main =
      /on the event loop \(thread 0\): (\d+) primes in (\d+) ms; the event loop was stuck for (\d+) ms/.exec(
        out,
      );
    const worker =
      /on a worker thread \(thread (\d+)\): (\d+) primes in \d+ ms; the event loop's longest wait was (\d+) ms/.exec(
        out,
      );
    expect(main, out).not.toBeNull();
    expect(worker, out).not.toBeNull();
    expect(worker![2]).toBe(main![1]); // 216816 primes below 3 000 000
    expect(Number(worker![1])).toBeGreaterThan(0);
    expect(Number(main![3])).toBeGreaterThanOrEqual(Number(main![2]) * 0.8); // stuck for the whole count
    expect(Number(worker![3])).toBeLessThan(Number(main![3]));
  });

  it('ports: one service per port, connection refused, a reserved port', async () => {
    const out = await runExample('ports', 'ports');
    expect(out).toMatch(/a second listener on 127\.0\.0\.1:\d+: EADDRINUSE/);
    expect(out).toMatch(/with nobody listening: ECONNREFUSED/);
    expect(out).toMatch(/listen on port 81 as uid \d+: (allowed|EACCES|EADDRINUSE)/);
  });

  it('websockets: the upgrade by hand, then frames both ways, through the chat room of this demo', async () => {
    const out = await runExample('websockets', 'websocket');
    expect(out).toContain('HTTP/1.1 101 Switching Protocols');
    expect(out).toMatch(/Sec-WebSocket-Accept = .* matches/);
    expect(out).toContain('"type\\":\\"welcome');
    expect(out).toMatch(/client -> text frame: 81 8d /); // FIN + text, mask bit + 13
    expect(out).toContain('hello, frames');
    expect(out).toContain('server -> close frame: 88 02 03 e8');
  });

  it('crypto: SHA-256, an HMAC-signed cookie, a signature, the WebSocket accept key', async () => {
    const out = await runExample('crypto', 'crypto');
    expect(out).toContain(
      'sha256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    expect(out).toContain('as issued: valid; edited to user=eve: INVALID');
    expect(out).toMatch(/verify -> true, on a changed message -> false/);
    expect(out).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='); // RFC 6455's example
  });

  it("crypto: the chapter's openssl commands make a certificate, read it, sign and verify", async () => {
    const cmds = (await commands('crypto')).filter(
      (c) => c.startsWith('openssl req') || c.startsWith('openssl x509') || c.startsWith('echo hello'),
    );
    expect(cmds).toHaveLength(3);
    const dir = mkdtempSync(join(tmpdir(), 'strata-learn-'));
    try {
      const out = await run('bash', ['-c', cmds.join(' && ')], { cwd: dir });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('subject=CN = localhost');
      expect(out.stdout).toContain('Verified OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("crypto over TLS: the chapter's certificate, the demo's TLS mode, the handshake with openssl s_client", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-learn-tls-'));
    let tls: Demo | null = null;
    try {
      const make = (await commands('crypto')).find((c) => c.startsWith('openssl req'))!;
      expect((await run('bash', ['-c', make], { cwd: dir })).code).toBe(0);
      tls = await startDemo([
        '--port',
        '0',
        '--tls-cert',
        join(dir, 'cert.pem'),
        '--tls-key',
        join(dir, 'key.pem'),
      ]);
      // The page, fetched over TLS, prints the commands for this very port.
      const page = await run('curl', ['-sS', '--cacert', 'cert.pem', `${tls.url}/learn/crypto`], {
        cwd: dir,
      });
      expect(page.stdout).toContain('this page came over TLS');
      const cmds = [...page.stdout.matchAll(/<pre class="run">([^<]*)<\/pre>/g)].map((m) =>
        m[1]!.replaceAll('&lt;', '<').replaceAll('&#39;', "'").replaceAll('&amp;', '&'),
      );
      const sClient = cmds.find((c) => c.startsWith('openssl s_client'))!;
      expect(sClient).toContain(`127.0.0.1:${tls.port}`);
      const hs = await run('bash', ['-c', sClient], { cwd: dir });
      expect(hs.stdout + hs.stderr).toMatch(/Protocol version: TLSv1\.[23]/);
      expect(hs.stdout + hs.stderr).toContain('CN = localhost');
      const get = cmds.find((c) => c.startsWith('curl --cacert'))!;
      const hello = await run('bash', ['-c', get], { cwd: dir });
      expect(hello.stdout).toBe('Hello, World!');
    } finally {
      await tls?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("http2: the chapter's curl and nghttp commands, run as printed: h2c frames, the second HEADERS shorter", async () => {
    const cmds = await commands('http2');
    const curlCmd = cmds.find((c) => c.startsWith('curl --http2-prior-knowledge'))!;
    const h2c = await run('bash', ['-c', curlCmd]);
    expect(h2c.code, h2c.stderr).toBe(0);
    expect(h2c.stderr).toMatch(/< HTTP\/2 200/);
    expect(h2c.stdout).toBe('Hello, World!');
    const nghttpCmd = cmds.find((c) => c.startsWith('nghttp -nv'))!;
    const frames = await run('bash', ['-c', nghttpCmd]);
    expect(frames.code, frames.stderr).toBe(0);
    expect(frames.stdout).toMatch(/recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
    expect(frames.stdout).toMatch(/recv SETTINGS frame <length=0, flags=0x01, stream_id=0>/); // ACK
    const sent = [
      ...frames.stdout.matchAll(/send HEADERS frame <length=(\d+), flags=0x\w+, stream_id=(\d+)>/g),
    ];
    expect(sent.length).toBe(2);
    expect(Number(sent[1]![1])).toBeLessThan(Number(sent[0]![1])); // HPACK's dynamic table
    expect(frames.stdout).toContain(':status: 200');
    expect(frames.stdout).toMatch(/recv DATA frame <length=13, flags=0x01/); // Hello, World!, END_STREAM
  });

  it("http2 over TLS: the chapter's curl commands, as printed on the page served over TLS: h2 and http/1.1 by ALPN", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-learn-h2-'));
    let tls: Demo | null = null;
    try {
      const make = (await commands('crypto')).find((c) => c.startsWith('openssl req'))!;
      expect((await run('bash', ['-c', make], { cwd: dir })).code).toBe(0);
      tls = await startDemo([
        '--port',
        '0',
        '--tls-cert',
        join(dir, 'cert.pem'),
        '--tls-key',
        join(dir, 'key.pem'),
      ]);
      const page = await run('curl', ['-sS', '--cacert', 'cert.pem', `${tls.url}/learn/http2`], { cwd: dir });
      expect(page.stdout).toContain('over <b>HTTP/2</b> (ALPN chose h2 during the TLS handshake)');
      const cmds = [...page.stdout.matchAll(/<pre class="run">([^<]*)<\/pre>/g)].map((m) =>
        m[1]!.replaceAll('&lt;', '<').replaceAll('&#39;', "'").replaceAll('&amp;', '&'),
      );
      const h2 = await run('bash', ['-c', cmds.find((c) => c.startsWith('curl --http2 '))!], { cwd: dir });
      expect(h2.code, h2.stderr).toBe(0);
      expect(h2.stderr).toMatch(/ALPN[^\n]*accepted h2/);
      expect(h2.stdout).toBe('Hello, World!');
      const h1 = await run('bash', ['-c', cmds.find((c) => c.startsWith('curl --http1.1 '))!], { cwd: dir });
      expect(h1.code, h1.stderr).toBe(0);
      expect(h1.stderr).toMatch(/ALPN[^\n]*accepted http\/1\.1/);
      expect(h1.stdout).toBe('Hello, World!');
    } finally {
      await tls?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('request: the CL+TE request typed into a socket is refused with 400', async () => {
    const cmd = (await commands('request')).find((c) => c.startsWith('bash -c'));
    const out = await run('bash', ['-c', cmd!.slice("bash -c '".length, cmd!.lastIndexOf("'"))]);
    expect(out.stdout).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});

describe('Learn routes', () => {
  it('/learn/status/:code answers the code it names, 500 included; others are 400', async () => {
    for (const code of [200, 404, 500, 503]) {
      const res = await fetch(`${demo.url}/learn/status/${code}`);
      expect(res.status).toBe(code);
      expect(await res.text()).toContain(`HTTP/1.1 ${code}`);
    }
    const bad = await fetch(`${demo.url}/learn/status/999`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'ERR_LEARN_STATUS' });
  });

  it('commands repeat the Host the client used: IPv6 in brackets, a name, the default port', async () => {
    const page = async (host: string) =>
      (await run('curl', ['-sS', '-H', `Host: ${host}`, `${demo.url}/learn/request`])).stdout;
    const v6 = await page('[::1]:9999');
    expect(v6).toContain('node apps/demo/examples/http-client.mjs http://[::1]:9999/echo?x=1');
    expect(v6).toContain('/dev/tcp/::1/9999');
    const named = await page('localhost');
    expect(named).toContain('http://localhost/echo?x=1');
    expect(named).toContain('/dev/tcp/localhost/80');
  });

  it('/learn/source/ serves the linked files only', async () => {
    const ok = await fetch(`${demo.url}/learn/source/packages/http-parser/test/specs/05-cl-te.md`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Transfer-Encoding: chunked\\r\\n');
    for (const path of [
      'package.json',
      'packages/http-parser/package.json',
      '..%2f..%2fetc/passwd',
      '%2e%2e/README.md',
    ]) {
      expect((await fetch(`${demo.url}/learn/source/${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${demo.url}/learn/nope`)).status).toBe(404);
  });
});

/** The text of the element with this id (`<pre id="...">` or `<td id="...">`), tags removed, entities decoded. */
function byId(html: string, id: string): string {
  const m = new RegExp(`<(pre|td)[^>]* id="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  expect(m, id).not.toBeNull();
  return m![2]!
    .replace(/<[^>]+>/g, '')
    .replaceAll('&#39;', "'")
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Hex octets (`00 00 1d ...`) as bytes. */
function octets(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => Number.parseInt(h, 16));
}

describe('the HTTP/2 chapter: your request as HTTP/1.1 bytes and as HTTP/2 frames', () => {
  it("over HTTP/1.1: the learner's request line and fields, both forms, HPACK sizes, the page's own DATA frames", async () => {
    const r = await curl([
      '--http1.1',
      '-A',
      'learner/1.0 (test)',
      '-H',
      'Accept: text/x-learn',
      '-H',
      'Cookie: secret=hunter2',
      `${demo.url}/learn/http2?from=test`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const html = r.stdout.toString('utf8');
    expect(html).toContain('fetched this page over <b>HTTP/1.1</b>');
    expect(html).not.toContain('hunter2'); // cookies are never printed
    // (a) HTTP/1.1: the bytes as sent, CR LF shown at each line end.
    const h1 = byId(html, 'h1-bytes');
    expect(h1).toBe(
      [
        'GET /learn/http2?from=test HTTP/1.1',
        `Host: ${demo.host}:${demo.port}`,
        'User-Agent: learner/1.0 (test)',
        'Accept: text/x-learn',
        '',
      ]
        .map((l) => `${l}\\r\\n`)
        .join('\n'),
    );
    // (b) HTTP/2: the HEADERS frame's bytes, read back with a real HPACK decoder.
    const frame = octets(byId(html, 'h2-headers'));
    expect([...frame.subarray(3, 9)]).toEqual([0x01, 0x05, 0, 0, 0, 1]); // HEADERS, END_STREAM|END_HEADERS, stream 1
    expect((frame[0]! << 16) | (frame[1]! << 8) | frame[2]!).toBe(frame.length - 9);
    expect(new HpackDecoder().decode(frame.subarray(9))).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':authority',
      `${demo.host}:${demo.port}`,
      ':path',
      '/learn/http2?from=test',
      'user-agent',
      'learner/1.0 (test)',
      'accept',
      'text/x-learn',
    ]);
    expect(byId(html, 'h2-decoded')).toContain('user-agent: learner/1.0 (test)');
    // HPACK: the same request again on the same connection is smaller.
    const first = Number(byId(html, 'hpack-first'));
    const second = Number(byId(html, 'hpack-second'));
    expect(first).toBe(frame.length - 9);
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThan(first);
    expect(Number(byId(html, 'size-http1'))).toBe(
      Buffer.byteLength(h1.replaceAll('\\r\\n\n', '\r\n').replaceAll('\\r\\n', '\r\n')),
    );
    // The DATA frames add up to this very page, the last one with END_STREAM.
    const data = [...html.matchAll(/DATA \d+: (\d+) bytes of the page/g)].map((m) => Number(m[1]));
    expect(data.length).toBeGreaterThan(0);
    expect(data.reduce((a, b) => a + b, 0)).toBe(r.stdout.length);
    expect([...octets(byId(html, 'h2-data-last').split('\n')[0]!).subarray(3, 5)]).toEqual([0x00, 0x01]); // DATA, END_STREAM
  });

  it('over h2c: the page says HTTP/2, and shows the fields as they arrived (lower-case names)', async () => {
    const r = await curl(['--http2-prior-knowledge', '-A', 'learner/2.0', `${demo.url}/learn/http2`]);
    expect(r.code, r.stderr).toBe(0);
    const html = r.stdout.toString('utf8');
    expect(html).toContain('fetched this very page over <b>HTTP/2</b> (h2c');
    const h1 = byId(html, 'h1-bytes');
    expect(h1).toContain(`Host: ${demo.host}:${demo.port}\\r\\n`);
    expect(h1).toContain('user-agent: learner/2.0\\r\\n');
  });

  it("every file the chapter links answers under /learn/source/, packages/http2's included", async () => {
    const chapter = CHAPTERS.find((c) => c.slug === 'http2')!;
    expect(chapter.sources).toContain('packages/http2/src/_hpack.ts');
    for (const path of chapter.sources) {
      const res = await fetch(`${demo.url}/learn/source/${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain(path);
    }
  });
});
