/**
 * `@strata/transport/cluster`: run one listener per core.
 *
 * The primary forks N workers (default: available cores), restarts a crashed worker with
 * exponential backoff, forwards SIGTERM/SIGINT as a graceful drain, and collects each worker's
 * counters over IPC. Where Node supports `reusePort` (22.12+/23.1+ on Linux/FreeBSD) workers bind
 * their own SO_REUSEPORT socket (the kernel balances accepts); elsewhere cluster's round robin
 * hands connections out. The same entry script runs in both roles.
 *
 * @example
 * ```ts
 * import { listen } from '@strata/transport';
 * import { runCluster } from '@strata/transport/cluster';
 *
 * const role = await runCluster({
 *   worker: (ctx) => listen({ port: 8080, reusePort: ctx.reusePort }, handlers),
 * });
 * if (role.role === 'primary') role.on('exit', (w, code) => console.log('worker', w.pid, 'exited', code));
 * ```
 *
 * @packageDocumentation
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { TransportError, TransportErrorCode } from './_errors';
import { DEFAULT_CLOSE_DEADLINE, reusePortSupported } from './_listener';
import type { CloseOptions, ListenerAddress, ListenerStats } from './_types';

/** What each worker learns about itself. */
export interface WorkerContext {
  /** Slot index 0..workers-1 (a replacement worker gets its predecessor's slot). */
  slot: number;
  /** `cluster.worker.id` (unique per fork). */
  workerId: number;
  /** Pass this as `listen({ reusePort })`: true where Node supports SO_REUSEPORT. */
  reusePort: boolean;
}

/** What a worker's start function returns (a `Listener` from `listen()` satisfies it). */
export interface ClusterWorkerHandle {
  close(options?: CloseOptions): Promise<void>;
  stats?(): ListenerStats;
  address?(): ListenerAddress;
}

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  /** Number of workers. Default: `os.availableParallelism()`. */
  workers?: number;
  /** Runs in each worker: start serving and return the handle used for stats and the drain. */
  worker(ctx: WorkerContext): ClusterWorkerHandle | Promise<ClusterWorkerHandle>;
  /** First restart delay after a crash, in ms; doubles per consecutive crash. Default 100. */
  restartDelay?: number;
  /** Upper bound of the restart delay, in ms. Default 10 000. */
  maxRestartDelay?: number;
  /** A worker that ran this long (ms) before crashing restarts with the first delay again. Default 10 000. */
  stableAfter?: number;
  /** Deadline of the graceful drain in each worker, in ms. Default 10 000. */
  shutdownDeadline?: number;
  /** How often workers report their counters, in ms (0: never). Default 1 000. */
  statsInterval?: number;
  /** Drain on SIGTERM/SIGINT (primary and workers). Default true. */
  handleSignals?: boolean;
}

/** What the primary knows about one worker. */
export interface WorkerInfo {
  slot: number;
  workerId: number;
  pid: number;
  /** True once the worker's start function resolved. */
  ready: boolean;
  /** How many times this slot was restarted after a crash. */
  restarts: number;
  /** Latest counters the worker reported (null before the first report). */
  stats: ListenerStats | null;
  /** Address the worker reported when it became ready. */
  address: ListenerAddress | null;
}

/** Events of {@link ClusterPrimary}. */
export interface ClusterPrimaryEvents {
  ready: [worker: WorkerInfo];
  exit: [worker: WorkerInfo, code: number | null, signal: string | null];
  restart: [worker: WorkerInfo, delayMs: number];
  stats: [worker: WorkerInfo];
  shutdown: [];
}

/** The primary process's handle. */
export interface ClusterPrimary extends EventEmitter<ClusterPrimaryEvents> {
  readonly role: 'primary';
  /** Whether workers bind with SO_REUSEPORT (else cluster round robin). */
  readonly reusePort: boolean;
  /** Current workers, by slot. */
  workers(): WorkerInfo[];
  /** Latest counters summed over workers. */
  stats(): ListenerStats;
  /** Drain every worker (graceful close with the deadline), stop restarting; resolves when all exited. */
  shutdown(options?: CloseOptions): Promise<void>;
}

/** A worker process's handle. */
export interface ClusterWorker {
  readonly role: 'worker';
  readonly slot: number;
  readonly handle: ClusterWorkerHandle;
  /** Drain this worker and exit the process. */
  shutdown(options?: CloseOptions): Promise<void>;
}

