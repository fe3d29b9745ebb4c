import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** VmRSS and VmHWM of a process, in MiB. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Descriptors of process `pid` open on `file` (a real path: `/proc/<pid>/fd/*` links resolve to it). */
export function fdsOn(pid: number, file: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) n++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return n;
}

/** What `GET /_count` of the fixture answers. */
export interface Count {
  /** /stream handlers called whose promise has not settled. */
  inFlight: number;
  maxInFlight: number;
  /** The most /stream responses not yet finished at once (sampled as each handler starts). */
  maxUnfinished: number;
  started: number;
  stats: { aborted: number; timedOut: number; rejected: number; requests: number; responses: number } | null;
  rssKb: number;
  hwmKb: number;
}

/** A fixture server (`fixtures/server.mts`) running in a child process. */
export interface Fixture {
  readonly pid: number;
  readonly port: number;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** GET `path` on a fresh connection; the body parsed as JSON. */
  get<T = Count>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Start `fixtures/server.mts` under tsx (sources, not builds) with `env` added, and wait for its
 * `READY <port>` line.
 */
export async function startFixture(env: Record<string, string>): Promise<Fixture> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=strata-source',
      '--expose-gc',
      '--import',
      'tsx',
      join(__dirname, 'fixtures', 'server.mts'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd: join(__dirname, '..') },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  let port = 0;
  for (let i = 0; i < 300 && port === 0; i++) {
    const m = /READY (\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) break;
    else await sleep(50);
  }
  if (port === 0) {
    child.kill('SIGKILL');
    throw new Error(`fixture did not start: ${out}${err}`);
  }
  return {
    pid: child.pid!,
    port,
    stderr: () => err,
    get<T>(path: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            try {
              resolve(JSON.parse(body) as T);
            } catch (e) {
              reject(e);
            }
          });
        });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error(`GET ${path} timed out`)));
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
