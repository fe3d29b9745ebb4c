/**
 * The command line as a user meets it: --help, bad flags, a busy port, the listening line, and a
 * graceful drain on SIGTERM / SIGINT. Every case runs the built dist/cli.js.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, type Demo, runCli, startDemo } from './_harness';

const running: Demo[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop('SIGKILL')));
});

async function start(args: string[]): Promise<Demo> {
  const demo = await startDemo(args);
  running.push(demo);
  return demo;
}

describe('strata-demo CLI', () => {
  it('--help lists every mode and flag and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      'serve',
      'echo',
      '--port',
      '--host',
      '--workers',
      '--tls-cert',
      '--tls-key',
      '--static',
      '--log',
      '--max-upload',
      '--send-timeout',
    ]) {
      expect(r.stdout).toContain(word);
    }
    // The new flags with their defaults.
    expect(r.stdout).toMatch(/--max-upload SIZE[\s\S]*default 1G; 0 means no limit/);
    expect(r.stdout).toMatch(/--send-timeout MS[\s\S]*default 30000/);
    expect(r.stderr).toBe('');
  });

  it('a bad flag is one line on stderr and exit code 2', async () => {
    const cases = [
      ['--bogus'],
      ['--port', 'eighty'],
      ['proxy'],
      ['--tls-cert', 'x.pem'],
      ['--max-upload', '1.5G'],
      ['--send-timeout', 'soon'],
    ];
    const results = await Promise.all(cases.map((argv) => runCli(argv)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^strata-demo: /);
    });
  });

  it('a missing TLS file is one line and a non-zero exit', async () => {
    const r = await runCli([
      '--port',
      '0',
      '--tls-cert',
      '/nonexistent/c.pem',
      '--tls-key',
      '/nonexistent/k.pem',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('/nonexistent/c.pem');
  });

  it('a busy port is one line on stderr and exit code 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      // Alone and as a cluster: the same single line from the process the user started.
      const results = await Promise.all([
        runCli(['--port', String(port)]),
        runCli(['--port', String(port), '--workers', '2']),
      ]);
      for (const r of results) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toBe(`strata-demo: cannot listen on 127.0.0.1:${port}: address already in use\n`);
      }
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('--port 0 prints exactly one line with the real port, which answers', async () => {
    const demo = await start(['--port', '0']);
    expect(demo.line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+ \(HTTP\/1\.1 and h2c\)$/);
    expect(demo.port).toBeGreaterThan(0);
    const res = await fetch(`${demo.url}/hello`);
    expect(await res.text()).toBe('Hello, World!');
    expect(demo.stdout()).toBe('');
  });

  it('listens on IPv6 with --host ::1 and prints the bracketed address', async () => {
    const demo = await start(['--port', '0', '--host', '::1']);
    expect(demo.line).toMatch(/^listening on http:\/\/\[::1\]:\d+ \(HTTP\/1\.1 and h2c\)$/);
    const res = await fetch(`${demo.url}/hello`);
    expect(await res.text()).toBe('Hello, World!');
  });

  it('SIGTERM drains: the in-flight request completes, then exit code 0', async () => {
    const demo = await start(['--port', '0', '--inspector', 'on']);
    // A request that takes a while on the compute pool is in flight when the signal arrives.
    const inflight = fetch(`${demo.url}/compute?n=3000000`).then(async (r) => ({
      status: r.status,
      connection: r.headers.get('connection'),
      body: await r.json(),
    }));
    // Signal only once the server is working on it (the inspector lists it, still unanswered).
    for (let i = 0; i < 200; i++) {
      const log = (await (
        await fetch(`${demo.url}/inspect.json`, { headers: { connection: 'close' } })
      ).json()) as {
        entries: { received: string | null; response: unknown }[];
      };
      if (log.entries.some((e) => e.received?.startsWith('GET /compute?n=3000000 ') && e.response === null))
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const code = demo.stop('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ n: 3000000, primes: 216816 });
    expect(res.connection).toBe('close'); // answered during the drain: the server closes after it
    expect(await code).toBe(0);
  });

  it('SIGINT exits 0 too, and the port is free afterwards', async () => {
    const demo = await start(['--port', '0']);
    await (await fetch(`${demo.url}/hello`)).text();
    expect(await demo.stop('SIGINT')).toBe(0);
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(demo.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('--version prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`strata-demo ${version}\n`);
    expect(r.stderr).toBe('');
  });

  it('--static with a folder that does not exist (or a file) is one line and exit 1', async () => {
    const r = await runCli(['--port', '0', '--static', '/nonexistent/www']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('strata-demo: --static /nonexistent/www: no such folder\n');
    const file = join(APP_DIR, 'package.json');
    const f = await runCli(['--port', '0', '--static', file]);
    expect(f.code).toBe(1);
    expect(f.stderr).toBe(`strata-demo: --static ${file}: not a folder\n`);
  });

  it('SIGINT with a download in flight: one draining line, no stack trace, exit 0', async () => {
    const demo = await start(['--port', '0']);
    const res = await fetch(`${demo.url}/download/1073741824`);
    const reader = res.body!.getReader();
    await reader.read(); // the response is streaming; the client now stops reading
    const code = demo.stop('SIGINT');
    // A parent (pnpm, npx) forwards the terminal's Ctrl-C: the same signal a moment later is not a second Ctrl-C.
    setTimeout(() => demo.child.kill('SIGINT'), 20);
    for (let i = 0; i < 200 && !demo.stdout().includes('\n'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(demo.stdout()).toBe('strata-demo: draining 1 connection, Ctrl-C again to force\n');
    await reader.cancel().catch(() => {}); // the client goes away: the drain ends
    expect(await code).toBe(0);
    expect(demo.stderr()).toBe('');
    expect(demo.stdout()).toBe('strata-demo: draining 1 connection, Ctrl-C again to force\n');
  });

  it('a second Ctrl-C forces the exit while a response is still in flight', async () => {
    const demo = await start(['--port', '0']);
    const res = await fetch(`${demo.url}/download/1073741824`);
    const reader = res.body!.getReader();
    await reader.read();
    demo.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 700));
    const code = demo.stop('SIGINT');
    expect(await code).toBe(130);
    expect(demo.stdout()).toBe(
      'strata-demo: draining 1 connection, Ctrl-C again to force\nstrata-demo: forced exit, 1 connection cut\n',
    );
    expect(demo.stderr()).toBe('');
    await reader.cancel().catch(() => {});
  });

  it('`pnpm install` can link the strata-demo bin before the build: a committed file that loads dist/cli.js', () => {
    const pkg = JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const bin = join(APP_DIR, pkg.bin['strata-demo']!);
    expect(bin).not.toContain(`${join('dist', '')}`);
    expect(existsSync(bin)).toBe(true);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(readFileSync(bin, 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n[\s\S]*import '\.\.\/dist\/cli\.js';/,
    );
    // The root `demo` script execs the CLI: pnpm's child is the demo itself, whose exit 0 after a
    // Ctrl-C pnpm reports as success (a shell between them would die of SIGINT: ELIFECYCLE).
    const root = JSON.parse(readFileSync(join(APP_DIR, '..', '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      pnpm: { ignoredBuiltDependencies?: string[] };
    };
    expect(root.scripts.demo).toMatch(/&& exec node apps\/demo\/dist\/cli\.js serve$/);
    expect(root.pnpm.ignoredBuiltDependencies).toEqual(['bufferutil', 'utf-8-validate']);
  });

  it('runs through the bin file as the installed command does', async () => {
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, [join(APP_DIR, 'bin', 'strata-demo.js'), '--version'], (error, stdout) =>
        resolve({ code: error === null ? 0 : (error.code as number), stdout }),
      );
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^strata-demo \d+\.\d+\.\d+/);
  });
});

describe('strata-demo TLS start-up errors', () => {
  let dir: string;
  const openssl = (args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('openssl', args, { cwd: dir }, (error) => (error ? reject(error) : resolve())),
    );
  const pair = (name: string) => [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}-cert.pem`,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
  ];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-demo-tls-'));
    await Promise.all([openssl(pair('a')), openssl(pair('b'))]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('swapped certificate and key: one clear line, exit 1 (no OpenSSL code)', async () => {
    const cert = join(dir, 'a-key.pem');
    const key = join(dir, 'a-cert.pem');
    const r = await runCli(['--port', '0', '--tls-cert', cert, '--tls-key', key]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `strata-demo: --tls-cert ${cert} holds a private key and --tls-key ${key} a certificate: the two files are swapped\n`,
    );
  });

  it("a key that is not the certificate's: one clear line, exit 1", async () => {
    const cert = join(dir, 'a-cert.pem');
    const key = join(dir, 'b-key.pem');
    const r = await runCli(['--port', '0', '--tls-cert', cert, '--tls-key', key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `strata-demo: --tls-key ${key} is not the private key of the certificate ${cert} (they do not match)\n`,
    );
    expect(r.stderr).not.toMatch(/error:[0-9A-F]{8}/);
  });

  it('a file that is not PEM at all: says which one', async () => {
    const cert = join(APP_DIR, 'package.json');
    const key = join(dir, 'a-key.pem');
    const r = await runCli(['--port', '0', '--tls-cert', cert, '--tls-key', key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `strata-demo: --tls-cert ${cert} is not a PEM certificate (no '-----BEGIN CERTIFICATE-----' line)\n`,
    );
  });
});
