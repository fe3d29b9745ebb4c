import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouter, type FindResult } from '../src/index';
import { buildRouter, checkCase } from './_helpers';
import { CASES, ROUTERS } from './_table';

const STATUSES = new Set([200, 204, 308, 400, 404, 405, 414]);
const segment = fc.stringMatching(/^[a-z0-9_~-]{1,8}$/);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'PURGE');

describe('property: random static route sets', () => {
  it('finds every registered static route, HEAD via GET, and 405s with a complete allow', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(method, fc.array(segment, { minLength: 0, maxLength: 4 })), {
          minLength: 1,
          maxLength: 30,
          selector: ([m, segs]) => `${m} /${segs.join('/')}`,
        }),
        (routes) => {
          const r = createRouter<string>();
          const byPath = new Map<string, Set<string>>();
          for (const [m, segs] of routes) {
            const path = `/${segs.join('/')}`;
            r.add(m, path, `${m} ${path}`);
            byPath.set(path, (byPath.get(path) ?? new Set()).add(m));
          }
          for (const [path, methods] of byPath) {
            for (const m of methods) {
              const res = r.find(m, path);
              expect(res.status === 200 && res.value).toBe(`${m} ${path}`);
            }
            const head = r.find('HEAD', path);
            if (methods.has('GET')) expect(head.status === 200 && head.value).toBe(`GET ${path}`);
            else expect(head.status).toBe(405);
            const res = r.find('TRACE', path);
            expect(res.status).toBe(405);
            if (res.status === 405) {
              const want = new Set([...methods, 'OPTIONS', ...(methods.has('GET') ? ['HEAD'] : [])]);
              expect(new Set(res.allow)).toEqual(want);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('property: lookups never throw', () => {
  const router = buildRouter('main');
  const redirect = buildRouter('redirect');
  const normalize = buildRouter('normalize');
  const pathChar = fc.constantFrom(
    '/',
    'a',
    'u',
    's',
    'e',
    'r',
    '.',
    '%',
    '2',
    'F',
    'e',
    '?',
    ':',
    '*',
    'é',
    '\u0000',
    ' ',
    '#',
  );
  const path = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.array(pathChar, { maxLength: 40 }).map((cs) => `/${cs.join('')}`),
    fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => `/users/${s}`),
  );
  it('answers one of the documented statuses for any method and path', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 8 }), path, (m, p) => {
        for (const r of [router, redirect, normalize]) {
          const res: FindResult<string> = r.find(m, p);
          expect(STATUSES.has(res.status)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('property: params round-trip through percent-encoding', () => {
  it('any string (<= maxParamLength encoded) comes back decoded, slashes included', () => {
    const r = createRouter<string>({ maxParamLength: 1000 });
    r.add('GET', '/a/:x/b', 'ab');
    r.add('GET', '/f/*rest', 'f');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (v) => {
        const enc = encodeURIComponent(v);
        const res = r.find('GET', `/a/${enc}/b`);
        if (v === '.' || v === '..') expect(res.status).toBe(400);
        else expect(res.status === 200 && res.params.x).toBe(v);
      }),
      { numRuns: 500 },
    );
  });
});

describe('property: precedence does not depend on registration order', () => {
  it('the conformance table holds for shuffled registrations', () => {
    const names = Object.keys(ROUTERS) as (keyof typeof ROUTERS)[];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.integer(), (name, seed) => {
        const rows = [...ROUTERS[name].routes];
        // deterministic shuffle from the seed
        let s = seed >>> 0;
        for (let i = rows.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [rows[i], rows[j]] = [rows[j]!, rows[i]!];
        }
        const router = buildRouter(name, rows);
        for (const c of CASES) if (c.router === name) checkCase(c, router.find(c.method, c.path));
      }),
      { numRuns: 60 },
    );
  });
});

describe('property: trailing-slash redirects land on a route', () => {
  it('following a 308 once gives a non-redirect answer', () => {
    const r = buildRouter('redirect');
    fc.assert(
      fc.property(fc.array(fc.constantFrom('users', 'dir', '7', ''), { maxLength: 3 }), (segs) => {
        const res = r.find('GET', `/${segs.join('/')}/`);
        if (res.status === 308) expect(r.find('GET', res.location).status).toBe(200);
      }),
    );
  });
});
