import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const app = new Hono();
app.get('/hello', (c) => c.text(HELLO));
app.post('/echo', async (c) =>
  c.body(await c.req.arrayBuffer(), 200, { 'Content-Type': 'application/json' }),
);
serve({ fetch: app.fetch, port: PORT, hostname: HOST }, (info) => ready(info.port));
