import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { run, start } from './_helpers';

// Regressions found by the interop tests: a graceful close with a stream in flight (its frames were
// lost when the connection turned idle inside the session's write batch), and split cookie fields.

describe('HTTP/2 graceful close and split cookies', () => {
  it('server.close() lets an HTTP/2 stream in flight finish (nghttp sees its HEADERS and DATA)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const { server, url } = await start({
      async handler(_req, res) {
        entered();
        await gate;
        res.send('finished after close');
      },
    });
    const client = run('nghttp', ['-v', `${url}/wait`]);
    await inHandler;
    const closed = server.close({ deadline: 2000 });
    release();
    const { out } = await client;
    await closed;
    expect(out).toMatch(/recv \(stream_id=13\) :status: 200/);
    expect(out).toMatch(/recv DATA frame <length=20, flags=0x01, stream_id=13>/);
    expect(out).not.toContain('Some requests were not processed');
  });

  it('several cookie fields (RFC 9113 section 8.2.3) read as one, joined with "; "', async () => {
    const { server, url } = await start({
      handler(req, res) {
        const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
        res.send(
          `${req.header('cookie')} | ${names.filter((n) => n === 'cookie').length} | ${req.header('x-note')}`,
        );
      },
    });
    const session = http2.connect(url);
    const body = await new Promise<string>((resolve) => {
      const s = session.request({ ':path': '/', 'x-note': 'cookie', cookie: ['a=1', 'b=2', 'c=3'] });
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        text += c;
      });
      s.on('close', () => resolve(text));
    });
    session.close();
    await server.close({ deadline: 1000 });
    expect(body).toBe('a=1; b=2; c=3 | 1 | cookie');
  });
});
