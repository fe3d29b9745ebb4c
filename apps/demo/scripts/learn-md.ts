/** Writes LEARN.md at the repository root from the Learn path's chapters. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learnMarkdown } from '../src/learn-markdown';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
writeFileSync(join(root, 'LEARN.md'), learnMarkdown());
