// Strata over HTTP/2: @strata/router and @strata/server's createServer (built dist/), written as
// servers/strata.mjs is. @strata/server answers h2c by prior knowledge (no TLS) on its normal port,
// next to HTTP/1.1; a build without that answers the HTTP/2 preface as a bad HTTP/1.1 request, and
// the runner reports this server as failed. GET /hello answers `Hello, World!`; GET /download
// answers the download body (servers/_download.mjs). The `strata-h1` server runs this file for
// `h2-download` too, over HTTP/1.1 (`h2load --h1`).
import { createRouter } from '@strata/router';
import { createServer } from '@strata/server';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { DOWNLOAD } from './_download.mjs';

const router = createRouter();
router.add('GET', '/hello', (_req, res) => {
  res.header('content-type', 'text/plain').send(HELLO);
});
if (DOWNLOAD !== null) {
  router.add('GET', '/download', (_req, res) => {
    res.header('content-type', 'application/octet-stream').send(DOWNLOAD);
  });
}

const server = createServer({
  handler(req, res) {
    const hit = router.find(req.method, req.path);
    if (hit.status === 200) return hit.value(req, res);
    res.status(hit.status).send('');
  },
});
const addr = await server.listen({ host: HOST, port: PORT });
ready(addr.port);
