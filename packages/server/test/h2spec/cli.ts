/**
 * Command line for the HTTP/2 conformance catalogue, in the spirit of h2spec:
 *
 *   npx tsx packages/server/test/h2spec/cli.ts --port 8080 [--host 127.0.0.1] [--tls] [--path /]
 *     [--timeout 1000] [--strict] [--only http2/6.5] [--verbose]
 *
 * Prints one line per case and a total; exits 1 when a case fails. Strict cases (h2spec's `-S`)
 * run only with `--strict`.
 */
import { runCatalogue } from './catalogue.ts';

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: cli.ts --port N [--host H] [--tls] [--path P] [--timeout MS] [--strict] [--only ID]... [--verbose]\n`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let host = '127.0.0.1';
let port = 0;
let tls = false;
let path = '/';
let timeoutMs = 1000;
let strict = false;
let verbose = false;
const only: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => args[++i] ?? usage(`${a} needs a value`);
  if (a === '--port' || a === '-p') port = Number(value());
  else if (a === '--host' || a === '-h') host = value();
  else if (a === '--tls' || a === '-t') tls = true;
  else if (a === '--path') path = value();
  else if (a === '--timeout' || a === '-o') timeoutMs = Number(value());
  else if (a === '--strict' || a === '-S') strict = true;
  else if (a === '--only') only.push(value());
  else if (a === '--verbose' || a === '-v') verbose = true;
  else usage(`unknown argument ${a}`);
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) usage('--port is required');

const results = (await runCatalogue({ host, port, tls, path }, { timeoutMs, only })).filter(
  (r) => strict || !r.strict,
);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const r of results) {
  const mark = r.status === 'pass' ? 'ok  ' : r.status === 'skip' ? 'skip' : 'FAIL';
  process.stdout.write(`${mark} ${r.id.padEnd(18)} ${r.section}: ${r.title}\n`);
  if (r.warning) process.stdout.write(`       warning: ${r.warning}\n`);
  if (r.status === 'fail' || verbose) {
    process.stdout.write(`       expected: ${r.expected}\n       observed: ${r.observed}\n`);
  }
  if (r.status === 'pass') passed++;
  else if (r.status === 'skip') skipped++;
  else failed++;
}
process.stdout.write(`\n${results.length} tests, ${passed} passed, ${skipped} skipped, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
