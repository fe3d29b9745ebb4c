/**
 * Strata's HTTP/2 (`@strata/server` with `@strata/http2`) against the whole conformance catalogue,
 * strict cases included: h2c by prior knowledge on the normal port, and TLS with ALPN h2. Every case
 * must pass, with no skip and no warning (a GOAWAY or RST_STREAM carrying another code than the RFC
 * names, which h2spec would let through).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type ServerOptions } from '@strata/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from '../_helpers.ts';
import { CASE_IDS, type CaseResult, runCatalogue } from './catalogue.ts';

const handler: ServerOptions['handler'] = (_req, res) => res.send('hello');

/** Everything that is not a clean pass, one line each (the assertion message). */
function problems(results: CaseResult[]): string[] {
  return results
    .filter((r) => r.status !== 'pass' || r.warning)
    .map(
      (r) =>
        `${r.status} ${r.id} ${r.title}: expected ${r.expected}; observed ${r.observed}${r.warning ? `; ${r.warning}` : ''}`,
    );
}

describe('Strata h2c (prior knowledge)', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer({ handler });
    port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
  });
  afterAll(() => server.close({ deadline: 1000 }));

  it('passes every case', async () => {
    const results = await runCatalogue({ host: '127.0.0.1', port }, { timeoutMs: 1000 });
    expect(results.map((r) => r.id)).toEqual(CASE_IDS);
    expect(problems(results)).toEqual([]);
  });
});

describe('Strata over TLS (ALPN h2)', () => {
  let dir = '';
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-h2spec-'));
    const { cert, key } = makeCert(dir);
    server = createServer({ handler, tls: { cert, key } });
    port = ((await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number }).port;
  }, 30_000);
  afterAll(async () => {
    await server.close({ deadline: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every case', async () => {
    const results = await runCatalogue({ host: '127.0.0.1', port, tls: true }, { timeoutMs: 1000 });
    expect(problems(results)).toEqual([]);
  });
});
