import {
  codegenAvailable,
  compileBuilder,
  compileMatcher,
  compileResultMatcher,
  type Matcher,
  type MatcherHost,
  type ResultMatcher,
} from './_compile';
import { matchChannel, type RouteMatchMessage } from './_diagnostics';
import { RouterError, RouterErrorCode } from './_errors';
import { Node, type Route } from './_node';
import { asciiLower, hasDotSegment, normalizePercent, removeDotSegments, safeDecode } from './_path';
import { type ParamPart, parsePattern, type SegmentSpec } from './_pattern';

/** Params of a match: name -> percent-decoded value. */
export type Params = Record<string, string>;

/** A route matched (status 200). HEAD served by a GET route answers with that GET route (`method: 'GET'`). */
export interface RouteMatch<T> {
  readonly status: 200;
  /** The value registered with the route. */
  readonly value: T;
  /**
   * Percent-decoded params by name (a catch-all under its name, `'*'` when unnamed). For routes
   * without params this is one shared frozen empty object.
   */
  readonly params: Readonly<Params>;
  /** Raw query string after the first `?`, without the `?` (`''` when none). Never decoded. */
  readonly query: string;
  /** The pattern as registered. */
  readonly pattern: string;
  /** The method the route was registered with (`'GET'` for HEAD served by GET, `'*'` for any-method routes). */
  readonly method: string;
}

/** OPTIONS on a path with no OPTIONS route: answer 204 with `Allow: allow.join(', ')`. */
export interface RouteOptions {
  readonly status: 204;
  readonly allow: readonly string[];
}

/** A path match with the trailing slash toggled, under `trailingSlash: 'redirect'`: answer 308 with `Location`. */
export interface RouteRedirect {
  readonly status: 308;
  /** Canonical path plus `?query` when there was one. Never protocol-relative (`//host`). */
  readonly location: string;
}

/** The path is malformed: answer 400. */
export interface RouteBadRequest {
  readonly status: 400;
  readonly code:
    | typeof RouterErrorCode.BAD_PERCENT_ENCODING
    | typeof RouterErrorCode.DOT_SEGMENT
    | typeof RouterErrorCode.INVALID_PATH;
}

/** Nothing matched and a param candidate exceeded `maxParamLength`: answer 414. */
export interface RouteParamTooLong {
  readonly status: 414;
  readonly code: typeof RouterErrorCode.PARAM_TOO_LONG;
}

/** No route for this path under any method: answer 404. */
export interface RouteNotFound {
  readonly status: 404;
}

/** The path exists under other methods: answer 405 with `Allow: allow.join(', ')`. */
export interface RouteMethodNotAllowed {
  readonly status: 405;
  /** Every method the path answers: registered ones, HEAD when GET exists, OPTIONS. Canonical order. */
  readonly allow: readonly string[];
}

/** Everything `find` can answer; switch on `status`. `find` never throws. */
export type FindResult<T> =
  | RouteMatch<T>
  | RouteOptions
  | RouteRedirect
  | RouteBadRequest
  | RouteParamTooLong
  | RouteNotFound
  | RouteMethodNotAllowed;

/** Router options; every field is optional. */
export interface RouterOptions {
  /**
   * A path that misses but matches with its trailing slash added or removed is:
   * `'strict'` a miss, `'ignore'` served by that route, `'redirect'` answered 308 to it.
   * Default `'strict'`.
   */
  trailingSlash?: 'strict' | 'ignore' | 'redirect';
  /** Static text compares case-sensitively. Default `true`. Params keep their case either way. */
  caseSensitive?: boolean;
  /** Longest raw (still encoded) param value; longer candidates do not match. Catch-alls are not limited. Default 100. */
  maxParamLength?: number;
  /** `.`/`..` segments (also as `%2E`): `'reject'` answers 400, `'normalize'` resolves them (RFC 3986 5.2.4). Default `'reject'`. */
  dotSegments?: 'reject' | 'normalize';
  /**
   * Generate a result builder per route with params at registration time (`new Function`; param
   * names only, through `JSON.stringify`), so params objects have one fixed shape per route, and,
   * for trees up to about 40 routes, the whole tree walk as one function on the first lookup after
   * a change (static text only as char codes; nodes and regexes passed in as values). Falls back
   * to the interpreted builder and walk, with identical results, where code generation from
   * strings is disabled (CSP, `--disallow-code-generation-from-strings`). Default `true`.
   */
  compile?: boolean;
}

/** One entry of {@link Router.routes}. */
export interface RouteInfo<T> {
  readonly method: string;
  readonly pattern: string;
  readonly value: T;
}

