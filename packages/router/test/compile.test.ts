import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouter, type FindResult } from '../src/index';
import { buildRouter, checkCase } from './_helpers';
import { CASES, ROUTERS } from './_table';

/** Everything observable about a result: fields in order, params keys in order, params prototype. */
function shape(r: FindResult<string>): string {
  const params = r.status === 200 ? r.params : null;
  return JSON.stringify([
    r,
    Object.keys(r),
    params === null ? null : Object.keys(params),
    params === null ? null : Object.getPrototypeOf(params) === Object.prototype,
  ]);
}

describe('compiled and interpreted result builders', () => {
  it('compile is on by default and can be switched off', () => {
    expect(createRouter().compiled).toBe(true);
    expect(createRouter({ compile: true }).compiled).toBe(true);
    expect(createRouter({ compile: false }).compiled).toBe(false);
  });

  const names = Object.keys(ROUTERS) as (keyof typeof ROUTERS)[];
  const compiled = new Map(names.map((n) => [n, buildRouter(n, undefined, { compile: true })]));
  const interpreted = new Map(names.map((n) => [n, buildRouter(n, undefined, { compile: false })]));

  it('the whole conformance table holds with compile: false', () => {
    for (const c of CASES) checkCase(c, interpreted.get(c.router)!.find(c.method, c.path));
  });

  it('both give identical results on every conformance case', () => {
    let withParams = 0;
    for (const c of CASES) {
      const a = compiled.get(c.router)!.find(c.method, c.path);
      const b = interpreted.get(c.router)!.find(c.method, c.path);
      expect(shape(a), c.why).toBe(shape(b));
      if (a.status === 200 && Object.keys(a.params).length > 0) withParams++;
    }
    expect(withParams).toBeGreaterThan(20);
  });

  it('both give identical results on random paths', () => {
    const seg = fc.constantFrom(
      'users',
      'files',
      'static',
      'r',
      'x',
      '1',
      'a.b',
      '%2F',
      '%41',
      '%zz',
      '..',
      '',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS'),
        fc.array(seg, { maxLength: 5 }),
        fc.constantFrom('', '?q=1'),
        (name, m, segs, q) => {
          const path = `/${segs.join('/')}${q}`;
          expect(shape(compiled.get(name)!.find(m, path))).toBe(shape(interpreted.get(name)!.find(m, path)));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('falls back to the interpreted builder where code generation is disabled', () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const fixture = fileURLToPath(new URL('./fixtures/no-codegen.ts', import.meta.url));
    const run = spawnSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', tsx, fixture],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { codegen: boolean; compiled: boolean; a: unknown; b: unknown };
    expect(out.codegen).toBe(false);
    expect(out.compiled).toBe(false);
    const r = createRouter<string>();
    r.add('GET', '/users/:id', 'user');
    r.add('GET', '/repos/:owner/:repo/*path', 'tree');
    expect(out.a).toEqual(JSON.parse(JSON.stringify(r.find('GET', '/users/42?x=1'))));
    expect(out.b).toEqual(JSON.parse(JSON.stringify(r.find('GET', '/repos/o/r%20x/a/b%2Fc'))));
    expect(out.b).toMatchObject({ status: 200, params: { owner: 'o', repo: 'r x', path: 'a/b/c' } });
  });
});
