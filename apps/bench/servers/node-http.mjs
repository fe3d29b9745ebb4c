// node:http, the baseline every ratio is taken against.
import http from 'node:http';
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
    return;
  }
  if (req.url === '/hello') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 13 });
    res.end(HELLO);
    return;
  }
  res.writeHead(404);
  res.end();
});
server.keepAliveTimeout = 75_000;
server.listen(PORT, HOST, () => ready(server.address().port));