const EMPTY_PARAMS: Readonly<Params> = Object.freeze(Object.create(null) as Params);
const NOT_FOUND: RouteNotFound = Object.freeze({ status: 404 as const });
const BAD_ENCODING: RouteBadRequest = Object.freeze({
  status: 400 as const,
  code: RouterErrorCode.BAD_PERCENT_ENCODING,
});
const BAD_DOTS: RouteBadRequest = Object.freeze({ status: 400 as const, code: RouterErrorCode.DOT_SEGMENT });
const BAD_PATH: RouteBadRequest = Object.freeze({ status: 400 as const, code: RouterErrorCode.INVALID_PATH });
const TOO_LONG: RouteParamTooLong = Object.freeze({
  status: 414 as const,
  code: RouterErrorCode.PARAM_TOO_LONG,
});

/** Methods known up front, in the order allow lists use; extension methods follow, sorted. */
const STANDARD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];
/** Trees with more terminal nodes than this keep the interpreted walk without generating code. */
const MATCHER_MAX_TERMINALS = 200;
/** Index of HEAD in STANDARD_METHODS (method ids start with these). */
const HEAD_ID = 1;

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

function checkMethod(method: unknown): string {
  if (typeof method !== 'string' || method.length === 0) {
    throw new RouterError(RouterErrorCode.INVALID_METHOD, `Invalid method ${String(method)}`);
  }
  if (method === '*') return method;
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) {
      throw new RouterError(
        RouterErrorCode.INVALID_METHOD,
        `Invalid method '${method}' (not an RFC 9110 token)`,
      );
    }
  }
  return method;
}

interface RouteRecord<T> {
  methods: string[];
  pattern: string;
  value: T;
}

/** Literal characters in a composite segment (used to order composites). */
function literalLength(parts: readonly (string | ParamPart)[]): number {
  let n = 0;
  for (const p of parts) if (typeof p === 'string') n += p.length;
  return n;
}

/**
 * A radix (segment) tree router with HTTP method semantics. Create it with {@link createRouter}.
 * `find` is synchronous and never throws; one router may be shared by any number of requests.
 */
export class Router<T> {
  private readonly trailing: 0 | 1 | 2; // strict | ignore | redirect
  private readonly caseSensitive: boolean;
  private readonly maxParamLength: number;
  private readonly normalizeDots: boolean;
  private readonly compile: boolean;

  private root = new Node<T>();
  /** Full canonical path -> terminal node, for fully static variants. */
  private staticMap: Record<string, Node<T>> = Object.create(null);
  /** 1 at index n when some static path has length n: paths of other lengths skip the map lookup. */
  private staticLengths: Uint8Array = new Uint8Array(0);
  private terminals: Node<T>[] = [];
  private records: RouteRecord<T>[] = [];
  /** Method name -> id (index into `byMethod`). */
  private readonly ids: Record<string, number> = Object.create(null);
  private readonly methodNames: string[] = [];
  private serverAllow: readonly string[] | null = null;

  /** Param offsets of the current lookup: [start0, end0, start1, end1, ...]. */
  private ps: number[] = [];
  private pn = 0;
  /** A node matched the path but had no route for the method. */
  private miss = false;
  private tooLong = false;
  /**
   * A param, composite or catch-all of this lookup met a dot segment. Under `dotSegments: 'reject'`
   * a match needs no other dot check: static edges never equal `.` or `..` (patterns refuse them),
   * and every other segment a match consumes went through a param, composite or catch-all.
   */
  private dot = false;
  /** The generated tree walk (`compile`), rebuilt on the first lookup after a change; null: interpreted. */
  private matcher: Matcher<T> | null = null;
  /** The generated walk in results mode (builds the 200 result in place), for paths without `%`; null: none. */
  private resultMatcher: ResultMatcher | null = null;
  private stale = true;

  constructor(options: RouterOptions = {}) {
    const ts = options.trailingSlash ?? 'strict';
    if (ts !== 'strict' && ts !== 'ignore' && ts !== 'redirect') {
      throw new RouterError(
        RouterErrorCode.INVALID_OPTION,
        `trailingSlash must be strict, ignore or redirect`,
      );
    }
    this.trailing = ts === 'strict' ? 0 : ts === 'ignore' ? 1 : 2;
    this.caseSensitive = options.caseSensitive ?? true;
    const max = options.maxParamLength ?? 100;
    if (!Number.isInteger(max) || max < 1) {
      throw new RouterError(RouterErrorCode.INVALID_OPTION, 'maxParamLength must be a positive integer');
    }
    this.maxParamLength = max;
    const dots = options.dotSegments ?? 'reject';
    if (dots !== 'reject' && dots !== 'normalize') {
      throw new RouterError(RouterErrorCode.INVALID_OPTION, 'dotSegments must be reject or normalize');
    }
    this.normalizeDots = dots === 'normalize';
    this.compile = options.compile ?? true;
    for (const m of STANDARD_METHODS) this.methodId(m);
  }

