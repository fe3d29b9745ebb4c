/**
 * HTTP/2 on the demo's port, as clients meet it: h2c by prior knowledge on the plain port (curl
 * `--http2-prior-knowledge`, Node's `node:http2` client with several streams on one connection), and
 * h2 chosen by ALPN over TLS (`curl --http2 -k`) next to HTTP/1.1 on the same port. The listening
 * line says which.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, type Demo, startDemo } from './_harness';

/** One request on an open `node:http2` session: status, body, and the session's id for it. */
function get(
  session: ReturnType<typeof connect>,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; stream: number }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ status, body: Buffer.concat(chunks).toString('utf8'), stream: req.id ?? -1 }),
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('h2c on the plain port (HTTP/2 by prior knowledge)', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo(['--port', '0']);
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('the listening line says HTTP/1.1 and h2c', () => {
    expect(demo.line).toBe(`listening on ${demo.url} (HTTP/1.1 and h2c)`);
  });

  it('curl --http2-prior-knowledge: HTTP/2 200 on stream 1; HTTP/1.1 still answers on the same port', async () => {
    const h2 = await curl(['--http2-prior-knowledge', '-v', '-i', `${demo.url}/hello`]);
    expect(h2.code, h2.stderr).toBe(0);
    const text = h2.stdout.toString('latin1');
    expect(text.startsWith('HTTP/2 200')).toBe(true);
    expect(text).toMatch(/\r\ncontent-type: text\/plain\r\n/);
    expect(text.endsWith('\r\n\r\nHello, World!')).toBe(true);
    expect(h2.stderr).toMatch(/Stream ID: 1\b/);
    const h1 = await curl(['--http1.1', '-i', `${demo.url}/hello`]);
    expect(h1.stdout.toString('latin1').startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  });

  it('curl --http2-prior-knowledge POST /echo: the handler sees HTTP/2.0 and the body', async () => {
    const r = await curl(['--http2-prior-knowledge', '--data-binary', 'over h2c', `${demo.url}/echo`]);
    expect(r.code, r.stderr).toBe(0);
    const echo = JSON.parse(r.stdout.toString('utf8')) as {
      method: string;
      httpVersion: string;
      body: string;
    };
    expect(echo).toMatchObject({ method: 'POST', httpVersion: '2.0', body: 'over h2c' });
  });

  it('node:http2: three requests at once on one connection, streams 1, 3 and 5', async () => {
    const session = connect(demo.url);
    try {
      const [a, b, c] = await Promise.all([
        get(session, '/hello'),
        get(session, '/echo', 'x'),
        get(session, '/learn/http2'),
      ]);
      expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
      expect([a.stream, b.stream, c.stream]).toEqual([1, 3, 5]);
      expect(a.body).toBe('Hello, World!');
      expect(JSON.parse(b.body)).toMatchObject({ httpVersion: '2.0', body: 'x' });
      expect(c.body).toContain('Your client fetched this very page over <b>HTTP/2</b> (h2c');
    } finally {
      session.close();
    }
  });
});

