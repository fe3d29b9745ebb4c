// node:http, the baseline every ratio is taken against.
import http from 'node:http';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { consumeUpload } from './_upload.mjs';

// POST /upload, /upload-file: the body as a stream (`for await (const chunk of req)`), see _upload.mjs.
async function upload(req, res, file) {
  const body = await consumeUpload(req, file);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && (req.url === '/upload' || req.url === '/upload-file')) {
    upload(req, res, req.url === '/upload-file').catch(() => res.destroy());
    return;
  }
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