  /**
   * True when generated code runs: the `compile` option is on and this realm allows code
   * generation from strings. Routes with params then get generated result builders, and trees up
   * to about 40 routes a generated walk. Results are identical either way.
   */
  get compiled(): boolean {
    return this.compile && codegenAvailable();
  }

  /** Method id for lookups: standard methods by switch (internalised strings compare fast), -1 when unknown. */
  private id(method: string): number {
    switch (method) {
      case 'GET':
        return 0;
      case 'HEAD':
        return 1;
      case 'POST':
        return 2;
      case 'PUT':
        return 3;
      case 'PATCH':
        return 4;
      case 'DELETE':
        return 5;
      case 'OPTIONS':
        return 7;
      default: {
        const id = this.ids[method];
        return id === undefined ? -1 : id;
      }
    }
  }

  private methodId(method: string): number {
    let id = this.ids[method];
    if (id === undefined) {
      id = this.methodNames.length;
      this.ids[method] = id;
      this.methodNames.push(method);
      for (const t of this.terminals) t.byMethod!.push(undefined);
    }
    return id;
  }

  /**
   * Registers `value` for `method` (a method, a list of methods, or `'*'` for any method) on
   * `pattern`. Throws a {@link RouterError} for bad methods or patterns, unsafe regexes, a duplicate
   * route, or a pattern that cannot be told apart from an existing one on the same method. All or
   * nothing: on a throw, no method of the call is registered.
   *
   * @example
   * ```ts
   * router.add('GET', '/users/:id(\\d+)', showUser);
   * router.add(['PUT', 'PATCH'], '/users/:id', updateUser);
   * router.add('*', '/proxy/*rest', proxy);
   * ```
   */
  add(method: string | readonly string[], pattern: string, value: T): this {
    const methods = (typeof method === 'string' ? [method] : [...method]).map(checkMethod);
    if (methods.length === 0) throw new RouterError(RouterErrorCode.INVALID_METHOD, 'No method given');
    if (new Set(methods).size !== methods.length) {
      throw new RouterError(RouterErrorCode.INVALID_METHOD, `Method listed twice for '${pattern}'`);
    }
    const parsed = parsePattern(pattern, this.caseSensitive);
    // check every (method, variant) first: all or nothing
    const placed: { node: Node<T>; method: string; names: string[]; path: string | null }[] = [];
    const pending = new Map<Node<T>, Set<string>>();
    try {
      this.place(parsed.variants, methods, pattern, placed, pending);
    } catch (error) {
      // locate() may have created empty nodes for the refused route: rebuild the tree from the
      // routes that are registered, so a refused add leaves no trace (rare path, O(routes))
      this.rebuild(this.records);
      throw error;
    }
    for (const p of placed) this.attach(p.node, p.method, pattern, value, p.names, p.path);
    this.records.push({ methods, pattern, value });
    this.serverAllow = null;
    this.stale = true;
    return this;
  }

  /** Checks every (method, variant) of a new route and collects where it goes (throws on conflict). */
  private place(
    variants: ReturnType<typeof parsePattern>['variants'],
    methods: string[],
    pattern: string,
    placed: { node: Node<T>; method: string; names: string[]; path: string | null }[],
    pending: Map<Node<T>, Set<string>>,
  ): void {
    for (const v of variants) {
      const { node, path } = this.locate(v.segments, v.catchAll);
      for (const m of methods) {
        const existing = m === '*' ? node.any : (node.routes?.get(m) ?? null);
        const seen = pending.get(node);
        if (existing !== null || seen?.has(m)) {
          const other = existing?.pattern ?? pattern;
          if (other === pattern) {
            throw new RouterError(
              RouterErrorCode.DUPLICATE_ROUTE,
              `Route '${m} ${pattern}' is already registered`,
            );
          }
          throw new RouterError(
            RouterErrorCode.ROUTE_CONFLICT,
            `Route '${m} ${pattern}' cannot be told apart from '${m} ${other}'`,
          );
        }
        if (seen === undefined) pending.set(node, new Set([m]));
        else seen.add(m);
        placed.push({ node, method: m, names: v.names, path });
      }
    }
  }

