// @ts-check
/**
 * System tools check: the tests drive real programs (`curl`, `openssl`, `wrk`, Debian's `chromium` at
 * `/usr/bin/chromium`, `taskset` from `util-linux`, the reverse proxies `nginx` and `haproxy`,
 * which Debian installs in `/usr/sbin`, `redis-server`, the broker of the Redis pub/sub tests, and `nghttp` and `h2load` from `nghttp2-client`, the HTTP/2 client and load generator). This finds the missing ones and, when it runs as root on a
 * machine with apt, installs them; otherwise it stops at once and prints the exact command to run.
 * It never skips anything: a tool still missing is a failure.
 *
 * It is plain JavaScript (type-checked through JSDoc) so that bare `node` runs it before
 * `pnpm install`: `.ci/run` calls it as its first stage, and the root `pnpm test` calls it first.
 *
 * Usage: `node scripts/system-tools.mjs` (exit 0 when every tool is present, 1 otherwise).
 *
 * Environment overrides, for this script's own tests:
 * - `STRATA_TOOLS_PATH`: the PATH in which tools and `apt-get` are looked up (default: `PATH`).
 * - `STRATA_CHROMIUM`: the chromium binary to look for (default: `/usr/bin/chromium`, the path the
 *   browser tests launch).
 * - `STRATA_TOOLS_SBIN`: the directories searched after PATH for the tools Debian puts in an sbin
 *   directory (default: `/usr/sbin`, which a non-root PATH often lacks).
 * - `STRATA_TOOLS_ROOT`: `0` or `1` to act as a non-root or root user (default: the real uid).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One tool the tests need.
 * @typedef {object} Tool
 * @property {string} name what the tests call it
 * @property {string} pkg the Debian package that provides it
 * @property {string} [path] an absolute path it must have; otherwise it is looked up in PATH
 * @property {string} [also] directories (PATH syntax) searched after PATH, such as `/usr/sbin`
 */

/**
 * What to do about the missing tools.
 * @typedef {{ kind: 'ok' }
 *   | { kind: 'install', packages: string[], commands: string[][] }
 *   | { kind: 'manual', packages: string[], command: string }} Plan
 */

export const CHROMIUM = '/usr/bin/chromium';

/** Where Debian installs nginx and haproxy; searched after PATH, which may lack it. */
export const SBIN = '/usr/sbin';

/**
 * The tools the test suite drives, in the order they are reported.
 * @param {string} [chromium] where chromium must be
 * @param {string} [sbin] directories searched after PATH for nginx and haproxy
 * @returns {Tool[]}
 */
export function tools(chromium = CHROMIUM, sbin = SBIN) {
  return [
    { name: 'curl', pkg: 'curl' },
    { name: 'openssl', pkg: 'openssl' },
    { name: 'wrk', pkg: 'wrk' },
    { name: 'chromium', pkg: 'chromium', path: chromium },
    { name: 'taskset', pkg: 'util-linux' },
    { name: 'nginx', pkg: 'nginx', also: sbin },
    { name: 'haproxy', pkg: 'haproxy', also: sbin },
    { name: 'redis-server', pkg: 'redis-server' },
    { name: 'nghttp', pkg: 'nghttp2-client' },
    { name: 'h2load', pkg: 'nghttp2-client' },
  ];
}

/**
 * Whether `file` is a regular file this process may execute.
 * @param {string} file
 * @returns {boolean}
 */
export function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable called `name` in the directories of `pathEnv` (like `command -v`, without
 * spawning a shell), or undefined.
 * @param {string} name
 * @param {string} pathEnv
 * @returns {string | undefined}
 */
