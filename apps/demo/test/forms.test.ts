/**
 * `POST /upload` with a `multipart/form-data` body, against the built CLI over real sockets: forms
 * from curl -F and from fetch with a FormData answered part by part (name, file name, type, bytes,
 * SHA-256), a page for a browser's form submission, limits answered with their status, and a 1 GiB
 * file read by a slow consumer (`?pace=`) that never costs the server more than 32 MB.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, type Demo, splitResponse, startDemo } from './_harness';

/** `--max-upload 2G`: a 1 GiB file and its form's part headers fit. */
let demo: Demo;
/** `--max-upload 100000`. */
let tight: Demo;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-forms-'));
  [demo, tight] = await Promise.all([
    startDemo(['serve', '--port', '0', '--max-upload', '2G']),
    startDemo(['serve', '--port', '0', '--max-upload', '100000']),
  ]);
});
afterAll(async () => {
  await Promise.all([demo?.stop(), tight?.stop()]);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Resident memory now (VmRSS) and at its peak (VmHWM), in bytes. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (m === null) throw new Error(`no ${field} for ${pid}`);
    return Number(m[1]) * 1024;
  };
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * POSTs a multipart body with one file of `size` bytes through a raw socket, written 1 MiB at a
 * time as fast as the socket takes it; returns the status line, the answer and the file's digest.
 */
async function rawFormUpload(
  d: Demo,
  path: string,
  size: number,
): Promise<{ head: string; body: string; sha256: string }> {
  const boundary = 'strata-big-upload';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="big"; filename="big.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const piece = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 131) & 0xff;
  const hash = createHash('sha256');
  const sock = connect(Number(new URL(d.url).port), '127.0.0.1');
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
  const got: Buffer[] = [];
  const ended = new Promise<void>((r) => sock.on('end', r).on('close', r));
  sock.on('data', (c) => got.push(c));
  sock.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
      `Content-Length: ${head.length + size + tail.length}\r\n\r\n`,
  );
  sock.write(head);
  for (let sent = 0; sent < size; ) {
    const n = Math.min(piece.length, size - sent);
    const chunk = n === piece.length ? piece : piece.subarray(0, n);
    hash.update(chunk);
    sent += n;
    if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r).once('close', r));
    if (sock.destroyed) break; // refused early: the answer says why
  }
  sock.write(tail);
  await ended;
  const res = Buffer.concat(got).toString('utf8');
  const split = res.indexOf('\r\n\r\n');
  return { head: res.slice(0, split), body: res.slice(split + 4), sha256: hash.digest('hex') };
}

describe('POST /upload with a multipart/form-data form', () => {
  it('curl -F: each field and file with its name, file name, type, bytes and SHA-256', async () => {
    const a = randomBytes(2 * 1024 * 1024 + 3);
    const b = Buffer.from('tea,2\r\n--coffee,3\r\n');
    writeFileSync(join(dir, 'a.bin'), a);
    writeFileSync(join(dir, 'menu.csv'), b);
    const r = await curl(
      [
        '-sS',
        '-i',
        '-F',
        'who=Ada',
        '-F',
        `files=@${join(dir, 'a.bin')}`,
        '-F',
        `files=@${join(dir, 'menu.csv')};type=text/csv;filename=menü.csv`,
        `${demo.url}/upload`,
      ],
      15_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const res = splitResponse(r.stdout);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(res.body.toString('utf8'))).toEqual({
      parts: [
        {
          name: 'who',
          filename: null,
          type: 'text/plain',
          bytes: 3,
          sha256: sha256(Buffer.from('Ada')),
          value: 'Ada',
        },
        {
          name: 'files',
          filename: 'a.bin',
          type: 'application/octet-stream',
          bytes: a.length,
          sha256: sha256(a),
        },
        { name: 'files', filename: 'menü.csv', type: 'text/csv', bytes: b.length, sha256: sha256(b) },
      ],
    });
  });

  it('fetch with a FormData: several files, an empty one, non-ASCII names', async () => {
    const form = new FormData();
    const x = randomBytes(100_000);
    form.append('note', 'Grüße, 日本');
    form.append('docs', new Blob([x], { type: 'image/png' }), 'ph\u00f6to.png');
    form.append('docs', new Blob([]), 'empty.txt');
    const res = await fetch(`${demo.url}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const note = Buffer.from('Grüße, 日本');
    expect(await res.json()).toEqual({
      parts: [
        {
          name: 'note',
          filename: null,
          type: 'text/plain',
          bytes: note.length,
          sha256: sha256(note),
          value: 'Grüße, 日本',
        },
        { name: 'docs', filename: 'ph\u00f6to.png', type: 'image/png', bytes: x.length, sha256: sha256(x) },
        {
          name: 'docs',
          filename: 'empty.txt',
          type: 'application/octet-stream',
          bytes: 0,
          sha256: sha256(new Uint8Array(0)),
        },
      ],
    });
  });

  it('a browser form submission (Accept: text/html) gets a page with a row per part and a way back', async () => {
    const form = new FormData();
    form.append('who', '<b>Ada</b>');
    form.append('files', new Blob(['hello']), 'a "quoted" <name>.txt');
    const res = await fetch(`${demo.url}/upload`, {
      method: 'POST',
      body: form,
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<table id="parts">');
    expect(html).toContain('&lt;b&gt;Ada&lt;/b&gt;');
    expect(html).not.toContain('<b>Ada</b>');
    expect(html).toContain(sha256(Buffer.from('hello')));
    expect(html).toContain('<a href="/upload">Back to the upload page</a>');
  });

  it('limits: past --max-upload 413, a malformed form 400 with its code, ?pace out of range 400', async () => {
    const big = new FormData();
    big.append('f', new Blob([new Uint8Array(200_000)]), 'f.bin');
    const over = await fetch(`${tight.url}/upload`, { method: 'POST', body: big });
    expect(over.status).toBe(413);
    const bad = await fetch(`${demo.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('FORM_UNEXPECTED_END');
    const pace = await fetch(`${demo.url}/upload?pace=5000`, { method: 'POST', body: new FormData() });
    expect(pace.status).toBe(400);
    expect(await pace.json()).toMatchObject({ code: 'ERR_UPLOAD_PACE' });
    expect(demo.stderr()).not.toContain('handler error');
  });

  it('a 1 GiB file read by a slow consumer (?pace=1) costs the server under 32 MB of memory', async () => {
    const pid = demo.child.pid!;
    // Warm up: the first upload brings the hashing and parsing code in and sizes the heap.
    const warm = await rawFormUpload(demo, '/upload', 64 * 1024 * 1024);
    expect(warm.head).toMatch(/^HTTP\/1\.1 200 /);
    // Reset the peak (VmHWM) to the current RSS: the peak below is this upload's alone.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = rss(pid);
    const size = 1024 * 1024 * 1024;
    const r = await rawFormUpload(demo, '/upload?pace=1', size);
    expect(r.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(r.body)).toEqual({
      parts: [
        { name: 'big', filename: 'big.bin', type: 'application/octet-stream', bytes: size, sha256: r.sha256 },
      ],
    });
    const after = rss(pid);
    const grown = after.peak - before.now;
    expect(
      grown,
      `peak RSS grew by ${(grown / 1e6).toFixed(1)} MB (from ${(before.now / 1e6).toFixed(0)} MB)`,
    ).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);
});
