/**
 * Layer check: reads every workspace package's imports and dependencies and fails on any import
 * that breaks Strata's layering (see the root README, "Layer rules").
 *
 * - http-parser, http2, response, router and forms are leaves: no other `@strata` package, no
 *   `node:net`, `node:tls` or `node:cluster` (http2 no `node:http*` either: it is the protocol, sans I/O).
 * - transport knows nothing of HTTP: no HTTP package (`@strata/*` HTTP layers, `node:http*`).
 * - server composes transport, http-parser, http2, response and forms only: never router or websocket.
 * - inspector composes like server, on top of it: it imports server and response only (never
 *   transport, http-parser, router, websocket or forms) and no socket or HTTP builtin (`node:net`,
 *   `node:tls`, `node:cluster`, `node:http*`). It hears the other layers through their
 *   `node:diagnostics_channel` channels, by name, and never touches a socket.
 * - otel observes the layers through their `node:diagnostics_channel` channels, by name: of Strata
 *   it imports `@strata/server` only (the channel messages' types), and no socket or HTTP builtin
 *   (`node:net`, `node:tls`, `node:cluster`, `node:http*`).
 * - no package imports from `apps/`.
 * - no deep import past another package's `exports` map, and no relative path into another package.
 *
 * Usage: `tsx scripts/check-layers.ts [root]` (exit 1 and one line per violation on failure).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One broken rule: where it is, what was imported, and which rule it breaks. */
export interface LayerViolation {
  file: string;
  specifier: string;
  rule: string;
}

interface WorkspacePackage {
  name: string;
  dir: string;
  kind: 'package' | 'app';
  exportKeys: Set<string>;
  dependencies: string[];
}

const LEAVES = new Set([
  '@strata/http-parser',
  '@strata/http2',
  '@strata/response',
  '@strata/router',
  '@strata/forms',
]);
const HTTP_PACKAGES = new Set([
  '@strata/http-parser',
  '@strata/http2',
  '@strata/response',
  '@strata/router',
  '@strata/server',
  '@strata/websocket',
]);
/** What `@strata/inspector` may import of the other packages. */
const INSPECTOR_IMPORTS = new Set(['@strata/server', '@strata/response']);
/** What `@strata/otel` may import of the other packages. */
const OTEL_IMPORTS = new Set(['@strata/server']);
const SOCKET_MODULES = new Set(['net', 'tls', 'cluster']);
const HTTP_BUILTINS = new Set(['http', 'https', 'http2']);

function readPackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps'] as const) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const dir = join(base, entry);
      const pj = join(dir, 'package.json');
      if (!existsSync(pj)) continue;
      const json = JSON.parse(readFileSync(pj, 'utf8')) as {
        name: string;
        exports?: Record<string, unknown> | string;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      const exportKeys = new Set<string>();
      if (typeof json.exports === 'string') exportKeys.add('.');
      else if (json.exports) for (const k of Object.keys(json.exports)) exportKeys.add(k);
      out.push({
        name: json.name,
        dir,
        kind: group === 'packages' ? 'package' : 'app',
        exportKeys,
        dependencies: [
          ...Object.keys(json.dependencies ?? {}),
          ...Object.keys(json.peerDependencies ?? {}),
          ...Object.keys(json.optionalDependencies ?? {}),
        ],
      });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(c|m)?[jt]sx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Removes comments so that an import named in a doc comment is not taken for a real one. */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const IMPORT_PATTERNS = [
  /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bexport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every module specifier a source file imports, re-exports or requires. */
export function importsOf(code: string): string[] {
  const clean = stripComments(code);
  const found: string[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const m of clean.matchAll(pattern)) if (m[1]) found.push(m[1]);
  }
  return found;
}

function builtinName(specifier: string): string | undefined {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  const head = bare.split('/')[0] ?? bare;
  return SOCKET_MODULES.has(head) || HTTP_BUILTINS.has(head) ? head : undefined;
}

function packageOf(specifier: string): { name: string; subpath: string } | undefined {
  if (!specifier.startsWith('@strata/')) return undefined;
  const parts = specifier.split('/');
  const name = `${parts[0]}/${parts[1]}`;
  const rest = parts.slice(2).join('/');
  return { name, subpath: rest ? `./${rest}` : '.' };
}

function ruleFor(owner: WorkspacePackage, target: string): string | undefined {
  if (target === owner.name) return undefined;
  if (target === '@strata/demo' || target === '@strata/bench')
    return owner.kind === 'package' ? 'no package imports from apps/' : undefined;
  if (LEAVES.has(owner.name)) return `${owner.name} is a leaf layer: it imports no other @strata package`;
  if (owner.name === '@strata/transport' && HTTP_PACKAGES.has(target))
    return '@strata/transport knows nothing of HTTP';
  if (owner.name === '@strata/server' && (target === '@strata/router' || target === '@strata/websocket'))
    return '@strata/server composes transport, http-parser, http2, response and forms only (never router or websocket)';
  if (owner.name === '@strata/otel' && !OTEL_IMPORTS.has(target) && target.startsWith('@strata/'))
    return '@strata/otel imports server only (the other layers through their channels)';
  if (owner.name === '@strata/inspector' && !INSPECTOR_IMPORTS.has(target) && target.startsWith('@strata/'))
    return '@strata/inspector imports server and response only (the other layers through their channels)';
  return undefined;
}

function builtinRule(owner: WorkspacePackage, builtin: string): string | undefined {
  if (LEAVES.has(owner.name) && SOCKET_MODULES.has(builtin))
    return `${owner.name} is a pure leaf layer: no node:${builtin}`;
  if (owner.name === '@strata/http2' && HTTP_BUILTINS.has(builtin))
    return '@strata/http2 is the protocol itself, sans I/O: no node:http*';
  if (owner.name === '@strata/transport' && HTTP_BUILTINS.has(builtin))
    return '@strata/transport knows nothing of HTTP';
  if (owner.name === '@strata/inspector')
    return `@strata/inspector never touches a socket or node:http: no node:${builtin}`;
  if (owner.name === '@strata/otel')
    return `@strata/otel never touches a socket or node:http: no node:${builtin}`;
  return undefined;
}

/** Checks the workspace under `root` and returns every violation found (empty when clean). */
export function checkLayers(root: string): LayerViolation[] {
  const packages = readPackages(root);
  const byName = new Map(packages.map((p) => [p.name, p]));
  const appsDir = join(root, 'apps') + sep;
  const violations: LayerViolation[] = [];

  for (const owner of packages) {
    const pjFile = relative(root, join(owner.dir, 'package.json'));
    for (const dep of owner.dependencies) {
      const rule = ruleFor(owner, dep);
      if (rule) violations.push({ file: pjFile, specifier: dep, rule });
      const builtin = builtinName(dep);
      // A dependency on an npm package called `net` or `http` is as bad as the builtin.
      if (builtin) {
        const bRule = builtinRule(owner, builtin);
        if (bRule) violations.push({ file: pjFile, specifier: dep, rule: bRule });
      }
    }
    for (const file of sourceFiles(join(owner.dir, 'src'))) {
      const rel = relative(root, file);
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          const inOwn = target === owner.dir || target.startsWith(owner.dir + sep);
          if (!inOwn) {
            if (owner.kind === 'package' && target.startsWith(appsDir))
              violations.push({ file: rel, specifier, rule: 'no package imports from apps/' });
            else
              violations.push({
                file: rel,
                specifier,
                rule: 'relative import into another package: import it by name through its exports',
              });
          }
          continue;
        }
        const builtin = builtinName(specifier);
        if (builtin) {
          const rule = builtinRule(owner, builtin);
          if (rule) violations.push({ file: rel, specifier, rule });
          continue;
        }
        const pkg = packageOf(specifier);
        if (!pkg) continue;
        const rule = ruleFor(owner, pkg.name);
        if (rule) {
          violations.push({ file: rel, specifier, rule });
          continue;
        }
        const target = byName.get(pkg.name);
        if (target && pkg.name !== owner.name && !target.exportKeys.has(pkg.subpath))
          violations.push({
            file: rel,
            specifier,
            rule: `deep import: ${pkg.name} does not export "${pkg.subpath}"`,
          });
      }
    }
  }
  return violations;
}

function main(): void {
  const root = resolve(process.argv[2] ?? process.cwd());
  const violations = checkLayers(root);
  if (violations.length === 0) {
    console.log('layers: ok (no layer violations)');
    return;
  }
  for (const v of violations) console.error(`${v.file}: imports "${v.specifier}": ${v.rule}`);
  console.error(`layers: ${violations.length} violation(s)`);
  process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
