import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseWriter, requestFrom, resolveSafePath, type StaticOptions, serveStatic } from '../src/index';
import { decodeChunked, MemorySink, split } from './_sink';

let dir: string;
let root: string;
const MTIME = new Date(Date.UTC(2024, 0, 10, 12, 0, 0));
// A compressible text file well above the 1024-byte threshold, with varied lines.
const lorem = Buffer.from(
  Array.from({ length: 2000 }, (_, i) => `line ${i}: the quick brown fox ${(i * 7919) % 1000}\n`).join(''),
);
const big = Buffer.alloc(300_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-static-'));
  root = join(dir, 'public');
  mkdirSync(join(root, 'docs'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(root, 'hello.txt'), 'hello world');
  writeFileSync(join(root, 'lorem.txt'), lorem);
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'style.css'), 'body{}');
  writeFileSync(join(root, 'data.bin'), big);
  writeFileSync(join(root, 'noext'), 'x');
  writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(root, '.env'), 'KEY=1');
  writeFileSync(join(root, 'a b.txt'), 'spaced');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(join(root, 'hello.txt'), join(root, 'alias.txt'));
  symlinkSync(dir, join(root, 'up'));
  for (const f of ['hello.txt', 'data.bin', 'style.css', 'lorem.txt'])
    utimesSync(join(root, f), MTIME, MTIME);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  options: StaticOptions = {},
): Promise<{ handled: boolean; head: string; body: Buffer; res: ResponseWriter }> {
  const sink = new MemorySink();
  const res = new ResponseWriter(sink, { method, versionMinor: 1, keepAlive: true, date: false });
  const req = Object.assign(requestFrom(method, headers), { path });
  const handled = await serveStatic(root, options)(req, res);
  if (!handled) return { handled, head: '', body: Buffer.alloc(0), res };
  const { head, body } = split(sink.bytes);
  return { handled, head, body, res };
}

describe('resolveSafePath: traversal attempts', () => {
  const attempts: Array<[string, string]> = [
    ['/../secret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/docs/../../secret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/%2e%2e/secret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/%2E%2E/secret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/.%2e/secret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/docs/..%2f..%2fsecret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/%2e%2e%2fsecret.txt', 'ERR_PATH_TRAVERSAL'],
    ['/..\\secret.txt', 'ERR_PATH_BACKSLASH'],
    ['/%5c..%5csecret.txt', 'ERR_PATH_BACKSLASH'],
    ['/docs%5c..%5c..%5csecret.txt', 'ERR_PATH_BACKSLASH'],
    ['/secret.txt%00.html', 'ERR_PATH_NUL'],
    ['/hello.txt\0', 'ERR_PATH_NUL'],
    ['/C:/Windows/win.ini', 'ERR_PATH_ABSOLUTE'],
    ['/%43:%5cboot.ini', 'ERR_PATH_BACKSLASH'],
    ['/%e0%a4%a', 'ERR_PATH_MALFORMED'],
    ['/%zz', 'ERR_PATH_MALFORMED'],
    ['relative/path', 'ERR_PATH_MALFORMED'],
  ];
  for (const [p, code] of attempts)
    it(`${JSON.stringify(p)} → ${code}`, () => {
      const r = resolveSafePath('/srv/www', p);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe(code);
    });
  it('normal paths stay under the root', () => {
    expect(resolveSafePath('/srv/www', '/a/./b//c.txt')).toEqual({
      ok: true,
      path: '/srv/www/a/b/c.txt',
      dotfile: false,
    });
    expect(resolveSafePath('/srv/www', '//etc/passwd')).toEqual({
      ok: true,
      path: '/srv/www/etc/passwd',
      dotfile: false,
    });
    expect(resolveSafePath('/srv/www', '/%252e%252e/x')).toEqual({
      ok: true,
      path: '/srv/www/%2e%2e/x',
      dotfile: false,
    });
    expect(resolveSafePath('/srv/www', '/')).toEqual({ ok: true, path: '/srv/www', dotfile: false });
  });

  for (const p of [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/secret.txt%00',
    '/leak.txt',
    '/up/secret.txt',
  ])
    it(`served: ${p} never leaks the file outside the root`, async () => {
      const r = await get(p);
      expect(r.body.toString()).not.toContain('TOP SECRET');
      if (r.handled) expect(r.head).toMatch(/^HTTP\/1\.1 (400|403|404) /);
    });
  it('symlinks leaving the root are served only when allowed', async () => {
    expect((await get('/leak.txt')).handled).toBe(false);
    const r = await get('/leak.txt', {}, 'GET', { followSymlinksOutsideRoot: true });
    expect(r.body.toString()).toBe('TOP SECRET');
    expect((await get('/alias.txt')).body.toString()).toBe('hello world'); // inside the root: fine
  });
});

