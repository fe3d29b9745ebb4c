// Module resolution hooks for servers/_baseline.mjs (they run on Node's loader thread).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let dir = '';

export function initialize(data) {
  dir = data.dir;
}

export async function resolve(specifier, context, next) {
  if (dir !== '' && specifier.startsWith('@strata/')) {
    const name = specifier.slice('@strata/'.length);
    return next(pathToFileURL(join(dir, 'packages', name, 'dist', 'index.js')).href, context);
  }
  return next(specifier, context);
}
