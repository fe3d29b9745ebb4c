// Strata: GET /hello and POST /echo through @strata/router and @strata/server (built dist/).
import { createRouter } from '@strata/router';
import { createServer } from '@strata/server';
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const router = createRouter();
router.add('GET', '/hello', (_req, res) => {
  res.header('content-type', 'text/plain').send(HELLO);
});
router.add('POST', '/echo', async (req, res) => {
  const body = await req.body();
  res.header('content-type', 'application/json').send(body);
});

const server = createServer({
  handler(req, res) {
    const hit = router.find(req.method, req.path);
    if (hit.status === 200) return hit.value(req, res);
    res.status(hit.status).send('');
  },
});
const addr = await server.listen({ host: HOST, port: PORT });
ready(addr.port);