interface Message {
  strata?: 'ready' | 'stats' | 'shutdown';
  stats?: ListenerStats;
  address?: ListenerAddress | null;
  deadline?: number;
}

const SLOT_ENV = 'STRATA_CLUSTER_SLOT';
const REUSE_ENV = 'STRATA_CLUSTER_REUSE_PORT';
/** Extra time after the drain deadline before a worker that did not exit is killed. */
const KILL_GRACE_MS = 2_000;

/**
 * Start a cluster: in the primary, fork the workers and resolve once every one is ready (reject
 * with `ERR_TRANSPORT_WORKER_START` if one dies first); in a worker, run `options.worker`.
 */
export async function runCluster(options: ClusterOptions): Promise<ClusterPrimary | ClusterWorker> {
  if (typeof options?.worker !== 'function') {
    throw new TransportError(
      TransportErrorCode.INVALID_OPTION,
      'runCluster: options.worker must be a function',
    );
  }
  if (cluster.isPrimary) {
    const p = new Primary(options);
    await p.start();
    return p;
  }
  return runWorker(options);
}

class Primary extends EventEmitter<ClusterPrimaryEvents> implements ClusterPrimary {
  readonly role = 'primary' as const;
  readonly reusePort = reusePortSupported();
  private readonly count: number;
  private readonly slots: Array<{
    info: WorkerInfo;
    worker: Worker | null;
    started: number;
    crashes: number;
  }> = [];
  private readonly byId = new Map<number, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | null = null;
  private startWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly onSignal = (): void => {
    void this.shutdown();
  };

  constructor(private readonly options: ClusterOptions) {
    super();
    const n = options.workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) {
      throw new TransportError(
        TransportErrorCode.INVALID_OPTION,
        'runCluster: workers must be a positive integer',
      );
    }
    this.count = n;
  }

  start(): Promise<void> {
    cluster.on('message', (worker, msg: Message) => this.onMessage(worker, msg));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    if (this.options.handleSignals ?? true) {
      process.on('SIGTERM', this.onSignal);
      process.on('SIGINT', this.onSignal);
    }
    const ready = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    for (let slot = 0; slot < this.count; slot++) {
      this.slots.push({
        info: { slot, workerId: 0, pid: 0, ready: false, restarts: 0, stats: null, address: null },
        worker: null,
        started: 0,
        crashes: 0,
      });
      this.fork(slot);
    }
    return ready;
  }

  private fork(slot: number): void {
    const s = this.slots[slot]!;
    const worker = cluster.fork({ [SLOT_ENV]: String(slot), [REUSE_ENV]: this.reusePort ? '1' : '0' });
    // IPC to a worker that is dying raises 'error' asynchronously (ERR_IPC_CHANNEL_CLOSED): the
    // 'exit' that follows is what matters.
    worker.on('error', noop);
    s.worker = worker;
    s.started = Date.now();
    s.info = { ...s.info, workerId: worker.id, pid: worker.process.pid ?? 0, ready: false, stats: null };
    this.byId.set(worker.id, slot);
  }

  private onMessage(worker: Worker, msg: Message): void {
    if (msg === null || typeof msg !== 'object' || msg.strata === undefined) return;
    const slot = this.byId.get(worker.id);
    if (slot === undefined) return;
    const s = this.slots[slot]!;
    if (msg.strata === 'ready') {
      s.info.ready = true;
      s.info.address = msg.address ?? null;
      this.emit('ready', s.info);
      if (this.startWaiter !== null && this.slots.every((x) => x.info.ready)) {
        const w = this.startWaiter;
        this.startWaiter = null;
        w.resolve();
      }
    } else if (msg.strata === 'stats' && msg.stats) {
      s.info.stats = msg.stats;
      this.emit('stats', s.info);
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.byId.get(worker.id);
    if (slot === undefined) return;
    this.byId.delete(worker.id);
    const s = this.slots[slot]!;
    if (s.worker === worker) s.worker = null;
    this.emit('exit', s.info, code, signal);
    if (this.stopping !== null) return;
    if (this.startWaiter !== null && !s.info.ready) {
      // A worker that cannot start (bad options, port taken) would crash-loop: fail fast.
      const w = this.startWaiter;
      this.startWaiter = null;
      void this.shutdown({ deadline: 0 });
      w.reject(
        new TransportError(
          TransportErrorCode.WORKER_START,
          `worker ${slot} exited during start-up (code ${code}, signal ${signal})`,
        ),
      );
      return;
    }
    const ranFor = Date.now() - s.started;
    s.crashes = ranFor >= (this.options.stableAfter ?? 10_000) ? 1 : s.crashes + 1;
    const first = this.options.restartDelay ?? 100;
    const max = this.options.maxRestartDelay ?? 10_000;
    const delay = Math.min(max, first * 2 ** (s.crashes - 1));
    s.info.restarts++;
    this.emit('restart', s.info, delay);
    const t = setTimeout(() => {
      this.restartTimers.delete(t);
      if (this.stopping === null) this.fork(slot);
    }, delay);
    this.restartTimers.add(t);
  }

  workers(): WorkerInfo[] {
    return this.slots.map((s) => s.info);
  }

  stats(): ListenerStats {
    const total: ListenerStats = { open: 0, total: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };
    for (const s of this.slots) {
      const st = s.info.stats;
      if (st === null) continue;
      total.open += st.open;
      total.total += st.total;
      total.bytesIn += st.bytesIn;
      total.bytesOut += st.bytesOut;
      total.dropped += st.dropped;
    }
    return total;
  }

  shutdown(options?: CloseOptions): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    const deadline = options?.deadline ?? this.options.shutdownDeadline ?? DEFAULT_CLOSE_DEADLINE;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    const live = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== null && !w.isDead());
    this.stopping = Promise.all(
      live.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), deadline + KILL_GRACE_MS);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) {
              w.send({ strata: 'shutdown', deadline } satisfies Message, undefined, (err: Error | null) => {
                if (err) w.process.kill('SIGTERM');
              });
            } else {
              w.process.kill('SIGTERM');
            }
          }),
      ),
    ).then(() => {
      this.emit('shutdown');
    });
    return this.stopping;
  }
}

