import { describe, expect, it } from 'vitest';
import { unsafeReason } from '../src/_regex';
import { createRouter, RouterError } from '../src/index';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RouterError);
    return (e as RouterError).code;
  }
  throw new Error('did not throw');
}

describe('route conflicts', () => {
  const pairs: [string, string, string, string][] = [
    // [first, second, code, why]
    ['/a', '/a', 'ROUTER_DUPLICATE_ROUTE', 'identical route'],
    ['/:a', '/:b', 'ROUTER_ROUTE_CONFLICT', 'params differing only by name'],
    ['/x/:id(\\d+)', '/x/:n(\\d+)', 'ROUTER_ROUTE_CONFLICT', 'same constraint, other name'],
    ['/f/:a-:b', '/f/:x-:y', 'ROUTER_ROUTE_CONFLICT', 'same composite shape'],
    ['/s/*a', '/s/*b', 'ROUTER_ROUTE_CONFLICT', 'two catch-alls'],
    ['/o', '/o/:id?', 'ROUTER_ROUTE_CONFLICT', 'optional param overlaps a static route'],
    ['/café', '/caf%C3%A9', 'ROUTER_ROUTE_CONFLICT', 'raw and encoded forms of one path'],
  ];
  it.each(pairs)('%s then %s -> %s (%s)', (first, second, code) => {
    const r = createRouter<number>();
    r.add('GET', first, 1);
    expect(codeOf(() => r.add('GET', second, 2))).toBe(code);
  });

  it('names both patterns in the message', () => {
    const r = createRouter<number>();
    r.add('GET', '/users/:id', 1);
    expect(() => r.add('GET', '/users/:name', 2)).toThrow(/'GET \/users\/:name'.*'GET \/users\/:id'/);
  });

  it('allows the same shape on other methods, and distinguishable siblings', () => {
    const r = createRouter<number>();
    r.add('GET', '/u/:id', 1);
    r.add('DELETE', '/u/:userId', 2);
    r.add('GET', '/u/:id(\\d+)', 3);
    r.add('GET', '/u/:id([a-f]+)', 4);
    r.add('GET', '/u/:name.:ext', 5);
    r.add('GET', '/u/*rest', 6);
    r.add('*', '/u/:id', 7);
    const d = r.find('DELETE', '/u/x');
    expect(d.status === 200 && d.params).toEqual({ userId: 'x' });
  });

  it("'*' twice is a duplicate", () => {
    const r = createRouter<number>();
    r.add('*', '/a', 1);
    expect(codeOf(() => r.add('*', '/a', 2))).toBe('ROUTER_DUPLICATE_ROUTE');
  });

  it('is all or nothing for a method list', () => {
    const r = createRouter<number>();
    r.add('POST', '/z', 1);
    expect(codeOf(() => r.add(['GET', 'POST'], '/z', 2))).toBe('ROUTER_DUPLICATE_ROUTE');
    expect(r.find('GET', '/z').status).toBe(405);
    expect(r.routes()).toHaveLength(1);
  });

  it.each([true, false])('a refused add leaves no tree nodes behind (compile: %s)', (compile) => {
    const r = createRouter<number>({ compile, maxParamLength: 10 });
    r.add('GET', '/p/:z', 1);
    const before = r.printTree();
    // the optional param's long variant would create /p/:a/:b before its short one conflicts
    expect(codeOf(() => r.add('GET', '/p/:a/:b?', 2))).toBe('ROUTER_ROUTE_CONFLICT');
    expect(r.printTree()).toBe(before);
    expect(r.routes()).toHaveLength(1);
    // a long second segment must be a plain 404, not a 414 from a leftover param node
    expect(r.find('GET', `/p/x/${'y'.repeat(50)}`).status).toBe(404);
    expect(r.find('GET', '/p/x').status).toBe(200);
  });
});

