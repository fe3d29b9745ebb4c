import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic } from '@strata/response';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from '../src/index';
import { makeCert, start } from './_helpers';

// Chromium (Debian's, driven by playwright-core) loading a page and its assets from a Strata server
// over TLS: ALPN picks h2, and every resource reports `nextHopProtocol === 'h2'`.
//
// playwright-core is a devDependency of @strata/websocket, not of this package: it is required from
// there, and the little of its API used here is typed locally.
interface Page {
  goto(url: string, options?: { waitUntil?: 'load' }): Promise<{ status(): number } | null>;
  title(): Promise<string>;
  evaluate<R>(expression: string): Promise<R>;
}
interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Browser {
  newContext(options?: { ignoreHTTPSErrors?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}
const { chromium } = createRequire(join(import.meta.dirname, '../../websocket/package.json'))(
  'playwright-core',
) as {
  chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> };
};

const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>loading</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head><body><p>Strata over HTTP/2</p><img id="pixel" src="/pixel.png" alt=""></body></html>`;
const CSS = 'body { color: rgb(1, 2, 3); }\n';
const JS = "document.title = 'script ran';\n";

/** What the page reports about itself (this package compiles without the DOM types, so it is a string). */
const IN_PAGE = `(async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource')
    .map((e) => [new URL(e.name).pathname, e.nextHopProtocol])
    .sort();
  const img = document.getElementById('pixel');
  const posted = await fetch('/echo', { method: 'POST', body: 'x'.repeat(100000) });
  return {
    navigation: nav.nextHopProtocol,
    resources,
    color: getComputedStyle(document.body).color,
    imageWidth: img.naturalWidth,
    posted: [posted.status, await posted.text()],
  };
})()`;
interface PageReport {
  navigation: string;
  resources: [string, string][];
  color: string;
  imageWidth: number;
  posted: [number, string];
}

let dir: string;
let app: { server: Server; port: number };
let browser: Browser;
/** `path -> httpVersion` of every request the server saw. */
const seen: [string, string][] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-h2-browser-'));
  const tls = makeCert(dir);
  const pub = join(dir, 'public');
  mkdirSync(pub);
  writeFileSync(join(pub, 'index.html'), HTML);
  writeFileSync(join(pub, 'app.css'), CSS);
  writeFileSync(join(pub, 'app.js'), JS);
  writeFileSync(join(pub, 'pixel.png'), PIXEL);
  const files = serveStatic(pub);
  app = await start({
    tls,
    async handler(req, res) {
      seen.push([req.path, req.httpVersion]);
      if (req.method === 'POST' && req.path === '/echo') {
        const body = await req.text();
        res.header('content-type', 'text/plain').send(`${req.httpVersion} ${body.length}`);
        return;
      }
      if (!(await files(req, res))) res.status(404).send('Not Found');
    },
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--ignore-certificate-errors',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.server.close({ deadline: 1000 });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Chromium over TLS', () => {
  it('loads the page, its stylesheet, script and image over h2, and fetch() POSTs over h2', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      const response = await page.goto(`https://127.0.0.1:${app.port}/`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('script ran');
      const seenByPage = await page.evaluate<PageReport>(IN_PAGE);
      expect(seenByPage.navigation).toBe('h2');
      expect(seenByPage.resources).toEqual([
        ['/app.css', 'h2'],
        ['/app.js', 'h2'],
        ['/pixel.png', 'h2'],
      ]);
      expect(seenByPage.color).toBe('rgb(1, 2, 3)');
      expect(seenByPage.imageWidth).toBe(1);
      expect(seenByPage.posted).toEqual([200, '2.0 100000']);
      expect(seen.map(([p]) => p).sort()).toEqual(['/', '/app.css', '/app.js', '/echo', '/pixel.png']);
      for (const [path, version] of seen) expect(version, path).toBe('2.0');
      expect(app.server.stats().totalConnections).toBe(1);
    } finally {
      await context.close();
    }
  });
});
