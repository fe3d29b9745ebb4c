/**
 * One adapter per router: build it from a route set, then `find` (the timed call, its real lookup
 * API) and `normalize` (turns a find result into [route index, param values...] for the
 * cross-router agreement check; -1 = no match). Patterns come in as `:name` and a final `*`.
 */
import type { RouteDef } from './_routes';

export interface Adapter {
  build(routes: RouteDef[]): void;
  find(method: string, path: string): unknown;
  normalize(result: unknown): (number | string)[];
}

/** Wildcard values compared without a leading '/' (httprouter-style catch-alls keep it). */
function wild(v: string): string {
  return v.charCodeAt(0) === 47 ? v.slice(1) : v;
}

function valuesOf(params: Record<string, string> | undefined | null): string[] {
  if (!params) return [];
  return Object.keys(params).map((k) =>
    k === '*' || k === '_' || k === 'wild' ? wild(params[k]!) : params[k]!,
  );
}

export async function loadAdapter(name: string): Promise<Adapter> {
  switch (name) {
    case 'strata': {
      const { createRouter } = await import('../src/index');
      const r = createRouter<number>();
      return {
        build: (routes) => {
          routes.forEach(([m, p], i) => {
            r.add(m, p, i);
          });
        },
        find: (m, p) => r.find(m, p),
        normalize: (res) => {
          const x = res as { status: number; value: number; params: Record<string, string> };
          return x.status === 200 ? [x.value, ...valuesOf(x.params)] : [-1];
        },
      };
    }
    case 'find-my-way': {
      const FindMyWay = (await import('find-my-way')).default;
      const r = FindMyWay();
      return {
        build: (routes) => {
          routes.forEach(([m, p], i) => {
            r.on(m as 'GET', p, () => {}, { i } as unknown as undefined);
          });
        },
        find: (m, p) => r.find(m as 'GET', p),
        normalize: (res) => {
          const x = res as { store: { i: number }; params: Record<string, string> } | null;
          return x ? [x.store.i, ...valuesOf(x.params)] : [-1];
        },
      };
    }
    case 'rou3':
    case 'rou3-compiled': {
      const rou3 = await import('rou3');
      const ctx = rou3.createRouter<{ i: number }>();
      let find: (m: string, p: string) => unknown = (m, p) => rou3.findRoute(ctx, m, p);
      return {
        build: async (routes) => {
          routes.forEach(([m, p], i) => {
            rou3.addRoute(ctx, m, p.replace(/\*$/, '**'), { i });
          });
          if (name === 'rou3-compiled') {
            const { compileRouter } = await import('rou3/compiler');
            const compiled = compileRouter(ctx);
            find = compiled;
          }
        },
        find: (m, p) => find(m, p),
        normalize: (res) => {
          const x = res as { data: { i: number }; params?: Record<string, string> } | undefined;
          return x ? [x.data.i, ...valuesOf(x.params)] : [-1];
        },
      } as Adapter;
    }
    case 'hono-regexp': {
      const { RegExpRouter } = await import('hono/router/reg-exp-router');
      const r = new RegExpRouter<number>();
      return {
        build: (routes) => {
          routes.forEach(([m, p], i) => {
            r.add(m, p, i);
          });
        },
        find: (m, p) => r.match(m, p),
        normalize: (res) => {
          const [handlers, stash] = res as [
            [number, Record<string, number | string>][],
            string[] | undefined,
          ];
          const first = handlers[0];
          if (!first) return [-1];
          const [value, map] = first;
          const vals = Object.keys(map).map((k) => (stash ? stash[map[k] as number]! : (map[k] as string)));
          // Hono's '*' captures nothing: derive the wildcard value from nothing (compared separately)
          return [value, ...vals];
        },
      };
    }
    case 'koa-tree-router': {
      const Router = (await import('koa-tree-router')).default;
      // its typings omit find(); it exists at run time (router.js)
      const r = new Router() as unknown as {
        on(m: string, p: string, h: () => void): void;
        find(m: string, p: string): unknown;
      };
      return {
        build: (routes) =>
          routes.forEach(([m, p], i) => {
            const h = () => {};
            (h as unknown as { i: number }).i = i;
            r.on(m, p.replace(/\*$/, '*wild'), h);
          }),
        find: (m, p) => r.find(m, p),
        normalize: (res) => {
          const x = res as { handle: { i: number }[] | null; params: { key: string; value: string }[] };
          if (!x.handle) return [-1];
          return [x.handle[0]!.i, ...x.params.map((kv) => (kv.key === 'wild' ? wild(kv.value) : kv.value))];
        },
      };
    }
    case 'memoirist': {
      const { Memoirist } = await import('memoirist');
      const r = new Memoirist<number>();
      return {
        build: (routes) => {
          routes.forEach(([m, p], i) => {
            r.add(m, p, i);
          });
        },
        find: (m, p) => r.find(m, p),
        normalize: (res) => {
          const x = res as { store: number; params: Record<string, string> } | null;
          return x ? [x.store, ...valuesOf(x.params)] : [-1];
        },
      };
    }
    default:
      throw new Error(`unknown router ${name}`);
  }
}

export const ROUTERS = [
  'strata',
  'find-my-way',
  'rou3',
  'rou3-compiled',
  'hono-regexp',
  'koa-tree-router',
  'memoirist',
] as const;