  /** Replaces the tree with one holding exactly `records` (used by `remove` and a refused `add`). */
  private rebuild(records: readonly RouteRecord<T>[]): void {
    const list = records.slice();
    this.root = new Node<T>();
    this.staticMap = Object.create(null);
    this.staticLengths = new Uint8Array(0);
    this.terminals = [];
    this.records = [];
    this.stale = true;
    for (const r of list) this.add(r.methods, r.pattern, r.value);
    this.serverAllow = null;
  }

  /**
   * Walks the nodes of a variant, creating what is missing. Returns the terminal node and, for a
   * fully static variant, its canonical full path (null otherwise).
   */
  private locate(segments: SegmentSpec[], catchAll: string | null): { node: Node<T>; path: string | null } {
    let node: Node<T> = this.root;
    let path: string | null = '';
    for (const seg of segments) {
      let next: Node<T> | null | undefined;
      if (seg.kind === 'static') {
        next = node.staticChild(seg.text);
        if (path !== null) path += `/${seg.text}`;
      } else if (seg.kind === 'param') {
        if (node.param === null) {
          node.param = new Node<T>();
          node.param.label = `:${seg.name}`;
        }
        next = node.param;
        path = null;
      } else {
        let comp = node.composites?.find((c) => c.signature === seg.signature);
        if (comp === undefined) {
          comp = {
            parts: seg.parts,
            signature: seg.signature,
            literalLength: literalLength(seg.parts),
            constraints: seg.parts.filter((p) => typeof p !== 'string' && p.regex !== null).length,
            node: new Node<T>(),
          };
          comp.node.label = seg.parts
            .map((p) => (typeof p === 'string' ? p : `:${p.name}${p.source === null ? '' : `(${p.source})`}`))
            .join('');
          const list = node.composites ?? [];
          list.push(comp);
          // most specific first: more literal text, then more constraints, then signature
          list.sort(
            (a, b) =>
              b.literalLength - a.literalLength ||
              b.constraints - a.constraints ||
              (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0),
          );
          node.composites = list;
        }
        next = comp?.node;
        path = null;
      }
      node = next!;
    }
    if (catchAll !== null) {
      if (node.catchAll === null) {
        node.catchAll = new Node<T>();
        node.catchAll.label = catchAll === '*' ? '*' : `*${catchAll}`;
      }
      return { node: node.catchAll, path: null };
    }
    return { node, path };
  }

  private attach(
    node: Node<T>,
    method: string,
    pattern: string,
    value: T,
    names: string[],
    path: string | null,
  ): void {
    const route: Route<T> = {
      method,
      pattern,
      value,
      names,
      result:
        names.length === 0
          ? Object.freeze({ status: 200, value, params: EMPTY_PARAMS, query: '', pattern, method })
          : null,
      make: names.length > 0 && this.compile ? compileBuilder(names, value, pattern, method) : null,
    };
    if (node.byMethod === null) {
      node.byMethod = new Array(this.methodNames.length).fill(undefined);
      node.routes = new Map();
      this.terminals.push(node);
      if (path !== null) {
        const full = path === '' ? '/' : path;
        this.staticMap[full] = node;
        if (full.length >= this.staticLengths.length) {
          const grown = new Uint8Array(full.length + 1);
          grown.set(this.staticLengths);
          this.staticLengths = grown;
        }
        this.staticLengths[full.length] = 1;
      }
    }
    if (method === '*') node.any = route;
    else {
      this.methodId(method);
      node.routes!.set(method, route);
    }
    this.refreshTable(node);
  }

  /** Rebuilds a terminal node's per-method table and allow list. */
  private refreshTable(node: Node<T>): void {
    const table = node.byMethod!;
    table.fill(undefined);
    const methods: string[] = [];
    for (const [m, r] of node.routes!) {
      table[this.ids[m]!] = r;
      methods.push(m);
    }
    const get = node.routes!.get('GET');
    if (get !== undefined && !node.routes!.has('HEAD')) table[HEAD_ID] = get;
    node.allow = Object.freeze(completeAllow(methods));
  }

  /**
   * Removes the routes registered for `method` (a method, a list, or `'*'`) with exactly this
   * pattern text. Returns true when something was removed. Other methods of the same `add` call stay.
   */
  remove(method: string | readonly string[], pattern: string): boolean {
    const methods = new Set(typeof method === 'string' ? [method] : method);
    let removed = false;
    const kept: RouteRecord<T>[] = [];
    for (const r of this.records) {
      if (r.pattern !== pattern) {
        kept.push(r);
        continue;
      }
      const rest = r.methods.filter((m) => !methods.has(m));
      if (rest.length !== r.methods.length) removed = true;
      if (rest.length > 0) kept.push({ methods: rest, pattern: r.pattern, value: r.value });
    }
    if (!removed) return false;
    this.rebuild(kept);
    return true;
  }

