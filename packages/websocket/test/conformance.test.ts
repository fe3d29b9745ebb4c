import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer as WSServer } from 'ws';
import { buildCases } from '../conformance/cases';
import { startEchoServer } from '../conformance/echo-server';
import { type CaseResult, REDUCED, runAll, runCase } from '../conformance/harness';
import { summarize } from '../conformance/summary';

// Informational in Autobahn itself (the outcome is the implementation's choice).
const INFORMATIONAL = ['7.1.6', '7.13.1', '7.13.2'];

describe('Autobahn-style conformance (reduced sizes; full run: pnpm conformance)', () => {
  it('has the 517-case catalogue of sections 1-7, 9, 10, 12, 13', () => {
    const cases = buildCases(REDUCED);
    expect(cases.length).toBe(517);
    expect(new Set(cases.map((c) => c.id)).size).toBe(517);
    const perSection: Record<string, number> = {};
    for (const c of cases) perSection[c.id.split('.')[0]!] = (perSection[c.id.split('.')[0]!] ?? 0) + 1;
    expect(perSection).toEqual({
      1: 16,
      2: 11,
      3: 7,
      4: 10,
      5: 20,
      6: 145,
      7: 37,
      9: 54,
      10: 1,
      12: 90,
      13: 126,
    });
  });

  it('every case is OK (strict) against our server, and index.json has Autobahn shape', async () => {
    const server = await startEchoServer();
    try {
      const index = await runAll(buildCases(REDUCED), '127.0.0.1', server.port, REDUCED, 'StrataWebSocket');
      const results = index.StrataWebSocket!;
      const bad = Object.entries(results).filter(([id, r]) =>
        INFORMATIONAL.includes(id)
          ? r.behavior !== 'INFORMATIONAL'
          : r.behavior !== 'OK' || r.behaviorClose !== 'OK',
      );
      expect(bad.map(([id, r]) => `${id}: ${r.behavior}/${r.behaviorClose} ${r.detail}`)).toEqual([]);
      const dir = mkdtempSync(join(tmpdir(), 'ws-conformance-'));
      writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
      const back = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<
        string,
        Record<string, CaseResult>
      >;
      expect(Object.keys(back.StrataWebSocket!).length).toBe(517);
      expect(back.StrataWebSocket!['1.1.1']).toMatchObject({
        behavior: 'OK',
        behaviorClose: 'OK',
        remoteCloseCode: 1000,
        reportfile: 'stratawebsocket_case_1_1_1.json',
      });
      expect(summarize(results, 'reduced', 0)).toContain(
        '| **all** | **517** | **514** | **0** | **3** | **0** |',
      );
    } finally {
      await server.close();
    }
  }, 60_000);

  it('the harness can fail: ws (no fail-fast UTF-8 inside fragments) grades NON-STRICT on 6.4.x', async () => {
    const wss = new WSServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (s) => {
      s.on('error', () => {}); // ws reports the invalid UTF-8 it closes for
      s.on('message', (d, b) => s.send(d, { binary: b }));
    });
    try {
      const port = (wss.address() as { port: number }).port;
      const cases = buildCases(REDUCED).filter((c) => ['1.1.1', '6.4.1', '6.4.4'].includes(c.id));
      const got: Record<string, string> = {};
      for (const c of cases) got[c.id] = (await runCase(c, '127.0.0.1', port, REDUCED, 'ws')).behavior;
      expect(got).toEqual({ '1.1.1': 'OK', '6.4.1': 'NON-STRICT', '6.4.4': 'NON-STRICT' });
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