describe('serveStatic', () => {
  it('serves a file with type, length, validators', async () => {
    const r = await get('/hello.txt');
    expect(r.head).toBe(
      `HTTP/1.1 200 OK\r\nETag: "b-${MTIME.getTime().toString(16)}"\r\n` +
        'Last-Modified: Wed, 10 Jan 2024 12:00:00 GMT\r\n' +
        'Cache-Control: public, max-age=0\r\nAccept-Ranges: bytes\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 11\r\n\r\n',
    );
    expect(r.body.toString()).toBe('hello world');
    expect((await get('/style.css')).head).toContain('Content-Type: text/css; charset=utf-8');
    expect((await get('/noext')).head).toContain('Content-Type: application/octet-stream');
    expect((await get('/a%20b.txt')).body.toString()).toBe('spaced');
  });
  it('streams a large file intact', async () => {
    const r = await get('/data.bin');
    expect(r.body.equals(big)).toBe(true);
    expect(r.res.keepAlive).toBe(true);
  });
  it('HEAD: same headers, no body', async () => {
    const g = await get('/data.bin');
    const h = await get('/data.bin', {}, 'HEAD');
    expect(h.head).toBe(g.head);
    expect(h.body.length).toBe(0);
  });
  it('index files and directory redirects', async () => {
    expect((await get('/docs/')).body.toString()).toBe('<h1>docs</h1>');
    expect((await get('/docs/')).head).toContain('text/html; charset=utf-8');
    const r = await get('/docs');
    expect(r.head).toMatch(/^HTTP\/1\.1 301 Moved Permanently\r\nLocation: \/docs\/\r\n/);
    expect((await get('/empty/')).handled).toBe(false);
    expect((await get('/empty/', {}, 'GET', { fallthrough: false })).head).toMatch(/^HTTP\/1\.1 404/);
  });
  it('missing files fall through; other methods are not handled', async () => {
    expect((await get('/nope.txt')).handled).toBe(false);
    expect((await get('/hello.txt', {}, 'POST')).handled).toBe(false);
  });
  it('dotfiles ignored by default, denied or allowed on request', async () => {
    expect((await get('/.env')).handled).toBe(false);
    expect((await get('/.env', {}, 'GET', { dotfiles: 'deny' })).head).toMatch(/^HTTP\/1\.1 403/);
    expect((await get('/.env', {}, 'GET', { dotfiles: 'allow' })).body.toString()).toBe('KEY=1');
  });
  it('conditional: 304 on ETag / date, 412 on If-Match', async () => {
    const etag = /ETag: (\S+)/.exec((await get('/hello.txt')).head)![1]!;
    const a = await get('/hello.txt', { 'If-None-Match': etag });
    expect(a.head).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
    expect(a.head).not.toContain('Content-Length');
    expect(a.body.length).toBe(0);
    expect((await get('/hello.txt', { 'If-Modified-Since': 'Wed, 10 Jan 2024 12:00:00 GMT' })).head).toMatch(
      / 304 /,
    );
    expect((await get('/hello.txt', { 'If-Modified-Since': 'Tue, 09 Jan 2024 12:00:00 GMT' })).head).toMatch(
      / 200 /,
    );
    expect((await get('/hello.txt', { 'If-Match': '"nope"' })).head).toMatch(/ 412 /);
  });
  it('ranges: single, multiple, unsatisfiable, If-Range', async () => {
    const a = await get('/data.bin', { Range: 'bytes=100-199' });
    expect(a.head).toContain('HTTP/1.1 206 Partial Content\r\n');
    expect(a.head).toContain('Content-Range: bytes 100-199/300000\r\n');
    expect(a.body.equals(big.subarray(100, 200))).toBe(true);
    const b = await get('/data.bin', { Range: 'bytes=0-9,-10' });
    const boundary = /boundary=(\S+)/.exec(b.head)![1]!;
    expect(Number(/Content-Length: (\d+)/.exec(b.head)![1])).toBe(b.body.length);
    const text = b.body.toString('latin1');
    expect(
      text.startsWith(
        `--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/300000\r\n\r\n`,
      ),
    ).toBe(true);
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    expect(b.body.includes(big.subarray(299990))).toBe(true);
    const c = await get('/data.bin', { Range: 'bytes=400000-' });
    expect(c.head).toContain('HTTP/1.1 416 Range Not Satisfiable\r\n');
    expect(c.head).toContain('Content-Range: bytes */300000\r\n');
    const d = await get('/data.bin', { Range: 'bytes=0-9', 'If-Range': '"stale"' });
    expect(d.head).toContain('HTTP/1.1 200 OK');
    expect(d.body.length).toBe(300000);
  });
});