export function lookup(name, pathEnv) {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

/**
 * The tools that `isPresent` says are missing, in order.
 * @param {Tool[]} list
 * @param {(tool: Tool) => boolean} isPresent
 * @returns {Tool[]}
 */
export function findMissing(list, isPresent) {
  return list.filter((tool) => !isPresent(tool));
}

/**
 * A probe that checks a tool's fixed path, or looks its name up in `pathEnv`, then in its `also`.
 * @param {string} pathEnv
 * @returns {(tool: Tool) => boolean}
 */
export function probe(pathEnv) {
  return (tool) => {
    if (tool.path) return isExecutable(tool.path);
    const dirs = tool.also ? `${pathEnv}${delimiter}${tool.also}` : pathEnv;
    return lookup(tool.name, dirs) !== undefined;
  };
}

/**
 * The Debian packages that provide `missing`, without duplicates, in order.
 * @param {Tool[]} missing
 * @returns {string[]}
 */
export function packagesOf(missing) {
  return [...new Set(missing.map((tool) => tool.pkg))];
}

/**
 * What to do: nothing, install with apt (root and apt-get present), or stop and name the command.
 * @param {Tool[]} missing
 * @param {{ root: boolean, aptGet: string | undefined }} host `aptGet`: its path, if there is one
 * @returns {Plan}
 */
export function plan(missing, { root, aptGet }) {
  if (missing.length === 0) return { kind: 'ok' };
  const packages = packagesOf(missing);
  if (root && aptGet) {
    return {
      kind: 'install',
      packages,
      commands: [
        [aptGet, 'update', '-qq'],
        [aptGet, 'install', '-y', '-qq', ...packages],
      ],
    };
  }
  const sudo = root ? '' : 'sudo ';
  return {
    kind: 'manual',
    packages,
    command: `${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(' ')}`,
  };
}

/**
 * One line: which tools are present and which are missing.
 * @param {Tool[]} list
 * @param {Tool[]} missing
 * @returns {string}
 */
export function describe(list, missing) {
  const absent = new Set(missing.map((tool) => tool.name));
  const present = list.filter((tool) => !absent.has(tool.name)).map((tool) => tool.name);
  const parts = [`system tools present: ${present.length > 0 ? present.join(' ') : '(none)'}`];
  if (missing.length > 0) parts.push(`missing: ${missing.map((tool) => tool.name).join(' ')}`);
  return parts.join('; ');
}

/**
 * Checks, installs when it can, and returns the exit code.
 * @param {NodeJS.ProcessEnv} env
 * @returns {number}
 */
export function main(env = process.env) {
  const pathEnv = env.STRATA_TOOLS_PATH ?? env.PATH ?? '';
  const list = tools(env.STRATA_CHROMIUM || CHROMIUM, env.STRATA_TOOLS_SBIN ?? SBIN);
  const isPresent = probe(pathEnv);
  const root =
    env.STRATA_TOOLS_ROOT === '0' ? false : env.STRATA_TOOLS_ROOT === '1' ? true : process.getuid?.() === 0;
  const missing = findMissing(list, isPresent);
  console.log(describe(list, missing));

  const next = plan(missing, { root, aptGet: lookup('apt-get', pathEnv) });
  if (next.kind === 'ok') return 0;
  if (next.kind === 'manual') {
    const [why, run] = root
      ? ['apt-get was not found', 'Install those packages; on Debian or Ubuntu']
      : ['not running as root', 'Run'];
    console.error(
      `system tools: missing ${missing.map((tool) => `${tool.name} (package ${tool.pkg})`).join(', ')}; ` +
        `${why}, so nothing was installed. The tests need every tool and are never skipped. ` +
        `${run}:\n\n  ${next.command}\n\nthen run the tests again.`,
    );
    return 1;
  }

  const start = Date.now();
  console.log(`system tools: installing with apt-get: ${next.packages.join(' ')}`);
  for (const [file, ...args] of next.commands) {
    const run = spawnSync(/** @type {string} */ (file), args, {
      stdio: 'inherit',
      env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (run.status !== 0) {
      const how = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
      console.error(`system tools: '${[file, ...args].join(' ')}' failed (${how})`);
      return 1;
    }
  }
  const still = findMissing(list, isPresent);
  if (still.length > 0) {
    console.error(
      `system tools: still missing after apt-get install: ${still.map((tool) => tool.name).join(' ')}`,
    );
    return 1;
  }
  console.log(
    `system tools: installed ${next.packages.join(' ')} in ${Math.round((Date.now() - start) / 1000)} s`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
