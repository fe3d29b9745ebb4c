import Fastify from 'fastify';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { consumeUpload } from './_upload.mjs';

const app = Fastify({ logger: false });
app.get('/hello', (_req, reply) => {
  reply.type('text/plain').send(HELLO);
});
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/echo', (req, reply) => {
  reply.type('application/json').send(req.body);
});
// POST /upload, /upload-file: a content-type parser without `parseAs` is handed the raw request
// stream and passes it on as `req.body` (fastify's bodyLimit applies only to bodies it reads itself).
app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
for (const [path, file] of [
  ['/upload', false],
  ['/upload-file', true],
]) {
  app.post(path, async (req, reply) => {
    return reply.type('application/json').send(await consumeUpload(req.body, file));
  });
}
const addr = await app.listen({ port: PORT, host: HOST });
ready(new URL(addr).port);
