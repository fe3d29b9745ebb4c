/**
 * `@strata/transport/cluster`: run one listener per core.
 *
 * The primary forks N workers (default: available cores), restarts a crashed worker with
 * exponential backoff, forwards SIGTERM/SIGINT as a graceful drain, and collects each worker's
 * counters over IPC. Where Node supports `reusePort` (22.12+/23.1+ on Linux/FreeBSD) workers bind
 * their own SO_REUSEPORT socket (the kernel balances accepts); elsewhere cluster's round robin
 * hands connections out. The same entry script runs in both roles.
 *
 * `clusterPubSub()` is a message bus between the workers: a worker publishes (topic, payload), the
 * primary relays it over IPC to the other workers that subscribe to the topic. It knows topics and
 * payloads only; `@strata/websocket`'s `WebSocketServer({ pubsub })` accepts it as is.
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
  /** The primary's relay of {@link clusterPubSub} messages. */
  pubsub?: {
    /**
     * Bytes relayed to one worker and not yet taken by its IPC channel (see
     * {@link PubSubRelayStats.pendingBytes}) at or over which further messages to that worker are
     * dropped and counted. Default {@link DEFAULT_PUBSUB_MAX_PENDING_BYTES} (4 MiB).
     */
    maxPendingBytes?: number;
  };
}

/** The primary's relay counters: for one destination worker ({@link WorkerInfo.pubsub}), or summed. */
export interface PubSubRelayStats {
  /** Messages handed to the worker's IPC channel. */
  sent: number;
  /** Messages not relayed because the worker had `maxPendingBytes` or more pending. */
  dropped: number;
  /**
   * Bytes handed to the IPC channel whose send callback has not run yet (the kernel has not taken
   * them): the payload's characters (base64 for binary), the topic, the channel and 80 per message.
   */
  pendingBytes: number;
  /** Topics (of every channel) the worker has subscribers for. */
  topics: number;
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
  /** The primary's pub/sub relay to this worker process (fresh counters for a replacement). */
  pubsub: PubSubRelayStats;
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
  /**
   * The pub/sub relay: `sent` and `dropped` since start (dead workers included), `pendingBytes` and
   * `topics` of the live workers now.
   */
  pubsubStats(): PubSubRelayStats;
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
  strata?: 'ready' | 'stats' | 'shutdown' | 'pub' | 'sub' | 'unsub';
  stats?: ListenerStats;
  address?: ListenerAddress | null;
  deadline?: number;
  /** pub/sub: the bus ({@link ClusterPubSubOptions.channel}) and the topic. */
  ch?: string;
  topic?: string;
  /** pub: the payload, a string as is or bytes in base64 (`b64`); `binary` is the publisher's flag. */
  data?: string;
  b64?: boolean;
  binary?: boolean;
}

/** Default of `maxPendingBytes`, for a worker's bus and for the primary's relay to each worker. */
export const DEFAULT_PUBSUB_MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** What a pub/sub message costs on the IPC channel besides its strings (the JSON around them). */
const PUBSUB_MESSAGE_OVERHEAD = 80;

function maxPendingOption(value: number | undefined, where: string): number {
  if (value === undefined) return DEFAULT_PUBSUB_MAX_PENDING_BYTES;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new TransportError(
      TransportErrorCode.INVALID_OPTION,
      `${where}: maxPendingBytes must be a number >= 0`,
    );
  }
  return value;
}

/**
 * Bytes handed to one IPC channel and not yet acknowledged by the send callback. The callbacks of
 * one channel run in send order, so one FIFO of sizes and one callback serve every message (and
 * should that order ever differ, the sum still returns to zero once every callback has run).
 */
class PendingBytes {
  bytes = 0;
  private sizes: number[] = [];
  private head = 0;

  add(size: number): void {
    this.bytes += size;
    this.sizes.push(size);
  }

