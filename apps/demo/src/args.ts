/**
 * Command-line parsing for `strata-demo`. Pure: takes argv, returns options or a one-line error.
 * No dependency on any Strata package, so it is tested on its own (test/args.test.ts).
 */

/** What the demo answers: the tutorial's routes (`serve`) or every request echoed (`echo`). */
export type DemoMode = 'serve' | 'echo';

/**
 * When the wire inspector records (`--inspector`): `watch` while an `/inspect` page is open (the
 * default; otherwise the demo serves at the engine's speed), `on` always, `off` never.
 */
export type InspectorMode = 'watch' | 'on' | 'off';

/** Everything the command line can set, with the defaults applied. */
export interface DemoOptions {
  mode: DemoMode;
  /** Port to listen on; 0 asks the kernel for a free one (the printed line shows the real port). */
  port: number;
  host: string;
  /** Worker processes; 0 means a single process (no cluster). */
  workers: number;
  tlsCert: string | null;
  tlsKey: string | null;
  /** Folder served under `/static/`; null means the bundled `public/` folder. */
  staticDir: string | null;
  /** One access-log line per request on stdout. */
  log: boolean;
  /** When the wire inspector records. */
  inspector: InspectorMode;
  /** Largest body `POST /upload` accepts, in bytes (413 past it); 0 means no limit. */
  maxUpload: number;
  /**
   * The server's `timeouts.send` in ms: a response the client does not read for this long closes
   * its connection; 0 turns it off.
   */
  sendTimeout: number;
  /**
   * `redis://` or `rediss://` URL of a Redis that several demo processes share: the chat room
   * and the live figures then span every process that uses it (null: this process or cluster only).
   */
  redis: string | null;
  help: boolean;
  /** `--version`: print the demo's version and exit. */
  version: boolean;
}

/** A command line the demo cannot run with; `message` is the one line printed before exiting 2. */
export class ArgsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ArgsError';
    this.code = code;
  }
}

/**
 * `--max-upload` default, 1 GiB: the size of the largest `/download/:size`, so a download can be
 * sent back. The body streams through the hash, so the limit bounds time and bandwidth, not memory.
 */
export const DEFAULT_MAX_UPLOAD = 1024 * 1024 * 1024;
/** `--send-timeout` default: the engine's own `timeouts.send` (30 s). */
export const DEFAULT_SEND_TIMEOUT = 30_000;
/** Largest `--send-timeout`: one day (0 is the way to say "never"). */
const MAX_SEND_TIMEOUT = 86_400_000;

export const DEFAULTS: Readonly<DemoOptions> = Object.freeze({
  mode: 'serve',
  port: 8080,
  host: '127.0.0.1',
  workers: 0,
  tlsCert: null,
  tlsKey: null,
  staticDir: null,
  log: false,
  inspector: 'watch',
  maxUpload: DEFAULT_MAX_UPLOAD,
  sendTimeout: DEFAULT_SEND_TIMEOUT,
  redis: null,
  help: false,
  version: false,
});

