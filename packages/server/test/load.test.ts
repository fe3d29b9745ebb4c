import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { run, start } from './_helpers';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 500 });
  server = null;
});

describe('wrk smoke load (bounded, 2 s)', () => {
  it('keep-alive and pipelined load: every response 200, counters agree', async () => {
    const s = await start({
      handler: (_req, res) => res.header('content-type', 'text/plain').send('Hello, World!'),
    });
    server = s.server;
    const r = await run('wrk', ['-t1', '-c16', '-d1s', `${s.url}/hello`], 15_000);
    expect(r.code).toBe(0);
    const n = Number(/(\d+) requests in/.exec(r.out)?.[1]);
    expect(n).toBeGreaterThan(100);
    expect(r.out).not.toMatch(/Non-2xx|Socket errors/);
    const lua = new URL('../../../apps/bench/lua/pipeline.lua', import.meta.url).pathname;
    const p = await run('wrk', ['-t1', '-c8', '-d1s', '-s', lua, `${s.url}/hello`], 15_000);
    expect(p.code).toBe(0);
    expect(p.out).not.toMatch(/Non-2xx|Socket errors/);
    const st = s.server.stats();
    expect(st.byStatus['200']).toBe(st.responses);
    expect(st.errors).toBe(0);
  });
});
