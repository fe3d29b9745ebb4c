/**
 * The README examples as a user meets them: each package is packed (`pnpm pack`, from its built
 * `dist/`), the tarballs are installed with `npm install` into a new project outside the
 * workspace, every ```ts block is type-checked there against the packed `.d.ts` files (tsc,
 * NodeNext resolution from that project's node_modules), then compiled to JavaScript and run with
 * plain `node`, and must print its `// ->` lines. Conventions: `scripts/readme-examples.ts`.
 *
 * Needs: built packages (`pnpm build`; `pnpm test` builds first, and a missing `dist/` fails here
 * with the command to run), the npm registry (the Redis example installs
 * `@redis/client`, as its user would), `redis-server` (installed by `scripts/system-tools.mjs`).
 * When one is missing the test fails and says which; it never skips.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allExamples,
  EXAMPLE_PACKAGES,
  exampleName,
  type ReadmeExample,
  type RunResult,
  repoRoot,
  runAll,
  runProgram,
  startRedis,
  verdict,
} from '../readme-examples.ts';

/** What gets packed: the README packages and what they depend on. */
const PACKED = [...EXAMPLE_PACKAGES];
/** The version the websocket package is tested with (its devDependency). */
const REDIS_CLIENT = '6.3.1';
const PNPM = ['--prefer-offline', '-y', 'pnpm@10.34.8'];

/** npm settings from the environment that describe the machine (a registry mirror, a proxy): kept. */
const MACHINE_NPM_CONFIG =
  /^npm_config_(registry|@.*:registry|proxy|https_proxy|http_proxy|noproxy|no_proxy|cafile|ca|strict_ssl|cache|userconfig|globalconfig)$/i;

/**
 * The environment without the npm_* settings of whatever started the tests (`pnpm test` sets
 * dozens; `npx -p node@24` sets the package to run), so the nested npx, pnpm and npm behave as
 * they would for a user in a new shell on this machine.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || MACHINE_NPM_CONFIG.test(k)) env[k] = v;
  }
  env.npm_config_update_notifier = 'false';
  return env;
}

const examples = allExamples();
const runnable = examples.filter((e) => e.notRun === null);

function must(what: string, r: RunResult, hint: string): void {
  if (r.code !== 0 || r.timedOut) {
    throw new Error(
      `${what} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${hint}\n${r.stdout}\n${r.stderr}`,
    );
  }
}

const timings: Record<string, number> = {};
const started = performance.now();
let project = '';
let redis: { url: string; stop: () => Promise<void> } | null = null;
let typeErrors = '';
let results = new Map<ReadmeExample, RunResult>();

beforeAll(async () => {
  const t0 = performance.now();
  // 1. Built: pnpm pack ships dist/ as it is (pnpm test builds before vitest runs).
  for (const pkg of PACKED) {
    if (!existsSync(join(repoRoot, 'packages', pkg, 'dist/index.js'))) {
      throw new Error(
        `packages/${pkg}/dist is missing: run \`npx -y pnpm@10.34.8 build\` first (pnpm test does)`,
      );
    }
  }

  // 2. Pack, into a project outside the workspace.
  project = mkdtempSync(join(tmpdir(), 'strata-readme-packed-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  const filters = PACKED.flatMap((pkg) => ['--filter', `@strata/${pkg}`]);
  const pack = await runProgram('npx', [...PNPM, '-r', ...filters, 'pack', '--pack-destination', tarballs], {
    cwd: repoRoot,
    env: userEnv(),
    timeoutMs: 90_000,
  });
  must('pnpm pack', pack, 'is pnpm@10.34.8 in the npx cache, or the registry reachable?');
  timings.pack = performance.now() - t0;

  const dependencies: Record<string, string> = { '@redis/client': REDIS_CLIENT };
  for (const file of readdirSync(tarballs)) {
    const m = /^strata-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(file);
    if (m) dependencies[`@strata/${m[1]}`] = `file:./tarballs/${file}`;
  }
  expect(Object.keys(dependencies).sort()).toEqual(
    ['@redis/client', ...PACKED.map((p) => `@strata/${p}`)].sort(),
  );
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'readme-examples', private: true, type: 'module', dependencies }, null, 2),
  );

  // 3. Install as a user does: npm, not the workspace's pnpm.
  const t1 = performance.now();
  const npmArgs = [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    '--fetch-retries=1',
  ];
  const install = await runProgram('npm', [...npmArgs, '--fetch-timeout=30000'], {
    cwd: project,
    env: userEnv(),
    timeoutMs: 120_000,
  });
  must(
    'npm install of the packed tarballs',
    install,
    `it needs the npm registry for @redis/client@${REDIS_CLIENT}: NO NETWORK? (nothing was skipped)`,
  );
  timings.install = performance.now() - t1;

  // 4. Every block as a file; tsc checks them all at once against the installed packages.
  const t2 = performance.now();
  for (const e of examples) writeFileSync(join(project, `${e.pkg}-${e.index}.ts`), `${e.code}\n`);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(repoRoot, 'node_modules/@types')],
      },
      include: ['*.ts'],
    }),
  );
  const tsc = await runProgram(
    process.execPath,
    [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', '.'],
    {
      cwd: project,
      timeoutMs: 90_000,
    },
  );
  typeErrors = tsc.code === 0 ? '' : `${tsc.stdout}${tsc.stderr}` || `tsc exited with ${tsc.code}`;
  timings.typecheck = performance.now() - t2;

  // 5. TypeScript to JavaScript, nothing else: plain node runs the result.
  for (const e of runnable) {
    const out = ts.transpileModule(e.code, {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
      },
      fileName: `${e.pkg}-${e.index}.ts`,
    });
    writeFileSync(join(project, `${e.pkg}-${e.index}.mjs`), out.outputText);
  }
  if (runnable.some((e) => e.redis)) redis = await startRedis();

  // 6. Run them all, two at a time; each test then reads its own result.
  const t3 = performance.now();
  results = await runAll(runnable, 2, (e) =>
    runProgram(process.execPath, [`${e.pkg}-${e.index}.mjs`], {
      cwd: project,
      env: { ...process.env, ...(redis ? { REDIS_URL: redis.url } : {}) },
      timeoutMs: 30_000,
    }),
  );
  timings.examples = performance.now() - t3;
}, 300_000);

afterAll(async () => {
  await redis?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
  timings.total = performance.now() - started;
  const report = Object.entries(timings)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
    .join(', ');
  console.log(`readme-packed: ${report}`);
});

describe('README examples from the packed tarballs', () => {
  it('each installed package carries its LICENSE, README and repository links', () => {
    for (const pkg of EXAMPLE_PACKAGES) {
      const dir = join(project, 'node_modules/@strata', pkg);
      expect(existsSync(join(dir, 'LICENSE')), `${pkg}/LICENSE`).toBe(true);
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(`npm install @strata/${pkg}`);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(manifest.repository?.directory, pkg).toBe(`packages/${pkg}`);
      expect(manifest.homepage, pkg).toMatch(/^https:\/\//);
      expect(manifest.bugs?.url, pkg).toMatch(/^https:\/\//);
    }
  });

  it('type-check against the published .d.ts files', () => {
    expect(typeErrors, typeErrors).toBe('');
  });

  it.each(runnable.map((e) => [exampleName(e), e] as const))('%s runs with plain node', (_name, e) => {
    const result = results.get(e);
    expect(result, 'not run').toBeDefined();
    const failure = verdict(e, result!);
    expect(failure, failure ?? '').toBeNull();
  });
});
