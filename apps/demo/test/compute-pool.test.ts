import { afterEach, describe, expect, it } from 'vitest';
import { ComputeError, ComputePool } from '../src/compute-pool';

const script = new URL('./fixtures/flaky-worker.mjs', import.meta.url);
const pools: ComputePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
function pool(size: number, maxQueue: number): ComputePool {
  const p = new ComputePool({ script, size, maxQueue });
  pools.push(p);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<ComputeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ComputeError);
    return err as ComputeError;
  }
  throw new Error('expected a rejection');
}

describe('ComputePool', () => {
  it('runs jobs on worker threads and reports which thread answered', async () => {
    const p = pool(2, 4);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => p.countPrimes(n)));
    expect(results.map((r) => r.primes)).toEqual([2, 4, 6, 8, 10]);
    for (const r of results) expect(r.thread).toBeGreaterThan(0);
    expect(p.stats()).toEqual({ threads: 2, busy: 0, queued: 0 });
  });

  it('refuses a job at once when every thread is busy and the queue is full', async () => {
    const p = pool(1, 1);
    const running = p.countPrimes(7);
    const queued = p.countPrimes(7);
    expect((await failure(p.countPrimes(1))).code).toBe('ERR_POOL_BUSY');
    expect(p.stats()).toEqual({ threads: 1, busy: 1, queued: 1 });
    expect((await running).primes).toBe(14);
    expect((await queued).primes).toBe(14);
  });

  it('fails the job of a crashed thread and replaces the thread', async () => {
    const p = pool(1, 4);
    const crashed = p.countPrimes(13);
    const next = p.countPrimes(21);
    expect((await failure(crashed)).code).toBe('ERR_WORKER_FAILED');
    expect((await next).primes).toBe(42);
    expect(p.stats().threads).toBe(1);
  });

  it('close rejects running and queued jobs, then refuses new ones', async () => {
    const p = pool(1, 4);
    const running = failure(p.countPrimes(7));
    const queued = failure(p.countPrimes(1));
    await p.close();
    expect((await running).code).toBe('ERR_POOL_CLOSED');
    expect((await queued).code).toBe('ERR_POOL_CLOSED');
    expect((await failure(p.countPrimes(1))).code).toBe('ERR_POOL_CLOSED');
  });
});
