import { expect } from 'vitest';
import { createRouter, type FindResult, type Router } from '../src/index';
import { type Case, ROUTERS, type RouteRow } from './_table';

export function buildRouter(
  name: keyof typeof ROUTERS,
  rows?: RouteRow[],
  extra?: { compile?: boolean },
): Router<string> {
  const spec = ROUTERS[name];
  const base = 'options' in spec ? spec.options : undefined;
  const router = createRouter<string>(extra === undefined ? base : { ...base, ...extra });
  for (const [m, p, v] of rows ?? spec.routes) router.add(m, p, v);
  return router;
}

/** Checks one result against one case; shared with the property tests. */
export function checkCase(c: Case, r: FindResult<string>): void {
  expect(r.status, c.why).toBe(c.status);
  if (r.status === 200) {
    expect(r.value, c.why).toBe(c.value);
    if (c.params !== undefined) expect({ ...r.params }, c.why).toEqual(c.params);
    expect(r.query, c.why).toBe(c.query ?? '');
    if (c.via !== undefined) expect(r.method, c.why).toBe(c.via);
  } else if (r.status === 405 || r.status === 204) {
    expect(r.allow, c.why).toEqual(c.allow);
  } else if (r.status === 308) {
    expect(r.location, c.why).toBe(c.location);
  } else if (r.status === 400 || r.status === 414) {
    expect(r.code, c.why).toBe(c.code);
  }
}
