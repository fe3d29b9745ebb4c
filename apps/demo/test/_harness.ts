/**
 * Test harness: runs the BUILT CLI (dist/cli.js) as a child process, exactly as a user would, and
 * reads the one `listening on` line it prints. Every process started here is killed in `stop()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(APP_DIR, 'dist', 'cli.js');
export const OUTPUT_DIR = join(APP_DIR, 'test-output');

export function outputDir(): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return OUTPUT_DIR;
}

export interface Demo {
  child: ChildProcess;
  url: string;
  host: string;
  port: number;
  /** The first stdout line, exactly as printed. */
  line: string;
  /** Everything printed so far (stdout after the first line, and stderr). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs the CLI until it exits (for --help, bad flags). */
export function runCli(
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `node dist/cli.js ...args` and resolves once it prints its listening line. */
export function startDemo(args: string[], timeoutMs = 15_000): Promise<Demo> {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (npx turbo run build --filter=@strata/demo...)`);
  }
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return new Promise<Demo>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`));
    }, timeoutMs);
    let ready = false;
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (ready) return;
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      ready = true;
      clearTimeout(timer);
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const m = /^listening on (https?):\/\/(\[[^\]]+\]|[^:]+):(\d+) \(HTTP\/1\.1 and h2c?\)$/.exec(line);
      if (m === null) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first line: ${JSON.stringify(line)}; stderr: ${err}`));
        return;
      }
      const host = m[2]!;
      const port = Number(m[3]);
      resolve({
        child,
        url: `${m[1]}://${host}:${port}`,
        host,
        port,
        line,
        stdout: () => out,
        stderr: () => err,
        exited,
        async stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    });
    child.once('exit', (code) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code} before listening; stderr: ${err}`));
    });
  });
}

/** Runs curl and resolves with its stdout (as a Buffer) and exit code. */
export function curl(
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { encoding: 'buffer', timeout: timeoutMs + 2000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}

/** Splits curl `-i` output into the head (last one, after any 1xx) and the body. */
export function splitResponse(raw: Buffer): { status: number; headers: Map<string, string>; body: Buffer } {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`no head in ${rest.toString('latin1').slice(0, 200)}`);
    const head = rest.subarray(0, end).toString('latin1');
    rest = rest.subarray(end + 4);
    const lines = head.split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    if (status >= 100 && status < 200) continue;
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
    return { status, headers, body: rest };
  }
}
