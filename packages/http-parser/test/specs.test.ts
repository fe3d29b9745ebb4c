// The parser's cases as readable specs: test/specs/*.md (format in test/specs/README.md). Each file
// holds the raw request bytes (an ```http block, line ends written as visible \r\n) and the events
// the parser must report, with byte offsets (a ```log block). Every input runs whole, byte by byte
// and at every two-way split point, and each run must print exactly the file's log.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkings } from './_helpers';
import { parseSpec, runSpec, SPECS } from './_specs';

const files = readdirSync(SPECS)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();

describe('specs (test/specs/*.md)', () => {
  it('has the cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });
  for (const file of files) {
    const spec = parseSpec(file, readFileSync(join(SPECS, file), 'utf8'));
    it(`${file}: ${spec.title}`, () => {
      expect(runSpec(spec.input, [], spec.options)).toBe(spec.log);
      for (const cuts of chunkings(spec.input.length)) {
        const got = runSpec(spec.input, cuts, spec.options);
        if (got !== spec.log) {
          const how = cuts.length > 1 ? 'byte by byte' : `split at ${cuts[0]}`;
          expect(got, `${file}, ${how}`).toBe(spec.log);
        }
      }
    });
  }
});
