import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, importsOf } from '../check-layers.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/check-layers.ts');
const tsx = join(repoRoot, 'node_modules/tsx/dist/cli.mjs');

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A small clean workspace in the real repo's shape. */
function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'strata-layers-'));
  dirs.push(root);
  const exportsOf = (extra: Record<string, string> = {}) => ({ '.': './src/index.ts', ...extra });
  const pkg = (dir: string, name: string, deps: Record<string, string> = {}, extra = {}) =>
    write(
      root,
      `${dir}/package.json`,
      JSON.stringify({ name, exports: exportsOf(extra), dependencies: deps }),
    );
  pkg('packages/http-parser', '@strata/http-parser');
  pkg('packages/http2', '@strata/http2');
  pkg('packages/response', '@strata/response');
  pkg('packages/router', '@strata/router');
  pkg('packages/transport', '@strata/transport', {}, { './testing': './src/testing.ts' });
  pkg('packages/server', '@strata/server', {
    '@strata/transport': 'workspace:^',
    '@strata/http-parser': 'workspace:^',
    '@strata/http2': 'workspace:^',
    '@strata/response': 'workspace:^',
  });
  pkg('packages/websocket', '@strata/websocket', { '@strata/server': 'workspace:^' });
  pkg('packages/inspector', '@strata/inspector', {
    '@strata/server': 'workspace:^',
    '@strata/response': 'workspace:^',
  });
  pkg('packages/otel', '@strata/otel');
  pkg('apps/demo', '@strata/demo', { '@strata/router': 'workspace:^', '@strata/server': 'workspace:^' });
  write(root, 'packages/http-parser/src/index.ts', "export * from './_scan';\n");
  write(
    root,
    'packages/http-parser/src/_scan.ts',
    '// uses node:net in a comment only\nexport const x = 1;\n',
  );
  write(
    root,
    'packages/response/src/index.ts',
    "import { createReadStream } from 'node:fs';\nexport { createReadStream };\n",
  );
  write(root, 'packages/router/src/index.ts', 'export const r = 1;\n');
  write(
    root,
    'packages/transport/src/index.ts',
    "import net from 'node:net';\nimport tls from 'node:tls';\nexport { net, tls };\n",
  );
  write(root, 'packages/transport/src/testing.ts', 'export const t = 1;\n');
  write(
    root,
    'packages/server/src/index.ts',
    "import { x } from '@strata/http-parser';\nimport type { T } from '@strata/transport/testing';\nimport { r } from '@strata/response';\nexport { x, r };\nexport type { T };\n",
  );
  write(root, 'packages/websocket/src/index.ts', "export type { S } from '@strata/server';\n");
  write(
    root,
    'packages/inspector/src/index.ts',
    "import { subscribe } from 'node:diagnostics_channel';\nimport type { S } from '@strata/server';\nimport { r } from '@strata/response';\nexport { subscribe, r };\nexport type { S };\n",
  );
  write(
    root,
    'packages/otel/src/index.ts',
    "import { subscribe } from 'node:diagnostics_channel';\nimport type { S } from '@strata/server';\nexport { subscribe };\nexport type { S };\n",
  );
  write(
    root,
    'apps/demo/src/cli.ts',
    "import { r } from '@strata/router';\nimport '@strata/server';\nconsole.log(r);\n",
  );
  return root;
}