describe('the inspector on HTTP/2 requests', () => {
  it('an h2c request is shown as the frames of its stream: HEADERS in with its decoded fields, HEADERS and DATA out', async () => {
    const demo = await startDemo(['--port', '0', '--inspector', 'on']);
    try {
      const r = await curl(['--http2-prior-knowledge', '-A', 'inspected/1.0', `${demo.url}/hello`]);
      expect(r.stdout.toString()).toBe('Hello, World!');
      type Frame = {
        direction: string;
        type: string;
        flags: string;
        length: number;
        fields: [string, string][] | null;
      };
      type Entry = {
        parserEvents: string[];
        framing: string;
        http2: { streamId: number; frames: Frame[] } | null;
      };
      // The entry is complete once the response's last frame went out (bounded wait).
      let entry: Entry | undefined;
      for (let i = 0; i < 100 && entry?.http2?.frames.some((f) => f.type === 'DATA') !== true; i++) {
        const json = (await (await fetch(`${demo.url}/inspect.json`)).json()) as { entries: Entry[] };
        entry = json.entries.find((e) => e.parserEvents[0]?.startsWith('head GET /hello HTTP/2'));
        if (entry?.http2?.frames.some((f) => f.type === 'DATA') !== true)
          await new Promise((ok) => setTimeout(ok, 20));
      }
      expect(entry, 'the h2 entry').toBeDefined();
      expect(entry!.framing).toContain('HTTP/2 frames');
      const frames = entry!.http2!.frames;
      expect(entry!.http2!.streamId).toBe(1);
      const request = frames.find((f) => f.direction === 'in' && f.type === 'HEADERS')!;
      expect(request.flags).toBe('END_STREAM|END_HEADERS');
      expect(request.fields).toContainEqual([':path', '/hello']);
      expect(request.fields).toContainEqual(['user-agent', 'inspected/1.0']);
      const response = frames.find((f) => f.direction === 'out' && f.type === 'HEADERS')!;
      expect(response.fields).toContainEqual([':status', '200']);
      const data = frames.filter((f) => f.direction === 'out' && f.type === 'DATA');
      expect(data.reduce((n, f) => n + f.length, 0)).toBe(13);
      expect(data.at(-1)!.flags).toContain('END_STREAM');
      const page = await (await fetch(`${demo.url}/inspect`)).text();
      expect(page).toContain('<code>GET /hello HTTP/2</code>');
      expect(page).toContain('HTTP/2, stream 1');
      expect(page).toContain('user-agent: inspected/1.0');
    } finally {
      await demo.stop();
    }
  });
});

describe('h2 over TLS (ALPN), next to HTTP/1.1 on the same port', () => {
  let dir: string;
  let demo: Demo;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-demo-h2-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    demo = await startDemo(['--port', '0', '--tls-cert', cert, '--tls-key', key]);
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the listening line says HTTP/1.1 and h2', () => {
    expect(demo.line).toBe(`listening on ${demo.url} (HTTP/1.1 and h2)`);
    expect(demo.url.startsWith('https://')).toBe(true);
  });

  it('curl --http2 -k: ALPN picks h2, HTTP/2 200; curl --http1.1 -k: ALPN picks http/1.1', async () => {
    const h2 = await curl(['--http2', '-k', '-v', '-i', `${demo.url}/hello`]);
    expect(h2.code, h2.stderr).toBe(0);
    expect(h2.stderr).toMatch(/ALPN[^\n]*accepted h2/);
    const text = h2.stdout.toString('latin1');
    expect(text.startsWith('HTTP/2 200')).toBe(true);
    expect(text.endsWith('Hello, World!')).toBe(true);
    const h1 = await curl(['--http1.1', '-k', '-v', '-i', `${demo.url}/hello`]);
    expect(h1.code, h1.stderr).toBe(0);
    expect(h1.stderr).toMatch(/ALPN[^\n]*accepted http\/1\.1/);
    expect(h1.stdout.toString('latin1').startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  });

  it('over h2 the pages take the address from :authority (HTTP/2 has no Host field)', async () => {
    const r = await curl(['--http2', '-k', `${demo.url}/learn/crypto`]);
    expect(r.code, r.stderr).toBe(0);
    const page = r.stdout.toString('utf8');
    expect(page).toContain(`openssl s_client -connect 127.0.0.1:${demo.port} `);
    expect(page).toContain(`curl --cacert cert.pem https://localhost:${demo.port}/hello`);
  });

  it('the HTTP/2 chapter over h2: the page knows ALPN chose h2 and shows the scheme https', async () => {
    const r = await curl(['--http2', '-k', `${demo.url}/learn/http2`]);
    expect(r.code, r.stderr).toBe(0);
    const page = r.stdout.toString('utf8');
    expect(page).toContain('over <b>HTTP/2</b> (ALPN chose h2 during the TLS handshake)');
    expect(page).toContain(':scheme: https');
    // :scheme https is static entry 7: one octet, 0x87.
    expect(page).toContain(
      '<td><code>:scheme</code></td><td><code>https</code></td><td><code>87</code></td>',
    );
  });
});
