/**
 * Every ```ts block of the package READMEs runs as written, in the workspace: `@strata/*` resolves
 * to each package's `src/` (the `strata-source` condition) and tsx runs the TypeScript. Each block
 * is written into its own package (`packages/<pkg>/.tmp/`, ignored by git), so it resolves the
 * same dependencies a user of that package has. What each prints must be its `// ->` lines.
 * Conventions: `scripts/readme-examples.ts` and CONTRIBUTING.md. The same blocks run from the
 * packed tarballs in `readme-packed.test.ts`.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allExamples,
  compareOutput,
  exampleName,
  extractExamples,
  type ReadmeExample,
  type RunResult,
  repoRoot,
  runAll,
  runProgram,
  startRedis,
  verdict,
} from '../readme-examples.ts';

const tsx = join(repoRoot, 'node_modules/tsx/dist/cli.mjs');
const examples = allExamples();
const runnable = examples.filter((e) => e.notRun === null);

describe('README example conventions', () => {
  it('extracts ts blocks, markers and // -> lines', () => {
    const md = [
      '```ts',
      "console.log('a'); // -> a",
      '```',
      '```sh',
      'echo no',
      '```',
      '<!-- example: not run, a type signature -->',
      '```ts',
      'interface X {}',
      '```',
      '<!-- example: needs redis -->',
      '',
      '```ts',
      'console.log(1); // -> 1',
      '// -> port ...',
      '```',
    ].join('\n');
    const got = extractExamples('x', md);
    expect(got.map((e) => [e.index, e.line, e.notRun, e.redis, e.expected])).toEqual([
      [1, 1, null, false, ['a']],
      [2, 8, 'a type signature', false, []],
      [3, 13, null, true, ['1', 'port ...']],
    ]);
    expect(() => extractExamples('x', '<!-- example: maybe -->\n```ts\n```')).toThrow(
      /unknown example marker/,
    );
  });

  it('compares output in any order, with ... as a wildcard', () => {
    expect(compareOutput(['b', 'a 1'], 'a 1\nb\n')).toBeNull();
    expect(compareOutput(['port ...', 'x'], 'x\nport 4321\n')).toBeNull();
    expect(compareOutput(['a'], 'a\nb\n')).toMatch(/printed but not expected:\n {2}b/);
    expect(compareOutput(['a', 'c'], 'a\n')).toMatch(/expected but not printed:\n {2}c/);
  });

  it('every package README has runnable examples, and each shows what it prints', () => {
    for (const pkg of new Set(examples.map((e) => e.pkg))) {
      expect(runnable.filter((e) => e.pkg === pkg).length, pkg).toBeGreaterThan(0);
    }
    for (const e of runnable)
      expect(e.expected.length, `${exampleName(e)} has no // -> line`).toBeGreaterThan(0);
  });
});

describe('README examples run in the workspace', () => {
  let results = new Map<ReadmeExample, RunResult>();
  const dir = (e: ReadmeExample) => join(repoRoot, 'packages', e.pkg, '.tmp/readme-examples');

  // All of them first, two at a time; each test then reads its own result.
  beforeAll(async () => {
    const redis = runnable.some((e) => e.redis) ? await startRedis() : null;
    try {
      results = await runAll(runnable, 2, async (e) => {
        mkdirSync(dir(e), { recursive: true });
        const file = join(dir(e), `example-${e.index}.ts`);
        writeFileSync(file, `${e.code}\n`);
        return runProgram(process.execPath, [tsx, '--conditions=strata-source', file], {
          cwd: dir(e),
          env: { ...process.env, ...(redis ? { REDIS_URL: redis.url } : {}) },
          timeoutMs: 30_000,
        });
      });
    } finally {
      await redis?.stop();
      for (const e of runnable) {
        rmSync(dir(e), { recursive: true, force: true });
        try {
          rmdirSync(join(dir(e), '..')); // .tmp itself, unless something else keeps files there
        } catch {}
      }
    }
  }, 300_000);

  it.each(runnable.map((e) => [exampleName(e), e] as const))('%s', (_name, e) => {
    const result = results.get(e);
    expect(result, 'not run').toBeDefined();
    const failure = verdict(e, result!);
    expect(failure, failure ?? '').toBeNull();
  });
});
