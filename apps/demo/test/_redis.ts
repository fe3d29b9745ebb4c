/**
 * A real `redis-server` for tests: on 127.0.0.1, a free port, no persistence; `stop()` ends it.
 * `redis-server` comes from Debian's package of that name (`node scripts/system-tools.mjs`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function startOnce(port: number): Promise<RedisServer> {
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<RedisServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server not ready within 10 s: ${log}`));
    }, 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${log}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (!log.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      resolve({
        port,
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(kill);
        },
      });
    });
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
    });
  });
}

/** Starts redis-server (another free port if the first one was taken meanwhile; 3 tries). */
export async function startRedis(): Promise<RedisServer> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      return await startOnce(await freePort());
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
