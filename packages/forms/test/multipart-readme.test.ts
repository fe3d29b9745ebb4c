import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

it('the README multipart example runs as written and prints what its comments say', async () => {
  const readme = readFileSync(join(here, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## multipart/form-data'));
  const start = section.indexOf('```ts\n') + '```ts\n'.length;
  const code = section
    .slice(start, section.indexOf('\n```', start))
    .replace("from '@strata/forms'", `from ${JSON.stringify(join(here, '../src/index.ts'))}`);
  const file = join(tmpdir(), `strata-forms-multipart-readme-${process.pid}.ts`);
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
  expect(printed).toEqual([
    ['complete'],
    [
      [
        ['title', undefined, 'text/plain', undefined, 5],
        ['doc', '../../etc/passwd', 'text/plain', 'utf-8', 10],
      ],
    ],
    ['passwd'],
    ['FORM_FIELD_TOO_LARGE', 413, 59],
  ]);
});
