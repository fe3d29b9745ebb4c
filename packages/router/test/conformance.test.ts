import { describe, expect, it } from 'vitest';
import type { Router } from '../src/index';
import { buildRouter, checkCase } from './_helpers';
import { CASES, ROUTERS } from './_table';

describe('conformance table', () => {
  const routers = new Map<string, Router<string>>();
  for (const name of Object.keys(ROUTERS) as (keyof typeof ROUTERS)[]) routers.set(name, buildRouter(name));
  it.each(
    CASES.map(
      (c) => [`${c.router}: ${c.method} ${c.path.slice(0, 40)} -> ${c.status} (${c.why})`, c] as const,
    ),
  )('%s', (_title, c) => {
    checkCase(c, routers.get(c.router)!.find(c.method, c.path));
  });

  it('covers every status and every router', () => {
    expect(new Set(CASES.map((c) => c.status))).toEqual(new Set([200, 204, 308, 400, 404, 405, 414]));
    expect(new Set(CASES.map((c) => c.router))).toEqual(new Set(Object.keys(ROUTERS)));
  });
});
