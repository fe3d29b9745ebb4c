/**
 * Checks one configured limit: a non-negative integer or `Infinity` (no limit), else `RangeError`
 * naming the option. Shared by both parsers' constructors.
 */
export function checkLimit(name: string, n: number): number {
  if (n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && n >= 0)) return n;
  throw new RangeError(`${name} must be a non-negative integer or Infinity, got ${n}`);
}
