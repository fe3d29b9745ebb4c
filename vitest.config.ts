import { defineConfig } from 'vitest/config';

/**
 * One vitest config for the whole monorepo, with one project per package.
 *
 * The `strata-source` condition makes `@strata/*` imports resolve to each package's `src/`
 * (see the `exports` maps), so tests never run against stale builds. Node itself (the demo's
 * built CLI, users) resolves the same imports to `dist/`.
 */
const packages = ['transport', 'http-parser', 'http2', 'response', 'router', 'server', 'websocket', 'forms'];

const conditions = ['strata-source', 'node', 'import', 'module', 'default'];

/**
 * `@strata/otel`'s project resolves without `module`: vitest hands the SSR conditions to Node as
 * `--conditions`, and OpenTelemetry's `module` builds use extensionless imports that Node cannot load
 * (its CommonJS builds then `require()` them). It does not extend the root config, whose condition
 * list a project could only add to.
 */
const otelConditions = conditions.filter((c) => c !== 'module');

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['strata-source'] } },
  test: {
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      {
        resolve: { conditions: otelConditions },
        ssr: { resolve: { conditions: otelConditions, externalConditions: ['strata-source'] } },
        test: {
          name: 'otel',
          root: 'packages/otel',
          include: ['test/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true as const,
        test: { name: 'inspector', root: 'packages/inspector', include: ['test/**/*.test.ts'] },
      },
      { extends: true as const, test: { name: 'demo', root: 'apps/demo', include: ['test/**/*.test.ts'] } },
      { extends: true as const, test: { name: 'scripts', root: 'scripts', include: ['test/**/*.test.ts'] } },
      {
        // Attacks by hostile or slow clients over real sockets, each proved bounded. Files run one
        // at a time: they measure memory, descriptors and deadlines, which a neighbour would disturb.
        extends: true as const,
        test: {
          name: 'reliability',
          root: 'packages/server',
          include: ['reliability/**/*.test.ts'],
          testTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
