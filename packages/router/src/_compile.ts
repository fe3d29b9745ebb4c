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
  if (!codegenAvailable() || !Number.isInteger(maxParamLength)) return null;
  const nodes: Node<T>[] = [];
  const longs: (readonly number[])[] = [];
  const parts: (readonly (string | ParamPart)[])[] = [];
  let uid = 0;

  const terminal = (n: Node<T>): string => {
    if (n.byMethod === null) return '';
    const i = nodes.push(n) - 1;
    return `if(mi>=0){r=t${i}[mi];if(r!==undefined)return r}if(n${i}.any!==null)return n${i}.any;R.miss=true;`;
  };

  const catchAll = (n: Node<T>, s: string, p: number): string =>
    `if(H(k,${s}))R.dot=true;ps[${2 * p}]=${s};ps[${2 * p + 1}]=len;${terminal(n)}`;

  /** Code matching the segment at `s` (a variable name) under `node`, with `p` params so far. */
  const gen = (node: Node<T>, s: string, p: number): string => {
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
        return `{const ${a}=${s}+${key.length};if(${cond}){if(${a}===len){${terminal(child)}}else{const ${next}=${a}+1;${gen(child, next, p)}}}}`;
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
      if (tail !== null) out += catchAll(tail, s, p);
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
        out += `R.pn=${2 * p};if(R.matchParts(c${parts.push(c.parts) - 1},0,k,norm,${s},${e})){if(${l}){${terminal(c.node)}}else{const ${next}=${e}+1;${gen(c.node, next, p + np)}}}`;
      }
    }
    // 3. whole-segment param
    if (param !== null) {
      const next = `s${uid++}`;
      out += `if(${e}>${s}){if(${e}-${s}>${maxParamLength})R.tooLong=true;else{ps[${2 * p}]=${s};ps[${2 * p + 1}]=${e};if(${l}){${terminal(param)}}else{const ${next}=${e}+1;${gen(param, next, p + 1)}}}}`;
    }
    // 4. catch-all
    if (tail !== null) out += catchAll(tail, s, p);
    out += '}';
    return out;
  };

  const walk = gen(root, 's', 0);
  if (walk.length > MAX_SOURCE) return null;
  let head = "'use strict';const ps=R.ps;";
  for (let i = 0; i < nodes.length; i++) head += `const n${i}=N[${i}],t${i}=n${i}.byMethod;`;
  for (let i = 0; i < longs.length; i++) head += `const l${i}=G[${i}];`;
  for (let i = 0; i < parts.length; i++) head += `const c${i}=C[${i}];`;
  const body = `${head}return function(k,norm,mi){let r;const len=k.length;const s=1;${walk}return null}`;
  try {
    const factory = new Function('R', 'N', 'G', 'C', 'H', 'L', body) as (
      r: MatcherHost,
      n: Node<T>[],
      g: (readonly number[])[],
      c: (readonly (string | ParamPart)[])[],
      h: typeof hasDotSegment,
      l: typeof sameCodes,
    ) => Matcher<T>;
    return factory(host, nodes, longs, parts, hasDotSegment, sameCodes);
  } catch {
    return null;
  }
}