describe('invalid patterns and methods', () => {
  const bad: [string, string][] = [
    ['users', 'ROUTER_INVALID_PATTERN'],
    ['', 'ROUTER_INVALID_PATTERN'],
    ['/a//b', 'ROUTER_INVALID_PATTERN'],
    ['/:', 'ROUTER_INVALID_PATTERN'],
    ['/:a:b', 'ROUTER_INVALID_PATTERN'],
    ['/*x/y', 'ROUTER_INVALID_PATTERN'],
    ['/a?b', 'ROUTER_INVALID_PATTERN'],
    ['/a#b', 'ROUTER_INVALID_PATTERN'],
    ['/:x/:x', 'ROUTER_INVALID_PATTERN'],
    ['/:__proto__', 'ROUTER_INVALID_PATTERN'],
    ['/files/*__proto__', 'ROUTER_INVALID_PATTERN'],
    ['/.', 'ROUTER_INVALID_PATTERN'],
    ['/a/..', 'ROUTER_INVALID_PATTERN'],
    ['/:a?/b', 'ROUTER_INVALID_PATTERN'],
    ['/x:a?', 'ROUTER_INVALID_PATTERN'],
    ['/*bad-name', 'ROUTER_INVALID_PATTERN'],
    ['/:id(a', 'ROUTER_INVALID_PATTERN'],
    ['/a%zz', 'ROUTER_INVALID_PATTERN'],
    ['/:id([)', 'ROUTER_INVALID_PATTERN'],
    ['/:id(*a)', 'ROUTER_INVALID_REGEX'],
    ['/:id()', 'ROUTER_INVALID_REGEX'],
    ['/:id(a{2,1})', 'ROUTER_INVALID_REGEX'],
    ['/:id((a+)+)', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((a*)*b)', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((a|aa)+)', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((\\w+\\s?)*)', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((.*a){20})', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((a)\\1)', 'ROUTER_UNSAFE_REGEX'],
    ['/:id((?<n>a)\\k<n>)', 'ROUTER_UNSAFE_REGEX'],
    [`/:id(${'a'.repeat(300)})`, 'ROUTER_UNSAFE_REGEX'],
  ];
  it.each(bad)('%s -> %s', (pattern, code) => {
    expect(codeOf(() => createRouter<number>().add('GET', pattern, 1))).toBe(code);
  });

  it.each(['\\d+', '[a-z]{2,5}', 'png|jpg', 'v\\d+(\\.\\d+)?', '[^/]+', '(?:ab)+', '\\(x\\)'])(
    'accepts the safe regex %s',
    (src) => {
      expect(unsafeReason(src)).toBeNull();
      createRouter<number>().add('GET', `/:id(${src})`, 1);
    },
  );

  it.each(['GE T', '', 'GET\n', 'ÜBER'])('refuses the method %j', (m) => {
    expect(codeOf(() => createRouter<number>().add(m, '/a', 1))).toBe('ROUTER_INVALID_METHOD');
  });

  it('refuses empty and repeated method lists', () => {
    expect(codeOf(() => createRouter<number>().add([], '/a', 1))).toBe('ROUTER_INVALID_METHOD');
    expect(codeOf(() => createRouter<number>().add(['GET', 'GET'], '/a', 1))).toBe('ROUTER_INVALID_METHOD');
  });

  it.each([
    { trailingSlash: 'sometimes' },
    { maxParamLength: 0 },
    { maxParamLength: 1.5 },
    { dotSegments: 'keep' },
  ])('refuses the option %j', (opts) => {
    expect(codeOf(() => createRouter<number>(opts as never))).toBe('ROUTER_INVALID_OPTION');
  });
});

describe('unsafe regexes stay rejected in time', () => {
  it('a refused regex is never run: the classic ReDoS input returns at once', () => {
    const r = createRouter<number>();
    r.add('GET', '/x/:id([a-z]+\\d)', 1);
    // 99 letters and no digit: a linear regex fails fast; the router answers 404
    expect(r.find('GET', `/x/${'a'.repeat(99)}!`).status).toBe(404);
  });
});
