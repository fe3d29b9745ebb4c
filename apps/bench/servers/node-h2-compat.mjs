// node:http2 with its compatibility API (`(req, res)` handlers, as node:http's), cleartext (h2c,
// prior knowledge, no TLS). GET /hello answers `Hello, World!`; GET /download answers the download
// body (servers/_download.mjs) in one `res.end`.
import http2 from 'node:http2';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { DOWNLOAD } from './_download.mjs';

const server = http2.createServer((req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 13 });
    res.end(HELLO);
    return;
  }
  if (req.url === '/download' && DOWNLOAD !== null) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': DOWNLOAD.length });
    res.end(DOWNLOAD);
    return;
  }
  res.writeHead(404);
  res.end();
});
server.on('sessionError', () => {});
server.listen(PORT, HOST, () => ready(server.address().port));