  /** Every registered route, one entry per method, in registration order. */
  routes(): RouteInfo<T>[] {
    const out: RouteInfo<T>[] = [];
    for (const r of this.records)
      for (const m of r.methods) out.push({ method: m, pattern: r.pattern, value: r.value });
    return out;
  }

  /**
   * Looks up `method` + `path` (a request target in origin-form; the query is split off). Never
   * throws. Switch on `result.status`: 200 match, 204 automatic OPTIONS, 308 trailing-slash redirect,
   * 400 bad path, 404, 405 (with `allow`), 414 param too long.
   *
   * @example
   * ```ts
   * const r = router.find('GET', '/users/42?full=1');
   * if (r.status === 200) r.value(r.params.id, r.query);
   * else if (r.status === 405) res.header('Allow', r.allow.join(', '));
   * ```
   */
  find(method: string, path: string): FindResult<T> {
    const result = this.findResult(method, path);
    if (matchChannel.hasSubscribers) {
      const msg: RouteMatchMessage = { router: this, method, path, result };
      matchChannel.publish(msg);
    }
    return result;
  }

  private findResult(method: string, path: string): FindResult<T> {
    let query = '';
    const q = path.indexOf('?');
    if (q !== -1) {
      query = path.slice(q + 1);
      path = path.slice(0, q);
    }
    const mi = this.id(method);
    // fast path: a fully static route, path already canonical
    const sn = this.staticLengths[path.length] === 1 ? this.staticMap[path] : undefined;
    if (sn !== undefined) {
      const r = mi >= 0 ? sn.byMethod![mi] : undefined;
      if (r !== undefined)
        return r.result !== null && query === '' ? (r.result as RouteMatch<T>) : build(r, query);
      if (sn.any !== null) return build(sn.any, query);
    }
    if (path.charCodeAt(0) !== 47) {
      // '/' missing: only "OPTIONS *" is meaningful
      if (path === '*' && method === 'OPTIONS') return { status: 204, allow: this.allMethods() };
      return BAD_PATH;
    }
    let norm = path;
    let pct = false;
    if (path.indexOf('%') !== -1) {
      const n = normalizePercent(path);
      if (n === null) return BAD_ENCODING;
      norm = n;
      pct = true;
    }
    if (this.normalizeDots && norm.indexOf('.') !== -1 && hasDotSegment(norm)) norm = removeDotSegments(norm);
    this.tooLong = false;
    this.dot = false;
    if (this.stale) this.refreshMatcher();
    const rm = this.resultMatcher;
    let found: FindResult<T> | null;
    if (rm !== null && !pct && norm === path && this.caseSensitive) {
      // the common case, a canonical path: the generated walk answers the 200 result itself
      this.miss = false;
      const res = rm(norm, norm, mi, query);
      if (res !== null) return this.dot ? BAD_DOTS : (res as RouteMatch<T>);
      found = this.miss ? this.methodMiss(method, norm, norm) : null;
    } else found = this.lookup(method, mi, norm, pct, query, norm !== path);
    if (this.dot) return BAD_DOTS; // reject mode (normalised paths hold no dot segments)
    if (found !== null && found.status === 200) return found;
    // no match: a dot segment anywhere in the path answers 400 (reject mode)
    if (!this.normalizeDots && norm.indexOf('.') !== -1 && hasDotSegment(norm)) return BAD_DOTS;
    if (found !== null) return found;
    if (this.trailing !== 0 && norm.length > 1) {
      const alt = norm.charCodeAt(norm.length - 1) === 47 ? norm.slice(0, -1) : `${norm}/`; // '/'
      const second = this.lookup(method, mi, alt, pct, query, true);
      if (second !== null) {
        if (this.trailing === 1) return second;
        // never redirect to a protocol-relative location ("//evil.example" or "/\evil.example")
        const c1 = alt.charCodeAt(1);
        if (c1 === 47 || c1 === 92) return NOT_FOUND; // '/' '\\'
        return { status: 308, location: query === '' ? alt : `${alt}?${query}` };
      }
    }
    return this.tooLong ? TOO_LONG : NOT_FOUND;
  }

