/**
 * `req.parts()` and `req.formData()` through real sockets: forms sent by fetch (undici's FormData
 * encoder) and by curl -F, a form error escaping the handler answered with its status and code on
 * a connection that stays usable, and a file part read slowly holding the client back
 * (backpressure down to TCP).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResponseWriter } from '@strata/response';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Server, ServerRequest } from '../src/index';
import { raw, run, sleep, start, statuses } from './_helpers';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: Server | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-forms-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A handler that streams every part and answers name, filename, type, bytes and SHA-256 of each. */
async function describeParts(req: ServerRequest, res: ResponseWriter): Promise<void> {
  req.setBodyLimit(0);
  const out: unknown[] = [];
  for await (const part of req.parts({
    maxFileBytes: Number.POSITIVE_INFINITY,
    maxTotalBytes: Number.POSITIVE_INFINITY,
  })) {
    if (!part.isFile) {
      out.push({ name: part.name, value: await part.text() });
      continue;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of part) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    out.push({
      name: part.name,
      filename: part.filename,
      type: part.mediaType,
      bytes,
      sha256: hash.digest('hex'),
    });
  }
  res.json(out);
}

describe('req.parts() and req.formData()', () => {
  it('streams a fetch FormData upload: fields and files with their digests', async () => {
    const s = await start({ handler: describeParts });
    server = s.server;
    const a = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    const form = new FormData();
    form.append('title', 'Grüße');
    form.append('a', new Blob([a], { type: 'application/octet-stream' }), 'a.bin');
    const text = new TextEncoder().encode('hello\r\n--boundary?\r\n');
    form.append('b', new Blob([text]), '日本.txt');
    const res = await fetch(`${s.url}/up`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { name: 'title', value: 'Grüße' },
      { name: 'a', filename: 'a.bin', type: 'application/octet-stream', bytes: a.length, sha256: sha256(a) },
      {
        name: 'b',
        filename: '日本.txt',
        type: 'application/octet-stream',
        bytes: text.length,
        sha256: sha256(text),
      },
    ]);
  });

  it('streams a curl -F upload (a file, a typed file and a field)', async () => {
    const s = await start({ handler: describeParts });
    server = s.server;
    const file = join(dir, 'report.csv');
    const content = 'a,b\r\n1,2\r\n'.repeat(5000);
    writeFileSync(file, content);
    const { code, out } = await run('curl', [
      '-sS',
      '-F',
      'who=ada',
      '-F',
      `doc=@${file}`,
      '-F',
      `typed=@${file};type=text/csv;filename=renamed.csv`,
      `${s.url}/up`,
    ]);
    expect(code).toBe(0);
    const digest = sha256(Buffer.from(content));
    expect(JSON.parse(out)).toEqual([
      { name: 'who', value: 'ada' },
      {
        name: 'doc',
        filename: 'report.csv',
        type: 'application/octet-stream',
        bytes: content.length,
        sha256: digest,
      },
      { name: 'typed', filename: 'renamed.csv', type: 'text/csv', bytes: content.length, sha256: digest },
    ]);
  });

  it('formData(): multipart and urlencoded bodies as a Web FormData', async () => {
    const s = await start({
      async handler(req, res) {
        const form = await req.formData();
        const out: unknown[] = [];
        for (const [k, v] of form) out.push(typeof v === 'string' ? [k, v] : [k, v.name, v.type, v.size]);
        res.json(out);
      },
    });
    server = s.server;
    const form = new FormData();
    form.append('x', '1');
    form.append('f', new Blob(['abc'], { type: 'text/plain' }), 'f.txt');
    expect(await (await fetch(s.url, { method: 'POST', body: form })).json()).toEqual([
      ['x', '1'],
      ['f', 'f.txt', 'text/plain', 3],
    ]);
    const params = new URLSearchParams([
      ['q', 'a b&c'],
      ['q', 'é'],
    ]);
    expect(await (await fetch(s.url, { method: 'POST', body: params })).json()).toEqual([
      ['q', 'a b&c'],
      ['q', 'é'],
    ]);
  });

  it('a FormError escaping the handler answers its status and code; the connection stays usable', async () => {
    const errors: unknown[] = [];
    const s = await start({
      async handler(req, res) {
        if (req.method === 'GET') return void res.send('still here');
        const form = await req.formData({ maxFields: 1 });
        res.send(`ok ${[...form.keys()].join(',')}`);
      },
      onError: (e) => errors.push(e),
    });
    server = s.server;
    const post = (type: string, body: string) =>
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const get = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const r = await raw(s.port, [
      post('application/json', '{"a":1}'),
      post('application/x-www-form-urlencoded', 'a=1&b=2'),
      post('multipart/form-data', '--x--'),
      post(
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x-',
      ),
      post('application/x-www-form-urlencoded', 'a=1'),
      get,
    ]);
    expect(statuses(r.text)).toEqual([415, 413, 400, 400, 200, 200]);
    expect(r.text).toContain('415 Unsupported Media Type: FORM_UNSUPPORTED_MEDIA_TYPE');
    expect(r.text).toContain('413 Content Too Large: FORM_TOO_MANY_FIELDS');
    expect(r.text).toContain('400 Bad Request: FORM_BAD_BOUNDARY');
    expect(r.text).toContain('400 Bad Request: FORM_UNEXPECTED_END');
    expect(r.text).toContain('ok a');
    expect(r.text).toContain('still here');
    expect(errors).toEqual([]); // client faults, never logged
    expect(s.server.stats().rejected).toBeGreaterThanOrEqual(4);
  });

  it('a file part read slowly holds the client back: the body waits in the client, not in the server', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reading!: () => void;
    const started = new Promise<void>((r) => (reading = r));
    const s = await start({
      async handler(req, res) {
        req.setBodyLimit(0);
        let bytes = 0;
        for await (const part of req.parts({
          maxFileBytes: Number.POSITIVE_INFINITY,
          maxTotalBytes: Number.POSITIVE_INFINITY,
        })) {
          for await (const chunk of part) {
            if (bytes === 0) {
              reading();
              await gate; // a consumer that stops for a while after its first chunk
            }
            bytes += chunk.length;
          }
        }
        res.send(String(bytes));
      },
    });
    server = s.server;
    const size = 64 * 1024 * 1024;
    const b = 'slowconsumer';
    const head = `--${b}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n`;
    const tail = `\r\n--${b}--\r\n`;
    const total = head.length + size + tail.length;
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const got: Buffer[] = [];
    sock.on('data', (d) => got.push(d));
    sock.write(
      `POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${b}\r\nContent-Length: ${total}\r\n\r\n${head}`,
    );
    sock.write(Buffer.alloc(size, 0x61));
    sock.write(tail);
    await started;
    await sleep(300);
    // The handler holds its first chunk: the server stopped reading, so most of the 64 MiB is still
    // queued in the client's own socket (the kernel buffers hold a few MB at most).
    expect(sock.writableLength).toBeGreaterThan(32 * 1024 * 1024);
    release();
    await new Promise<void>((r) => sock.on('data', () => got.join('').includes('\r\n\r\n') && r()));
    await sleep(20);
    const text = Buffer.concat(got).toString();
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith(`\r\n\r\n${size}`)).toBe(true);
    sock.destroy();
  });
});
