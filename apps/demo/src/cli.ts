/**
 * `strata-demo`: parses the command line, then runs one server process, or a cluster primary that
 * runs N worker processes. Prints exactly one `listening on http(s)://HOST:PORT` line when ready
 * (the primary prints it once, when every worker listens). SIGINT / SIGTERM drain and exit 0.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '@strata/server';
import type { ListenerAddress, ListenerStats } from '@strata/transport';
import { type ClusterPrimary, runCluster } from '@strata/transport/cluster';
import { createDemoApp, type DemoApp, UPGRADE_PROTOCOLS } from './app';
import { ArgsError, type DemoOptions, HELP, parseArgs } from './args';
import { ComputePool } from './compute-pool';
import {
  Aggregator,
  IPC_SAMPLE,
  IPC_SNAPSHOT,
  LiveFeed,
  type LiveSnapshot,
  Meter,
  SAMPLE_MS,
  type ServerFigures,
  type WorkerSample,
} from './live';
import { ServerSocketObserver } from './wire-tap';

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
const DRAIN_DEADLINE_MS = 10_000;
/** Messages between the primary and its workers. */
const IPC_FAILED = 'strata-demo:failed';

type IpcMessage =
  | { t: typeof IPC_FAILED; message: string; exitCode: number }
  | { t: typeof IPC_SAMPLE; sample: WorkerSample }
  | { t: typeof IPC_SNAPSHOT; snapshot: LiveSnapshot };

/** A start-up failure the user can act on: printed as one line, then exit with `exitCode`. */
class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`strata-demo: ${message}\n`);
  process.exit(exitCode);
}

/** `http://127.0.0.1:8080`, `https://[::1]:8443`. */
function originOf(host: string, port: number, tls: boolean): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new StartError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      1,
    );
  }
}

function listenError(err: unknown, options: DemoOptions): StartError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  if (code === 'EADDRINUSE') return new StartError(`cannot listen on ${where}: address already in use`, 1);
  if (code === 'EACCES') return new StartError(`cannot listen on ${where}: permission denied`, 1);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new StartError(`cannot listen on ${where}: address not available on this machine`, 1);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StartError(`cannot listen on ${where}: ${message.split('\n')[0]}`, 1);
}

/** The bundled static folder: `public/` next to `dist/`. */
function bundledStatic(): string {
  return fileURLToPath(new URL('../public', import.meta.url));
}

/** The figures of a server that the demo shows (zeros before the server exists). */
function serverFigures(server: Server | null): ServerFigures {
  if (server === null) return { connections: 0, aborted: 0, timedOut: 0, rejected: 0 };
  const st = server.stats();
  return { connections: st.connections, aborted: st.aborted, timedOut: st.timedOut, rejected: st.rejected };
}

/** A started server: what the CLI (single process) or the cluster helper (worker) needs of it. */
interface Running {
  port: number;
  /** Drains: stop accepting, finish in-flight requests, close WebSockets (1001), stop the pool. */
  close(options?: { deadline?: number }): Promise<void>;
  stats(): ListenerStats;
  address(): ListenerAddress;
}

