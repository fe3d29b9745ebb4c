/**
 * The README example runs as written (`@strata/otel` pointed at the sources, everything else as
 * installed) and prints the lines its `// ->` comments show, in order (`...` matches anything).
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

function example(heading: string): string {
  const readme = readFileSync(join(here, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const start = section.indexOf('```ts\n') + '```ts\n'.length;
  return section.slice(start, section.indexOf('\n```', start));
}

function matches(line: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('...')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(line);
}

it('the README example runs as written and prints what its comments say', async () => {
  const code = example('## Example');
  const expected = [...code.matchAll(/\/\/ -> (.*)$/gm)].map((m) => m[1]!);
  expect(expected.length).toBeGreaterThan(5);
  // Next to the tests, so that its other imports resolve as this package's dependencies.
  const file = join(here, `_readme-example-${process.pid}.ts`);
  writeFileSync(
    file,
    code.replace("from '@strata/otel'", `from ${JSON.stringify(join(here, '../src/index.ts'))}`),
  );
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(format(...args));
  });
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    log.mockRestore();
    unlinkSync(file);
  }
  expect(printed).toHaveLength(expected.length);
  printed.forEach((line, i) => {
    expect(matches(line, expected[i]!), `line ${i + 1}: ${JSON.stringify(line)} vs ${expected[i]}`).toBe(
      true,
    );
  });
});