  readonly ack = (): void => {
    const size = this.sizes[this.head];
    if (size === undefined) return;
    this.sizes[this.head++] = 0;
    this.bytes -= size;
    if (this.head === this.sizes.length) {
      this.sizes.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  };
}

/** Key of one (channel, topic) pair in the primary's routing table. */
function routeKey(ch: string, topic: string): string {
  return `${ch.length}:${ch}${topic}`;
}

/** The primary's record of one worker process for the pub/sub relay. */
interface Peer {
  readonly worker: Worker;
  readonly pending: PendingBytes;
  readonly stats: PubSubRelayStats;
  /** Route keys this worker subscribes to. */
  readonly keys: Set<string>;
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
  /** pub/sub relay: each live worker by id, and the workers subscribed to each (channel, topic). */
  private readonly peers = new Map<number, Peer>();
  private readonly routes = new Map<string, Set<Peer>>();
  private readonly relayMax: number;
  private relaySent = 0;
  private relayDropped = 0;
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
    this.relayMax = maxPendingOption(options.pubsub?.maxPendingBytes, 'runCluster: pubsub');
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
        info: {
          slot,
          workerId: 0,
          pid: 0,
          ready: false,
          restarts: 0,
          stats: null,
          address: null,
          pubsub: { sent: 0, dropped: 0, pendingBytes: 0, topics: 0 },
        },
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
    const pubsub: PubSubRelayStats = { sent: 0, dropped: 0, pendingBytes: 0, topics: 0 };
    s.info = {
      ...s.info,
      workerId: worker.id,
      pid: worker.process.pid ?? 0,
      ready: false,
      stats: null,
      pubsub,
    };
    this.byId.set(worker.id, slot);
    this.peers.set(worker.id, { worker, pending: new PendingBytes(), stats: pubsub, keys: new Set() });
  }

  /**
   * Relays one published message to every other worker subscribed to its topic, in the order the
   * messages arrive (one IPC channel per worker keeps it). A worker with `maxPendingBytes` or more
   * not yet taken by its channel (it does not read: blocked, or flooded) misses the message.
   */
  private relay(from: number, msg: Message): void {
    const { ch, topic, data } = msg;
    if (typeof ch !== 'string' || typeof topic !== 'string' || typeof data !== 'string') return;
    const subscribers = this.routes.get(routeKey(ch, topic));
    if (subscribers === undefined) return;
    const size = data.length + topic.length + ch.length + PUBSUB_MESSAGE_OVERHEAD;
    for (const peer of subscribers) {
      if (peer.worker.id === from || !peer.worker.isConnected()) continue;
      if (peer.pending.bytes >= this.relayMax) {
        peer.stats.dropped++;
        this.relayDropped++;
        continue;
      }
      peer.pending.add(size);
      peer.stats.sent++;
      this.relaySent++;
      peer.worker.send(msg, undefined, peer.pending.ack);
    }
  }

  private route(from: number, msg: Message): void {
    const peer = this.peers.get(from);
    if (peer === undefined || typeof msg.ch !== 'string' || typeof msg.topic !== 'string') return;
    const key = routeKey(msg.ch, msg.topic);
    if (msg.strata === 'sub') {
      if (peer.keys.has(key)) return;
      peer.keys.add(key);
      let set = this.routes.get(key);
      if (set === undefined) this.routes.set(key, (set = new Set()));
      set.add(peer);
    } else {
      if (!peer.keys.delete(key)) return;
      const set = this.routes.get(key);
      set?.delete(peer);
      if (set?.size === 0) this.routes.delete(key);
    }
    peer.stats.topics = peer.keys.size;
  }

