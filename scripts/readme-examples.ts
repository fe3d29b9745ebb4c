/**
 * README examples as tests: extracts every ```ts block of the package READMEs, and checks what
 * each one prints when it runs. The conventions (also in CONTRIBUTING.md, "README examples"):
 *
 * - Every ```ts block is a complete program: an ES module, imports of `@strata/*` and `node:*`,
 *   top-level `await` allowed. It must exit by itself (close what it opened) within a few seconds.
 * - `// -> text` after a statement (or on a line of its own) is a line the program prints. The
 *   program must print exactly those lines, in any order (a cluster's workers print concurrently).
 *   `...` in the text matches anything (a port number, a duration). Every runnable block has at
 *   least one.
 * - A block that is not a program (a type signature) carries `<!-- example: not run, REASON -->`
 *   on the line before its fence. Shell lines are ```sh blocks, other text ```text.
 * - `<!-- example: needs redis -->` before the fence: the runner starts a `redis-server` on a free
 *   port and passes its URL as `REDIS_URL`.
 *
 * The runners are in `scripts/test/readme-examples.test.ts` (the workspace, `@strata/*` resolved
 * to `src/` with tsx) and `scripts/test/readme-packed.test.ts` (packed tarballs installed in a
 * project outside the workspace, compiled to JavaScript and run by plain `node`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The packages whose README examples are run here and from the packed tarballs (otel's need the
 * OpenTelemetry SDK, which its own README test installs as a dev dependency).
 */
export const EXAMPLE_PACKAGES = [
  'transport',
  'http-parser',
  'http2',
  'response',
  'router',
  'server',
  'websocket',
  'forms',
  'inspector',
];

export interface ReadmeExample {
  /** Unscoped package name (`router`). */
  pkg: string;
  /** 1-based index among the package README's ```ts blocks. */
  index: number;
  /** 1-based line of the opening fence in the README. */
  line: number;
  code: string;
  /** The `// ->` lines, in source order. */
  expected: string[];
  /** Null when the block runs; else the reason given by its `not run` marker. */
  notRun: string | null;
  /** Needs a Redis server (`REDIS_URL`). */
  redis: boolean;
}

const MARKER = /^<!--\s*example:\s*(.*?)\s*-->$/;
const EXPECT = /\/\/ -> (.*)$/;

/** Every ```ts block of one README, with its marker and its expected output. */
export function extractExamples(pkg: string, markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  let marker: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = MARKER.exec(line.trim());
    if (m) {
      marker = m[1]!;
      continue;
    }
    const fence = /^(\s*)```(\S*)(.*)$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') marker = null;
      continue;
    }
    // Skip to the closing fence of this block, whatever its language.
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (fence[2] === 'ts' || fence[2] === 'typescript') {
      if (fence[3]!.trim() !== '') {
        throw new Error(`${pkg}/README.md:${i + 1}: use a marker comment, not an info string after \`\`\`ts`);
      }
      const code = lines.slice(i + 1, end).join('\n');
      const expected: string[] = [];
      for (const l of code.split('\n')) {
        const e = EXPECT.exec(l);
        if (e) expected.push(e[1]!.trimEnd());
      }
      let notRun: string | null = null;
      let redis = false;
      if (marker !== null) {
        const notRunMatch = /^not run,\s*(.+)$/.exec(marker);
        if (notRunMatch) notRun = notRunMatch[1]!;
        else if (marker === 'needs redis') redis = true;
        else throw new Error(`${pkg}/README.md:${i}: unknown example marker "${marker}"`);
      }
      examples.push({ pkg, index: examples.length + 1, line: i + 1, code, expected, notRun, redis });
    }
    marker = null;
    i = end;
  }
  return examples;
}

/** Every package's README examples. */
export function allExamples(root = repoRoot): ReadmeExample[] {
  return EXAMPLE_PACKAGES.flatMap((pkg) =>
    extractExamples(pkg, readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8')),
  );
}

/** A name for messages and file names: `router README example 2 (line 105)`. */
export function exampleName(e: ReadmeExample): string {
  return `${e.pkg} README example ${e.index} (line ${e.line})`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches one expected line: exact, except that `...` matches anything. */
export function expectedLineMatcher(expected: string): RegExp {
  return new RegExp(`^${expected.split('...').map(escapeRegExp).join('[^]*?')}$`);
}

/**
 * Compares what a program printed with its `// ->` lines (in any order). Returns null when they
 * agree, else a readable explanation.
 */
export function compareOutput(expected: string[], stdout: string): string | null {
  const actual = stdout.split('\n').map((l) => l.trimEnd());
  while (actual.length > 0 && actual[actual.length - 1] === '') actual.pop();
  const left = [...actual];
  const missing: string[] = [];
  // Exact lines first, then patterns with `...`, so a wildcard never takes another line's match.
  const order = [...expected].sort((a, b) => Number(a.includes('...')) - Number(b.includes('...')));
  for (const e of order) {
    const re = expectedLineMatcher(e);
    const at = left.findIndex((a) => re.test(a));
    if (at === -1) missing.push(e);
    else left.splice(at, 1);
  }
  if (missing.length === 0 && left.length === 0) return null;
  return [
    missing.length > 0 ? `expected but not printed:\n${missing.map((l) => `  ${l}`).join('\n')}` : '',
    left.length > 0 ? `printed but not expected:\n${left.map((l) => `  ${l}`).join('\n')}` : '',
    `whole output:\n${stdout}`,
  ]
    .filter(Boolean)
    .join('\n');
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Runs a command with a deadline (SIGKILL to its process group when it hangs). */
export function runProgram(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
  const start = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut, ms: performance.now() - start });
    });
  });
}

/** Why a run failed (null: it passed), for an assertion message. */
export function verdict(e: ReadmeExample, r: RunResult): string | null {
  const name = exampleName(e);
  if (r.timedOut) {
    return `${name} did not exit within its deadline (it must close what it opens)\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  }
  if (r.code !== 0) {
    return `${name} exited with ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  }
  const diff = compareOutput(e.expected, r.stdout);
  return diff === null
    ? null
    : `${name} printed something else than its // -> lines\n${diff}\nstderr:\n${r.stderr}`;
}

/**
 * Runs `fn` over `items`, at most `concurrency` at a time (CI has two cores; each example is a
 * process), and gives every result by item.
 */
export async function runAll<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<Map<T, R>> {
  const results = new Map<T, R>();
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      results.set(item, await fn(item));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePromise(port));
    });
  });
}

/** Starts a throwaway `redis-server` (no persistence) on a free port; `stop()` ends it. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  // On PATH, or in /usr/sbin where Debian's package puts it (as scripts/system-tools.mjs finds it).
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` },
  });
  let out = '';
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new Error(`redis-server could not be started (${err.message}): run node scripts/system-tools.mjs`),
      );
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill('SIGTERM');
      }),
  };
}
