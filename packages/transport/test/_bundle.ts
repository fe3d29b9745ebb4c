import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A bundled fixture: `file` to run with `node`, `remove()` to delete it. */
export interface BundledFixture {
  file: string;
  remove(): void;
}

/**
 * Bundles a cluster fixture (and the sources it imports) into one plain `.mjs` in a temp folder:
 * every worker re-runs the entry script, and plain JS starts in ~0.2 s where a TypeScript loader
 * takes ~1 s per process. `conditions` e.g. `['strata-source']` bundles other packages' `src/`.
 * esbuild is the one tsx already depends on.
 */
export async function bundleFixture(source: string, conditions: string[] = []): Promise<BundledFixture> {
  const req = createRequire(createRequire(import.meta.url).resolve('tsx'));
  const esbuild = req('esbuild') as { build(options: Record<string, unknown>): Promise<unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'strata-fixture-'));
  const file = join(dir, basename(source).replace(/\.ts$/, '.mjs'));
  await esbuild.build({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    ...(conditions.length > 0 ? { conditions } : {}),
    outfile: file,
    logLevel: 'silent',
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