  /** A worker that exited: its subscriptions go; messages in flight to it are lost. */
  private forgetPeer(id: number): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    for (const key of peer.keys) {
      const set = this.routes.get(key);
      set?.delete(peer);
      if (set?.size === 0) this.routes.delete(key);
    }
    peer.keys.clear();
    peer.stats.topics = 0;
    peer.stats.pendingBytes = 0;
  }

  private onMessage(worker: Worker, msg: Message): void {
    if (msg === null || typeof msg !== 'object' || msg.strata === undefined) return;
    if (msg.strata === 'pub') {
      this.relay(worker.id, msg);
      return;
    }
    if (msg.strata === 'sub' || msg.strata === 'unsub') {
      this.route(worker.id, msg);
      return;
    }
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
    this.forgetPeer(worker.id);
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
    for (const peer of this.peers.values()) peer.stats.pendingBytes = peer.pending.bytes;
    return this.slots.map((s) => s.info);
  }

  pubsubStats(): PubSubRelayStats {
    const total: PubSubRelayStats = {
      sent: this.relaySent,
      dropped: this.relayDropped,
      pendingBytes: 0,
      topics: 0,
    };
    for (const peer of this.peers.values()) {
      peer.stats.pendingBytes = peer.pending.bytes;
      total.pendingBytes += peer.pending.bytes;
      total.topics += peer.keys.size;
    }
    return total;
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

/** Options of {@link clusterPubSub}. */
export interface ClusterPubSubOptions {
  /**
   * Name of this bus: buses of different channels are independent (one per `WebSocketServer`, or
   * one for a server and one for the application's own messages). One bus per channel per
   * process. Default `'default'`.
   */
  channel?: string;
  /**
   * Bytes handed to the IPC channel to the primary and not yet taken by it, at or over which
   * `publish()` drops the message and counts it (the primary does not read: it is blocked or
   * flooded). Every bus of the process shares that channel and its count. Default
   * {@link DEFAULT_PUBSUB_MAX_PENDING_BYTES} (4 MiB).
   */
  maxPendingBytes?: number;
}

/** A worker's counters of one {@link ClusterPubSub} bus. */
export interface ClusterPubSubStats {
  /** Messages published to the primary. */
  sent: number;
  /** Messages `publish()` dropped: `maxPendingBytes` reached, or the IPC channel was closed. */
  dropped: number;
  /** Bytes handed to the IPC channel to the primary and not yet taken (every bus of the process). */
  pendingBytes: number;
  /** Messages from other workers handed to the `onMessage` callback. */
  received: number;
  /** Topics this bus subscribes to. */
  topics: number;
}

/**
 * One worker's end of the cluster message bus (see {@link clusterPubSub}). Structurally the
 * `PubSubBackend` of `@strata/websocket`.
 */
export interface ClusterPubSub {
  /** The bus's channel. */
  readonly channel: string;
  /** True in a worker of a cluster; false in the primary and outside a cluster (a no-op there). */
  readonly active: boolean;
  /** Sends one message to the other workers that subscribe to `topic` (never back to this one). */
  publish(topic: string, data: string | Uint8Array, binary: boolean): void;
  /** From now on, messages of `topic` from other workers reach `onMessage`. Idempotent. */
  subscribe(topic: string): void;
  /** Stops receiving `topic`. Idempotent. */
  unsubscribe(topic: string): void;
  /** Registers the one callback that receives messages (binary payloads arrive as Buffers). */
  onMessage(deliver: (topic: string, data: string | Uint8Array, binary: boolean) => void): void;
  /** Unsubscribes every topic and frees the channel; later calls do nothing. */
  close(): void;
  stats(): ClusterPubSubStats;
}

/** The worker's buses by channel, and the one IPC channel they share to the primary. */
const buses = new Map<string, WorkerBus>();
const toPrimary = new PendingBytes();

function onBusMessage(msg: Message): void {
  if (msg === null || typeof msg !== 'object' || msg.strata !== 'pub' || typeof msg.ch !== 'string') return;
  buses.get(msg.ch)?.receive(msg);
}

function sendToPrimary(msg: Message, size: number): boolean {
  if (!process.connected || process.send === undefined) return false;
  toPrimary.add(size);
  process.send(msg, undefined, undefined, toPrimary.ack);
  return true;
}

class WorkerBus implements ClusterPubSub {
  private deliver: ((topic: string, data: string | Uint8Array, binary: boolean) => void) | null = null;
  private readonly topics = new Set<string>();
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private received = 0;

  constructor(
    readonly channel: string,
    readonly active: boolean,
    private readonly maxPendingBytes: number,
  ) {}

  publish(topic: string, data: string | Uint8Array, binary: boolean): void {
    if (!this.active || this.closed) return;
    if (toPrimary.bytes >= this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    // The IPC channel carries JSON: strings as they are, bytes as base64.
    const text = typeof data === 'string';
    const payload = text
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    const msg: Message = { strata: 'pub', ch: this.channel, topic, data: payload, b64: !text, binary };
    if (sendToPrimary(msg, payload.length + topic.length + this.channel.length + PUBSUB_MESSAGE_OVERHEAD)) {
      this.sent++;
    } else this.dropped++;
  }

  subscribe(topic: string): void {
    if (!this.active || this.closed || this.topics.has(topic)) return;
    this.topics.add(topic);
    this.control('sub', topic);
  }

  unsubscribe(topic: string): void {
    if (!this.active || this.closed || !this.topics.delete(topic)) return;
    this.control('unsub', topic);
  }

  /** Subscriptions are never dropped: they are small, and a lost one would silence a topic. */
  private control(op: 'sub' | 'unsub', topic: string): void {
    sendToPrimary(
      { strata: op, ch: this.channel, topic },
      topic.length + this.channel.length + PUBSUB_MESSAGE_OVERHEAD,
    );
  }

  onMessage(deliver: (topic: string, data: string | Uint8Array, binary: boolean) => void): void {
    if (this.deliver !== null) {
      throw new TransportError(
        TransportErrorCode.INVALID_OPTION,
        `clusterPubSub: the bus '${this.channel}' already has its onMessage callback (one per bus)`,
      );
    }
    this.deliver = deliver;
  }

  /** @internal a message the primary relayed. */
  receive(msg: Message): void {
    const topic = msg.topic;
    const deliver = this.deliver;
    // A message relayed before our unsubscribe reached the primary is not delivered.
    if (deliver === null || typeof topic !== 'string' || !this.topics.has(topic)) return;
    if (typeof msg.data !== 'string') return;
    this.received++;
    deliver(topic, msg.b64 === true ? Buffer.from(msg.data, 'base64') : msg.data, msg.binary === true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deliver = null;
    if (!this.active) return;
    for (const topic of this.topics) this.control('unsub', topic);
    this.topics.clear();
    buses.delete(this.channel);
    if (buses.size === 0) process.off('message', onBusMessage);
  }

  stats(): ClusterPubSubStats {
    return {
      sent: this.sent,
      dropped: this.dropped,
      pendingBytes: this.active ? toPrimary.bytes : 0,
      received: this.received,
      topics: this.topics.size,
    };
  }
}

/**
 * The cluster's message bus, for a worker started by {@link runCluster}: `publish()` hands a
 * message to the primary over IPC, which relays it to every other worker that subscribes to its
 * topic (workers tell the primary which topics they have subscribers for, so a worker without
 * subscribers of a topic receives none of its messages). Text stays a string and bytes travel as
 * base64 (IPC carries JSON), so binary payloads arrive as the same bytes.
 *
 * - Order: the messages of one publishing worker reach each other worker in publish order (one IPC
 *   channel to the primary, one from it to each worker), or not at all.
 * - Bounds: a message is dropped and counted, never queued without limit, when the IPC channel to
 *   the primary has `maxPendingBytes` not yet taken (here, `stats().dropped`), or when the one
 *   from the primary to a subscribing worker has (in the primary, `workers()[i].pubsub.dropped`,
 *   per destination: the other workers still get it). So a slow or blocked worker misses messages
 *   instead of growing the primary's memory.
 * - A worker that dies loses what was in flight to it; the primary forgets its subscriptions, and
 *   its replacement starts with none (its sockets subscribe again as clients reconnect).
 * - In the primary and outside a cluster it is a harmless no-op (`active` false): nothing is sent
 *   and nothing arrives, so the same code runs in a single process.
 *
 * @example
 * ```ts
 * import { clusterPubSub, runCluster } from '@strata/transport/cluster';
 * import { WebSocketServer } from '@strata/websocket';
 *
 * await runCluster({
 *   worker: () => {
 *     const wss = new WebSocketServer({ pubsub: clusterPubSub() });
 *     return startServer(wss); // wss.publish() now reaches the subscribers of every worker
 *   },
 * });
 * ```
 */
export function clusterPubSub(options: ClusterPubSubOptions = {}): ClusterPubSub {
  const channel = options.channel ?? 'default';
  if (typeof channel !== 'string') {
    throw new TransportError(TransportErrorCode.INVALID_OPTION, 'clusterPubSub: channel must be a string');
  }
  const max = maxPendingOption(options.maxPendingBytes, 'clusterPubSub');
  const active = cluster.isWorker && typeof process.send === 'function';
  if (!active) return new WorkerBus(channel, false, max);
  if (buses.has(channel)) {
    throw new TransportError(
      TransportErrorCode.INVALID_OPTION,
      `clusterPubSub: this process already has a bus on channel '${channel}'`,
    );
  }
  const bus = new WorkerBus(channel, true, max);
  if (buses.size === 0) process.on('message', onBusMessage);
  buses.set(channel, bus);
  return bus;
}
