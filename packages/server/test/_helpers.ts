import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type ServerOptions } from '../src/index';

/** A listening server on 127.0.0.1:0 and its port; `close()` it in afterEach. */
export async function start(options: ServerOptions): Promise<{ server: Server; port: number; url: string }> {
  const server = createServer(options);
  const addr = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
  return { server, port: addr.port, url: `http://127.0.0.1:${addr.port}` };
}

/**
 * Send raw bytes (optionally in pieces with a pause between them) and collect everything until the
 * server closes the connection, or `timeoutMs` passes.
 */
export function raw(
  port: number,
  pieces: (string | Uint8Array)[],
  opts: { gapMs?: number; timeoutMs?: number; endAfter?: boolean } = {},
): Promise<{ text: string; closed: boolean }> {
  const { gapMs = 0, timeoutMs = 3000, endAfter = false } = opts;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    const got: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text: Buffer.concat(got).toString('latin1'), closed });
    }, timeoutMs);
    sock.on('data', (d) => got.push(d));
    sock.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text: Buffer.concat(got).toString('latin1'), closed });
    });
    sock.on('connect', async () => {
      for (let i = 0; i < pieces.length; i++) {
        if (sock.destroyed) return;
        sock.write(pieces[i]!);
        if (gapMs > 0 && i < pieces.length - 1) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter) sock.end();
    });
  });
}

/** Count HTTP/1.1 status lines in a raw response stream. */
export function statuses(text: string): number[] {
  const out: number[] = [];
  const re = /HTTP\/1\.[01] (\d{3}) /g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(Number(m[1]));
  return out;
}

/** Run a command, resolve with stdout+stderr (never rejects on exit code). */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI at test time and
 * written to `dir` as `cert.pem` and `key.pem` (curl's `--cacert` reads the file).
 */
export function makeCert(dir: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}
