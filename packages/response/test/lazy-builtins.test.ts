import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * Importing @strata/response must not load node:crypto, node:zlib or node:fs/promises (a server that
 * never hashes, signs, compresses or serves files would pay 1-2.4 MB of memory each for them). Vitest and tsx load node:crypto themselves, so the
 * check runs in a fresh `node`: the package source is transpiled to CommonJS with TypeScript (no
 * bundler, no loader hook) into a temporary folder, and a script reports `process.moduleLoadList`
 * before and after the first calls that need each builtin.
 */
const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'strata-response-lazy-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function transpile(): void {
  writeFileSync(join(out, 'package.json'), '{"type":"commonjs"}');
  for (const f of readdirSync(srcDir)) {
    if (!f.endsWith('.ts')) continue;
    const js = ts.transpileModule(readFileSync(join(srcDir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
  }
}

const PROBE = `
const loaded = () => process.moduleLoadList.filter((m) => m === 'NativeModule crypto' || m === 'NativeModule zlib' || m === 'NativeModule fs/promises');
const report = { start: loaded() };
const r = require('./index.js');
report.imported = loaded();
report.etag = r.etagFor('hello');
report.afterEtag = loaded();
report.signed = r.signCookie('user42', 'k');
report.unsigned = r.unsignCookie(report.signed, ['other', 'k']);
const chunks = [];
const sink = { write: (c) => { chunks.push(Buffer.from(c)); return true; }, cork() {}, uncork() {}, onDrain() {}, end() {} };
const w = new r.ResponseWriter(sink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
w.header('Content-Type', 'text/plain');
r.sendCompressed(r.requestFrom('GET', { 'Accept-Encoding': 'gzip' }), w, 'x'.repeat(4096)).then(() => {
  report.afterCompress = loaded();
  const raw = Buffer.concat(chunks);
  const body = raw.subarray(raw.indexOf('\\r\\n\\r\\n') + 4);
  report.head = raw.subarray(0, raw.indexOf('\\r\\n\\r\\n')).toString('latin1');
  let gz = body;
  if (/transfer-encoding: chunked/i.test(report.head)) {
    const parts = [];
    for (let p = 0; ; ) {
      const eol = body.indexOf('\\r\\n', p);
      const n = Number.parseInt(body.subarray(p, eol).toString('latin1'), 16);
      if (n === 0) break;
      parts.push(body.subarray(eol + 2, eol + 2 + n));
      p = eol + 2 + n + 2;
    }
    gz = Buffer.concat(parts);
  }
  report.gunzipped = require('node:zlib').gunzipSync(gz).length;
  const files = [];
  const fsink = { write: (c) => { files.push(Buffer.from(c)); return true; }, cork() {}, uncork() {}, onDrain() {}, end() {} };
  const fw = new r.ResponseWriter(fsink, { method: 'GET', versionMinor: 1, keepAlive: true, date: false });
  const freq = Object.assign(r.requestFrom('GET', {}), { path: '/package.json' });
  return r.serveStatic(__dirname)(freq, fw).then((answered) => {
    report.afterStatic = loaded();
    const raw = Buffer.concat(files).toString('latin1');
    report.staticAnswered = answered;
    report.staticBody = raw.slice(raw.indexOf('\\r\\n\\r\\n') + 4);
    process.stdout.write(JSON.stringify(report));
  });
}).catch((e) => { console.error(e); process.exit(1); });
`;

describe('node:crypto, node:zlib and node:fs/promises load on first use', () => {
  it('importing the package loads none of them; etagFor, cookies, compression and files load what they need', () => {
    transpile();
    writeFileSync(join(out, 'probe.js'), PROBE);
    const run = spawnSync(process.execPath, [join(out, 'probe.js')], {
      cwd: out,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const rep = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(rep.start).toEqual([]);
    expect(rep.imported).toEqual([]);
    expect(rep.afterEtag).toEqual(['NativeModule crypto']);
    const sha = createHash('sha1').update('hello').digest('base64url');
    expect(rep.etag).toBe(`"5-${sha}"`);
    const mac = createHmac('sha256', 'k').update('user42').digest('base64url');
    expect(rep.signed).toBe(`user42.${mac}`);
    expect(rep.unsigned).toBe('user42');
    expect(rep.afterCompress).toEqual(['NativeModule crypto', 'NativeModule zlib']);
    expect(rep.head).toMatch(/\r\ncontent-encoding: gzip\r\n/i);
    expect(rep.gunzipped).toBe(4096);
    expect(rep.staticAnswered).toBe(true);
    expect(rep.staticBody).toBe('{"type":"commonjs"}');
    expect(rep.afterStatic).toEqual(['NativeModule crypto', 'NativeModule zlib', 'NativeModule fs/promises']);
  });
});
