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
