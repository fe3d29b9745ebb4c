// Strata: GET /hello, POST /echo and the upload routes through @strata/router and @strata/server
// (built dist/).
import { createRouter } from '@strata/router';
import { createServer } from '@strata/server';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { consumeUpload } from './_upload.mjs';

const router = createRouter();
router.add('GET', '/hello', (_req, res) => {
  res.header('content-type', 'text/plain').send(HELLO);
});
router.add('POST', '/echo', async (req, res) => {
  const body = await req.body();
  res.header('content-type', 'application/json').send(body);
});
// POST /upload, /upload-file: the body as a stream (`for await (const chunk of req)`), see _upload.mjs.
for (const [path, file] of [
  ['/upload', false],
  ['/upload-file', true],
]) {
  router.add('POST', path, async (req, res) => {
    res.header('content-type', 'application/json').send(await consumeUpload(req, file));
  });
}

// The upload scenarios' 100 MiB bodies are over the default 1 MiB body limit: the runner starts this
// server with BENCH_SCENARIO=upload or upload-file for them, and the limit is lifted server-wide
// (0 = none). Every other scenario runs with the defaults.
const limits = process.env.BENCH_SCENARIO?.startsWith('upload') ? { maxBodyBytes: 0 } : undefined;

const server = createServer({
  limits,
  handler(req, res) {
    const hit = router.find(req.method, req.path);
    if (hit.status === 200) return hit.value(req, res);
    res.status(hit.status).send('');
  },
});
const addr = await server.listen({ host: HOST, port: PORT });
ready(addr.port);
