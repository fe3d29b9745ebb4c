/**
 * A real browser (Debian's chromium through playwright-core) opens the inspector mounted on a plain
 * `@strata/server` app (not the demo), and watches requests sent on raw sockets appear without a
 * reload: a refused one with its code, offset and status, one whose secrets are masked, and an
 * HTTP/2 one (from `node:http2`) as its frames table.
 * Screenshots go to packages/inspector/test-output/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import http2 from 'node:http2';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, raw, startApp } from './_helpers';

const CHROMIUM = '/usr/bin/chromium';
const output = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-output');

let app: App;
let browser: Browser;
let page: Page;
const external: string[] = [];
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'node scripts/system-tools.mjs' (pnpm test does)`);
  mkdirSync(output, { recursive: true });
  app = await startApp(); // watch mode: the page's live feed is what turns recording on
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
  page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  page.on('request', (r) => {
    if (!r.url().startsWith(app.url)) external.push(r.url());
  });
  await page.goto(`${app.url}/inspect`);
  await page.locator('#recording-state', { hasText: /^recording$/ }).waitFor();
  // The live feed is open: the page is a watcher (the grace period alone would not show that).
  for (let i = 0; i < 200 && app.inspector.state().watchers === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(app.inspector.state()).toMatchObject({ on: true, watchers: 1 });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the inspector page in a browser, on a plain @strata/server app', () => {
  it('shows a refused request live: its HPE_ code, the offset, the status, the offending byte marked', async () => {
    const good = 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n';
    const bad = 'GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n';
    expect(await raw(app.port, [good + bad])).toMatch(/400 Bad Request/);
    const offset = good.length + bad.indexOf(' Header');
    // No reload: the page redraws itself when the feed says the list changed.
    const entry = page.locator('details.entry.refused-entry').first();
    await entry.waitFor();
    await entry.evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
    });
    expect(await entry.locator('.refused-code').textContent()).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(await entry.locator('.refused-offset').textContent()).toBe(String(offset));
    expect(await entry.locator('.refused-status').textContent()).toBe('400');
    expect(await entry.locator('summary .status').textContent()).toBe('400');
    expect(await entry.locator('mark.error-byte').textContent()).toBe(' ');
    // The bytes up to the error, line ends visible.
    expect(await entry.locator('pre.wire-in').textContent()).toBe(
      'GET /bad HTTP/1.1\\r\\n\nHost: x\\r\\n\nBad ',
    );
    await page.screenshot({ path: join(output, 'refused.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('masks secrets: Authorization and Cookie in the bytes and Set-Cookie in the response head', async () => {
    const request =
      'GET /login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer topsecret-token\r\nCookie: sid=hunter2\r\n' +
      'Connection: close\r\n\r\n';
    expect(await raw(app.port, [request])).toContain('session=s3cr3t-session');
    const entry = page.locator('details.entry', { hasText: 'GET /login HTTP/1.1' }).first();
    await entry.waitFor();
    await entry.locator('pre.wire-out').waitFor({ state: 'attached' });
    await entry.evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
    });
    const wireIn = (await entry.locator('pre.wire-in').textContent()) ?? '';
    expect(wireIn).toContain(`Authorization: ${'*'.repeat('Bearer topsecret-token'.length)}\\r\\n`);
    expect(wireIn).toContain(`Cookie: ${'*'.repeat('sid=hunter2'.length)}\\r\\n`);
    expect(await entry.locator('.route').textContent()).toContain('/login');
    const wireOut = (await entry.locator('pre.wire-out').textContent()) ?? '';
    expect(wireOut).toMatch(/^HTTP\/1\.1 200 OK\\r\\n/);
    expect(wireOut).toContain('Set-Cookie: ****');
    const html = await page.content();
    for (const secret of ['topsecret', 'hunter2', 's3cr3t']) expect(html).not.toContain(secret);
    await page.screenshot({ path: join(output, 'masked.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('shows an HTTP/2 request as the frames of its stream, and its connection frames', async () => {
    const session = http2.connect(app.url);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'GET', ':path': '/user/h2page', cookie: 'sid=h2-hunter2' });
        let code = 0;
        req.on('response', (h) => {
          code = Number(h[':status']);
        });
        req.on('error', reject);
        req.on('end', () => resolve(code));
        req.resume();
      });
      expect(status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => session.close(() => resolve()));
    }
    const entry = page.locator('details.entry', { hasText: 'GET /user/h2page HTTP/2.0' }).first();
    await entry
      .locator('tr.frame.out td.frame-flags', { hasText: 'END_STREAM' })
      .waitFor({ state: 'attached' });
    await entry.evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
    });
    const rows = entry.locator('table.frames tbody tr.frame');
    expect(await rows.first().locator('.frame-type').textContent()).toBe('HEADERS');
    expect(await rows.first().locator('.frame-flags').textContent()).toBe('END_STREAM|END_HEADERS');
    expect(await rows.first().textContent()).toContain('[masked]');
    expect(await entry.locator('tr.frame.out .frame-type').allTextContents()).toEqual(['HEADERS', 'DATA']);
    expect(await entry.locator('tr.frame.out pre.frame-bytes').first().textContent()).toMatch(
      /^0000 {2}[0-9a-f]{2} /,
    );
    await page.locator('details.h2-conn').first().waitFor({ state: 'attached' });
    expect(await page.locator('details.h2-conn .frame-type').allTextContents()).toContain('SETTINGS');
    expect(await page.content()).not.toContain('h2-hunter2');
    await page.screenshot({ path: join(output, 'http2.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('stops recording once the page is gone and the grace period has passed', async () => {
    await page.goto('about:blank');
    for (let i = 0; i < 200 && app.inspector.state().watchers > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(app.inspector.state().watchers).toBe(0);
  });
});