describe('serveStatic: compress option', () => {
  const on: StaticOptions = { compress: true };
  const decoders = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync } as const;
  const strong = `"${lorem.length.toString(16)}-${MTIME.getTime().toString(16)}"`;

  for (const enc of ['gzip', 'br', 'deflate'] as const)
    it(`${enc}: full body encoded, decoded bytes equal the file`, async () => {
      const r = await get('/lorem.txt', { 'Accept-Encoding': enc }, 'GET', on);
      expect(r.head).toBe(
        `HTTP/1.1 200 OK\r\nETag: W/${strong}\r\n` +
          'Last-Modified: Wed, 10 Jan 2024 12:00:00 GMT\r\n' +
          'Cache-Control: public, max-age=0\r\nAccept-Ranges: bytes\r\nVary: Accept-Encoding\r\n' +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Encoding: ${enc}\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n',
      );
      const { body, rest } = decodeChunked(r.body);
      expect(rest).toBe(0);
      expect(body.length).toBeLessThan(lorem.length / 2);
      expect(decoders[enc](body).equals(lorem)).toBe(true);
      expect(r.res.keepAlive).toBe(true);
    });

  it('negotiation follows q-values; identity when nothing is offered or accepted', async () => {
    const a = await get('/lorem.txt', { 'Accept-Encoding': 'gzip;q=0.5, br;q=0.9' }, 'GET', on);
    expect(a.head).toContain('Content-Encoding: br\r\n');
    for (const ae of [undefined, 'identity', 'zstd', 'gzip;q=0']) {
      const r = await get('/lorem.txt', ae === undefined ? {} : { 'Accept-Encoding': ae }, 'GET', on);
      expect(r.head).not.toContain('Content-Encoding');
      expect(r.head).toContain(`ETag: ${strong}\r\n`);
      expect(r.head).toContain('Vary: Accept-Encoding\r\n');
      expect(r.head).toContain(`Content-Length: ${lorem.length}\r\n`);
      expect(r.body.equals(lorem)).toBe(true);
    }
  });

  it('off by default: no Vary, no encoding', async () => {
    const r = await get('/lorem.txt', { 'Accept-Encoding': 'gzip' });
    expect(r.head).not.toContain('Vary');
    expect(r.head).not.toContain('Content-Encoding');
    expect(r.body.equals(lorem)).toBe(true);
  });

  it('HEAD: the headers GET would send (without framing), no body', async () => {
    for (const ae of ['gzip', 'br']) {
      const g = await get('/lorem.txt', { 'Accept-Encoding': ae }, 'GET', on);
      const h = await get('/lorem.txt', { 'Accept-Encoding': ae }, 'HEAD', on);
      expect(h.head).toBe(g.head.replace('Transfer-Encoding: chunked\r\n', ''));
      expect(h.head).toContain(`Content-Encoding: ${ae}\r\n`);
      expect(h.body.length).toBe(0);
      expect(h.res.keepAlive).toBe(true);
    }
    // Identity HEAD keeps the GET's Content-Length.
    const g = await get('/lorem.txt', {}, 'GET', on);
    const h = await get('/lorem.txt', {}, 'HEAD', on);
    expect(h.head).toBe(g.head);
    expect(h.body.length).toBe(0);
  });

  it('Range + Accept-Encoding: 206 from the identity bytes, strong ETag, Vary kept', async () => {
    const a = await get('/lorem.txt', { Range: 'bytes=100-299', 'Accept-Encoding': 'gzip, br' }, 'GET', on);
    expect(a.head).toMatch(/^HTTP\/1\.1 206 Partial Content\r\n/);
    expect(a.head).toContain(`Content-Range: bytes 100-299/${lorem.length}\r\n`);
    expect(a.head).toContain(`ETag: ${strong}\r\n`);
    expect(a.head).toContain('Vary: Accept-Encoding\r\n');
    expect(a.head).toContain('Content-Length: 200\r\n');
    expect(a.head).not.toContain('Content-Encoding');
    expect(a.body.equals(lorem.subarray(100, 300))).toBe(true);
    const b = await get('/lorem.txt', { Range: 'bytes=0-9,-10', 'Accept-Encoding': 'gzip' }, 'GET', on);
    expect(b.head).toContain('multipart/byteranges');
    expect(b.head).not.toContain('Content-Encoding');
    expect(Number(/Content-Length: (\d+)/.exec(b.head)![1])).toBe(b.body.length);
    expect(b.body.includes(lorem.subarray(lorem.length - 10))).toBe(true);
    // If-Range with the weak ETag of the encoded 200 never matches (strong comparison): full 200.
    const c = await get(
      '/lorem.txt',
      { Range: 'bytes=0-9', 'If-Range': `W/${strong}`, 'Accept-Encoding': 'gzip' },
      'GET',
      on,
    );
    expect(c.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(gunzipSync(decodeChunked(c.body).body).equals(lorem)).toBe(true);
  });

  it('below the threshold, empty, or not compressible: identity with exact length', async () => {
    const small = await get('/hello.txt', { 'Accept-Encoding': 'gzip' }, 'GET', on);
    expect(small.head).not.toContain('Content-Encoding');
    expect(small.head).toContain('Content-Length: 11\r\n');
    expect(small.head).toContain('Vary: Accept-Encoding\r\n'); // still depends on the request
    expect(small.body.toString()).toBe('hello world');
    const low = await get('/hello.txt', { 'Accept-Encoding': 'gzip' }, 'GET', { compress: { threshold: 4 } });
    expect(low.head).toContain('Content-Encoding: gzip\r\n');
    expect(gunzipSync(decodeChunked(low.body).body).toString()).toBe('hello world');
    const empty = await get('/empty.txt', { 'Accept-Encoding': 'gzip' }, 'GET', {
      compress: { threshold: 0 },
    });
    expect(empty.head).toContain('Content-Length: 0\r\n');
    expect(empty.head).not.toContain('Content-Encoding');
    const bin = await get('/data.bin', { 'Accept-Encoding': 'gzip' }, 'GET', on);
    expect(bin.head).not.toContain('Vary');
    expect(bin.head).not.toContain('Content-Encoding');
    expect(bin.body.equals(big)).toBe(true);
    const only = await get('/lorem.txt', { 'Accept-Encoding': 'br' }, 'GET', {
      compress: { encodings: ['gzip'] },
    });
    expect(only.head).not.toContain('Content-Encoding');
  });

  it('304 carries the Vary and the (weak) ETag of the 200 it stands for', async () => {
    const a = await get(
      '/lorem.txt',
      { 'If-None-Match': `W/${strong}`, 'Accept-Encoding': 'gzip' },
      'GET',
      on,
    );
    expect(a.head).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n/);
    expect(a.head).toContain(`ETag: W/${strong}\r\n`);
    expect(a.head).toContain('Vary: Accept-Encoding\r\n');
    expect(a.body.length).toBe(0);
    const b = await get('/lorem.txt', { 'If-None-Match': strong }, 'GET', on);
    expect(b.head).toMatch(/ 304 /);
    expect(b.head).toContain(`ETag: ${strong}\r\n`);
  });

  it('HTTP/1.0 client: encoded body is close-delimited', async () => {
    const sink = new MemorySink();
    const res = new ResponseWriter(sink, { method: 'GET', versionMinor: 0, keepAlive: true, date: false });
    const req = Object.assign(requestFrom('GET', { 'Accept-Encoding': 'gzip' }), { path: '/lorem.txt' });
    expect(await serveStatic(root, on)(req, res)).toBe(true);
    const { head, body } = split(sink.bytes);
    expect(head).toContain('Connection: close\r\n');
    expect(head).not.toContain('Transfer-Encoding');
    expect(res.keepAlive).toBe(false);
    expect(gunzipSync(body).equals(lorem)).toBe(true);
  });
});
