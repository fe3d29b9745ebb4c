import Fastify from 'fastify';
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const app = Fastify({ logger: false });
app.get('/hello', (_req, reply) => {
  reply.type('text/plain').send(HELLO);
});
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/echo', (req, reply) => {
  reply.type('application/json').send(req.body);
});
const addr = await app.listen({ port: PORT, host: HOST });
ready(new URL(addr).port);
