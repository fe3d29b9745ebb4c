import type { Node, Route } from './_node';
import { hasDotSegment } from './_path';
import type { ParamPart } from './_pattern';

/**
 * Registration-time code generation of match builders (the `compile` option). A builder turns the
 * param offsets of a lookup into the result object with a fixed shape per route: an object literal
 * whose keys are the route's param names, so V8 creates it with one map and no keyed (megamorphic)
 * stores. Only param names reach the generated source, each through `JSON.stringify` after a check
 * against the pattern grammar's name characters; values, patterns and methods are closed over.
 * Where code generation from strings is disabled (CSP, `--disallow-code-generation-from-strings`)
 * nothing is generated and the router uses its interpreted builder, with identical results.
 */

/** Builds the 200 result from the path, the `[start, end, ...]` param offsets and the raw query. */
export type Builder = (path: string, offsets: readonly number[], query: string) => object;

let available: boolean | undefined;

/** True when `new Function` works in this realm (checked once). */
export function codegenAvailable(): boolean {
  if (available === undefined) {
    try {
      available = new Function('return 1')() === 1;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Param names the pattern grammar allows: letters, digits, `_`, or `*` for an unnamed catch-all. */
function safeName(name: string): boolean {
  if (name === '*') return true;
  if (name.length === 0 || name === '__proto__') return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // '0'..'9', 'A'..'Z', '_', 'a'..'z'
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

/**
 * A builder for a route with params, or null when code generation is unavailable or a name is
 * outside the grammar (then the interpreted builder is used).
 */
export function compileBuilder(
  names: readonly string[],
  value: unknown,
  pattern: string,
  method: string,
): Builder | null {
  if (!codegenAvailable()) return null;
  let fields = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!safeName(name)) return null;
    fields += `${JSON.stringify(name)}:s.slice(o[${2 * i}],o[${2 * i + 1}]),`;
  }
  try {
    const factory = new Function(
      'v',
      'p',
      'm',
      `'use strict';return function(s,o,q){return{status:200,value:v,params:{${fields}},query:q,pattern:p,method:m}}`,
    ) as (v: unknown, p: string, m: string) => Builder;
    return factory(value, pattern, method);
  } catch {
    return null;
  }
}

/** What a generated matcher reads and writes on its router (the interpreted walk's state). */
export interface MatcherHost {
  /** Param offsets of the current lookup: [start0, end0, start1, end1, ...]. */
  readonly ps: number[];
  pn: number;
  dot: boolean;
  tooLong: boolean;
  miss: boolean;
  matchParts(
    parts: readonly (string | ParamPart)[],
    i: number,
    key: string,
    norm: string,
    pos: number,
    end: number,
  ): boolean;
}

/** The generated tree walk: the route for `key` (canonical, lower-cased when case-insensitive), or null. */
export type Matcher<T> = (key: string, norm: string, mi: number) => Route<T> | null;

/**
 * The generated tree walk in results mode (paths without `%`): the 200 result for `key`, or null.
 * `query` is the raw query of the lookup.
 */
export type ResultMatcher = (key: string, norm: string, mi: number, query: string) => object | null;

/** Static keys longer than this compare with a loop over their char codes instead of unrolled. */
const UNROLL = 24;
/**
 * Trees whose generated walk is longer than this (about 40 routes) keep the interpreted walk: V8
 * compiles a large generated function so slowly, and the result runs so little faster, that the
 * 251-route benchmark set was 2x to 4x slower for seconds after start-up and still 0.6x after.
 */
const MAX_SOURCE = 16_000;

/** key[from, from + codes.length) equals `codes` (long static keys). */
function sameCodes(key: string, from: number, codes: readonly number[]): boolean {
  for (let j = 1; j < codes.length; j++) if (key.charCodeAt(from + j) !== codes[j]) return false;
  return true;
}

/**
 * Generates the whole tree walk as one function (the `compile` option): the same depth-first
 * search as the interpreted `walk`, in the same precedence order (static > composite/constrained >
 * param > catch-all, backtracking on a failed descent), with each node's static edges as a
 * `switch` on the segment's first char and unrolled char-code compares, and param offsets stored at
 * indices known at generation time. No text of a pattern reaches the source: static keys appear as
 * their char codes (integers), nodes, composite parts and long keys are passed in as closure
 * arrays, and the only other number is `maxParamLength` (checked to be an integer). Returns null
 * when code generation is unavailable or the source would be too large (the router then walks the
 * tree itself, with identical results).
 */
export function compileMatcher<T>(
  root: Node<T>,
  host: MatcherHost,
  maxParamLength: number,
): Matcher<T> | null {
  return generate(root, host, maxParamLength, false, null) as Matcher<T> | null;
}

/**
 * The generated tree walk that answers the 200 result itself (paths without `%` only: params are
 * sliced, never decoded): each terminal node's routes become object literals built in place, with
 * the param offsets read from the walk's own locals, so a match makes no call to a builder and
 * stores no offsets. Same search, same precedence, same flags (`dot`, `tooLong`, `miss`) as
 * {@link compileMatcher}; `null` on a miss. Param names reach the source through
 * `JSON.stringify` after the grammar check, values, patterns, methods and shared results are
 * closure values. Null when code generation is unavailable, a name is outside the grammar, or the
 * source would be too large.
 */
export function compileResultMatcher<T>(
  root: Node<T>,
  host: MatcherHost,
  maxParamLength: number,
  emptyParams: object,
): ResultMatcher | null {
  return generate(root, host, maxParamLength, true, emptyParams) as ResultMatcher | null;
}

function generate<T>(
  root: Node<T>,
  host: MatcherHost,
  maxParamLength: number,
  results: boolean,
  emptyParams: object | null,
): Matcher<T> | ResultMatcher | null {
  if (!codegenAvailable() || !Number.isInteger(maxParamLength)) return null;
  const nodes: Node<T>[] = [];
  const longs: (readonly number[])[] = [];
  const parts: (readonly (string | ParamPart)[])[] = [];
  const routes: Route<T>[] = [];
  let uid = 0;
  let bad = false;

  /** The 200 result of `route` as an object literal; `at` holds each param's `start,end` slice arguments. */
  const literal = (route: Route<T>, at: readonly string[]): string => {
    let i = routes.indexOf(route);
    if (i === -1) i = routes.push(route) - 1;
    const names = route.names;
    if (names.length === 0)
      return `return q===''?f${i}:{status:200,value:v${i},params:E,query:q,pattern:p${i},method:m${i}};`;
    if (names.length !== at.length) {
      bad = true;
      return '';
    }
    let fields = '';
    for (let j = 0; j < names.length; j++) {
      if (!safeName(names[j]!)) bad = true;
      fields += `${JSON.stringify(names[j])}:norm.slice(${at[j]}),`;
    }
    return `return{status:200,value:v${i},params:{${fields}},query:q,pattern:p${i},method:m${i}};`;
  };

  const terminal = (n: Node<T>, at: readonly string[]): string => {
    const table = n.byMethod;
    if (table === null) return '';
    if (results) {
      // the method table is fixed until the next add/remove (which regenerates this code)
      let out = '';
      const seen: Route<T>[] = [];
      for (const route of table) {
        if (route === undefined || seen.includes(route)) continue;
        seen.push(route);
        let cases = '';
        for (let mi = 0; mi < table.length; mi++) if (table[mi] === route) cases += `case ${mi}:`;
        out += `${cases}${literal(route, at)}`;
      }
      if (out !== '') out = `switch(mi){${out}}`;
      if (n.any !== null) return `${out}${literal(n.any, at)}`;
      return `${out}R.miss=true;`;
    }
    const i = nodes.push(n) - 1;
    return `if(mi>=0){r=t${i}[mi];if(r!==undefined)return r}if(n${i}.any!==null)return n${i}.any;R.miss=true;`;
  };

  const catchAll = (n: Node<T>, s: string, p: number, at: readonly string[]): string =>
    results
      ? `if(H(k,${s}))R.dot=true;${terminal(n, [...at, `${s},len`])}`
      : `if(H(k,${s}))R.dot=true;ps[${2 * p}]=${s};ps[${2 * p + 1}]=len;${terminal(n, at)}`;

  /**
   * Code matching the segment at `s` (a variable name) under `node`, with `p` params so far; `at`
   * (results mode) holds the slice arguments of those params.
   */
  const gen = (node: Node<T>, s: string, p: number, at: readonly string[]): string => {
    const d = uid++;
    let out = '';
    // 1. static edges: at most one equals the segment; a failed descent falls through to 2.
    const statics = node.statics;
    if (statics !== null) {
      const groups = new Map<number, string[]>();
      for (const key of Object.keys(statics)) {
        const first = key.length === 0 ? -1 : key.charCodeAt(0);
        const g = groups.get(first);
        if (g === undefined) groups.set(first, [key]);
        else g.push(key);
      }
      const edge = (key: string): string => {
        const child = statics[key]!;
        const a = `a${d}`;
        let cond = `(${a}===len||k.charCodeAt(${a})===47)`; // segment ends: '/' or end of path
        if (key.length > UNROLL) {
          const codes: number[] = [];
          for (let j = 0; j < key.length; j++) codes.push(key.charCodeAt(j));
          cond += `&&L(k,${s},l${longs.push(codes) - 1})`;
        } else {
          for (let j = 1; j < key.length; j++) cond += `&&k.charCodeAt(${s}+${j})===${key.charCodeAt(j)}`;
        }
        const next = `s${uid++}`;
        return `{const ${a}=${s}+${key.length};if(${cond}){if(${a}===len){${terminal(child, at)}}else{const ${next}=${a}+1;${gen(child, next, p, at)}}}}`;
      };
      const empty = groups.get(-1);
      if (empty !== undefined) out += edge(empty[0]!);
      groups.delete(-1);
      if (groups.size === 1) {
        const [first, keys] = [...groups][0]!;
        out += `if(k.charCodeAt(${s})===${first}){${keys.map(edge).join('')}}`;
      } else if (groups.size > 1) {
        out += `switch(k.charCodeAt(${s})){`;
        for (const [first, keys] of groups) out += `case ${first}:{${keys.map(edge).join('')}break}`;
        out += '}';
      }
    }
    const comps = node.composites;
    const param = node.param;
    const tail = node.catchAll;
    if (param === null && comps === null) {
      if (tail !== null) out += catchAll(tail, s, p, at);
      return out;
    }
    // segment end: the next '/' or the end of the path
    const e = `e${d}`;
    const l = `z${d}`;
    out += `{let ${e}=k.indexOf("/",${s});const ${l}=${e}===-1;if(${l})${e}=len;`;
    // '.' or '..' as a whole segment: flag it (find rejects the path)
    out += `if(k.charCodeAt(${s})===46&&${e}-${s}<=2&&(${e}-${s}===1||k.charCodeAt(${s}+1)===46))R.dot=true;`;
    // 2. composite / constrained
    if (comps !== null) {
      for (const c of comps) {
        let np = 0;
        for (const part of c.parts) if (typeof part !== 'string') np++;
        const next = `s${uid++}`;
        const cat = [...at];
        for (let j = 0; j < np; j++) cat.push(`ps[${2 * (p + j)}],ps[${2 * (p + j) + 1}]`);
        out += `R.pn=${2 * p};if(R.matchParts(c${parts.push(c.parts) - 1},0,k,norm,${s},${e})){if(${l}){${terminal(c.node, cat)}}else{const ${next}=${e}+1;${gen(c.node, next, p + np, cat)}}}`;
      }
    }
    // 3. whole-segment param
    if (param !== null) {
      const next = `s${uid++}`;
      // results mode: the offsets stay in the walk's locals (`s`, `e`) and go straight into the literal
      const store = results ? '' : `ps[${2 * p}]=${s};ps[${2 * p + 1}]=${e};`;
      const pat = results ? [...at, `${s},${e}`] : at;
      out += `if(${e}>${s}){if(${e}-${s}>${maxParamLength})R.tooLong=true;else{${store}if(${l}){${terminal(param, pat)}}else{const ${next}=${e}+1;${gen(param, next, p + 1, pat)}}}}`;
    }
    // 4. catch-all
    if (tail !== null) out += catchAll(tail, s, p, at);
    out += '}';
    return out;
  };

  const walk = gen(root, 's', 0, []);
  if (bad || walk.length > MAX_SOURCE) return null;
  let head = "'use strict';const ps=R.ps;";
  for (let i = 0; i < nodes.length; i++) head += `const n${i}=N[${i}],t${i}=n${i}.byMethod;`;
  for (let i = 0; i < longs.length; i++) head += `const l${i}=G[${i}];`;
  for (let i = 0; i < parts.length; i++) head += `const c${i}=C[${i}];`;
  for (let i = 0; i < routes.length; i++) {
    head += `const v${i}=V[${i}].value,p${i}=V[${i}].pattern,m${i}=V[${i}].method,f${i}=V[${i}].result;`;
  }
  const args = results ? 'k,norm,mi,q' : 'k,norm,mi';
  const body = `${head}return function(${args}){let r;const len=k.length;const s=1;${walk}return null}`;
  try {
    const factory = new Function('R', 'N', 'G', 'C', 'H', 'L', 'V', 'E', body) as (
      r: MatcherHost,
      n: Node<T>[],
      g: (readonly number[])[],
      c: (readonly (string | ParamPart)[])[],
      h: typeof hasDotSegment,
      l: typeof sameCodes,
      v: Route<T>[],
      e: object | null,
    ) => Matcher<T> | ResultMatcher;
    return factory(host, nodes, longs, parts, hasDotSegment, sameCodes, routes, emptyParams);
  } catch {
    return null;
  }
}
