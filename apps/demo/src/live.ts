/**
 * Live figures for `/live`: each process meters its own requests and connections; samples from
 * every worker are merged into one snapshot (in cluster mode the primary merges them over IPC and
 * sends the snapshot back to every worker, so any worker's `/live/ws` shows the whole server).
 */

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
  /** `main` for a single process, `worker N` in cluster mode. */
  label: string;
  pid: number;
  /** Requests served since start. */
  requests: number;
  /** Requests per second over the last sample interval. */
  rps: number;
}

/** The whole server at one instant: totals plus each worker's sample. */
export interface LiveSnapshot extends ServerFigures {
  time: number;
  rps: number;
  requests: number;
  workers: WorkerSample[];
}

/** Counts this process's requests and turns the count into a rate at each sample. */
export class Meter {
  requests = 0;
  private lastRequests = 0;
  private lastTime = performance.now();
  constructor(
    readonly label: string,
    readonly pid: number,
  ) {}

  /** Takes a sample: the request rate since the previous sample, and the server's figures now. */
  sample(server: ServerFigures): WorkerSample {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.lastTime) / 1000);
    const rps = (this.requests - this.lastRequests) / seconds;
    this.lastRequests = this.requests;
    this.lastTime = now;
    return {
      label: this.label,
      pid: this.pid,
      requests: this.requests,
      connections: server.connections,
      aborted: server.aborted,
      timedOut: server.timedOut,
      rejected: server.rejected,
      rps: Math.round(rps * 10) / 10,
    };
  }
}

/** Merges the latest sample of every worker into a snapshot. Samples older than `staleMs` are dropped. */
export class Aggregator {
  private readonly latest = new Map<number, { sample: WorkerSample; at: number }>();
  constructor(private readonly staleMs = 3000) {}

  update(sample: WorkerSample): void {
    this.latest.set(sample.pid, { sample, at: Date.now() });
  }

  remove(pid: number): void {
    this.latest.delete(pid);
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
    for (const w of workers) {
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
      workers,
    };
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

/** IPC message types between the cluster primary and its workers. */
export const IPC_SAMPLE = 'strata-demo:sample';
export const IPC_SNAPSHOT = 'strata-demo:snapshot';

/** Interval between samples, ms. */
export const SAMPLE_MS = 500;
