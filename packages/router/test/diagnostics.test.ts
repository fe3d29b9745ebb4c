/** `strata:router:match`: every `find()` publishes its method, target and result while subscribed. */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { expect, it } from 'vitest';
import { createRouter, type RouteMatchMessage, RouterChannel } from '../src/index';

it('find() publishes each lookup and its result, only while someone subscribes', () => {
  const router = createRouter<string>();
  router.add('GET', '/users/:id', 'show');
  router.add('GET', '/about', 'about');
  const seen: RouteMatchMessage[] = [];
  const fn = (m: unknown) => seen.push(m as RouteMatchMessage);
  router.find('GET', '/about'); // before subscribing: not seen
  subscribe(RouterChannel.MATCH, fn);
  try {
    const hit = router.find('GET', '/users/42?x=1');
    router.find('DELETE', '/users/42');
    router.find('GET', '/nope');
    router.find('GET', '/about');
    expect(seen.map((m) => [m.method, m.path, m.result.status])).toEqual([
      ['GET', '/users/42?x=1', 200],
      ['DELETE', '/users/42', 405],
      ['GET', '/nope', 404],
      ['GET', '/about', 200],
    ]);
    expect(seen[0]!.result).toBe(hit);
    expect(seen[0]!.router).toBe(router);
    expect((seen[0]!.result as { pattern: string }).pattern).toBe('/users/:id');
  } finally {
    unsubscribe(RouterChannel.MATCH, fn);
  }
  router.find('GET', '/about');
  expect(seen).toHaveLength(4);
});
