// Bench servers, one per process: `tsx bench/_servers.ts <raw|transport|transport-split> [port]`;
// the bound port is sent to the parent over IPC.
// Each answers every request found in a read (counted by its "\r\n\r\n") with a canned response;
// none parses HTTP: this measures the socket layer, not a server.
import { createServer, type Socket } from 'node:net';
import { listen } from '../src/index';

const BODY = 'Hello, World!';
const HEAD = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n`;
const CANNED = Buffer.from(HEAD + BODY);

/** Requests ending in this chunk, with the carried match state (bytes of CRLFCRLF matched). */
function countRequests(chunk: Uint8Array, state: { m: number }): number {
  let n = 0;
  let m = state.m;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i]!;
    // '\r' at even positions of the match, '\n' at odd ones
    if (c === (m & 1 ? 0x0a : 0x0d)) {
      m++;
      if (m === 4) {
        n++;
        m = 0;
      }
    } else m = c === 0x0d ? 1 : 0;
  }
  state.m = m;
  return n;
}

const [kind = 'raw', portText = '0', mode = 'keep'] = process.argv.slice(2);
const port = Number(portText);
// mode 'close': answer, then close the connection (the client sent Connection: close).
const closeEach = mode === 'close';

if (kind === 'raw') {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    const st = { m: 0 };
    socket.on('data', (chunk: Buffer) => {
      const n = countRequests(chunk, st);
      if (closeEach) {
        if (n > 0) socket.end(CANNED);
      } else if (n === 1) socket.write(CANNED);
      else if (n > 1) socket.write(Buffer.concat(Array.from({ length: n }, () => CANNED)));
    });
    socket.on('error', () => {});
  });
  server.listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.send?.({ port: typeof a === 'object' && a !== null ? a.port : 0 });
  });
} else {
  const split = kind === 'transport-split';
  const l = await listen(
    { host: '127.0.0.1', port },
    {
      onOpen(conn) {
        conn.data = { m: 0 };
      },
      onData(conn, chunk) {
        const n = countRequests(chunk, conn.data as { m: number });
        if (n === 0) return;
        if (closeEach) {
          conn.end(CANNED);
          return;
        }
        conn.cork();
        for (let i = 0; i < n; i++) {
          if (split) {
            conn.write(HEAD); // head as a string and body apart, as a server writes them
            conn.write(BODY);
          } else conn.write(CANNED);
        }
        conn.uncork();
      },
    },
  );
  const a = l.address();
  process.send?.({ port: 'port' in a ? a.port : 0 });
}
