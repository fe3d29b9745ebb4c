/**
 * Fan-out server on uWebSockets.js (`@trufflesuite/uws-js-unofficial`, the native addon) for
 * `fanout.ts`: `node bench/fanout-server-uws.ts [lifetimeSeconds]` (through tsx).
 *
 * The same protocol as `fanout-server-strata.ts`: `/sub` subscribes to the topic, every message from
 * any connection is published to it with `app.publish`. No heartbeat, no compression, 8 MiB
 * backpressure per socket (Strata's default `maxBufferedAmount`; uWS's own default of 64 KiB would
 * skip messages to a subscriber that falls behind). Prints `port=N`; exits on SIGTERM, when stdin
 * closes, or after the lifetime.
 */
import { createRequire } from 'node:module';

type UWS = typeof import('@trufflesuite/uws-js-unofficial');
const uWS = createRequire(import.meta.url)('@trufflesuite/uws-js-unofficial') as UWS;

// the package falls back to a JavaScript implementation when its addon does not load: refuse that
if (!String(uWS.App).includes('[native code]')) {
  process.stderr.write('fanout uws: the native uWebSockets.js addon did not load\n');
  process.exit(1);
}

const TOPIC = 'fanout';
const lifetime = Number(process.argv[2] ?? 600) * 1000;

interface UserData {
  sub: boolean;
}

const app = uWS.App();
app.ws<UserData>('/*', {
  compression: uWS.DISABLED,
  idleTimeout: 0,
  sendPingsAutomatically: false,
  maxPayloadLength: 16 * 1024 * 1024,
  maxBackpressure: 8 * 1024 * 1024,
  upgrade: (res, req, context) => {
    res.upgrade(
      { sub: req.getUrl().startsWith('/sub') },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    if (ws.getUserData().sub) ws.subscribe(TOPIC);
  },
  message: (_ws, message, isBinary) => {
    app.publish(TOPIC, message, isBinary);
  },
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
setTimeout(stop, lifetime).unref();

app.listen('127.0.0.1', 0, (token) => {
  if (!token) {
    process.stderr.write('fanout uws: listen failed\n');
    process.exit(1);
  }
  process.stdout.write(`port=${uWS.us_socket_local_port(token)}\n`);
});