function noop(): void {}

async function runWorker(options: ClusterOptions): Promise<ClusterWorker> {
  const slot = Number(process.env[SLOT_ENV] ?? '0');
  const reusePort = process.env[REUSE_ENV] === '1';
  let handle: ClusterWorkerHandle;
  try {
    handle = await options.worker({ slot, workerId: cluster.worker?.id ?? 0, reusePort });
  } catch (err) {
    process.stderr.write(`strata cluster worker ${slot} failed to start: ${String(err)}\n`);
    process.exit(1);
  }
  const send = (msg: Message): void => {
    if (process.connected && process.send) process.send(msg);
  };
  send({ strata: 'ready', address: handle.address ? handle.address() : null });
  const interval = options.statsInterval ?? 1_000;
  let timer: NodeJS.Timeout | null = null;
  if (interval > 0 && handle.stats) {
    const stats = handle.stats.bind(handle);
    timer = setInterval(() => send({ strata: 'stats', stats: stats() }), interval);
    timer.unref();
  }
  let draining: Promise<void> | null = null;
  const shutdown = (opts?: CloseOptions): Promise<void> => {
    if (draining !== null) return draining;
    if (timer !== null) clearInterval(timer);
    const deadline = opts?.deadline ?? options.shutdownDeadline ?? DEFAULT_CLOSE_DEADLINE;
    draining = handle.close({ deadline }).then(
      () => {
        if (handle.stats) send({ strata: 'stats', stats: handle.stats() });
        process.exit(0);
      },
      () => process.exit(1),
    );
    return draining;
  };
  process.on('message', (msg: Message) => {
    if (msg !== null && typeof msg === 'object' && msg.strata === 'shutdown') {
      void shutdown(msg.deadline !== undefined ? { deadline: msg.deadline } : undefined);
    }
  });
  // The primary went away: drain rather than serve orphaned.
  process.on('disconnect', () => void shutdown());
  if (options.handleSignals ?? true) {
    // A terminal's Ctrl-C reaches every process of the group: drain here too (idempotent).
    process.on('SIGTERM', () => void shutdown());
    process.on('SIGINT', () => void shutdown());
  }
  return { role: 'worker', slot, handle, shutdown };
}
