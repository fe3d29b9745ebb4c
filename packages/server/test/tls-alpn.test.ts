import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerOptions } from '../src/index';
import { makeCert, run } from './_helpers';

// ALPN over TLS: the server advertises `h2` then `http/1.1` (only `http/1.1` with `http2: false`)
// unless the user sets ALPNProtocols / ALPNCallback.
// Checked with the clients the issue names (openssl s_client, curl) and with node:tls.

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 200 });
  server = null;
});

let dir = '';
let cert = '';
let key = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-alpn-'));
  ({ cert, key } = makeCert(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const handler: ServerOptions['handler'] = (req, res) => res.send(`hello over ${req.protocol}`);

async function startTls(
  serverTls: ServerOptions['tls'],
  listenTls?: ServerOptions['tls'],
  extra?: Partial<ServerOptions>,
): Promise<number> {
  server = createServer({ handler, ...extra, ...(serverTls === undefined ? {} : { tls: serverTls }) });
  const addr = (await server.listen({
    host: '127.0.0.1',
    port: 0,
    ...(listenTls === undefined ? {} : { tls: listenTls }),
  })) as { port: number };
  return addr.port;
}

/** `openssl s_client` with stdin at EOF (as `</dev/null`): resolves with stdout + stderr. */
function sClient(port: number, alpn: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-alpn', alpn, '-servername', 'localhost'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/**
 * A node:tls client offering `alpn` (nothing when undefined): one GET with `Connection: close`.
 * Resolves with the negotiated protocol and the raw response, or the handshake error's code.
 */
function tlsGet(
  port: number,
  alpn: string[] | undefined,
): Promise<{ alpn: string | false | null; text: string; error: string | null }> {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: cert,
      ...(alpn === undefined ? {} : { ALPNProtocols: alpn }),
    });
    let text = '';
    let negotiated: string | false | null = null;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ alpn: negotiated, text, error: 'timeout' });
    }, 5_000);
    sock.setEncoding('latin1');
    sock.on('secureConnect', () => {
      negotiated = sock.alpnProtocol ?? false;
      sock.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    sock.on('data', (d: string) => (text += d));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ alpn: negotiated, text, error: err.code ?? err.message });
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ alpn: negotiated, text, error: null });
    });
  });
}

describe('TLS ALPN', () => {
  it('advertises http/1.1 by default: openssl s_client sees "ALPN protocol: http/1.1"', async () => {
    const port = await startTls({ cert, key });
    const out = await sClient(port, 'http/1.1');
    expect(out).toContain('ALPN protocol: http/1.1');
    expect(out).not.toContain('No ALPN negotiated');
  });

  it('curl --http1.1 sees the server accept http/1.1, and the body arrives', async () => {
    const port = await startTls({ cert, key });
    const c = await run('curl', ['--http1.1', '-k', '-v', '-s', `https://127.0.0.1:${port}/`]);
    expect(c.code).toBe(0);
    expect(c.out).toContain('ALPN: server accepted http/1.1');
    expect(c.out).not.toContain('did not agree on a protocol');
    expect(c.out).toContain('hello over https');
  });

  it('node:tls offering http/1.1 gets alpnProtocol http/1.1; the user object is not mutated', async () => {
    const options = { cert, key };
    const port = await startTls(options);
    expect(Object.keys(options)).toEqual(['cert', 'key']);
    const r = await tlsGet(port, ['http/1.1']);
    expect(r.error).toBeNull();
    expect(r.alpn).toBe('http/1.1');
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).toContain('hello over https');
  });

  it('the default applies to tls given to listen() too', async () => {
    const listenTls = { cert, key };
    const port = await startTls(undefined, listenTls);
    expect('ALPNProtocols' in listenTls).toBe(false);
    expect(await sClient(port, 'http/1.1')).toContain('ALPN protocol: http/1.1');
    expect((await tlsGet(port, ['h2', 'http/1.1'])).alpn).toBe('h2');
  });

  it('offers h2 first: a client offering both gets h2; with http2: false it gets http/1.1', async () => {
    let port = await startTls({ cert, key });
    expect(await sClient(port, 'h2,http/1.1')).toContain('ALPN protocol: h2');
    await server?.close({ deadline: 200 });
    server = null;
    port = await startTls({ cert, key }, undefined, { http2: false });
    expect(await sClient(port, 'h2,http/1.1')).toContain('ALPN protocol: http/1.1');
  });

  it('a client offering no ALPN is still served (alpnProtocol false)', async () => {
    const port = await startTls({ cert, key });
    const r = await tlsGet(port, undefined);
    expect(r.error).toBeNull();
    expect(r.alpn).toBe(false);
    expect(r.text).toContain('hello over https');
  });

  it("a client offering only protocols the server lacks fails the handshake (Node's no_application_protocol)", async () => {
    const port = await startTls({ cert, key });
    const r = await tlsGet(port, ['spdy/3.1']);
    expect(r.error).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    expect(r.text).toBe('');
    // The listener keeps serving.
    expect((await tlsGet(port, ['http/1.1'])).text).toContain('hello over https');
  });

  it("the user's ALPNProtocols are used as given, and their object is not mutated", async () => {
    const protocols = ['x-custom', 'http/1.1'];
    const options = { cert, key, ALPNProtocols: protocols };
    const port = await startTls(options);
    const custom = await tlsGet(port, ['x-custom']);
    expect(custom.error).toBeNull();
    expect(custom.alpn).toBe('x-custom');
    const h1 = await tlsGet(port, ['http/1.1']);
    expect(h1.alpn).toBe('http/1.1');
    expect(h1.text).toContain('hello over https');
    expect(await sClient(port, 'x-custom')).toContain('ALPN protocol: x-custom');
    expect(options.ALPNProtocols).toBe(protocols);
    expect(protocols).toEqual(['x-custom', 'http/1.1']);
    expect(Object.keys(options)).toEqual(['cert', 'key', 'ALPNProtocols']);
  });

  it("the user's ALPNCallback is used and no ALPNProtocols is added (Node forbids both)", async () => {
    const seen: string[][] = [];
    const options: NonNullable<ServerOptions['tls']> = {
      cert,
      key,
      ALPNCallback: ({ protocols }) => {
        seen.push(protocols);
        return protocols.includes('x-cb') ? 'x-cb' : protocols[0];
      },
    };
    const port = await startTls(options);
    const r = await tlsGet(port, ['x-cb', 'http/1.1']);
    expect(r.error).toBeNull();
    expect(r.alpn).toBe('x-cb');
    expect(r.text).toContain('hello over https');
    expect(seen).toEqual([['x-cb', 'http/1.1']]);
    expect('ALPNProtocols' in options).toBe(false);
  });
});
