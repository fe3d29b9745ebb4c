/**
 * `strata-demo`: parses the command line, then runs one server process, or a cluster primary that
 * runs N worker processes. Prints exactly one `listening on http(s)://HOST:PORT (PROTOCOLS)` line
 * when ready (the primary prints it once, when every worker listens). SIGINT / SIGTERM drain and exit 0.
 *
 * The chat room and the live figures span every process through a pub/sub backend: the cluster's
 * IPC bus between workers (`clusterPubSub()`), or Redis with `--redis URL` (`redisPubSub()`).
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '@strata/server';
import type { ListenerAddress, ListenerStats } from '@strata/transport';
import { type ClusterPrimary, clusterPubSub, runCluster } from '@strata/transport/cluster';
import type { PubSubBackend } from '@strata/websocket';
import { redisPubSub } from '@strata/websocket/redis';
import { createDemoApp, type DemoApp, UPGRADE_PROTOCOLS } from './app';
import { ArgsError, type DemoOptions, HELP, parseArgs } from './args';
import { ComputePool } from './compute-pool';
import { Figures, LiveFeed, Meter, SAMPLE_MS, type ServerFigures } from './live';

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
const DRAIN_DEADLINE_MS = 10_000;
/**
 * A second SIGINT / SIGTERM at least this long after the first forces the exit. Sooner, it is the
 * same Ctrl-C heard twice: the terminal signals the whole process group, and a parent (pnpm, npx)
 * may forward the signal to its child as well.
 */
const FORCE_AFTER_MS = 500;
/** How long start-up waits for `--redis` to connect. */
const REDIS_CONNECT_MS = 5_000;
/** Messages between the primary and its workers. */
const IPC_FAILED = 'strata-demo:failed';

type IpcMessage = { t: typeof IPC_FAILED; message: string; exitCode: number };

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

/**
 * The one line printed when ready: the address, then the protocols `createServer` speaks on it by
 * default (HTTP/2 on the same port: `h2` chosen by ALPN over TLS, `h2c` by prior knowledge in
 * cleartext, next to HTTP/1.1).
 */
function listeningLine(host: string, port: number, tls: boolean): string {
  return `listening on ${originOf(host, port, tls)} (HTTP/1.1 and ${tls ? 'h2' : 'h2c'})\n`;
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

/** The demo's version, from its package.json (next to `dist/`). */
function demoVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `--static DIR` must be a folder that exists: checked before listening, one line if not. */
function checkStaticDir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : code === 'EACCES' ? 'permission denied' : code;
    throw new StartError(`--static ${dir}: ${why ?? String(err)}`, 1);
  }
  if (!isDir) throw new StartError(`--static ${dir}: not a folder`, 1);
}

/**
 * The certificate and key, checked before listening so that a mistake is one clear line, not an
 * OpenSSL code: each file must hold the right kind of PEM block (swapped files are named as such),
 * and the key must be the certificate's.
 */
function loadTls(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  const cert = readPem(certPath, 'certificate');
  const key = readPem(keyPath, 'key');
  const certText = cert.toString('latin1');
  const keyText = key.toString('latin1');
  const hasCert = certText.includes('-----BEGIN CERTIFICATE-----');
  const hasKey = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(keyText);
  if (!hasCert && !hasKey && certText.includes('PRIVATE KEY-----') && keyText.includes('CERTIFICATE-----')) {
    throw new StartError(
      `--tls-cert ${certPath} holds a private key and --tls-key ${keyPath} a certificate: the two files are swapped`,
      1,
    );
  }
  if (!hasCert) {
    throw new StartError(
      `--tls-cert ${certPath} is not a PEM certificate (no '-----BEGIN CERTIFICATE-----' line)`,
      1,
    );
  }
  if (!hasKey) {
    throw new StartError(
      `--tls-key ${keyPath} is not a PEM private key (no '-----BEGIN … PRIVATE KEY-----' line)`,
      1,
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reason?: string };
    const text = `${e.code ?? ''} ${e.reason ?? ''} ${e.message}`;
    if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(text)) {
      throw new StartError(
        `--tls-key ${keyPath} is not the private key of the certificate ${certPath} (they do not match)`,
        1,
      );
    }
    throw new StartError(
      `cannot use the certificate ${certPath} with the key ${keyPath}: ${e.reason ?? e.message.split('\n')[0]}`,
      1,
    );
  }
  return { cert, key };
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

/** The pub/sub backends of one process: the chat room's and the live figures'. */
interface Buses {
  chat: PubSubBackend | null;
  figures: PubSubBackend | null;
  /** Ends what the buses hold (the Redis connections), after both backends closed. */
  close(): Promise<void>;
}

/** `redis://user:secret@host` without the secret, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Two Redis connections (a publisher and a dedicated subscriber) shared by both backends, each
 * backend on its own channel prefix. Start-up fails with one line when Redis cannot be reached;
 * once connected, the client reconnects by itself (meanwhile the chat stays local).
 */