/** Flags that take a value, mapped to the option they set. */
const VALUE_FLAGS = [
  '--port',
  '--host',
  '--workers',
  '--tls-cert',
  '--tls-key',
  '--static',
  '--inspector',
  '--max-upload',
  '--send-timeout',
  '--redis',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

function isValueFlag(name: string): name is ValueFlag {
  return (VALUE_FLAGS as readonly string[]).includes(name);
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text))
    throw new ArgsError('ERR_FLAG_VALUE', `${flag} expects a whole number, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new ArgsError('ERR_FLAG_VALUE', `${flag} must be between ${min} and ${max}, got ${text}`);
  }
  return value;
}

/** Binary multiples accepted after a `--max-upload` number (`512M`, `1G`), any case. */
const SIZE_SUFFIXES: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count: plain digits, or digits and one of K, M, G, T (powers of 1024, any case). */
function parseSize(flag: string, text: string): number {
  const m = /^([0-9]+)([kmgtKMGT]?)$/.exec(text);
  if (m === null) {
    throw new ArgsError(
      'ERR_FLAG_VALUE',
      `${flag} expects a number of bytes, optionally with K, M, G or T (powers of 1024), got '${text}'`,
    );
  }
  const value = Number(m[1]) * (m[2] === '' ? 1 : SIZE_SUFFIXES[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(value))
    throw new ArgsError('ERR_FLAG_VALUE', `${flag} is too large, got ${text}`);
  return value;
}

/**
 * Parses `strata-demo [serve|echo] [flags]`. Accepts `--flag value` and `--flag=value`.
 *
 * @example
 * parseArgs(['echo', '--port', '0']); // { mode: 'echo', port: 0, host: '127.0.0.1', ... }
 */
export function parseArgs(argv: readonly string[]): DemoOptions {
  const options: DemoOptions = { ...DEFAULTS };
  let sawMode = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) {
      if (sawMode) throw new ArgsError('ERR_ARGUMENT', `unexpected argument '${arg}'`);
      if (arg !== 'serve' && arg !== 'echo') {
        throw new ArgsError('ERR_MODE', `unknown mode '${arg}' (expected 'serve' or 'echo')`);
      }
      options.mode = arg;
      sawMode = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === '--help' || name === '-h') {
      options.help = true;
      continue;
    }
    if (name === '--version') {
      if (eq !== -1) throw new ArgsError('ERR_FLAG_VALUE', '--version takes no value');
      options.version = true;
      continue;
    }
    if (name === '--log') {
      if (eq !== -1) throw new ArgsError('ERR_FLAG_VALUE', '--log takes no value');
      options.log = true;
      continue;
    }
    if (!isValueFlag(name)) throw new ArgsError('ERR_UNKNOWN_FLAG', `unknown flag '${name}'`);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new ArgsError('ERR_FLAG_VALUE', `${name} needs a value`);
      }
      value = next;
      i++;
    }
    if (value === '') throw new ArgsError('ERR_FLAG_VALUE', `${name} needs a value`);
    switch (name) {
      case '--port':
        options.port = parseInteger(name, value, 0, 65535);
        break;
      case '--host':
        options.host = value;
        break;
      case '--workers':
        options.workers = parseInteger(name, value, 1, 256);
        break;
      case '--tls-cert':
        options.tlsCert = value;
        break;
      case '--tls-key':
        options.tlsKey = value;
        break;
      case '--static':
        options.staticDir = value;
        break;
      case '--inspector':
        if (value !== 'watch' && value !== 'on' && value !== 'off') {
          throw new ArgsError('ERR_FLAG_VALUE', `--inspector expects watch, on or off, got '${value}'`);
        }
        options.inspector = value;
        break;
      case '--max-upload':
        options.maxUpload = parseSize(name, value);
        break;
      case '--send-timeout':
        options.sendTimeout = parseInteger(name, value, 0, MAX_SEND_TIMEOUT);
        break;
      case '--redis':
        if (!/^rediss?:\/\/[^\s]+$/.test(value)) {
          throw new ArgsError(
            'ERR_FLAG_VALUE',
            `--redis expects a redis:// or rediss:// URL, got '${value}'`,
          );
        }
        options.redis = value;
        break;
    }
  }
  if ((options.tlsCert === null) !== (options.tlsKey === null)) {
    throw new ArgsError('ERR_TLS_PAIR', '--tls-cert and --tls-key must be given together');
  }
  return options;
}

/** The `--help` text: every mode and flag with its default. */
export const HELP = `strata-demo: the Strata demo server (routes, echo, static files, live dashboard, wire inspector)

usage: strata-demo [serve|echo] [flags]

modes:
  serve              the demo routes (default): /, /hello, /user, /user/:name, /dashboard, /health,
                     /echo, /static/*, /stream, /download/:size, /upload, /compute?n=, /chat (/ws),
                     /live, /inspect
  echo               answer every request, whatever its target, with the JSON echo of what arrived

flags:
  --port N           TCP port (default 8080; 0 picks a free port and prints it)
  --host H           address to bind (default 127.0.0.1; use ::1 for IPv6)
  --workers N        run N worker processes sharing the port (default: one process)
  --tls-cert FILE    PEM certificate: serve HTTPS (needs --tls-key)
  --tls-key FILE     PEM private key for --tls-cert
  --static DIR       folder served under /static/ (default: the bundled public/ folder)
  --log              print one access-log line per request
  --inspector WHEN   when the wire inspector (/inspect) records: watch (default: only while an
                     /inspect page is open, so the server runs at full speed otherwise), on, off
  --max-upload SIZE  largest body POST /upload accepts, in bytes or with K, M, G, T (powers of
                     1024): default 1G; 0 means no limit; a larger body gets 413
  --send-timeout MS  close a connection whose client has not read its response for MS
                     milliseconds (default 30000, the engine's; 0 never)
  --redis URL        share the chat room and the live figures with every demo process that
                     uses this Redis (redis://HOST:PORT); default: this process (or its workers)
  --help, -h         print this help and exit
  --version          print the demo's version and exit

When ready it prints one line: listening on http://HOST:PORT (HTTP/1.1 and h2c), or
https://HOST:PORT (HTTP/1.1 and h2) with TLS: HTTP/2 on the same port as HTTP/1.1.
SIGINT or SIGTERM drains in-flight requests and exits 0.`;
