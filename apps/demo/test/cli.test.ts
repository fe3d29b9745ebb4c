/**
 * The command line as a user meets it: --help, bad flags, a busy port, the listening line, and a
 * graceful drain on SIGTERM / SIGINT. Every case runs the built dist/cli.js.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Demo, runCli, startDemo } from './_harness';

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
    expect(demo.line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.port).toBeGreaterThan(0);
    const res = await fetch(`${demo.url}/hello`);
    expect(await res.text()).toBe('Hello, World!');
    expect(demo.stdout()).toBe('');
  });

  it('listens on IPv6 with --host ::1 and prints the bracketed address', async () => {
    const demo = await start(['--port', '0', '--host', '::1']);
    expect(demo.line).toMatch(/^listening on http:\/\/\[::1\]:\d+$/);
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
});
