/**
 * What the helpers need from a request: its method and a case-insensitive header lookup.
 * `@strata/server`'s `ServerRequest` satisfies it; so does `fromRecord({...})`.
 */
export interface RequestLike {
  /** Request method, upper case. */
  readonly method: string;
  /** Header value by name (case-insensitive), or undefined. */
  header(name: string): string | undefined;
}

/** Wraps a plain `{ method, headers }` record (names any case) as a {@link RequestLike}. */
export function requestFrom(method: string, headers: Record<string, string | undefined>): RequestLike {
  const lower: Record<string, string | undefined> = Object.create(null);
  for (const k of Object.keys(headers)) lower[k.toLowerCase()] = headers[k];
  return { method, header: (name: string) => lower[name.toLowerCase()] };
}