describe('check-layers', () => {
  it('finds every import form', () => {
    const code = `
      import a from 'a'; import { b } from "b"; import type { C } from 'c';
      export * from 'd'; export { e } from 'e'; import 'f'; const g = await import('g');
      const h = require('h');
      // import nope from 'comment';
      /* import nope2 from 'block'; */
    `;
    expect(importsOf(code).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('passes a clean workspace', () => {
    expect(checkLayers(fixture())).toEqual([]);
  });

  it('passes the real repository', () => {
    expect(checkLayers(repoRoot)).toEqual([]);
  });

  const planted: Array<[string, string, string, RegExp]> = [
    [
      'a leaf importing another @strata package',
      'packages/router/src/bad.ts',
      "import { x } from '@strata/http-parser';",
      /leaf/,
    ],
    [
      'a leaf importing node:net',
      'packages/http-parser/src/bad.ts',
      "import net from 'node:net';",
      /no node:net/,
    ],
    [
      'a leaf importing tls without the node: prefix',
      'packages/response/src/bad.ts',
      "import tls from 'tls';",
      /no node:tls/,
    ],
    [
      'a leaf requiring node:cluster',
      'packages/router/src/bad.ts',
      "const c = require('node:cluster');",
      /no node:cluster/,
    ],
    [
      'http2 (a leaf) importing the transport',
      'packages/http2/src/bad.ts',
      "import type { Connection } from '@strata/transport';",
      /leaf/,
    ],
    [
      'http2 importing node:http2',
      'packages/http2/src/bad.ts',
      "import h2 from 'node:http2';",
      /sans I\/O: no node:http/,
    ],
    [
      'transport importing an HTTP package',
      'packages/transport/src/bad.ts',
      "import { x } from '@strata/http-parser';",
      /knows nothing of HTTP/,
    ],
    [
      'transport importing node:http',
      'packages/transport/src/bad.ts',
      "import http from 'node:http';",
      /knows nothing of HTTP/,
    ],
    [
      'server importing the router',
      'packages/server/src/bad.ts',
      "import { r } from '@strata/router';",
      /never router/,
    ],
    [
      'server importing websocket dynamically',
      'packages/server/src/bad.ts',
      "const w = await import('@strata/websocket');",
      /never router or websocket/,
    ],
    [
      'the inspector importing the transport',
      'packages/inspector/src/bad.ts',
      "import type { Connection } from '@strata/transport';",
      /inspector imports server and response only/,
    ],
    [
      'the inspector importing the router',
      'packages/inspector/src/bad.ts',
      "import { createRouter } from '@strata/router';",
      /inspector imports server and response only/,
    ],
    [
      'the inspector importing node:net',
      'packages/inspector/src/bad.ts',
      "import net from 'node:net';",
      /inspector never touches a socket/,
    ],
    [
      'otel importing the router (it reads strata:router:match by name)',
      'packages/otel/src/bad.ts',
      "import type { RouteMatchMessage } from '@strata/router';",
      /otel imports server only/,
    ],
    [
      'otel importing node:http',
      'packages/otel/src/bad.ts',
      "import http from 'node:http';",
      /otel never touches a socket/,
    ],
    [
      'a package importing from apps/',
      'packages/websocket/src/bad.ts',
      "import x from '../../../apps/demo/src/cli';",
      /apps\//,
    ],
    [
      'a package importing the demo by name',
      'packages/websocket/src/bad.ts',
      "import x from '@strata/demo';",
      /apps\//,
    ],
    [
      'a deep import past exports',
      'packages/websocket/src/bad.ts',
      "import { x } from '@strata/server/src/_engine';",
      /deep import/,
    ],
    [
      'a relative import into another package',
      'packages/server/src/bad.ts',
      "import { x } from '../../http-parser/src/_scan';",
      /relative import into another package/,
    ],
  ];

  for (const [what, file, code, rule] of planted) {
    it(`fails on a planted violation: ${what}`, () => {
      const root = fixture();
      write(root, file, `${code}\n`);
      const found = checkLayers(root);
      expect(found).toHaveLength(1);
      expect(found[0]?.file).toBe(file);
      expect(found[0]?.rule).toMatch(rule);
    });
  }

  it('fails on a forbidden dependency declared in package.json', () => {
    const root = fixture();
    write(
      root,
      'packages/router/package.json',
      JSON.stringify({
        name: '@strata/router',
        exports: { '.': './src/index.ts' },
        dependencies: { '@strata/response': '1' },
      }),
    );
    const found = checkLayers(root);
    expect(found.map((v) => v.file)).toEqual(['packages/router/package.json']);
  });

  it('exits non-zero from the command line on a planted violation, zero when clean', () => {
    const root = fixture();
    const ok = execFileSync(process.execPath, [tsx, script, root], { encoding: 'utf8' });
    expect(ok).toMatch(/layers: ok/);
    write(root, 'packages/server/src/bad.ts', "import { r } from '@strata/router';\n");
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [tsx, script, root], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/packages\/server\/src\/bad\.ts: imports "@strata\/router"/);
  });
});