  /** Match on a canonical path; null when no node matched the path under any method. */
  private lookup(
    method: string,
    mi: number,
    norm: string,
    pct: boolean,
    query: string,
    tryStatic: boolean,
  ): FindResult<T> | null {
    const key = this.caseSensitive ? norm : asciiLower(norm);
    this.pn = 0;
    this.miss = false;
    let route: Route<T> | null = null;
    if ((tryStatic || key !== norm) && this.staticLengths[key.length] === 1) {
      const sn = this.staticMap[key];
      if (sn !== undefined) route = this.terminal(sn, mi);
    }
    if (route === null) {
      // (the generated walks are fresh: `find` refreshed them before calling this)
      const rm = this.resultMatcher;
      if (rm !== null && !pct) {
        // generated walk that answers the 200 result itself (params sliced, nothing to decode)
        const res = rm(key, norm, mi, query);
        if (res !== null) return res as RouteMatch<T>;
      } else {
        const m = this.matcher;
        route = m !== null ? m(key, norm, mi) : this.walk(this.root, key, norm, 1, mi);
      }
    }
    if (route !== null) {
      if (route.names.length === 0) {
        return route.result !== null && query === '' ? (route.result as RouteMatch<T>) : build(route, query);
      }
      return this.withParams(route, norm, pct, query);
    }
    if (!this.miss) return null;
    return this.methodMiss(method, key, norm);
  }

  /** The path exists under other methods only: 405, or 204 for OPTIONS, with the complete allow list. */
  private methodMiss(method: string, key: string, norm: string): FindResult<T> {
    const allow = this.collectAllow(key, norm);
    if (method === 'OPTIONS') return { status: 204, allow };
    return { status: 405, allow };
  }

  private refreshMatcher(): void {
    this.stale = false;
    // big trees are over compileMatcher's size limit anyway: skip generating their source
    const gen = this.compile && this.terminals.length <= MATCHER_MAX_TERMINALS;
    const host = this as unknown as MatcherHost;
    this.matcher = gen ? compileMatcher(this.root, host, this.maxParamLength) : null;
    this.resultMatcher =
      this.matcher !== null ? compileResultMatcher(this.root, host, this.maxParamLength, EMPTY_PARAMS) : null;
  }

  private terminal(node: Node<T>, mi: number): Route<T> | null {
    const table = node.byMethod;
    if (table === null) return null;
    if (mi >= 0) {
      const r = table[mi];
      if (r !== undefined) return r;
    }
    if (node.any !== null) return node.any;
    this.miss = true;
    return null;
  }

  /**
   * Depth-first match of the segment starting at `start`, children in precedence order; a child that
   * fails (deeper segments or method) falls back to the next one. Params go to `ps` as offsets.
   * One loop: a descent with nothing left to fall back to at this node continues the loop instead
   * of recursing (tail position); only a descent with fallbacks behind it recurses.
   */
  private walk(node: Node<T>, key: string, norm: string, start: number, mi: number): Route<T> | null {
    const len = key.length;
    let r: Route<T> | null;
    for (;;) {
      // 1. static: index by the segment's first char, compare the rest in place, then the boundary
      const byChar = node.byChar;
      const param = node.param;
      const comps = node.composites;
      const tail = node.catchAll;
      if (byChar !== null) {
        let next: Node<T> | null = null;
        let stop = 0;
        const c0 = start < len ? key.charCodeAt(start) : 47; // '/' stands for an empty segment
        if (c0 < byChar.length) {
          const bucket = byChar[c0];
          if (bucket !== undefined) {
            for (let i = 0; i < bucket.length; i++) {
              const k = bucket[i]!.codes;
              const kl = k.length;
              stop = start + kl;
              // the segment must end where the key ends ('/' or the end of the path)
              if (stop < len ? key.charCodeAt(stop) !== 47 : stop > len) continue;
              let j = 1;
              while (j < kl && key.charCodeAt(start + j) === k[j]) j++;
              if (j >= kl) {
                next = bucket[i]!.node;
                break;
              }
            }
          }
        }
        if (next !== null) {
          if (stop === len) {
            r = this.terminal(next, mi);
            if (r !== null) return r;
          } else if (param === null && comps === null && tail === null) {
            // nothing to fall back to at this node: descend without recursion
            node = next;
            start = stop + 1;
            continue;
          } else {
            const pn = this.pn;
            r = this.walk(next, key, norm, stop + 1, mi);
            if (r !== null) return r;
            // a failed descent may leave its params' offsets counted: drop them before the fallbacks
            this.pn = pn;
          }
        }
      }
      if (param === null && comps === null) return tail === null ? null : this.catchAll(node, key, start, mi);
      // segment end: the next '/' or the end of the path
      let end = key.indexOf('/', start);
      const last = end === -1;
      if (last) end = len;
      // '.' or '..' as a whole segment: flag it (find rejects the path)
      if (
        key.charCodeAt(start) === 46 && // '.'
        end - start <= 2 &&
        (end - start === 1 || key.charCodeAt(start + 1) === 46) // '.'
      )
        this.dot = true;
      const pn = this.pn;
      // 2. composite / constrained
      if (comps !== null) {
        for (let i = 0; i < comps.length; i++) {
          const c = comps[i]!;
          if (this.matchParts(c.parts, 0, key, norm, start, end)) {
            r = last ? this.terminal(c.node, mi) : this.walk(c.node, key, norm, end + 1, mi);
            if (r !== null) return r;
          }
          this.pn = pn;
        }
      }
      // 3. whole-segment param
      if (param !== null && end > start) {
        if (end - start > this.maxParamLength) this.tooLong = true;
        else {
          const ps = this.ps;
          ps[pn] = start;
          ps[pn + 1] = end;
          this.pn = pn + 2;
          if (last) {
            r = this.terminal(param, mi);
            if (r !== null) return r;
          } else if (tail === null) {
            // only a catch-all could follow the param here, and there is none: no recursion
            node = param;
            start = end + 1;
            continue;
          } else {
            r = this.walk(param, key, norm, end + 1, mi);
            if (r !== null) return r;
          }
          this.pn = pn;
        }
      }
      // 4. catch-all
      if (tail !== null) return this.catchAll(node, key, start, mi);
      return null;
    }
  }

