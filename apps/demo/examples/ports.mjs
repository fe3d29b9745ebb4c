// The ports chapter: what happens on a port nobody listens on, on a port already taken, and on a
// port below 1024 (reserved: only a privileged process may listen there).
//
//   node apps/demo/examples/ports.mjs
import { connect, createServer } from 'node:net';

const listenOn = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve({ server: null, error: err.code }));
    server.listen(port, '127.0.0.1', () => resolve({ server, error: null }));
  });

// 1. A free port: ask for port 0 and the kernel picks one (an "ephemeral" port).
const first = await listenOn(0);
const port = first.server.address().port;
console.log(`listening on 127.0.0.1:${port} (port 0: the kernel chose)`);

// 2. One service per port: a second listener on the same address and port is refused.
const second = await listenOn(port);
console.log(`a second listener on 127.0.0.1:${port}: ${second.error ?? 'accepted?!'} (one service per port)`);

// 3. Nobody listens: close it, then connect. The kernel answers the SYN with a RST.
await new Promise((resolve) => first.server.close(resolve));
const refused = await new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => {
    socket.destroy();
    resolve('connected?!');
  });
  socket.once('error', (err) => resolve(err.code));
});
console.log(`connect to 127.0.0.1:${port} with nobody listening: ${refused}`);

// 4. A reserved port (below 1024) needs privileges (root, or CAP_NET_BIND_SERVICE on Linux).
const low = await listenOn(81);
const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
if (low.server !== null) {
  console.log(`listen on port 81 as uid ${uid}: allowed (this process is privileged)`);
  await new Promise((resolve) => low.server.close(resolve));
} else if (low.error === 'EACCES') {
  console.log(`listen on port 81 as uid ${uid}: EACCES (ports below 1024 are reserved)`);
} else console.log(`listen on port 81 as uid ${uid}: ${low.error} (another service has it)`);
console.log('ports are 16-bit numbers: 0 to 65535; 65536 does not exist');
