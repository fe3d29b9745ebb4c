import { RouterError, RouterErrorCode } from './_errors';
import { asciiLower, canonicalStatic } from './_path';
import { compileConstraint } from './_regex';

/** A param inside a segment: its name and optional anchored constraint. */
export interface ParamPart {
  name: string;
  regex: RegExp | null;
  /** Constraint source as written, for signatures and the printed tree. */
  source: string | null;
}

/** One parsed segment of a pattern. */
export type SegmentSpec =
  | { kind: 'static'; text: string }
  | { kind: 'param'; name: string }
  /** Mixed literal text and params (`:from-:to`, `:name.:ext`, `v:n`) or a constrained param. */
  | { kind: 'composite'; parts: (string | ParamPart)[]; signature: string };

/** A pattern after parsing: the segments of each concrete variant (two when the last param is optional). */
export interface ParsedPattern {
  pattern: string;
  variants: { segments: SegmentSpec[]; catchAll: string | null; names: string[] }[];
}

const NAME_CHAR = new Uint8Array(128);
for (let c = 48; c <= 57; c++) NAME_CHAR[c] = 1; // '0'..'9'
for (let c = 65; c <= 90; c++) NAME_CHAR[c] = 1; // 'A'..'Z'
for (let c = 97; c <= 122; c++) NAME_CHAR[c] = 1; // 'a'..'z'
NAME_CHAR[95] = 1; // '_'

function fail(pattern: string, why: string): never {
  throw new RouterError(RouterErrorCode.INVALID_PATTERN, `Invalid pattern '${pattern}': ${why}`);
}

/** Index just past the `)` closing the regex that starts after `(` at `open`. */
function regexEnd(pattern: string, open: number): number {
  let depth = 1;
  let i = open + 1;
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern.charCodeAt(i);
    if (c === 92) {
      // '\\' escapes the next char
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === 93) inClass = false; // ']'
    } else if (c === 91)
      inClass = true; // '['
    else if (c === 40)
      depth++; // '('
    else if (c === 41) {
      // ')'
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/**
 * Parses a pattern. Grammar (segments are separated by `/`; the pattern starts with `/`):
 * - static text; `::` is a literal `:`; characters outside RFC 3986 pchar are percent-encoded;
 * - `:name` (letters, digits, `_`), optionally followed by a regex in parentheses `:id(\\d+)`;
 *   several params may share a segment when literal text separates them (`:from-:to`);
 * - `?` after a param that is alone in the last segment makes it optional;
 * - `*name` (or bare `*`) as the whole last segment: a named catch-all.
 */
export function parsePattern(pattern: string, caseSensitive: boolean): ParsedPattern {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== 47)
    fail(String(pattern), "must start with '/'");
  const raw: string[] = [];
  // split on '/' outside regex parentheses
  let segStart = 1;
  for (let i = 1; i <= pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 40 && pattern.charCodeAt(i - 1) !== 92) {
      // '(' : skip the whole regex
      const end = regexEnd(pattern, i);
      if (end === -1) fail(pattern, 'unclosed regex parenthesis');
      i = end - 1;
      continue;
    }
    if (Number.isNaN(c) || c === 47) {
      raw.push(pattern.slice(segStart, i));
      segStart = i + 1;
    }
  }
  const names: string[] = [];
  const segments: SegmentSpec[] = [];
  let catchAll: string | null = null;
  let optional = false;
  for (let s = 0; s < raw.length; s++) {
    const text = raw[s]!;
    const lastSeg = s === raw.length - 1;
    if (text.charCodeAt(0) === 42) {
      // '*' catch-all
      if (!lastSeg) fail(pattern, 'a catch-all (*name) must be the last segment');
      const name = text.length === 1 ? '*' : text.slice(1);
      if (name !== '*') {
        for (let k = 0; k < name.length; k++) {
          const c = name.charCodeAt(k);
          if (c >= 128 || NAME_CHAR[c] !== 1) fail(pattern, `bad catch-all name '${name}'`);
        }
        if (name === '__proto__') fail(pattern, "'__proto__' cannot be a param name");
      }
      catchAll = name;
      names.push(name);
      break;
    }
    const parts: (string | ParamPart)[] = [];
    let lit = '';
    let i = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 58 && text.charCodeAt(i + 1) === 58) {
        // '::' literal ':'
        lit += ':';
        i += 2;
        continue;
      }
      if (c === 58) {
        // ':' param
        let j = i + 1;
        while (j < text.length && text.charCodeAt(j) < 128 && NAME_CHAR[text.charCodeAt(j)] === 1) j++;
        const name = text.slice(i + 1, j);
        if (name.length === 0) fail(pattern, 'a param needs a name after ":"');
        let source: string | null = null;
        let regex: RegExp | null = null;
        if (text.charCodeAt(j) === 40) {
          // '(' regex
          const end = regexEnd(text, j);
          source = text.slice(j + 1, end - 1);
          regex = compileConstraint(source, pattern);
          j = end;
        }
        if (text.charCodeAt(j) === 63) {
          // '?' optional
          if (!lastSeg || j !== text.length - 1 || parts.length > 0 || lit.length > 0) {
            fail(pattern, 'only a param alone in the last segment can be optional');
          }
          optional = true;
          j++;
        }
        if (lit.length > 0) {
          parts.push(lit);
          lit = '';
        } else if (parts.length > 0)
          fail(
            pattern,
            `params '${(parts[parts.length - 1] as ParamPart).name}' and '${name}' need literal text between them`,
          );
        if (name === '__proto__') fail(pattern, "'__proto__' cannot be a param name");
        if (names.includes(name)) fail(pattern, `param name '${name}' used twice`);
        names.push(name);
        parts.push({ name, regex, source });
        i = j;
        continue;
      }
      if (c === 63 || c === 35) fail(pattern, "'?' and '#' cannot appear in a path");
      lit += text[i];
      i++;
    }
    if (lit.length > 0) parts.push(lit);
    // canonical static text
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (typeof p === 'string') {
        const canon = canonicalStatic(p);
        if (canon === null) fail(pattern, 'bad percent-encoding');
        parts[k] = caseSensitive ? canon : asciiLower(canon);
      }
    }
    if (parts.length === 0 || (parts.length === 1 && typeof parts[0] === 'string')) {
      const st = (parts[0] as string | undefined) ?? '';
      if (st === '.' || st === '..') fail(pattern, 'dot segments are not allowed');
      if (st.length === 0 && !lastSeg) fail(pattern, 'empty segment (//)');
      segments.push({ kind: 'static', text: st });
    } else if (parts.length === 1 && (parts[0] as ParamPart).regex === null) {
      segments.push({ kind: 'param', name: (parts[0] as ParamPart).name });
    } else {
      let signature = '';
      for (const p of parts)
        signature += typeof p === 'string' ? `'${p}'` : p.source === null ? ':' : `:(${p.source})`;
      segments.push({ kind: 'composite', parts, signature });
    }
  }
  const variants = [{ segments, catchAll, names }];
  if (optional) {
    // without the optional last param: "/users/:id?" also serves "/users" ("/:id?" serves "/")
    const shorter = segments.slice(0, -1);
    if (shorter.length === 0) shorter.push({ kind: 'static', text: '' });
    variants.push({ segments: shorter, catchAll: null, names: names.slice(0, -1) });
  }
  return { pattern, variants };
}