  /** Catch-all: the rest of the path from `start`, possibly empty. */
  private catchAll(node: Node<T>, key: string, start: number, mi: number): Route<T> | null {
    if (hasDotSegment(key, start)) this.dot = true;
    const pn = this.pn;
    const ps = this.ps;
    ps[pn] = start;
    ps[pn + 1] = key.length;
    this.pn = pn + 2;
    const r = this.terminal(node.catchAll!, mi);
    if (r === null) this.pn = pn;
    return r;
  }

  /** Matches composite parts against key[pos, end); earlier params are greedy. Pushes offsets. */
  private matchParts(
    parts: readonly (string | ParamPart)[],
    i: number,
    key: string,
    norm: string,
    pos: number,
    end: number,
  ): boolean {
    if (i === parts.length) return pos === end;
    const p = parts[i]!;
    if (typeof p === 'string') {
      if (end - pos < p.length || !key.startsWith(p, pos)) return false;
      return this.matchParts(parts, i + 1, key, norm, pos + p.length, end);
    }
    const pn = this.pn;
    if (i === parts.length - 1) {
      if (end <= pos || !this.paramOk(p, norm, pos, end)) return false;
      this.ps[pn] = pos;
      this.ps[pn + 1] = end;
      this.pn = pn + 2;
      return true;
    }
    const lit = parts[i + 1] as string;
    let at = key.lastIndexOf(lit, end - lit.length);
    while (at > pos) {
      if (this.paramOk(p, norm, pos, at)) {
        this.ps[pn] = pos;
        this.ps[pn + 1] = at;
        this.pn = pn + 2;
        if (this.matchParts(parts, i + 2, key, norm, at + lit.length, end)) return true;
        this.pn = pn;
      }
      at = key.lastIndexOf(lit, at - 1);
    }
    return false;
  }

  private paramOk(p: ParamPart, norm: string, from: number, to: number): boolean {
    if (to - from > this.maxParamLength) {
      this.tooLong = true;
      return false;
    }
    if (p.regex === null) return true;
    let v = norm.slice(from, to);
    if (v.indexOf('%') !== -1) v = safeDecode(v) ?? v;
    return p.regex.test(v);
  }

  private withParams(route: Route<T>, norm: string, pct: boolean, query: string): FindResult<T> {
    const ps = this.ps;
    if (!pct && route.make !== null) return route.make(norm, ps, query) as RouteMatch<T>;
    const names = route.names;
    const params: Params = {};
    for (let i = 0; i < names.length; i++) {
      let v = norm.slice(ps[2 * i]!, ps[2 * i + 1]!);
      if (pct && v.indexOf('%') !== -1) {
        const d = safeDecode(v);
        if (d === null) return BAD_ENCODING;
        v = d;
      }
      params[names[i]!] = v;
    }
    return { status: 200, value: route.value, params, query, pattern: route.pattern, method: route.method };
  }

  /** Union of the methods of every node that matches the path (slow path: 405 and OPTIONS only). */
  private collectAllow(key: string, norm: string): readonly string[] {
    const hits: Node<T>[] = [];
    this.collect(this.root, key, norm, 1, hits);
    if (hits.length === 1) return hits[0]!.allow;
    const methods = new Set<string>();
    for (const h of hits) for (const m of h.routes!.keys()) methods.add(m);
    return completeAllow([...methods]);
  }

