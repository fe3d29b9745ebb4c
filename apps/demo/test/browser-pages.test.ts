/**
 * The finished pages in a real browser (Debian's chromium through playwright-core): two tabs chat
 * through `/chat`, the users and a profile, an HTML 404 and its way back, no favicon 404, and every
 * page readable 390 px wide (the page body never scrolls sideways). Screenshots go to
 * apps/demo/test-output/ (see the README's Tests section).
 */
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './_browser';
import { type Demo, outputDir, startDemo } from './_harness';

let demo: Demo;
let browser: Browser;
let context: BrowserContext;
const external: string[] = [];
const notFound: string[] = [];
beforeAll(async () => {
  // `--inspector on`: the inspector has entries (long request lines, wire bytes) for the 390 px check.
  demo = await startDemo(['--port', '0', '--inspector', 'on']);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.on('request', (r) => {
    if (!r.url().startsWith(demo.url) && !r.url().startsWith(demo.url.replace('http', 'ws')))
      external.push(r.url());
  });
  context.on('response', (r) => {
    if (r.status() === 404 && !r.url().includes('/no/such/')) notFound.push(r.url());
  });
});
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe('the finished pages in a browser', () => {
  it('/chat: two tabs join the room, see the online count, and exchange a message', async () => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await a.goto(`${demo.url}/`);
    await a.click('header a[href="/chat"]'); // linked from the header
    expect(new URL(a.url()).pathname).toBe('/chat');
    await a.click('#join');
    await a.locator('#state', { hasText: 'joined' }).waitFor();
    await b.goto(`${demo.url}/chat`);
    await b.click('#join');
    await b.locator('#state', { hasText: 'joined' }).waitFor();
    await a.locator('#online', { hasText: '2' }).waitFor();
    expect(await b.textContent('#online')).toBe('2');
    const bName = (await b.textContent('#me')) ?? '';
    await a.locator('#log li', { hasText: `${bName} joined` }).waitFor();
    await b.fill('#text', 'Hello from tab B <b>not bold</b>');
    await b.press('#text', 'Enter');
    const got = a.locator('#log li.message', { hasText: 'Hello from tab B' });
    await got.waitFor();
    expect(await got.textContent()).toBe(`${bName}: Hello from tab B <b>not bold</b>`);
    expect(await got.locator('b').count()).toBe(1); // the sender's name only: the text stayed text
    await a.fill('#text', 'and back from tab A');
    await a.click('#post');
    await b.locator('#log li.message', { hasText: 'and back from tab A' }).waitFor();
    await a.screenshot({ path: join(outputDir(), 'chat.png'), fullPage: true });
    await b.click('#leave');
    await a.locator('#online', { hasText: '1' }).waitFor();
    await a.locator('#log li', { hasText: `${bName} left` }).waitFor();
    await Promise.all([a.close(), b.close()]);
    expect(external).toEqual([]);
  });

  it('/user lists users; a card and the form open styled profiles with the way back', async () => {
    const page = await context.newPage();
    await page.goto(`${demo.url}/user`);
    await page.screenshot({ path: join(outputDir(), 'users.png'), fullPage: true });
    await page.click('a.user[href="/user/ada"]');
    await page.waitForURL(`${demo.url}/user/ada`);
    expect(await page.textContent('h1')).toBe('Hello, ada!');
    expect(await page.textContent('.profile')).toContain('Ada Lovelace');
    // Styled: the demo's layout and its avatar, not a bare <h1>.
    const avatar = await page.locator('.avatar').evaluate((el) => getComputedStyle(el).borderRadius);
    expect(avatar).toBe('50%');
    await page.screenshot({ path: join(outputDir(), 'user-ada.png'), fullPage: true });
    await page.click('a[href="/user"]');
    await page.fill('#name', 'Zoë Q');
    await page.click('#pick button');
    await page.waitForURL(`${demo.url}/user/Zo%C3%AB%20Q`);
    expect(await page.textContent('h1')).toBe('Hello, Zoë Q!');
    await page.close();
  });

  it('an unknown path is an HTML 404 page whose link leads back home; no favicon 404', async () => {
    const page = await context.newPage();
    const res = await page.goto(`${demo.url}/no/such/page`);
    expect(res?.status()).toBe(404);
    expect(await page.textContent('.error-code')).toBe('404');
    expect(await page.textContent('h1')).toBe('Not Found');
    await page.screenshot({ path: join(outputDir(), 'not-found.png'), fullPage: true });
    await page.click('#back');
    await page.waitForURL(`${demo.url}/`);
    expect(await page.textContent('h1')).toContain('layer by layer');
    await page.close();
    expect(notFound).toEqual([]); // the favicon included
  });

  it('390 px wide: no page scrolls sideways (tables scroll inside their box, code wraps)', async () => {
    // Requests with long lines for the inspector to show.
    await fetch(`${demo.url}/echo/${'a-long-path-segment/'.repeat(12)}?q=${'x'.repeat(120)}`);
    await fetch(`${demo.url}/user/${'averyveryverylongname'.repeat(6)}`);
    const narrow = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    const page = await narrow.newPage();
    const widths: Record<string, number> = {};
    for (const path of [
      '/',
      '/inspect',
      '/upload',
      '/chat',
      '/user',
      '/user/ada',
      '/live',
      '/dashboard',
      '/no/such/page',
    ]) {
      await page.goto(`${demo.url}${path}`);
      if (path === '/inspect') {
        await page.locator('details.entry').first().waitFor();
        await page.evaluate(() => {
          document.querySelectorAll('details.entry').forEach((d) => {
            (d as HTMLDetailsElement).open = true;
          });
        });
      }
      widths[path] = await page.evaluate(() =>
        Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
      );
      const name = path === '/' ? 'index' : path.slice(1).replaceAll('/', '-');
      await page.screenshot({ path: join(outputDir(), `narrow-${name}.png`), fullPage: path !== '/inspect' });
    }
    for (const [path, width] of Object.entries(widths)) expect(width, path).toBeLessThanOrEqual(390);
    // The layers table is still all there: it scrolls inside its own box.
    await page.goto(`${demo.url}/`);
    const box = await page.locator('#layers').evaluate((t) => ({
      scroll: (t.parentElement as HTMLElement).scrollWidth,
      client: (t.parentElement as HTMLElement).clientWidth,
      overflow: getComputedStyle(t.parentElement as HTMLElement).overflowX,
    }));
    expect(box.overflow).toBe('auto');
    await narrow.close();
  });
});
