/**
 * The README's example is a test: every ```ts block runs (the workspace's sources, through tsx) and
 * must print exactly the lines its `// -> ` comments name.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(pkg, '../../node_modules/tsx/dist/cli.mjs');

function blocks(): string[] {
  const md = readFileSync(join(pkg, 'README.md'), 'utf8');
  return [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

it('the README has a runnable example, and it prints what it says', async () => {
  const found = blocks();
  expect(found.length).toBeGreaterThan(0);
  // Inside the package, so that `@strata/inspector` resolves to itself (self-reference).
  const dir = mkdtempSync(join(pkg, '.readme-'));
  try {
    for (const code of found) {
      const expected = [...code.matchAll(/^\/\/ -> (.*)$/gm)].map((m) => m[1]!);
      expect(expected.length).toBeGreaterThan(0);
      const file = join(dir, 'example.ts');
      writeFileSync(file, code);
      const out = await new Promise<string>((done, fail) =>
        execFile(
          process.execPath,
          [tsx, '--conditions=strata-source', file],
          { cwd: pkg, timeout: 15_000 },
          (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done(stdout)),
        ),
      );
      expect(out.trimEnd().split('\n')).toEqual(expected);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