  private collect(node: Node<T>, key: string, norm: string, start: number, hits: Node<T>[]): void {
    let end = key.indexOf('/', start);
    const last = end === -1;
    if (last) end = key.length;
    const visit = (child: Node<T>): void => {
      if (last) {
        if (child.byMethod !== null && !hits.includes(child)) hits.push(child);
      } else this.collect(child, key, norm, end + 1, hits);
    };
    const st = node.statics?.[key.slice(start, end)];
    if (st !== undefined) visit(st);
    if (node.composites !== null) {
      for (const c of node.composites) {
        const pn = this.pn;
        if (this.matchParts(c.parts, 0, key, norm, start, end)) visit(c.node);
        this.pn = pn;
      }
    }
    if (node.param !== null && end > start && end - start <= this.maxParamLength) visit(node.param);
    if (node.catchAll !== null && node.catchAll.byMethod !== null && !hits.includes(node.catchAll)) {
      hits.push(node.catchAll);
    }
  }

  /** Allow list for `OPTIONS *`: every method registered anywhere. */
  private allMethods(): readonly string[] {
    if (this.serverAllow === null) {
      const set = new Set<string>();
      for (const r of this.records) for (const m of r.methods) if (m !== '*') set.add(m);
      this.serverAllow = Object.freeze(completeAllow([...set]));
    }
    return this.serverAllow;
  }

  /**
   * A printable view of the tree: one line per node, children in match precedence order, with the
   * methods served at terminal nodes.
   *
   * Lines are drawn with the box-drawing characters U+251C, U+2514, U+2502 and U+2500 (written
   * as escapes here and in the code, so the module text stays Latin-1 and V8 keeps it as a one-byte
   * string: half the memory of a two-byte one). Shown with ASCII stand-ins (`|--` for U+251C U+2500
   * U+2500, `` `-- `` for U+2514 U+2500 U+2500, `|` for U+2502):
   *
   * @example
   * ```
   * /
   * |-- users [GET, HEAD, POST, OPTIONS]
   * |   `-- :id [GET, HEAD, DELETE, OPTIONS]
   * `-- static
   *     `-- *path [GET, HEAD, OPTIONS]
   * ```
   */
  printTree(): string {
    const rootRoute = this.root.statics?.[''];
    const lines: string[] = [`/${rootRoute === undefined ? '' : describe(rootRoute)}`];
    const rec = (node: Node<T>, prefix: string): void => {
      const kids: [string, Node<T>][] = [];
      if (node.statics !== null) {
        for (const k of Object.keys(node.statics).sort()) {
          if (k === '' && node === this.root) continue; // shown on the '/' line
          kids.push([k === '' ? '(trailing /)' : k, node.statics[k]!]);
        }
      }
      for (const c of node.composites ?? []) kids.push([c.node.label, c.node]);
      if (node.param !== null) kids.push([node.param.label, node.param]);
      if (node.catchAll !== null) kids.push([node.catchAll.label, node.catchAll]);
      kids.forEach(([label, child], i) => {
        const lastKid = i === kids.length - 1;
        lines.push(`${prefix}${lastKid ? LAST_KID : KID}${label}${describe(child)}`);
        rec(child, prefix + (lastKid ? '    ' : CONTINUES));
      });
    };
    rec(this.root, '');
    return lines.join('\n');
  }
}

// printTree's branch glyphs, as escapes: a character above U+00FF anywhere in this file would make
// V8 hold the whole module text as a two-byte string.
const KID = '\u251c\u2500\u2500 '; // "|-- "
const LAST_KID = '\u2514\u2500\u2500 '; // "`-- "
const CONTINUES = '\u2502   '; // "|   "

function describe(node: Node<unknown>): string {
  if (node.byMethod === null) return '';
  if (node.routes!.size === 0) return ' [*]';
  const parts = [...node.allow];
  if (node.any !== null) parts.unshift('*');
  return ` [${parts.join(', ')}]`;
}

/** Registered methods + HEAD when GET + OPTIONS, in canonical order (standard first, then sorted). */
function completeAllow(methods: string[]): string[] {
  const set = new Set(methods.filter((m) => m !== '*'));
  if (set.has('GET')) set.add('HEAD');
  set.add('OPTIONS');
  const out: string[] = [];
  for (const m of STANDARD_METHODS) if (set.has(m)) out.push(m);
  const ext = [...set].filter((m) => !STANDARD_METHODS.includes(m)).sort();
  return out.concat(ext);
}

function build<T>(route: Route<T>, query: string): RouteMatch<T> {
  return {
    status: 200,
    value: route.value,
    params: EMPTY_PARAMS,
    query,
    pattern: route.pattern,
    method: route.method,
  };
}
