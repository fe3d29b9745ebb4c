import { describe, expect, it } from 'vitest';
import { createRouter, type FindResult } from '../src/index';

describe('remove', () => {
  it('removes one method and keeps method semantics right', () => {
    const r = createRouter<string>();
    r.add(['GET', 'POST'], '/users', 'u');
    r.add('GET', '/users/:id', 'one');
    expect(r.remove('POST', '/users')).toBe(true);
    expect(r.find('POST', '/users')).toEqual({ status: 405, allow: ['GET', 'HEAD', 'OPTIONS'] });
    expect(r.remove('GET', '/users')).toBe(true);
    expect(r.find('GET', '/users').status).toBe(404);
    expect(r.find('GET', '/users/7').status).toBe(200);
    expect(r.remove('GET', '/users')).toBe(false);
    expect(r.remove('GET', '/users/:other')).toBe(false);
  });

  it('removes both variants of an optional param and frees the shape', () => {
    const r = createRouter<string>();
    r.add('GET', '/docs/:page?', 'd');
    expect(r.remove(['GET'], '/docs/:page?')).toBe(true);
    expect(r.find('GET', '/docs').status).toBe(404);
    expect(r.find('GET', '/docs/x').status).toBe(404);
    r.add('GET', '/docs/:slug', 'again');
    expect(r.find('GET', '/docs/x')).toMatchObject({ status: 200, value: 'again', params: { slug: 'x' } });
  });

  it("removes '*' routes", () => {
    const r = createRouter<string>();
    r.add('*', '/p/*rest', 'p');
    expect(r.remove('*', '/p/*rest')).toBe(true);
    expect(r.find('PUT', '/p/a').status).toBe(404);
  });
});

describe('routes() and printTree()', () => {
  it('lists one entry per method in registration order', () => {
    const r = createRouter<number>();
    r.add(['GET', 'HEAD'], '/a', 1);
    r.add('*', '/b/*', 2);
    expect(r.routes()).toEqual([
      { method: 'GET', pattern: '/a', value: 1 },
      { method: 'HEAD', pattern: '/a', value: 1 },
      { method: '*', pattern: '/b/*', value: 2 },
    ]);
  });

  it('prints children in precedence order with their methods', () => {
    const r = createRouter<number>();
    r.add('GET', '/users/:id', 1);
    r.add('GET', '/users/new', 2);
    r.add('GET', '/users/:id(\\d+)', 3);
    r.add('POST', '/users', 4);
    r.add('GET', '/static/*path', 5);
    r.add('*', '/any', 6);
    expect(r.printTree()).toBe(
      [
        '/',
        '├── any [*]',
        '├── static',
        '│   └── *path [GET, HEAD, OPTIONS]',
        '└── users [POST, OPTIONS]',
        '    ├── new [GET, HEAD, OPTIONS]',
        '    ├── :id(\\d+) [GET, HEAD, OPTIONS]',
        '    └── :id [GET, HEAD, OPTIONS]',
      ].join('\n'),
    );
  });
});

describe('result shapes', () => {
  it('match results of param-less routes are shared and frozen; param results are fresh', () => {
    const r = createRouter<string>();
    r.add('GET', '/a', 'a');
    r.add('GET', '/b/:x', 'b');
    const one = r.find('GET', '/a');
    expect(r.find('GET', '/a')).toBe(one);
    expect(Object.isFrozen(one)).toBe(true);
    const p1 = r.find('GET', '/b/1') as Extract<FindResult<string>, { status: 200 }>;
    const p2 = r.find('GET', '/b/2') as Extract<FindResult<string>, { status: 200 }>;
    expect(p1.params).toEqual({ x: '1' });
    expect(p2.params).toEqual({ x: '2' });
    expect(p1).toEqual({
      status: 200,
      value: 'b',
      params: { x: '1' },
      query: '',
      pattern: '/b/:x',
      method: 'GET',
    });
  });

  it('keeps param values that look like object keys as plain data', () => {
    const r = createRouter<string>();
    r.add('GET', '/o/:constructor/:toString', 'o');
    const m = r.find('GET', '/o/__proto__/x');
    expect(m.status === 200 && { ...m.params }).toEqual({ constructor: '__proto__', toString: 'x' });
  });

  it('routes are independent per router instance', () => {
    const a = createRouter<number>();
    const b = createRouter<number>();
    a.add('GET', '/x', 1);
    expect(b.find('GET', '/x').status).toBe(404);
  });
});
