// node:http2 with its core 'stream' API (`stream.respond` + `stream.end`), cleartext (h2c, prior
// knowledge, no TLS): the baseline every HTTP/2 ratio is taken against. GET /hello answers
// `Hello, World!`; GET /download answers the download body (servers/_download.mjs) in one `end`.
import http2 from 'node:http2';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { DOWNLOAD } from './_download.mjs';

const HELLO_HEADERS = { ':status': 200, 'content-type': 'text/plain', 'content-length': 13 };
const DOWNLOAD_HEADERS = {
  ':status': 200,
  'content-type': 'application/octet-stream',
  'content-length': DOWNLOAD?.length ?? 0,
};
const NOT_FOUND = { ':status': 404 };

const server = http2.createServer();
server.on('stream', (stream, headers) => {
  const path = headers[':path'];
  if (path === '/hello') {
    stream.respond(HELLO_HEADERS);
    stream.end(HELLO);
  } else if (path === '/download' && DOWNLOAD !== null) {
    stream.respond(DOWNLOAD_HEADERS);
    stream.end(DOWNLOAD);
  } else {
    stream.respond(NOT_FOUND, { endStream: true });
  }
});
// A client that goes away mid-stream (the load generator stopping) is not an error of the server.
server.on('sessionError', () => {});
server.listen(PORT, HOST, () => ready(server.address().port));
