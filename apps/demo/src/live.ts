/**
 * Live figures for `/live` and the chat room's online count: each process meters its own requests,
 * connections and chat members, and shares its sample with every other process over a pub/sub
 * backend (`clusterPubSub()` between the workers of `--workers N`, Redis between the processes of
 * `--redis URL`). Every process merges the samples it has heard into the same snapshot, so any
 * process's `/live/ws` shows the whole server.
 *
 * How the figures of N processes combine: the totals (requests/s, requests served, open
 * connections, client faults, chat members) are sums over the processes heard from in the last
 * `staleMs` (3 s): a process that died or lost its link drops out of the sums within 3 s. Requests
 * served counts from each process's start, so a restarted worker starts again from 0.
 */
import { randomBytes } from 'node:crypto';
import type { PubSubBackend } from '@strata/websocket';

/**
 * What the demo shows of its server's own counters (`server.stats()` of `@strata/server`). The last
 * three are the client's faults, which the engine counts instead of reporting them as errors.
 */
export interface ServerFigures {
  /** Connections open now. */
  connections: number;
  /** Requests whose client went away (reset, close or FIN) before their response was complete. */
  aborted: number;
  /** Connections cut by a timeout: head or body too slow (408), response not read (send timeout). */
  timedOut: number;
  /** Requests refused for a limit or bad syntax: parse errors, 413, 414, 431, bad JSON bodies. */
  rejected: number;
}

/** One process's figures at one instant. */
export interface WorkerSample extends ServerFigures {
  /** Random per process: pids of two machines may be equal. */
  id: string;
  /** `main` for a single process, `worker N` in cluster mode. */
  label: string;
  pid: number;
  /** Requests served since start. */
  requests: number;
  /** Requests per second over the last sample interval. */
  rps: number;
  /** Members of the `/ws` chat room connected to this process. */
  chat: number;
}

/** The whole server at one instant: totals plus each worker's sample. */
export interface LiveSnapshot extends ServerFigures {
  time: number;
  rps: number;
  requests: number;
  /** Members of the chat room, on every process. */
  chat: number;
  workers: WorkerSample[];
}

/** Counts this process's requests and turns the count into a rate at each sample. */
export class Meter {
  requests = 0;
  /** This process's id in the samples (random). */
  readonly id = randomBytes(6).toString('hex');
  private lastRequests = 0;
  private lastTime = performance.now();
  private lastRps = 0;
  constructor(
    readonly label: string,
    readonly pid: number,
  ) {}

  /** Takes a sample: the request rate since the previous sample, and the figures now. */
  sample(server: ServerFigures, chat = 0): WorkerSample {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.lastTime) / 1000);
    this.lastRps = Math.round(((this.requests - this.lastRequests) / seconds) * 10) / 10;
    this.lastRequests = this.requests;
    this.lastTime = now;
    return this.current(server, chat);
  }

  /** The figures now, with the rate of the last sample (between samples: the rate stays). */
  current(server: ServerFigures, chat = 0): WorkerSample {
    return {
      id: this.id,
      label: this.label,
      pid: this.pid,
      requests: this.requests,
      connections: server.connections,
      aborted: server.aborted,
      timedOut: server.timedOut,
      rejected: server.rejected,
      rps: this.lastRps,
      chat,
    };
  }
}

/** Merges the latest sample of every process into a snapshot. Samples older than `staleMs` are dropped. */
export class Aggregator {
  private readonly latest = new Map<string, { sample: WorkerSample; at: number }>();
  constructor(private readonly staleMs = 3000) {}

  update(sample: WorkerSample): void {
    this.latest.set(sample.id, { sample, at: Date.now() });
  }

  remove(id: string): void {
    this.latest.delete(id);
  }

