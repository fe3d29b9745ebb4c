// nginx with `listen ... http2` and no TLS: h2c by prior knowledge. GET /hello is `return 200
// 'Hello, World!'` (text/plain); GET /download is a file of the download body's size and bytes
// (servers/_download.mjs) written to a temp dir and served by nginx from there.
//
// This file only sets nginx up: it writes the config (one process: `master_process off`, so the
// process that serves is the one nginx starts, which this wrapper names with `PID <pid>` for the
// runner to measure), starts nginx pinned wherever this process is pinned, waits until it accepts
// connections and prints the ready line. On SIGTERM or SIGINT it stops nginx and removes the temp
// dir. The runner starts it in a process group of its own and kills the group if it lingers.
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { HELLO, HOST, PORT, ready } from './_common.mjs';
import { DOWNLOAD_BYTES, DOWNLOAD_WANTED } from './_download.mjs';

/** nginx in PATH, then in the sbin directories Debian installs it to (a non-root PATH lacks them). */
function nginxBinary() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const file = join(dir, 'nginx');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error('nginx not found (apt-get install -y nginx)');
}

/** PORT, or a port the kernel hands out for a listener on HOST, closed again for nginx to bind. */
function choosePort() {
  if (PORT !== 0) return Promise.resolve(PORT);
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once HOST:port accepts a connection; rejects after `ms`. */
async function waitForListener(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not accept connections on ${HOST}:${port} within ${ms} ms`);
}

const dir = mkdtempSync(join(tmpdir(), 'strata-bench-nginx-'));
const removeDir = () => rmSync(dir, { recursive: true, force: true });
process.on('exit', removeDir);

if (DOWNLOAD_WANTED) {
  // Written 1 MiB at a time: the file, not a buffer of this wrapper, is what nginx serves.
  const block = Buffer.alloc(Math.min(DOWNLOAD_BYTES, 1024 * 1024), 0x61 /* 'a' */);
  const fd = openSync(join(dir, 'download'), 'w');
  for (let left = DOWNLOAD_BYTES; left > 0; left -= block.length) {
    writeSync(fd, block, 0, Math.min(left, block.length));
  }
  closeSync(fd);
}

const port = await choosePort();
const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
  .map((what) => `  ${what}_temp_path ${join(dir, `${what}-temp`)};`)
  .join('\n');
writeFileSync(
  join(dir, 'nginx.conf'),
  `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log stderr error;
events {
  worker_connections 4096;
}
http {
  access_log off;
${temp}
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  # nginx closes an HTTP/2 connection after keepalive_requests streams (default 1000): not in a run.
  keepalive_requests 1000000000;
  server {
    listen ${HOST}:${port} http2;
    location = /hello {
      default_type text/plain;
      return 200 '${HELLO}';
    }
    location = /download {
      root ${dir};
      default_type application/octet-stream;
    }
    location / {
      return 404;
    }
  }
}
`,
);

const nginx = spawn(nginxBinary(), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
let stopping = false;
nginx.on('exit', (code, signal) => {
  if (!stopping) {
    process.stderr.write(`nginx exited (${signal ?? code}) before it was stopped\n`);
    process.exit(1);
  }
});
nginx.on('error', (e) => {
  process.stderr.write(`nginx did not start: ${e.message}\n`);
  process.exit(1);
});

function stop() {
  if (stopping) return;
  stopping = true;
  if (nginx.exitCode !== null || nginx.signalCode !== null) process.exit(0);
  nginx.once('exit', () => process.exit(0));
  nginx.kill('SIGTERM');
  setTimeout(() => {
    nginx.kill('SIGKILL');
  }, 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await waitForListener(port, 10_000);
process.stdout.write(`PID ${nginx.pid}\n`);
ready(port);
