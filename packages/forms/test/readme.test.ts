import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Runs the first `ts` block after the README heading `heading`, as written (`@strata/forms` pointed
 * at the sources), and returns what it printed with `console.log`.
 */
async function runReadmeExample(heading: string): Promise<unknown[][]> {
  const readme = readFileSync(join(here, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const start = section.indexOf('```ts\n') + '```ts\n'.length;
  const code = section
    .slice(start, section.indexOf('\n```', start))
    .replace("from '@strata/forms'", `from ${JSON.stringify(join(here, '../src/index.ts'))}`);
  const file = join(tmpdir(), `strata-forms-readme-${process.pid}-${heading.length}.ts`);
  writeFileSync(file, code);
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args);
  });
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    log.mockRestore();
    unlinkSync(file);
  }
  return printed;
}

it('the README urlencoded example runs as written and prints what its comments say', async () => {
  expect(await runReadmeExample('## application/x-www-form-urlencoded')).toEqual([
    [
      [
        ['name', 'Jörg'],
        ['tags', 'a b'],
        ['tags', 'c'],
      ],
    ],
    [
      [
        ['q', '€ 5'],
        ['page', '2'],
      ],
    ],
    ['FORM_TOO_MANY_FIELDS', 413, 8],
  ]);
});

it('the README multipart example runs as written and prints what its comments say', async () => {
  expect(await runReadmeExample('## multipart/form-data')).toEqual([
    ['complete'],
    ['title', undefined, 'text/plain', undefined, 5],
    ['doc', '../../etc/passwd', 'text/plain', 'utf-8', 10],
    ['passwd'],
    ['FORM_FIELD_TOO_LARGE', 413, 59],
  ]);
});

it('the README parts() / formData() example runs as written and prints what its comments say', async () => {
  expect(await runReadmeExample('## Reading a form')).toEqual([
    ['title', 'Holiday'],
    ['photo', 'beach.jpg', 'image/jpeg', 300000],
    ['Ada', 'en'],
  ]);
});
