import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from './_helpers';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** One request on a fresh connection (a pooled one to the killed worker would just be reset). */
function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject)
      .setTimeout(3000, function (this: http.ClientRequest) {
        this.destroy(new Error('request timed out'));
      });
  });
}

describe('cluster (transport helper) with the server in each worker', () => {
  it('2 workers: one is killed, service continues, the worker is replaced', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--conditions=strata-source', '--import', 'tsx', join(__dirname, 'fixtures/cluster.mts')],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, PORT: String(port) },
        cwd: join(__dirname, '..'),
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 800 && !re.test(out); i++) await sleep(50);
      const m = re.exec(out);
      if (!m) throw new Error(`no ${re} in: ${out}`);
      return m;
    };
    try {
      const pids = (await waitFor(/READY (\d+),(\d+)/)).slice(1).map(Number);
      const seen = new Set<number>();
      for (let i = 0; i < 10; i++) seen.add(Number((await get(port)).body));
      expect([...seen].every((p) => pids.includes(p))).toBe(true);
      process.kill(pids[0]!, 'SIGKILL');
      // Once the primary saw the death (a connection handed to the dying worker in that instant is
      // lost: Node's round-robin race), service continues on the other worker while it is replaced.
      await waitFor(/EXIT (\d+)/);
      for (let i = 0; i < 5; i++) {
        expect((await get(port)).status).toBe(200);
      }
      const replaced = Number((await waitFor(/REPLACED (\d+)/))[1]);
      expect(pids).not.toContain(replaced);
      const after = new Set<number>();
      for (let i = 0; i < 20; i++) after.add(Number((await get(port)).body));
      expect(after.has(pids[0]!)).toBe(false);
      child.stdin!.write('stop\n');
      const code = await new Promise((r) =>
        child.exitCode !== null ? r(child.exitCode) : child.on('exit', r),
      );
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
