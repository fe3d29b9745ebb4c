import type { Builder } from './_compile';
import type { ParamPart } from './_pattern';

/** One registered route (one method, one concrete variant of a pattern). */
export interface Route<T> {
  /** The method as registered (`'*'` for any-method routes). */
  readonly method: string;
  /** The pattern as written at registration. */
  readonly pattern: string;
  readonly value: T;
  /** Param names in path order (a catch-all last). */
  readonly names: readonly string[];
  /** Pre-built frozen result for param-less routes looked up without a query; null otherwise. */
  readonly result: object | null;
  /** Generated builder of the 200 result (routes with params, `compile` on and available); null otherwise. */
  readonly make: Builder | null;
}

/** A composite segment child (mixed literals/params or a constrained param). */
export interface Composite<T> {
  /** Literal strings alternate with params; no two params are adjacent. */
  readonly parts: readonly (string | ParamPart)[];
  readonly signature: string;
  /** Literal characters in the segment (more = tried first). */
  readonly literalLength: number;
  readonly constraints: number;
  readonly node: Node<T>;
}

/** A static edge: its segment text, first char code (-1 when empty) and child. */
export interface StaticEdge<T> {
  readonly key: string;
  /** The key's char codes: element loads are cheaper than `charCodeAt` on the key. */
  readonly codes: readonly number[];
  readonly first: number;
  readonly node: Node<T>;
}

/**
 * A tree node = one segment position. Children by precedence: `statics` (hash by segment text),
 * `composites` (sorted, most specific first), `param` (whole segment), `catchAll` (rest of path).
 * Terminal nodes carry `byMethod` (route per method id, HEAD derived from GET) and `any`.
 */
export class Node<T> {
  statics: Record<string, Node<T>> | null = null;
  staticCount = 0;
  /**
   * Static edges by the char code of their first char (`'/'` for the empty key of a trailing
   * slash), so a lookup indexes by the segment's first char and compares the rest in place: no
   * indexOf, no slice, no hashing. Rebuilt when a static child is added.
   */
  byChar: (StaticEdge<T>[] | undefined)[] | null = null;
  composites: Composite<T>[] | null = null;
  param: Node<T> | null = null;
  catchAll: Node<T> | null = null;
  /** Route per method id; HEAD's slot holds GET's route when no HEAD route exists. */
  byMethod: (Route<T> | undefined)[] | null = null;
  /** The `'*'` route. */
  any: Route<T> | null = null;
  /** Explicit routes by method (no derived HEAD). */
  routes: Map<string, Route<T>> | null = null;
  /** Complete allow list for this node alone (registered methods, HEAD with GET, OPTIONS). */
  allow: readonly string[] = [];
  /** Segment text for the printed tree (`:id`, `:name.:ext`, `*path`). */
  label = '';

  /** Static child for `key`, creating it. */
  staticChild(key: string): Node<T> {
    if (this.statics === null) this.statics = Object.create(null) as Record<string, Node<T>>;
    let child = this.statics[key];
    if (child === undefined) {
      child = new Node<T>();
      this.statics[key] = child;
      this.staticCount++;
      this.rebuildEdges();
    }
    return child;
  }

  private rebuildEdges(): void {
    const byChar: (StaticEdge<T>[] | undefined)[] = [];
    for (const key of Object.keys(this.statics!)) {
      const first = key.length === 0 ? 47 : key.charCodeAt(0); // '/' for the empty key
      while (byChar.length <= first) byChar.push(undefined);
      const codes: number[] = [];
      for (let i = 0; i < key.length; i++) codes.push(key.charCodeAt(i));
      const edge: StaticEdge<T> = { key, codes, first, node: this.statics![key]! };
      const bucket = byChar[first];
      if (bucket === undefined) byChar[first] = [edge];
      else bucket.push(edge);
    }
    this.byChar = byChar;
  }
}
