/**
 * A fixed pool of worker threads for CPU-heavy jobs (the tutorial's threads chapter): the event
 * loop that serves sockets never runs the job, so `/hello` stays fast while `/compute` counts
 * primes. Jobs beyond the pool's size wait in a bounded queue; a full queue is refused at once
 * (the route answers 503) instead of growing without bound.
 */
import { Worker } from 'node:worker_threads';

/** A job the pool could not take or finish; `code` is stable. */
export class ComputeError extends Error {
  readonly code: 'ERR_POOL_BUSY' | 'ERR_POOL_CLOSED' | 'ERR_WORKER_FAILED';
  constructor(code: ComputeError['code'], message: string) {
    super(message);
    this.name = 'ComputeError';
    this.code = code;
  }
}

/** One finished job: the answer, how long the thread worked, and which thread it was. */
export interface ComputeResult {
  primes: number;
  ms: number;
  thread: number;
}

interface Job {
  id: number;
  n: number;
  resolve(result: ComputeResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export interface ComputePoolOptions {
  /** Worker threads (default 2). */
  size?: number;
  /** Jobs allowed to wait when every thread is busy (default 32). */
  maxQueue?: number;
  /** The worker script (dist/prime-worker.js next to the CLI). */
  script: URL;
}

export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly maxQueue: number;
  private nextId = 1;
  private closed = false;
  private readonly script: URL;

  constructor(options: ComputePoolOptions) {
    this.script = options.script;
    this.maxQueue = options.maxQueue ?? 32;
    const size = Math.max(1, options.size ?? 2);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Threads in the pool, jobs running now and jobs waiting. */
  stats(): { threads: number; busy: number; queued: number } {
    let busy = 0;
    for (const slot of this.slots) if (slot.job !== null) busy++;
    return { threads: this.slots.length, busy, queued: this.queue.length };
  }

  /** Counts the primes <= n on a worker thread. */
  countPrimes(n: number): Promise<ComputeResult> {
    if (this.closed) return Promise.reject(new ComputeError('ERR_POOL_CLOSED', 'the compute pool is closed'));
    return new Promise<ComputeResult>((resolve, reject) => {
      const job: Job = { id: this.nextId++, n, resolve, reject };
      const idle = this.slots.find((slot) => slot.job === null);
      if (idle !== undefined) this.run(idle, job);
      else if (this.queue.length < this.maxQueue) this.queue.push(job);
      else reject(new ComputeError('ERR_POOL_BUSY', 'every compute thread is busy and the queue is full'));
    });
  }

  /** Stops every thread; running and queued jobs are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new ComputeError('ERR_POOL_CLOSED', 'the compute pool is closed');
    for (const job of this.queue.splice(0)) job.reject(error);
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.job?.reject(error);
        slot.job = null;
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script), job: null };
    slot.worker.unref();
    slot.worker.on('message', (msg: { id: number; primes: number; ms: number }) => {
      const job = slot.job;
      if (job === null || job.id !== msg.id) return;
      slot.job = null;
      job.resolve({ primes: msg.primes, ms: msg.ms, thread: slot.worker.threadId });
      this.next(slot);
    });
    slot.worker.on('error', (err) => this.replace(slot, err));
    slot.worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) {
        this.replace(slot, new Error(`compute thread exited with code ${code}`));
      }
    });
    return slot;
  }

  /** A crashed thread fails its job and is replaced, so the pool keeps its size. */
  private replace(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return;
    slot.job?.reject(new ComputeError('ERR_WORKER_FAILED', `compute thread failed: ${err.message}`));
    slot.job = null;
    if (this.closed) return;
    const fresh = this.spawn();
    this.slots[index] = fresh;
    this.next(fresh);
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage({ id: job.id, n: job.n });
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    if (job !== undefined) this.run(slot, job);
    else slot.worker.unref();
  }
}
