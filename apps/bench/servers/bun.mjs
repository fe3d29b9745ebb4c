// Run by the `bun` binary (npm package `bun`), not by Node.
import { HELLO, HOST, PORT, ready } from './_common.mjs';

const server = Bun.serve({
  hostname: HOST,
  port: PORT,
  async fetch(req) {
    const url = new URL(req.url);
    if (req.method === 'POST' && url.pathname === '/echo') {
      return new Response(await req.arrayBuffer(), { headers: { 'Content-Type': 'application/json' } });
    }
    if (url.pathname === '/hello') return new Response(HELLO, { headers: { 'Content-Type': 'text/plain' } });
    return new Response(null, { status: 404 });
  },
});
ready(server.port);
