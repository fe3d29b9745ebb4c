/**
 * The Learn path in a real browser (Debian's chromium through playwright-core): `/learn` and every
 * chapter page load from the header link onwards, show the learner's own connection and commands
 * with the address the browser used, and every link on them answers (200, or the status a link
 * names on purpose). One screenshot per page in apps/demo/test-output/learn-*.png.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAPTERS } from '../src/learn-chapters';
import { launchChromium } from './_browser';
import { type Demo, outputDir, startDemo } from './_harness';

let demo: Demo;
let browser: Browser;
let page: Page;
const external: string[] = [];
beforeAll(async () => {
  demo = await startDemo(['--port', '0']);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  page = await context.newPage();
  page.on('request', (r) => {
    if (!r.url().startsWith(demo.url)) external.push(r.url());
  });
});
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

/** The status a link on a Learn page answers: 200, or the one it shows on purpose. */
function expectedStatus(href: string): number {
  const m = /\/learn\/status\/(\d+)$/.exec(href);
  if (m !== null) return Number(m[1]);
  if (href.endsWith('/no-such-page')) return 404;
  if (href.includes('/compute?n=abc')) return 400;
  return 200;
}

/** Every link inside the page's <main> answers what it should (fetched with Node, not the page). */
async function checkLinks(where: string): Promise<number> {
  const hrefs = await page.$$eval('main a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
  const unique = [...new Set(hrefs)];
  for (const href of unique) {
    expect(href.startsWith(demo.url), `${where}: ${href} is on this demo`).toBe(true);
    const res = await fetch(href);
    await res.arrayBuffer();
    expect(res.status, `${where}: ${href}`).toBe(expectedStatus(href));
  }
  return unique.length;
}

describe('the Learn path in a browser', () => {
  it('/learn: reached from the header, lists every chapter, shows the connection', async () => {
    await page.goto(`${demo.url}/`);
    await Promise.all([page.waitForURL(`${demo.url}/learn`), page.click('header a[href="/learn"]')]);
    const titles = await page.$$eval('ol.chapters > li > a', (as) => as.map((a) => a.textContent));
    expect(titles).toEqual(CHAPTERS.map((c) => c.title));
    expect(await page.textContent('#conn')).toMatch(
      new RegExp(`^client 127\\.0\\.0\\.1:\\d+ → server ${demo.host.replaceAll('.', '\\.')}:${demo.port}$`),
    );
    expect(await page.textContent('#origin')).toBe(demo.url);
    expect(await checkLinks('/learn')).toBeGreaterThanOrEqual(CHAPTERS.length);
    await page.screenshot({ path: join(outputDir(), 'learn.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('every chapter page: prose, a command with the real address, links that answer, next/prev', async () => {
    for (const [i, chapter] of CHAPTERS.entries()) {
      const res = await page.goto(`${demo.url}/learn/${chapter.slug}`);
      expect(res?.status(), chapter.slug).toBe(200);
      expect(await page.textContent('h1')).toBe(chapter.title);
      expect(((await page.textContent('#prose')) ?? '').length, chapter.slug).toBeGreaterThan(300);
      const run = await page.$$eval('#run pre.run', (pres) => pres.map((p) => p.textContent ?? ''));
      expect(run.length, chapter.slug).toBeGreaterThan(0);
      expect(run.join('\n'), chapter.slug).toContain(`${demo.host}:${demo.port}`);
      expect(await page.locator('#sources a.source').count(), chapter.slug).toBeGreaterThan(0);
      await checkLinks(`/learn/${chapter.slug}`);
      const next = CHAPTERS[i + 1];
      if (next !== undefined)
        expect(await page.getAttribute('a[rel="next"]', 'href')).toBe(`/learn/${next.slug}`);
      await page.screenshot({ path: join(outputDir(), `learn-${chapter.slug}.png`), fullPage: true });
    }
    expect(external).toEqual([]);
  });

  it('the request chapter links the parser specs, which open as files with their bytes and log', async () => {
    await page.goto(`${demo.url}/learn/request`);
    const specs = page.locator('#specs a');
    expect(await specs.count()).toBeGreaterThanOrEqual(10);
    await Promise.all([page.waitForURL(/05-cl-te\.md$/), page.click('#specs a[href$="05-cl-te.md"]')]);
    const text = (await page.textContent('#source')) ?? '';
    expect(text).toContain('Content-Length: 6\\r\\n');
    expect(text).toContain('off=47 error HPE_UNEXPECTED_CONTENT_LENGTH 400');
    await page.screenshot({ path: join(outputDir(), 'learn-spec-cl-te.png'), fullPage: true });
  });

  it('the status chapter: the registry table, and a 500 reachable on purpose', async () => {
    await page.goto(`${demo.url}/learn/status`);
    const rows = await page.locator('#status-table tr').count();
    expect(rows).toBeGreaterThan(55); // the IANA registry: 60-odd codes
    const res = await page.goto(`${demo.url}/learn/status/500`);
    expect(res?.status()).toBe(500);
    expect(await page.textContent('#status')).toBe('500 Internal Server Error');
  });

  it('at 390 px wide (a phone) no Learn page scrolls sideways', async () => {
    const narrow = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      for (const path of ['/learn', ...CHAPTERS.map((c) => `/learn/${c.slug}`)]) {
        await narrow.goto(`${demo.url}${path}`);
        const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
        expect(width, path).toBeLessThanOrEqual(390);
      }
      await narrow.goto(`${demo.url}/learn/crypto`);
      await narrow.screenshot({ path: join(outputDir(), 'learn-crypto-390.png'), fullPage: true });
    } finally {
      await narrow.close();
    }
  });
});
