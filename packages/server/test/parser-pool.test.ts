/**
 * Parsers are pooled per server: a connection that closed mid-head (or after an error, or after
 * Connection: close) hands its parser to the next connection, which must start from a clean stream.
 * Driven through real sockets with node:net clients.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from '../src/index';

let server: Server | null = null;
afterEach(async () => {
  await server?.close({ deadline: 0 });
  server = null;
});

function exchange(port: number, bytes: string, endAfter = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(bytes);
    if (endAfter) s.end();
  });
}

describe('parser pool', () => {
  it('a parser reused after a half-sent head, an error and Connection: close parses a fresh stream', async () => {
    server = createServer({
      handler(req, res) {
        res.header('content-type', 'text/plain').send(`${req.method} ${req.url} ${req.header('x-n')}`);
      },
    });
    const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as { port: number };
    // Half a head, then the client leaves: the parser goes back to the pool mid-head.
    await exchange(port, 'GET /half HTTP/1.1\r\nHost: x\r\nX-N: ', true);
    // A framing error: the parser goes back in its error state.
    const bad = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(bad.startsWith('HTTP/1.1 400')).toBe(true);
    for (let i = 0; i < 5; i++) {
      const ok = await exchange(
        port,
        `GET /p${i} HTTP/1.1\r\nHost: x\r\nX-N: ${i}\r\nConnection: close\r\n\r\n`,
      );
      expect(ok.startsWith('HTTP/1.1 200')).toBe(true);
      expect(ok.endsWith(`GET /p${i} ${i}`)).toBe(true);
    }
    expect(server.stats().responses).toBe(6);
  });
});
