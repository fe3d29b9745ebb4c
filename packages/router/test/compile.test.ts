import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouter, type FindResult, type Router } from '../src/index';
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

  /** White-box: whether the router walks its tree with generated code (refreshed on the next find). */
  const usesMatcher = (r: Router<string>): boolean => {
    r.find('GET', '/');
    const w = r as unknown as { matcher: unknown; resultMatcher: unknown };
    // the results-mode walk (paths without '%') exists exactly when the route-mode one does
    expect(w.resultMatcher !== null).toBe(w.matcher !== null);
    return w.matcher !== null;
  };

  it('small trees get a generated matcher, large ones and compile: false keep the interpreted walk', () => {
    for (const n of names) {
      expect(usesMatcher(compiled.get(n)!), n).toBe(true);
      expect(usesMatcher(interpreted.get(n)!), n).toBe(false);
    }
    const big = createRouter<string>();
    for (let i = 0; i < 200; i++) big.add('GET', `/r${i}/:id/x${i}/:y`, `v${i}`);
    expect(usesMatcher(big)).toBe(false);
    expect(big.find('GET', '/r7/a/x7/b')).toMatchObject({
      status: 200,
      value: 'v7',
      params: { id: 'a', y: 'b' },
    });
  });

  it('the generated matcher follows add and remove', () => {
    const r = createRouter<string>();
    r.add('GET', '/a/:id', 'param');
    expect(r.find('GET', '/a/static')).toMatchObject({ status: 200, value: 'param' });
    r.add('GET', '/a/static', 'static');
    expect(r.find('GET', '/a/static')).toMatchObject({ status: 200, value: 'static' });
    r.add('POST', '/a/:id', 'post');
    expect(r.find('POST', '/a/1')).toMatchObject({ status: 200, value: 'post' });
    r.remove('GET', '/a/static');
    expect(r.find('GET', '/a/static')).toMatchObject({ status: 200, value: 'param' });
    r.add('*', '/a/:id', 'any');
    expect(r.find('PUT', '/a/1')).toMatchObject({ status: 200, value: 'any', method: '*' });
    expect(usesMatcher(r)).toBe(true);
  });

  it('a failed descent through a param does not shift a later catch-all (both walks)', () => {
    for (const compile of [true, false]) {
      const r = createRouter<string>({ compile });
      r.add('GET', '/*rest', 'rest');
      r.add('GET', '/a/:id/x', 'x');
      expect(r.find('GET', '/a/b/c'), String(compile)).toMatchObject({
        status: 200,
        params: { rest: 'a/b/c' },
      });
      expect(r.find('GET', '/a/b/x'), String(compile)).toMatchObject({ status: 200, params: { id: 'b' } });
    }
  });

  it('generated and interpreted walks agree on random route sets', () => {
    const lit = fc.constantFrom('a', 'b', 'ab', 'users', 'x.y', '');
    const seg = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'ab', 'users', 'v1', 'a-b') },
      { weight: 3, arbitrary: fc.constantFrom(':p', ':q') },
      {
        weight: 2,
        arbitrary: fc.constantFrom(':p(\\d+)', ':q([a-z]+)', ':p-:q', ':p.:q', 'f-:p', ':p.json'),
      },
    );
    const tailArb = fc.constantFrom('', '', '/*rest', '/*', '/:opt?');
    const pattern = fc.tuple(fc.array(seg, { maxLength: 4 }), tailArb).map(([segs, tail]) => {
      // distinct param names in a pattern: number them
      let i = 0;
      const body = segs.map((s) => s.replace(/:([pq])/g, () => `:n${i++}`)).join('/');
      return `/${body}${tail === '/:opt?' ? `/:n${i}?` : tail}`.replace(/^\/\//, '/');
    });
    const path = fc
      .tuple(
        fc.array(
          fc.oneof(lit, fc.constantFrom('12', 'a-b', 'f-x', 'x.json', '..', '.', '%2E', '%41b', '%zz')),
          { maxLength: 6 },
        ),
        fc.constantFrom('', '/', '?q'),
      )
      .map(([segs, end]) => `/${segs.join('/')}${end}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('GET', 'POST', '*'), pattern), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS'), path), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.constantFrom('strict', 'ignore', 'redirect'),
        fc.boolean(),
        (routes, lookups, trailingSlash, caseSensitive) => {
          const opts = { trailingSlash, caseSensitive, maxParamLength: 3 } as const;
          const a = createRouter<string>({ ...opts, compile: true });
          const b = createRouter<string>({ ...opts, compile: false });
          routes.forEach(([m, p], i) => {
            // conflicting or duplicate patterns throw in both
            let thrown = 0;
            for (const r of [a, b]) {
              try {
                r.add(m, p, `v${i}`);
              } catch {
                thrown++;
              }
            }
            expect(thrown === 0 || thrown === 2).toBe(true);
          });
          for (const [m, p] of lookups)
            expect(shape(a.find(m, p)), `${m} ${p} ${JSON.stringify(routes)}`).toBe(shape(b.find(m, p)));
        },
      ),
      { numRuns: 400 },
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
