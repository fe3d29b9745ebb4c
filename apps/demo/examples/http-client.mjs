// The client chapter: an HTTP request typed by hand into a TCP socket, and the raw reply.
//
//   node apps/demo/examples/http-client.mjs http://127.0.0.1:8080/hello
//
// A client asks, a server answers. HTTP/1.1 is text on a TCP connection: a request line
// (`Method path version`), header lines, an empty line. Each line ends with CR LF, shown as \r\n.
import { connect } from 'node:net';

const url = new URL(process.argv[2] ?? 'http://127.0.0.1:8080/hello');
if (url.protocol !== 'http:') {
  console.error(
    'usage: node http-client.mjs http://HOST:PORT/PATH (plain http; for https use openssl s_client)',
  );
  process.exit(2);
}
const host = url.hostname.replace(/^\[|\]$/g, '');
const port = Number(url.port || 80);
const request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`;
const visible = (text) => text.replaceAll('\r', '\\r').replaceAll('\n', '\\n\n');

const socket = connect(port, host);
socket.once('error', (err) => {
  console.error(`cannot connect to ${url.host}: ${err.code ?? err.message}`);
  process.exit(1);
});
socket.once('connect', () => {
  console.log(
    `connected: client ${socket.localAddress}:${socket.localPort} -> server ${socket.remoteAddress}:${socket.remotePort}`,
  );
  console.log(`--- sent (${Buffer.byteLength(request)} bytes) ---`);
  process.stdout.write(visible(request));
  socket.write(request);
});
const chunks = [];
socket.on('data', (d) => chunks.push(d));
socket.once('end', () => {
  const reply = Buffer.concat(chunks).toString('latin1');
  const split = reply.indexOf('\r\n\r\n');
  console.log(`--- received (${reply.length} bytes) ---`);
  process.stdout.write(visible(reply.slice(0, split + 4)));
  console.log(`--- body (${reply.length - split - 4} bytes) ---`);
  console.log(reply.slice(split + 4));
  console.log(`status line: ${reply.slice(0, reply.indexOf('\r\n'))}`);
});
