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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAPTERS } from '../src/learn-chapters';
import { APP_DIR, type Demo, startDemo } from './_harness';

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
