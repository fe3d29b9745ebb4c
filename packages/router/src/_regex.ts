import { RouterError, RouterErrorCode } from './_errors';

/** Longest regex source a constraint may have. */
export const MAX_REGEX_SOURCE = 256;

interface Frame {
  /** Some atom inside this group carries a quantifier. */
  quantified: boolean;
  /** The group holds a top-level `|`. */
  alternation: boolean;
}

/**
 * Compiles a param constraint (`:id(\\d+)` gives `\d+`) into an anchored RegExp, refusing sources
 * that do not compile (`ROUTER_INVALID_REGEX`) and sources whose backtracking can blow up
 * (`ROUTER_UNSAFE_REGEX`): a quantified group that itself holds a quantifier or an alternation
 * (`(a+)+`, `(\w|\d)*`, `(a?){20}`: star height above one, the classic ReDoS shapes),
 * backreferences (`\1`, `\k<n>`), and sources over {@link MAX_REGEX_SOURCE} characters.
 * The check is conservative: some safe regexes are refused too; rewrite them without nesting.
 */
export function compileConstraint(source: string, pattern: string): RegExp {
  const where = `in pattern '${pattern}'`;
  if (source.length === 0) throw new RouterError(RouterErrorCode.INVALID_REGEX, `Empty regex ${where}`);
  if (source.length > MAX_REGEX_SOURCE) {
    throw new RouterError(
      RouterErrorCode.UNSAFE_REGEX,
      `Regex longer than ${MAX_REGEX_SOURCE} characters ${where}`,
    );
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch (e) {
    throw new RouterError(
      RouterErrorCode.INVALID_REGEX,
      `Invalid regex /${source}/ ${where}: ${(e as Error).message}`,
    );
  }
  const reason = unsafeReason(source);
  if (reason !== null) {
    throw new RouterError(RouterErrorCode.UNSAFE_REGEX, `Unsafe regex /${source}/ ${where}: ${reason}`);
  }
  return re;
}

/** Why `source` may backtrack catastrophically, or null when it looks linear. */
export function unsafeReason(source: string): string | null {
  const stack: Frame[] = [{ quantified: false, alternation: false }];
  // what the previous atom was: a plain atom or a group (with its frame), null at a group start
  let prevGroup: Frame | null = null;
  let prevAtom = false;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    const top = stack[stack.length - 1]!;
    if (c === 92) {
      // '\\' escape
      const d = source.charCodeAt(i + 1);
      if ((d >= 49 && d <= 57) || d === 107) return 'backreferences are not allowed'; // '1'..'9', 'k'
      i += 2;
      prevAtom = true;
      prevGroup = null;
      continue;
    }
    if (c === 91) {
      // '[' character class: skip to the closing ']' (escapes inside)
      i++;
      if (source.charCodeAt(i) === 94) i++; // '^'
      if (source.charCodeAt(i) === 93) i++; // ']' first is literal
      while (i < n && source.charCodeAt(i) !== 93) i += source.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      prevAtom = true;
      prevGroup = null;
      continue;
    }
    if (c === 40) {
      // '(' group (also (?:, (?=, (?!, (?<=, (?<!, (?<name>)
      stack.push({ quantified: false, alternation: false });
      i++;
      if (source.charCodeAt(i) === 63) {
        // '?'
        i++;
        const k = source.charCodeAt(i);
        if (k === 60 && source.charCodeAt(i + 1) !== 61 && source.charCodeAt(i + 1) !== 33) {
          // '<' name '>'
          while (i < n && source.charCodeAt(i) !== 62) i++;
        }
        i++;
      }
      prevAtom = false;
      prevGroup = null;
      continue;
    }
    if (c === 41) {
      // ')'
      if (stack.length === 1) return 'unbalanced parentheses';
      const frame = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      if (frame.quantified) parent.quantified = true;
      prevGroup = frame;
      prevAtom = true;
      i++;
      continue;
    }
    if (c === 124) {
      // '|'
      top.alternation = true;
      prevAtom = false;
      prevGroup = null;
      i++;
      continue;
    }
    if (c === 42 || c === 43 || c === 63 || c === 123) {
      // '*' '+' '?' '{'
      let repeats = c !== 63; // more than once
      let end = i + 1;
      if (c === 123) {
        const close = source.indexOf('}', i);
        const body = close === -1 ? '' : source.slice(i + 1, close);
        const m = /^(\d+)(,(\d*))?$/.exec(body);
        if (m === null) {
          // a literal '{'
          prevAtom = true;
          prevGroup = null;
          i++;
          continue;
        }
        const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
        repeats = max > 1;
        end = close + 1;
      }
      if (!prevAtom) return 'quantifier without an atom';
      if (repeats && prevGroup !== null && (prevGroup.quantified || prevGroup.alternation)) {
        return 'a repeated group holds a quantifier or an alternation (nested quantifiers)';
      }
      top.quantified = true;
      if (source.charCodeAt(end) === 63) end++; // lazy '?'
      i = end;
      prevAtom = false;
      prevGroup = null;
      continue;
    }
    prevAtom = true;
    prevGroup = null;
    i++;
  }
  if (stack.length !== 1) return 'unbalanced parentheses';
  return null;
}
