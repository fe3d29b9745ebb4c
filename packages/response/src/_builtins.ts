import type * as Crypto from 'node:crypto';
import type * as FsPromises from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';

/*
 * `node:crypto`, `node:zlib` and `node:fs/promises` are loaded on first use, not when the package is
 * imported: a server that never hashes, signs, compresses or serves a file would otherwise pay about
 * 1-2.4 MB of resident memory at startup for them (measured on Node 20: crypto ~2.4, zlib ~1.5,
 * fs/promises ~1 MB each alone, partly shared). `createRequire` is the one synchronous way to load a builtin that
 * works in both the ESM and the CJS build on every Node 20 release; a builtin resolves the same from
 * any base path, so the base is the file system root.
 */
const load = createRequire('/');

let crypto: typeof Crypto | null = null;
let zlib: typeof Zlib | null = null;
let fsp: typeof FsPromises | null = null;

/** `node:crypto`, loaded on the first call. */
export function nodeCrypto(): typeof Crypto {
  if (crypto === null) crypto = load('node:crypto') as typeof Crypto;
  return crypto;
}

/** `node:zlib`, loaded on the first call. */
export function nodeZlib(): typeof Zlib {
  if (zlib === null) zlib = load('node:zlib') as typeof Zlib;
  return zlib;
}

/** `node:fs/promises`, loaded on the first call. */
export function nodeFsPromises(): typeof FsPromises {
  if (fsp === null) fsp = load('node:fs/promises') as typeof FsPromises;
  return fsp;
}