async function redisBuses(url: string): Promise<Buses> {
  const { createClient } = await import('@redis/client');
  let connected = false;
  const publisher = createClient({
    url,
    socket: {
      connectTimeout: REDIS_CONNECT_MS,
      // Before the first connection: give up (the start-up error says why); after it: retry.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(100 * 2 ** retries, 2_000) : cause,
    },
  });
  const subscriber = publisher.duplicate();
  let lastError = '';
  for (const client of [publisher, subscriber]) {
    client.on('error', (err: Error) => {
      // One line per distinct failure, not one per reconnection attempt.
      if (!connected || err.message === lastError) return;
      lastError = err.message;
      process.stderr.write(`strata-demo: redis: ${err.message}\n`);
    });
  }
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (err) {
    await Promise.allSettled([publisher.destroy(), subscriber.destroy()]);
    const why = err instanceof Error ? err.message : String(err);
    throw new StartError(`cannot connect to Redis at ${redactUrl(url)}: ${why || 'refused'}`, 1);
  }
  connected = true;
  return {
    chat: redisPubSub({ publisher, subscriber, prefix: 'strata-demo:chat:' }),
    figures: redisPubSub({ publisher, subscriber, prefix: 'strata-demo:figures:' }),
    async close() {
      connected = false;
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}

/** The buses of this process: Redis with `--redis`, else the cluster's IPC bus in a worker. */
async function openBuses(options: DemoOptions, slot: number): Promise<Buses> {
  if (options.redis !== null) return redisBuses(options.redis);
  if (slot === 0) return { chat: null, figures: null, close: async () => {} };
  return {
    chat: clusterPubSub({ channel: 'strata-demo:chat' }),
    figures: clusterPubSub({ channel: 'strata-demo:figures' }),
    close: async () => {},
  };
}

/** Starts one server (the only process, or one cluster worker; `slot` 0 = single process). */
async function startServer(options: DemoOptions, slot: number, reusePort: boolean): Promise<Running> {
  const tls =
    options.tlsCert !== null && options.tlsKey !== null
      ? loadTls(options.tlsCert, options.tlsKey)
      : undefined;
  if (options.staticDir !== null) checkStaticDir(options.staticDir);
  const buses = await openBuses(options, slot);
  const meter = new Meter(slot === 0 ? 'main' : `worker ${slot}`, process.pid);
  const feed = new LiveFeed();
  let server: Server | null = null;
  const figures = new Figures(meter, () => serverFigures(server), buses.figures);
  const pool = new ComputePool({
    script: new URL('./prime-worker.js', import.meta.url),
    size: Math.max(1, Math.min(4, availableParallelism())),
  });
  const app: DemoApp = createDemoApp({
    mode: options.mode,
    staticDir: options.staticDir ?? bundledStatic(),
    workers: options.workers,
    tls: tls !== undefined,
    inspector: options.inspector,
    meter,
    feed,
    figures,
    chatPubSub: buses.chat,
    nameTag: buses.chat === null ? '' : randomBytes(2).toString('hex'),
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

  // The wire inspector (`app.inspector`) subscribes to the layers' diagnostics channels only while
  // it records: with `--inspector watch` (the default) while an /inspect page is open.
  let address: ListenerAddress;
  try {
    address = await srv.listen({ host: options.host, port: options.port, reusePort });
  } catch (err) {
    await Promise.all([pool.close(), app.closeWebSockets(), figures.close()]);
    await buses.close();
    throw listenError(err, options);
  }
  const port = 'port' in address ? address.port : options.port;

  // Live figures: every interval this process shares its sample and shows the merged snapshot.
  const timer = setInterval(() => feed.publish(figures.tick()), SAMPLE_MS);
  timer.unref();

  let closing: Promise<void> | null = null;
  return {
    port,
    close(closeOptions) {
      if (closing !== null) return closing;
      clearInterval(timer);
      app.inspector.close();
      const deadline = closeOptions?.deadline ?? DRAIN_DEADLINE_MS;
      // In-flight requests finish (the compute pool stays up for them); WebSockets get 1001 (their
      // `leave` still reaches the other processes), then the buses close.
      closing = Promise.all([srv.close({ deadline }), app.closeWebSockets()])
        .then(() => figures.close())
        .then(() => Promise.all([pool.close(), buses.close()]))
        .then(() => undefined);
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
  process.stdout.write(listeningLine(options.host, running.port, options.tlsCert !== null));
  // The first signal drains (one line says how many connections are left, and that a second Ctrl-C
  // forces); a second one, once FORCE_AFTER_MS have passed, exits at once. A clean drain exits 0,
  // so `pnpm demo` (whose script runs this process) sees a success, not a command killed by SIGINT.
  let firstSignal = 0;
  const stop = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignal === 0) {
      firstSignal = now;
      const open = running.stats().open;
      const force = signal === 'SIGINT' ? 'Ctrl-C again to force' : 'signal again to force';
      process.stdout.write(`strata-demo: draining ${open} connection${open === 1 ? '' : 's'}, ${force}\n`);
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
      return;
    }
    if (now - firstSignal < FORCE_AFTER_MS) return; // the same Ctrl-C, heard twice
    const open = running.stats().open;
    process.stdout.write(`strata-demo: forced exit, ${open} connection${open === 1 ? '' : 's'} cut\n`);
    process.exit(130);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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
 * the workers, replaces crashed ones, drains them all on SIGINT / SIGTERM, and relays the workers'
 * pub/sub messages (chat, live figures). The demo adds the listening line (printed once, by the
 * primary).
 */
async function runClustered(options: DemoOptions): Promise<void> {
  if (cluster.isPrimary) {
    const failures: StartFailure[] = [];
    cluster.on('message', (_worker, msg: IpcMessage) => {
      if (msg?.t === IPC_FAILED) failures.push({ message: msg.message, exitCode: msg.exitCode });
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
    process.stdout.write(listeningLine(options.host, port, options.tlsCert !== null));
    primary.on('shutdown', () => process.exit(0));
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
  if (options.version) {
    process.stdout.write(`strata-demo ${demoVersion()}\n`);
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
