// The sockets chapter: a TCP server (Strata's transport layer) and a TCP client (node:net) talking
// over localhost. Every line shows who sent which bytes, from which address and port to which.
//
//   node apps/demo/examples/sockets.mjs            (from the repository root, after the build)
//
// The server listens on 127.0.0.1 and port 0: the kernel picks a free port. The client connects,
// the kernel gives the client its own (ephemeral) port, and the two sockets are the two ends of
// one data flow: what one writes, the other reads.
import { connect } from 'node:net';
import { listen } from '@strata/transport';

const show = (bytes) => JSON.stringify(Buffer.from(bytes).toString('latin1'));

const listener = await listen(
  { host: '127.0.0.1', port: 0 },
  {
    onData(conn, chunk) {
      // `chunk` is valid only during this call: show it, answer, forget it.
      const from = `${conn.remoteAddress}:${conn.remotePort}`;
      const to = `${conn.localAddress}:${conn.localPort}`;
      console.log(`server ${to} <- client ${from}: ${show(chunk)} (${chunk.length} bytes)`);
      const reply = `got ${chunk.length} bytes\n`;
      console.log(`server ${to} -> client ${from}: ${show(reply)}`);
      conn.write(reply);
    },
    onEnd(conn) {
      console.log('server: the client closed its side (FIN); closing ours');
      conn.end();
    },
  },
);
const { port } = listener.address();
console.log(`server listening on 127.0.0.1:${port} (port 0 asked the kernel for a free one)`);

const client = connect(port, '127.0.0.1');
await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
const me = `${client.localAddress}:${client.localPort}`;
console.log(`client ${me} connected to server ${client.remoteAddress}:${client.remotePort}`);
const message = 'hello over TCP\n';
console.log(`client ${me} -> server: ${show(message)}`);
client.write(message);
client.once('data', (data) => {
  console.log(`client ${me} <- server: ${show(data)}`);
  client.end(); // FIN: "I have nothing more to send"
});
await new Promise((resolve) => client.once('close', resolve));
await listener.close();
console.log('both sockets closed');
