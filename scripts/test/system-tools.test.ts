import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describe as describeTools,
  findMissing,
  isExecutable,
  lookup,
  packagesOf,
  plan,
  tools,
} from '../system-tools.mjs';

// No test here ever runs the real apt-get: every CLI run looks tools and apt-get up in a temp
// directory only (STRATA_TOOLS_PATH, and STRATA_TOOLS_SBIN instead of the real /usr/sbin), where
// apt-get, if present, is a fake that logs its arguments.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/system-tools.mjs');

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-tools-'));
  dirs.push(dir);
  return dir;
}

function fakeExecutable(file: string, body = 'exit 0\n'): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}`);
  chmodSync(file, 0o755);
}

/** A fake apt-get: logs `$DEBIAN_FRONTEND $*` to `log`; on `install`, runs `onInstall` (sh). */
function fakeAptGet(bin: string, log: string, onInstall = ':', status = 0): void {
  fakeExecutable(
    join(bin, 'apt-get'),
    `echo "$DEBIAN_FRONTEND $*" >> '${log}'\nif [ "$1" = install ]; then\n${onInstall}\nfi\nexit ${status}\n`,
  );
}

function runScript(env: Record<string, string>) {
  // The real /usr/sbin may hold nginx and haproxy: every run looks in a directory of its own instead.
  const sbin = join(env.STRATA_TOOLS_PATH ?? tmpdir(), 'no-such-sbin');
  const run = spawnSync(process.execPath, [script], {
    env: { ...process.env, STRATA_TOOLS_SBIN: sbin, ...env },
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('findMissing, packagesOf, plan', () => {
  const list = tools('/opt/chromium', '/opt/sbin');
  const names = (xs: { name: string }[]) => xs.map((t) => t.name);

  it('lists the ten tools, chromium at a fixed path, taskset from util-linux, the proxies in sbin', () => {
    expect(list.map((t) => [t.name, t.pkg, t.path, t.also])).toEqual([
      ['curl', 'curl', undefined, undefined],
      ['openssl', 'openssl', undefined, undefined],
      ['wrk', 'wrk', undefined, undefined],
      ['chromium', 'chromium', '/opt/chromium', undefined],
      ['taskset', 'util-linux', undefined, undefined],
      ['nginx', 'nginx', undefined, '/opt/sbin'],
      ['haproxy', 'haproxy', undefined, '/opt/sbin'],
      ['redis-server', 'redis-server', undefined, undefined],
      ['nghttp', 'nghttp2-client', undefined, undefined],
      ['h2load', 'nghttp2-client', undefined, undefined],
    ]);
    expect(tools()[3]?.path).toBe('/usr/bin/chromium');
    expect(tools()[5]?.also).toBe('/usr/sbin');
    expect(tools()[6]?.also).toBe('/usr/sbin');
  });

  it('finds the missing tools in order', () => {
    expect(names(findMissing(list, () => true))).toEqual([]);
    expect(names(findMissing(list, (t) => t.name !== 'wrk' && t.name !== 'chromium'))).toEqual([
      'wrk',
      'chromium',
    ]);
    expect(names(findMissing(list, () => false))).toEqual([
      'curl',
      'openssl',
      'wrk',
      'chromium',
      'taskset',
      'nginx',
      'haproxy',
      'redis-server',
      'nghttp',
      'h2load',
    ]);
  });

  it('maps tools to Debian packages without duplicates', () => {
    expect(packagesOf(list)).toEqual([
      'curl',
      'openssl',
      'wrk',
      'chromium',
      'util-linux',
      'nginx',
      'haproxy',
      'redis-server',
      'nghttp2-client',
    ]);
    expect(packagesOf([list[4]!, list[4]!])).toEqual(['util-linux']);
    // nghttp and h2load both come from nghttp2-client: one package, installed once.
    expect(packagesOf(findMissing(list, (t) => t.name !== 'nghttp' && t.name !== 'h2load'))).toEqual([
      'nghttp2-client',
    ]);
  });

  it('plans nothing when nothing is missing, whoever runs it', () => {
    expect(plan([], { root: false, aptGet: undefined })).toEqual({ kind: 'ok' });
    expect(plan([], { root: true, aptGet: '/usr/bin/apt-get' })).toEqual({ kind: 'ok' });
  });

  it('plans apt-get update then a quiet non-interactive install as root with apt', () => {
    const missing = findMissing(
      list,
      (t) => t.name === 'curl' || t.name === 'haproxy' || t.name === 'redis-server',
    );
    expect(plan(missing, { root: true, aptGet: '/usr/bin/apt-get' })).toEqual({
      kind: 'install',
      packages: ['openssl', 'wrk', 'chromium', 'util-linux', 'nginx', 'nghttp2-client'],
      commands: [
        ['/usr/bin/apt-get', 'update', '-qq'],
        [
          '/usr/bin/apt-get',
          'install',
          '-y',
          '-qq',
          'openssl',
          'wrk',
          'chromium',
          'util-linux',
          'nginx',
          'nghttp2-client',
        ],
      ],
    });
  });

  it('names the exact sudo command when not root, even with apt-get present', () => {
    const missing = findMissing(list, (t) => t.name !== 'wrk' && t.name !== 'chromium');
    expect(plan(missing, { root: false, aptGet: '/usr/bin/apt-get' })).toEqual({
      kind: 'manual',
      packages: ['wrk', 'chromium'],
      command: 'sudo apt-get update && sudo apt-get install -y wrk chromium',
    });
  });

  it('names the command without sudo as root when apt-get is not there', () => {
    const missing = findMissing(list, (t) => t.name !== 'taskset');
    expect(plan(missing, { root: true, aptGet: undefined })).toEqual({
      kind: 'manual',
      packages: ['util-linux'],
      command: 'apt-get update && apt-get install -y util-linux',
    });
  });

  it('describes present and missing tools on one line', () => {
    expect(describeTools(list, [])).toBe(
      'system tools present: curl openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
    );
    expect(
      describeTools(
        list,
        findMissing(list, (t) => t.name === 'curl'),
      ),
    ).toBe(
      'system tools present: curl; missing: openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
    );
    expect(describeTools(list, list)).toBe(
      'system tools present: (none); missing: curl openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
    );
  });
});

describe('lookup', () => {
  it('walks PATH for an executable regular file, skipping others', () => {
    const a = tempDir();
    const b = tempDir();
    writeFileSync(join(a, 'wrk'), 'not executable');
    mkdirSync(join(a, 'curl'));
    fakeExecutable(join(b, 'wrk'));
    fakeExecutable(join(b, 'curl'));
    expect(isExecutable(join(a, 'wrk'))).toBe(false);
    expect(isExecutable(join(a, 'curl'))).toBe(false);
    expect(lookup('wrk', [a, '', b].join(':'))).toBe(join(b, 'wrk'));
    expect(lookup('curl', [a, b].join(':'))).toBe(join(b, 'curl'));
    expect(lookup('openssl', [a, b].join(':'))).toBeUndefined();
    expect(lookup('wrk', '')).toBeUndefined();
  });
});

describe('the CLI (node scripts/system-tools.mjs)', () => {
  it('not root: reports every missing tool, prints the exact apt-get command, installs nothing', () => {
    const bin = tempDir();
    const log = join(bin, 'apt.log');
    fakeAptGet(bin, log);
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'no-such-chromium'),
      STRATA_TOOLS_ROOT: '0',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'system tools present: (none); missing: curl openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
    );
    for (const name of [
      'curl',
      'openssl',
      'wrk',
      'chromium',
      'taskset (package util-linux)',
      'nginx (package nginx)',
      'haproxy (package haproxy)',
      'redis-server (package redis-server)',
      'nghttp (package nghttp2-client)',
      'h2load (package nghttp2-client)',
    ]) {
      expect(r.stderr).toContain(name);
    }
    expect(r.stderr).toContain(
      'sudo apt-get update && sudo apt-get install -y curl openssl wrk chromium util-linux nginx haproxy redis-server nghttp2-client',
    );
    expect(existsSync(log)).toBe(false);
  });

  it('not root, some tools present: names only the missing ones', () => {
    const bin = tempDir();
    for (const name of ['curl', 'openssl', 'taskset', 'nginx', 'haproxy', 'redis-server', 'nghttp', 'h2load'])
      fakeExecutable(join(bin, name));
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'no-such-chromium'),
      STRATA_TOOLS_ROOT: '0',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'system tools present: curl openssl taskset nginx haproxy redis-server nghttp h2load; missing: wrk chromium',
    );
    expect(r.stderr).toContain('missing wrk (package wrk), chromium (package chromium)');
    expect(r.stderr).toContain('\n  sudo apt-get update && sudo apt-get install -y wrk chromium\n');
    expect(r.stderr).not.toContain('curl');
  });

  it('root without apt-get: stops and prints the command, without sudo', () => {
    const bin = tempDir();
    for (const name of [
      'curl',
      'openssl',
      'wrk',
      'taskset',
      'nginx',
      'haproxy',
      'redis-server',
      'nghttp',
      'h2load',
    ])
      fakeExecutable(join(bin, name));
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'no-such-chromium'),
      STRATA_TOOLS_ROOT: '1',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('apt-get was not found');
    expect(r.stderr).toContain('\n  apt-get update && apt-get install -y chromium\n');
  });

  it('finds nginx and haproxy in the sbin directories when PATH lacks them, and nowhere else', () => {
    const bin = tempDir();
    const sbin = tempDir();
    for (const name of ['curl', 'openssl', 'wrk', 'taskset', 'redis-server', 'nghttp', 'h2load'])
      fakeExecutable(join(bin, name));
    fakeExecutable(join(bin, 'browser/chromium'));
    for (const name of ['nginx', 'haproxy', 'wrk-in-sbin']) fakeExecutable(join(sbin, name));
    const env = {
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'browser/chromium'),
      STRATA_TOOLS_ROOT: '0',
    };
    const found = runScript({ ...env, STRATA_TOOLS_SBIN: sbin });
    expect(found.status).toBe(0);
    expect(found.stdout.trim()).toBe(
      'system tools present: curl openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
    );
    const lost = runScript(env);
    expect(lost.status).toBe(1);
    expect(lost.stdout).toContain('missing: nginx haproxy');
    expect(lost.stderr).toContain('\n  sudo apt-get update && sudo apt-get install -y nginx haproxy\n');
    rmSync(join(bin, 'wrk'));
    fakeExecutable(join(sbin, 'wrk'));
    const notForWrk = runScript({ ...env, STRATA_TOOLS_SBIN: sbin });
    expect(notForWrk.stdout).toContain('missing: wrk');
  });

  it('exits 0 when every tool is present, whoever runs it', () => {
    const bin = tempDir();
    const log = join(bin, 'apt.log');
    fakeAptGet(bin, log);
    for (const name of [
      'curl',
      'openssl',
      'wrk',
      'taskset',
      'nginx',
      'haproxy',
      'redis-server',
      'nghttp',
      'h2load',
    ])
      fakeExecutable(join(bin, name));
    fakeExecutable(join(bin, 'browser/chromium'));
    for (const root of ['0', '1']) {
      const r = runScript({
        STRATA_TOOLS_PATH: bin,
        STRATA_CHROMIUM: join(bin, 'browser/chromium'),
        STRATA_TOOLS_ROOT: root,
      });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(
        'system tools present: curl openssl wrk chromium taskset nginx haproxy redis-server nghttp h2load',
      );
      expect(r.stderr).toBe('');
    }
    expect(existsSync(log)).toBe(false);
  });

  it('root with apt-get: updates, installs the missing packages non-interactively, re-checks', () => {
    const bin = tempDir();
    const sbin = tempDir();
    const log = join(bin, 'apt.log');
    const chromium = join(bin, 'browser/chromium');
    for (const name of ['curl', 'openssl', 'taskset', 'nginx', 'redis-server'])
      fakeExecutable(join(bin, name));
    mkdirSync(dirname(chromium));
    const make = (file: string) => `printf '#!/bin/sh\\n' > '${file}'; chmod +x '${file}'`;
    // Like Debian, the fake apt-get puts haproxy in sbin (not on this PATH): the re-check finds it there.
    // One package, nghttp2-client, brings both nghttp and h2load.
    fakeAptGet(
      bin,
      log,
      [
        make(join(bin, 'wrk')),
        make(chromium),
        make(join(sbin, 'haproxy')),
        make(join(bin, 'nghttp')),
        make(join(bin, 'h2load')),
      ].join('\n'),
    );
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_TOOLS_SBIN: sbin,
      STRATA_CHROMIUM: chromium,
      STRATA_TOOLS_ROOT: '1',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('missing: wrk chromium haproxy nghttp h2load');
    expect(r.stdout).toContain('installing with apt-get: wrk chromium haproxy nghttp2-client\n');
    expect(r.stdout).toMatch(/installed wrk chromium haproxy nghttp2-client in \d+ s/);
    expect(readFileSync(log, 'utf8')).toBe(
      'noninteractive update -qq\nnoninteractive install -y -qq wrk chromium haproxy nghttp2-client\n',
    );
  });

  it('root with apt-get: fails when a tool is still missing after the install', () => {
    const bin = tempDir();
    const log = join(bin, 'apt.log');
    for (const name of ['curl', 'openssl', 'taskset', 'nginx', 'haproxy', 'redis-server', 'nghttp', 'h2load'])
      fakeExecutable(join(bin, name));
    fakeExecutable(join(bin, 'chromium'));
    fakeAptGet(bin, log);
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'chromium'),
      STRATA_TOOLS_ROOT: '1',
    });
    expect(r.status).toBe(1);
    expect(readFileSync(log, 'utf8')).toBe('noninteractive update -qq\nnoninteractive install -y -qq wrk\n');
    expect(r.stderr).toContain('still missing after apt-get install: wrk');
  });

  it('root with apt-get: fails, naming the command, when apt-get fails', () => {
    const bin = tempDir();
    const log = join(bin, 'apt.log');
    for (const name of [
      'curl',
      'openssl',
      'wrk',
      'taskset',
      'nginx',
      'haproxy',
      'redis-server',
      'nghttp',
      'h2load',
    ])
      fakeExecutable(join(bin, name));
    fakeAptGet(bin, log, ':', 100);
    const r = runScript({
      STRATA_TOOLS_PATH: bin,
      STRATA_CHROMIUM: join(bin, 'no-such-chromium'),
      STRATA_TOOLS_ROOT: '1',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`'${join(bin, 'apt-get')} update -qq' failed (exit 100)`);
  });
});
