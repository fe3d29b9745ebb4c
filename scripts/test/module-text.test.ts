import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * V8 keeps every loaded module's source text on the heap for as long as the module lives (lazy
 * compilation needs it). A text with even one character above U+00FF (an arrow or a dash in a
 * comment) is stored as a two-byte string: twice the memory for the whole file, for the whole life
 * of the process. Under load V8 lets the old generation grow to a few times the live heap before it
 * collects, so each such file costs several times its size in peak RSS. This keeps every package's
 * source, and the built `dist` where it exists, within Latin-1 (one byte per character in V8).
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Positions (line:column) and code points of characters above U+00FF. */
function wideChars(text: string): string[] {
  const found: string[] = [];
  let line = 1;
  let col = 1;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp > 0xff) found.push(`${line}:${col} U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
    if (cp === 0x0a /* '\n' */) {
      line++;
      col = 1;
    } else col++;
  }
  return found;
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, keep));
    else if (keep(name)) out.push(path);
  }
  return out;
}

const packages = readdirSync(join(repoRoot, 'packages')).filter((p) =>
  existsSync(join(repoRoot, 'packages', p, 'package.json')),
);

describe('module text stays one-byte (Latin-1) in V8', () => {
  it('finds wide characters (the check itself)', () => {
    expect(wideChars('plain ASCII and section \u00a7 and \u00e9')).toEqual([]);
    expect(wideChars('a\n// x \u2192 y')).toEqual(['2:6 U+2192']);
    expect(wideChars('\u{1f600}')).toEqual(['1:1 U+1F600']);
  });

  for (const pkg of packages) {
    it(`packages/${pkg}/src`, () => {
      const files = filesUnder(join(repoRoot, 'packages', pkg, 'src'), (n) => n.endsWith('.ts'));
      expect(files.length).toBeGreaterThan(0);
      const bad = files.flatMap((f) =>
        wideChars(readFileSync(f, 'utf8')).map((w) => `${relative(repoRoot, f)}:${w}`),
      );
      expect(bad, 'write these characters as \\u escapes (code) or ASCII (comments)').toEqual([]);
    });
  }

  it('every built dist module (where built)', () => {
    const files = packages.flatMap((pkg) => {
      const dist = join(repoRoot, 'packages', pkg, 'dist');
      return existsSync(dist) ? filesUnder(dist, (n) => /\.(c|m)?js$/.test(n)) : [];
    });
    const bad = files.flatMap((f) =>
      wideChars(readFileSync(f, 'utf8')).map((w) => `${relative(repoRoot, f)}:${w}`),
    );
    expect(bad).toEqual([]);
  });
});
