/**
 * Fan-out server on @strata/websocket for `fanout.ts`:
 * `node --conditions=strata-source --import tsx bench/fanout-server-strata.ts <single|cluster> [lifetimeSeconds]`.
 *
 * `@strata/server` (on `@strata/transport`) takes the upgrades: `/sub` subscribes to the topic, and
 * every message from any connection (the publisher connects to `/pub`) is published to it with
 * `WebSocketServer.publish`. `single`: one process. `cluster`: `runCluster` with 2 workers, each
 * with `new WebSocketServer({ pubsub: clusterPubSub() })`, so a message published in one worker
 * reaches the other worker's subscribers too.
 *
 * Prints `port=N` once serving (the cluster's primary, once both workers are ready). Exits by
 * itself: on SIGTERM, when stdin closes (the benchmark went away), or after the lifetime.
 * Exit code 3 with a `SKIP` line: `clusterPubSub` is not exported by `@strata/transport/cluster`.
 */
import { createServer } from '@strata/server';
import * as clusterModule from '@strata/transport/cluster';
import { WebSocketServer, type WebSocketServerOptions } from '../src/index';

const TOPIC = 'fanout';
const mode = process.argv[2] === 'cluster' ? 'cluster' : 'single';
const lifetime = Number(process.argv[3] ?? 600) * 1000;

/** The server of one process: the same code alone and in each worker. */
async function serve(options: WebSocketServerOptions) {
  const wss = new WebSocketServer(options);
  wss.on('connection', (ws, req) => {
    if ((req.url ?? '').startsWith('/sub')) ws.subscribe(TOPIC);
    else ws.on('message', (data, isBinary) => wss.publish(TOPIC, data, { binary: isBinary }));
  });
  const server = createServer({
    handler: (_req, res) => res.status(426).send(''),
    onUpgrade: (req, conn, head) => wss.handleUpgrade(req, conn, head),
    upgradeProtocols: ['websocket'],
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, wss };
}

const wsOptions: WebSocketServerOptions = { heartbeatInterval: 0, perMessageDeflate: false };

function exitWhenOrphaned(stop: () => void): void {
  process.stdin.on('data', () => {});
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  setTimeout(stop, lifetime).unref();
  // the lifetime also holds while the event loop is busy: a hard exit after a grace period
  setTimeout(() => process.exit(0), lifetime + 5000).unref();
}

if (mode === 'single') {
  const { server, wss } = await serve(wsOptions);
  const stop = () => {
    void wss.close({ deadline: 200 });
    void server.close({ deadline: 200 }).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  exitWhenOrphaned(stop);
  const addr = server.address();
  process.stdout.write(`port=${'port' in addr ? addr.port : 0}\n`);
} else {
  // Written against the API of `@strata/transport/cluster` as issue #22 names it:
  // `clusterPubSub()` returns what `WebSocketServerOptions.pubsub` takes. Read through the module
  // namespace so this file loads (and typechecks) before that API exists.
  const { clusterPubSub } = clusterModule as unknown as { clusterPubSub?: () => unknown };
  if (typeof clusterPubSub !== 'function') {
    process.stdout.write('SKIP clusterPubSub is not exported by @strata/transport/cluster\n');
    process.exit(3);
  }
  const role = await clusterModule.runCluster({
    workers: 2,
    statsInterval: 0,
    shutdownDeadline: 500,
    async worker() {
      const { server, wss } = await serve({
        ...wsOptions,
        pubsub: clusterPubSub(),
      } as WebSocketServerOptions);
      return {
        close: async (o) => {
          void wss.close({ deadline: 200 });
          await server.close(o);
        },
        address: () => server.address(),
      };
    },
  });
  if (role.role === 'primary') {
    const ports = new Set(
      role.workers().map((w) => (w.address !== null && 'port' in w.address ? w.address.port : 0)),
    );
    if (ports.size !== 1 || ports.has(0)) {
      process.stderr.write(`fanout cluster: workers listen on different ports: ${[...ports].join(', ')}\n`);
      await role.shutdown({ deadline: 0 });
      process.exit(1);
    }
    // runCluster drains the workers on SIGTERM by itself
    role.on('shutdown', () => process.exit(0));
    exitWhenOrphaned(() => {
      void role.shutdown({ deadline: 200 });
      setTimeout(() => process.exit(0), 2000).unref();
    });
    process.stdout.write(`port=${[...ports][0]}\n`);
  }
}
