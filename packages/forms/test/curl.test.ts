/**
 * Forms as a real client sends them: `curl -F` posts to a node:http server on 127.0.0.1 that keeps
 * the raw body; our parser (whole, byte by byte, at every split point), busboy and undici's
 * `Response.formData()` must agree on every part. (The server is test scaffolding: the package
 * itself does no I/O.)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import busboy from 'busboy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContentType } from '../src/index';
import { runAll } from './_multipart-helpers';

interface Captured {
  contentType: string;
  body: Buffer;
}

let server: ReturnType<typeof createServer>;
let port = 0;
let last: Captured | null = null;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forms-curl-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      last = { contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) };
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** Runs curl with `args` against the capture server and returns what it posted. */
function curl(args: string[]): Promise<Captured> {
  last = null;
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '-H', 'Expect:', ...args, `http://127.0.0.1:${port}/`],
      (err) => {
        if (err) reject(err);
        else if (last === null) reject(new Error('nothing captured'));
        else resolve(last);
      },
    );
  });
}

interface Part {
  name: string;
  filename: string | undefined;
  mediaType: string;
  body: string;
}

function viaBusboy(c: Captured): Promise<Part[]> {
  return new Promise((resolve, reject) => {
    const out: Part[] = [];
    const bb = busboy({ headers: { 'content-type': c.contentType }, defParamCharset: 'utf8' });
    bb.on('field', (name, value, info) =>
      out.push({ name, filename: undefined, mediaType: info.mimeType, body: value }),
    );
    bb.on('file', (name, stream, info) => {
      const part: Part = { name, filename: info.filename, mediaType: info.mimeType, body: '' };
      out.push(part);
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        part.body = Buffer.concat(chunks).toString('latin1');
      });
    });
    bb.on('close', () => resolve(out));
    bb.on('error', reject);
    bb.end(c.body);
  });
}

async function viaUndici(c: Captured): Promise<Part[]> {
  const form = await new Response(c.body, { headers: { 'content-type': c.contentType } }).formData();
  const out: Part[] = [];
  for (const [name, value] of form) {
    if (typeof value === 'string')
      out.push({ name, filename: undefined, mediaType: 'text/plain', body: value });
    else
      out.push({
        name,
        filename: value.name,
        mediaType: value.type,
        body: Buffer.from(await value.arrayBuffer()).toString('latin1'),
      });
  }
  return out;
}

/** Ours, with file bodies as latin1 (bytes) and field bodies decoded as UTF-8. */
function viaStrata(c: Captured): Part[] {
  const { boundary } = parseContentType(c.contentType);
  const outcome = runAll(new Uint8Array(c.body), boundary);
  expect(outcome.error).toBeNull();
  return outcome.parts.map((p) => {
    const bytes = Buffer.from(p.body);
    const isFile = p.info.filename !== undefined;
    return {
      name: p.info.name,
      filename: p.info.filename,
      mediaType: p.info.mediaType,
      body: isFile ? bytes.toString('latin1') : bytes.toString('utf8'),
    };
  });
}

describe('curl -F: ours, busboy and undici agree', () => {
  it('fields (non-ASCII too) and several files of any bytes, with their types', async () => {
    const binary = Buffer.alloc(3000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 31 + 7) & 0xff;
    // bytes that look like a delimiter inside a file
    binary.write('\r\n--', 1000, 'latin1');
    writeFileSync(join(dir, 'photo.bin'), binary);
    writeFileSync(join(dir, 'notes.txt'), 'line one\r\nline two\n');
    const c = await curl([
      '-F',
      'title=Grüße aus Köln',
      '-F',
      'empty=',
      '-F',
      `photo=@${join(dir, 'photo.bin')};type=application/octet-stream`,
      '-F',
      `notes=@${join(dir, 'notes.txt')};type=text/plain`,
      '-F',
      `renamed=@${join(dir, 'notes.txt')};filename=report.txt`,
    ]);
    expect(c.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const ours = viaStrata(c);
    expect(ours.map((p) => [p.name, p.filename])).toEqual([
      ['title', undefined],
      ['empty', undefined],
      ['photo', 'photo.bin'],
      ['notes', 'notes.txt'],
      ['renamed', 'report.txt'],
    ]);
    expect(ours[0]!.body).toBe('Grüße aus Köln');
    expect(ours[2]!.body).toBe(binary.toString('latin1'));
    expect(await viaBusboy(c)).toEqual(ours);
    const undici = await viaUndici(c);
    // undici reports a field's type as text/plain too; ours and busboy say what the part declared
    expect(undici.map((p) => ({ ...p, mediaType: '' }))).toEqual(ours.map((p) => ({ ...p, mediaType: '' })));
  });

  it('a file named with non-ASCII characters keeps its name', async () => {
    writeFileSync(join(dir, 'résumé.txt'), 'bonjour');
    const c = await curl(['-F', `cv=@${join(dir, 'résumé.txt')}`]);
    const ours = viaStrata(c);
    expect(ours).toEqual([{ name: 'cv', filename: 'résumé.txt', mediaType: 'text/plain', body: 'bonjour' }]);
    expect(await viaBusboy(c)).toEqual(ours);
    expect(await viaUndici(c)).toEqual(ours);
  });
});
