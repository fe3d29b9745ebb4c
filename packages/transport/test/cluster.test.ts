import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCluster } from '../src/cluster';
import { reusePortSupported } from '../src/index';
import { type BundledFixture, bundleFixture } from './_bundle';
import { dial } from './_helpers';

const fixtureSource = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));
let fixture = '';
let bundle: BundledFixture | null = null;
beforeAll(async () => {
  bundle = await bundleFixture(fixtureSource);
  fixture = bundle.file;
});
afterAll(() => bundle?.remove());
let child: ChildProcess | null = null;
const pids: number[] = [];

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

type Event = { ev: string; [k: string]: unknown };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ask(port: number): Promise<number> {
  const s = await dial(port);
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.write('who');
  await new Promise((r) => s.once('close', r));
  return Number(Buffer.concat(chunks).toString().trim());
}

describe('runCluster', () => {
  it('rejects a missing worker function', async () => {
    await expect(runCluster({} as never)).rejects.toMatchObject({ code: 'ERR_TRANSPORT_INVALID_OPTION' });
  });

  it('serves from 2 workers, replaces a killed one, reports stats, drains on SIGTERM', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [fixture], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STRATA_TEST_PORT: String(port) },
    });
    child = proc;
    const events: Event[] = [];
    let buf = '';
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        events.push(JSON.parse(buf.slice(0, nl)) as Event);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    });
    const waitFor = async (pred: (e: Event) => boolean, ms = 15_000): Promise<Event> => {
      const end = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > end || proc.exitCode !== null) throw new Error(`no such event; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const ready = await waitFor((e) => e.ev === 'ready');
    const workers = ready.workers as Array<{ pid: number; slot: number; address: { port: number } }>;
    expect(workers).toHaveLength(2);
    for (const w of workers) pids.push(w.pid);
    expect(workers[0]!.address.port).toBe(port);
    expect(workers[1]!.address.port).toBe(port); // one port, shared
    expect(ready.reusePort).toBe(reusePortSupported());

    // Both workers answer (round robin, or the kernel's reuseport hash over a few connections).
    const seen = new Set<number>();
    for (let i = 0; i < 8 && seen.size < 2; i++) seen.add(await ask(port));
    expect([...seen].every((p) => workers.some((w) => w.pid === p))).toBe(true);

    // Kill one worker: service continues and the slot gets a new worker.
    const victim = workers[0]!;
    process.kill(victim.pid, 'SIGKILL');
    await waitFor((e) => e.ev === 'exit' && e.pid === victim.pid && e.signal === 'SIGKILL');
    await waitFor((e) => e.ev === 'restart' && e.slot === victim.slot);
    const replaced = await waitFor(
      (e) => e.ev === 'worker-ready' && e.slot === victim.slot && e.pid !== victim.pid,
    );
    pids.push(replaced.pid as number);
    for (let i = 0; i < 4; i++) {
      const pid = await ask(port);
      expect(pid === replaced.pid || pid === workers[1]!.pid).toBe(true);
    }
    // A second crash soon after: the backoff doubles (50 ms, then 100 ms).
    const delays = events.filter((e) => e.ev === 'restart' && e.slot === victim.slot).map((e) => e.delay);
    expect(delays).toEqual([50]);
    process.kill(replaced.pid as number, 'SIGKILL');
    const again = await waitFor((e) => e.ev === 'restart' && e.slot === victim.slot && e.delay === 100);
    expect(again.delay).toBe(100);
    const third = await waitFor(
      (e) =>
        e.ev === 'worker-ready' && e.slot === victim.slot && e.pid !== victim.pid && e.pid !== replaced.pid,
    );
    pids.push(third.pid as number);

    // Per-worker counters arrive over IPC.
    const st = await waitFor(
      (e) => e.ev === 'stats' && (e.stats as { total: number }).total > 0 && e.pid === workers[1]!.pid,
    );
    expect(st.stats).toMatchObject({ open: expect.any(Number), bytesIn: expect.any(Number) });

    // SIGTERM to the primary: every worker drains and exits 0, then the primary exits.
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const exits = events.filter((e) => e.ev === 'exit' && e.signal !== 'SIGKILL');
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    expect(events.some((e) => e.ev === 'shutdown')).toBe(true);
    expect(alive(third.pid as number) || alive(workers[1]!.pid)).toBe(false);
  });

  it('rejects start-up with ERR_TRANSPORT_WORKER_START when a worker cannot start', async () => {
    const proc = spawn(process.execPath, [fixture], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STRATA_TEST_FAIL_START: '1' },
    });
    child = proc;
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    expect(code, err).toBe(3);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      ev: 'start-failed',
      code: 'ERR_TRANSPORT_WORKER_START',
    });
  });
});