  snapshot(): LiveSnapshot {
    const now = Date.now();
    const workers: WorkerSample[] = [];
    for (const [pid, entry] of this.latest) {
      if (now - entry.at > this.staleMs) this.latest.delete(pid);
      else workers.push(entry.sample);
    }
    workers.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
    let rps = 0;
    let requests = 0;
    let connections = 0;
    let aborted = 0;
    let timedOut = 0;
    let rejected = 0;
    let chat = 0;
    for (const w of workers) {
      chat += w.chat;
      rps += w.rps;
      requests += w.requests;
      connections += w.connections;
      aborted += w.aborted;
      timedOut += w.timedOut;
      rejected += w.rejected;
    }
    return {
      time: now,
      rps: Math.round(rps * 10) / 10,
      requests,
      connections,
      aborted,
      timedOut,
      rejected,
      chat,
      workers,
    };
  }
}

/** The figures bus's one topic. */
const FIGURES_TOPIC = 'figures';

/** A sample from another process, checked (it comes over IPC or from a shared Redis). */
function parseSample(data: string | Uint8Array): WorkerSample | null {
  let v: unknown;
  try {
    v = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.label !== 'string') return null;
  for (const key of ['pid', 'requests', 'connections', 'aborted', 'timedOut', 'rejected', 'rps', 'chat']) {
    if (typeof o[key] !== 'number' || !Number.isFinite(o[key])) return null;
  }
  return o as unknown as WorkerSample;
}

/**
 * This process's view of the whole server: its own sample plus the latest one of every other
 * process, shared over `bus` (null: this process alone). Each process publishes its sample every
 * tick ({@link SAMPLE_MS}) and at once when its chat membership changes, so the online count
 * follows joins and leaves without waiting for the next tick.
 */
export class Figures {
  private readonly aggregator: Aggregator;
  private chat = 0;
  private lastOnline = -1;
  /** Called when the chat room's total membership changes (this process's or another's). */
  onOnline: ((online: number) => void) | null = null;

  constructor(
    private readonly meter: Meter,
    private readonly server: () => ServerFigures,
    private readonly bus: PubSubBackend | null,
    staleMs = 3000,
  ) {
    this.aggregator = new Aggregator(staleMs);
    this.aggregator.update(meter.current(server()));
    if (bus !== null) {
      bus.onMessage((_topic, data) => {
        const sample = parseSample(data);
        if (sample === null || sample.id === meter.id) return;
        this.aggregator.update(sample);
        this.checkOnline();
      });
      bus.subscribe(FIGURES_TOPIC);
    }
  }

  /** Takes this process's sample, shares it, and returns the merged snapshot. */
  tick(): LiveSnapshot {
    this.share(this.meter.sample(this.server(), this.chat));
    const snapshot = this.aggregator.snapshot();
    this.checkOnline(snapshot.chat);
    return snapshot;
  }

  /** This process's chat membership changed: shared at once. */
  setChat(members: number): void {
    if (members === this.chat) return;
    this.chat = members;
    this.share(this.meter.current(this.server(), members));
    this.checkOnline();
  }

  /** Chat members on every process heard from. */
  online(): number {
    return this.aggregator.snapshot().chat;
  }

  close(): void | Promise<void> {
    this.onOnline = null;
    return this.bus?.close?.();
  }

  private share(sample: WorkerSample): void {
    this.aggregator.update(sample);
    this.bus?.publish(FIGURES_TOPIC, JSON.stringify(sample), false);
  }

  private checkOnline(online = this.online()): void {
    if (online === this.lastOnline) return;
    this.lastOnline = online;
    this.onOnline?.(online);
  }
}

/** Fans snapshots out to the `/live/ws` subscribers of this process. */
export class LiveFeed {
  private readonly subscribers = new Set<(snapshot: LiveSnapshot) => void>();
  last: LiveSnapshot | null = null;

  subscribe(listener: (snapshot: LiveSnapshot) => void): () => void {
    this.subscribers.add(listener);
    if (this.last !== null) listener(this.last);
    return () => {
      this.subscribers.delete(listener);
    };
  }

  publish(snapshot: LiveSnapshot): void {
    this.last = snapshot;
    for (const listener of this.subscribers) listener(snapshot);
  }

  get size(): number {
    return this.subscribers.size;
  }
}

/** Interval between samples, ms. */
export const SAMPLE_MS = 500;
