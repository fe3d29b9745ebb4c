/** LEARN.md is the Learn path's chapters as served at /learn, and every file it names exists. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { learnMarkdown } from '../src/learn-markdown';
import { APP_DIR } from './_harness';

const ROOT = join(APP_DIR, '..', '..');

it('LEARN.md is generated from the chapters (run npx tsx apps/demo/scripts/learn-md.ts after editing them)', () => {
  expect(readFileSync(join(ROOT, 'LEARN.md'), 'utf8')).toBe(learnMarkdown());
});

it('every file LEARN.md links exists in the repository, and no HTML is left in its prose', () => {
  const md = learnMarkdown();
  const links = [...md.matchAll(/\]\(([^)#:]+)\)/g)].map((m) => m[1]!);
  expect(links.length).toBeGreaterThan(20);
  for (const link of links) expect(existsSync(join(ROOT, link)), link).toBe(true);
  const prose = md.replace(/```[\s\S]*?```/g, '').replace(/`[^`]*`/g, '');
  expect(prose).not.toMatch(/<\/?(p|b|code|a|table|tr|td|th|li|ul)\b/);
});
