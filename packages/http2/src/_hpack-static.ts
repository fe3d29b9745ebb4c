/**
 * The HPACK static table (RFC 7541 Appendix A): 61 entries, index 1 to 61, and the lookups the
 * encoder needs (by name, and by name and value).
 */

/** Number of static table entries; dynamic table indices start at `STATIC_LENGTH + 1`. */
export const STATIC_LENGTH = 61;

const ENTRIES: readonly (readonly [string, string])[] = [
  [':authority', ''], // 1
  [':method', 'GET'], // 2
  [':method', 'POST'], // 3
  [':path', '/'], // 4
  [':path', '/index.html'], // 5
  [':scheme', 'http'], // 6
  [':scheme', 'https'], // 7
  [':status', '200'], // 8
  [':status', '204'], // 9
  [':status', '206'], // 10
  [':status', '304'], // 11
  [':status', '400'], // 12
  [':status', '404'], // 13
  [':status', '500'], // 14
  ['accept-charset', ''], // 15
  ['accept-encoding', 'gzip, deflate'], // 16
  ['accept-language', ''], // 17
  ['accept-ranges', ''], // 18
  ['accept', ''], // 19
  ['access-control-allow-origin', ''], // 20
  ['age', ''], // 21
  ['allow', ''], // 22
  ['authorization', ''], // 23
  ['cache-control', ''], // 24
  ['content-disposition', ''], // 25
  ['content-encoding', ''], // 26
  ['content-language', ''], // 27
  ['content-length', ''], // 28
  ['content-location', ''], // 29
  ['content-range', ''], // 30
  ['content-type', ''], // 31
  ['cookie', ''], // 32
  ['date', ''], // 33
  ['etag', ''], // 34
  ['expect', ''], // 35
  ['expires', ''], // 36
  ['from', ''], // 37
  ['host', ''], // 38
  ['if-match', ''], // 39
  ['if-modified-since', ''], // 40
  ['if-none-match', ''], // 41
  ['if-range', ''], // 42
  ['if-unmodified-since', ''], // 43
  ['last-modified', ''], // 44
  ['link', ''], // 45
  ['location', ''], // 46
  ['max-forwards', ''], // 47
  ['proxy-authenticate', ''], // 48
  ['proxy-authorization', ''], // 49
  ['range', ''], // 50
  ['referer', ''], // 51
  ['refresh', ''], // 52
  ['retry-after', ''], // 53
  ['server', ''], // 54
  ['set-cookie', ''], // 55
  ['strict-transport-security', ''], // 56
  ['transfer-encoding', ''], // 57
  ['user-agent', ''], // 58
  ['vary', ''], // 59
  ['via', ''], // 60
  ['www-authenticate', ''], // 61
];

/** `STATIC_NAMES[i]` is the name of static entry `i` (1..61); index 0 is unused (''). */
export const STATIC_NAMES: readonly string[] = [''].concat(ENTRIES.map((e) => e[0]));

/** `STATIC_VALUES[i]` is the value of static entry `i` (1..61); index 0 is unused (''). */
export const STATIC_VALUES: readonly string[] = [''].concat(ENTRIES.map((e) => e[1]));

/** What the static table holds for one name: its first index and the index of each value. */
export interface StaticName {
  /** The lowest static index with this name (the one a literal refers to). */
  readonly index: number;
  /** Each value this name has in the table, to its index (`''` included where listed). */
  readonly values: ReadonlyMap<string, number>;
}

/** Static table lookup by name (52 distinct names). */
export const STATIC_BY_NAME: ReadonlyMap<string, StaticName> = buildByName();

function buildByName(): Map<string, StaticName> {
  const map = new Map<string, { index: number; values: Map<string, number> }>();
  for (let i = 1; i <= STATIC_LENGTH; i++) {
    const name = STATIC_NAMES[i]!;
    let entry = map.get(name);
    if (entry === undefined) {
      entry = { index: i, values: new Map() };
      map.set(name, entry);
    }
    entry.values.set(STATIC_VALUES[i]!, i);
  }
  return map;
}

/** The static index of exactly `name: value`, or 0. */
export function staticFieldIndex(name: string, value: string): number {
  const entry = STATIC_BY_NAME.get(name);
  if (entry === undefined) return 0;
  return entry.values.get(value) ?? 0;
}

/** The lowest static index with `name`, or 0. */
export function staticNameIndex(name: string): number {
  return STATIC_BY_NAME.get(name)?.index ?? 0;
}