/** Starts one server (the only process, or one cluster worker; `slot` 0 = single process). */
async function startServer(options: DemoOptions, slot: number, reusePort: boolean): Promise<Running> {
  const tls =
    options.tlsCert !== null && options.tlsKey !== null
      ? { cert: readPem(options.tlsCert, 'certificate'), key: readPem(options.tlsKey, 'key') }
      : undefined;
  const meter = new Meter(slot === 0 ? 'main' : `worker ${slot}`, process.pid);
  const feed = new LiveFeed();
  const pool = new ComputePool({
    script: new URL('./prime-worker.js', import.meta.url),
    size: Math.max(1, Math.min(4, availableParallelism())),
  });
  let server: Server | null = null;
  const app: DemoApp = createDemoApp({
    mode: options.mode,
    staticDir: options.staticDir ?? bundledStatic(),
    workers: options.workers,
    tls: tls !== undefined,
    inspector: options.inspector,
    meter,
    feed,
    pool,
    maxUpload: options.maxUpload,
    serverFigures: () => serverFigures(server),
  });
  const srv = createServer({
    handler: app.handler,
    onUpgrade: options.mode === 'serve' ? app.onUpgrade : undefined,
    // Only WebSocket is taken over (/ws, /live/ws, /inspect/ws); any other Upgrade (curl --http2's
    // `h2c`) is served as plain HTTP/1.1 by the handler, as RFC 9110 section 7.8 allows.
    upgradeProtocols: [...UPGRADE_PROTOCOLS],
    timeouts: { send: options.sendTimeout },
    onResponse: options.log
      ? (info) => {
          process.stdout.write(
            `${info.remoteAddress} ${info.method} ${info.path} ${info.status} ${info.bytes} bytes ${info.durationMs.toFixed(1)} ms\n`,
          );
        }
      : undefined,
    // Only real handler errors arrive here: the engine counts client aborts, timeouts and limit
    // refusals in `stats()` (aborted, timedOut, rejected; shown on /dashboard and /live) instead.
    onError: (error) => {
      process.stderr.write(
        `strata-demo: handler error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    },
    tls,
  });
  server = srv;

  // The wire inspector mirrors the bytes of plain-TCP connections (TLS bytes are ciphertext there),
  // only while it records: with `--inspector watch` (the default) while an /inspect page is open.
  let port = -1;
  const observer =
    app.wire !== null && tls === undefined ? new ServerSocketObserver(app.wire, () => port) : null;
  if (observer !== null) {
    app.recording.onChange = (on) => (on ? observer.start() : observer.stop());
    if (app.recording.on) observer.start();
  }
  const stopObserving = (): void => {
    app.recording.onChange = null;
    observer?.stop();
  };
  let address: ListenerAddress;
  try {
    address = await srv.listen({ host: options.host, port: options.port, reusePort });
  } catch (err) {
    stopObserving();
    await pool.close();
    throw listenError(err, options);
  }
  port = 'port' in address ? address.port : options.port;

  // Live figures: one sample per interval; a worker sends it to the primary, which merges all.
  const aggregator = new Aggregator();
  const timer = setInterval(() => {
    const sample = meter.sample(serverFigures(srv));
    if (slot === 0) {
      aggregator.update(sample);
      feed.publish(aggregator.snapshot());
    } else if (process.connected) process.send?.({ t: IPC_SAMPLE, sample } satisfies IpcMessage);
  }, SAMPLE_MS);
  timer.unref();
  if (slot !== 0) {
    process.on('message', (msg: IpcMessage) => {
      if (msg?.t === IPC_SNAPSHOT) feed.publish(msg.snapshot);
    });
  }

  let closing: Promise<void> | null = null;
  return {
    port,
    close(closeOptions) {
      if (closing !== null) return closing;
      clearInterval(timer);
      stopObserving();
      const deadline = closeOptions?.deadline ?? DRAIN_DEADLINE_MS;
      // In-flight requests finish (the compute pool stays up for them); WebSockets get 1001.
      closing = Promise.all([srv.close({ deadline }), app.closeWebSockets()]).then(() => pool.close());
      return closing;
    },
    stats() {
      const st = srv.stats();
      return {
        open: st.connections,
        total: st.totalConnections,
        bytesIn: st.bytesIn,
        bytesOut: st.bytesOut,
        dropped: 0,
      };
    },
    address: () => srv.address(),
  };
}

/** Single process: start, print the line, drain on SIGINT / SIGTERM. */
async function runSingle(options: DemoOptions): Promise<void> {
  const running = await startServer(options, 0, false);
  process.stdout.write(`listening on ${originOf(options.host, running.port, options.tlsCert !== null)}\n`);
  const stop = (): void => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Resolves once no cluster worker is alive (or after `timeoutMs`). */
function allWorkersExited(timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const check = (): void => {
      if (Object.values(cluster.workers ?? {}).every((w) => w === undefined || w.isDead())) {
        clearTimeout(timer);
        cluster.off('exit', check);
        resolve();
      }
    };
    cluster.on('exit', check);
    check();
  });
}

interface StartFailure {
  message: string;
  exitCode: number;
}

/**
 * Cluster (`--workers N`) through `runCluster` of `@strata/transport/cluster`: the primary forks
 * the workers, replaces crashed ones, and drains them all on SIGINT / SIGTERM. The demo adds the
 * listening line (printed once, by the primary) and the live figures merged across workers.
 */
async function runClustered(options: DemoOptions): Promise<void> {
  if (cluster.isPrimary) {
    const aggregator = new Aggregator();
    const failures: StartFailure[] = [];
    cluster.on('message', (_worker, msg: IpcMessage) => {
      if (msg?.t === IPC_SAMPLE) aggregator.update(msg.sample);
      else if (msg?.t === IPC_FAILED) failures.push({ message: msg.message, exitCode: msg.exitCode });
    });
    let primary: ClusterPrimary;
    try {
      primary = (await runCluster({
        workers: options.workers,
        shutdownDeadline: DRAIN_DEADLINE_MS,
        worker: () => {
          throw new Error('the worker function only runs in worker processes');
        },
      })) as ClusterPrimary;
    } catch (err) {
      // Let every worker finish failing first: one that is still asking the primary for the port
      // would print an EPIPE of its own if the primary were already gone.
      await allWorkersExited(5000);
      const first = failures[0];
      if (first !== undefined) throw new StartError(first.message, first.exitCode);
      throw err;
    }
    let port = options.port;
    for (const w of primary.workers()) if (w.address !== null && 'port' in w.address) port = w.address.port;
    process.stdout.write(`listening on ${originOf(options.host, port, options.tlsCert !== null)}\n`);
    primary.on('exit', (worker) => aggregator.remove(worker.pid));
    primary.on('shutdown', () => process.exit(0));
    const timer = setInterval(() => {
      const snapshot = aggregator.snapshot();
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker?.isConnected()) worker.send({ t: IPC_SNAPSHOT, snapshot } satisfies IpcMessage);
      }
    }, SAMPLE_MS);
    timer.unref();
    return;
  }
  await runCluster({
    workers: options.workers,
    shutdownDeadline: DRAIN_DEADLINE_MS,
    async worker(ctx) {
      try {
        return await startServer(options, ctx.slot + 1, ctx.reusePort);
      } catch (err) {
        // Tell the primary why, in one line, and leave without the helper's own report.
        const e =
          err instanceof StartError
            ? err
            : new StartError(err instanceof Error ? err.message : String(err), 1);
        await new Promise<void>((resolve) => {
          if (process.connected && process.send) {
            process.send(
              { t: IPC_FAILED, message: e.message, exitCode: e.exitCode } satisfies IpcMessage,
              () => resolve(),
            );
          } else resolve();
        });
        process.exit(e.exitCode);
      }
    },
  });
}

async function main(): Promise<void> {
  let options: DemoOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) fail(`${err.message} (see --help)`, 2);
    throw err;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  try {
    if (options.workers > 0) await runClustered(options);
    else await runSingle(options);
  } catch (err) {
    const e =
      err instanceof StartError ? err : new StartError(err instanceof Error ? err.message : String(err), 1);
    fail(e.message, e.exitCode);
  }
}

void main();
