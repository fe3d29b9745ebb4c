/**
 * A real browser (Debian's chromium through playwright-core) opens /live and waits for the chart
 * to draw live data from the WebSocket feed, then opens /inspect and makes a request in another tab,
 * then uploads a file from /upload with fetch and a form with several files with the browser's own
 * form submission. Screenshots go to apps/demo/test-output/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './_browser';
import { type Demo, outputDir, startDemo } from './_harness';

let demo: Demo;
let browser: Browser;
let page: Page; // one page for both tests: opening a page costs seconds on a busy 2-core machine
const external: string[] = [];
beforeAll(async () => {
  demo = await startDemo(['--port', '0']);
  browser = await launchChromium();
  // One context, as one browser window: its tabs share the connection pool.
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  page = await context.newPage();
  // Every request the page makes must go to the demo itself: no CDN, no external network.
  page.on('request', (r) => {
    if (!r.url().startsWith(demo.url) && !r.url().startsWith(demo.url.replace('http', 'ws')))
      external.push(r.url());
  });
});
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe('in a browser', () => {
  it('/live draws live figures fed over the WebSocket', async () => {
    await page.goto(`${demo.url}/live`);
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'live');
    // Traffic while the page watches.
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; i < 400 && !stop; i++) await (await fetch(`${demo.url}/hello`)).text();
    })();
    await page.waitForFunction(
      () =>
        Number(document.getElementById('chart')?.dataset.samples) >= 3 &&
        Number(document.getElementById('total')?.textContent) >= 20,
      undefined,
      { timeout: 15_000 },
    );
    stop = true;
    await traffic;
    const rows = await page.locator('#workers tr').count();
    expect(rows).toBe(2); // header + one worker
    // The chart is drawn: the canvas has non-blank pixels in the accent colour's line.
    const inked = await page.evaluate(() => {
      const c = document.getElementById('chart') as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    await page.screenshot({ path: join(outputDir(), 'live.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('/inspect records while it is open and shows a request made in another tab, live', async () => {
    await page.goto(`${demo.url}/inspect`);
    // The page's WebSocket holds recording on; the state line says so.
    await page.locator('#recording-state', { hasText: /^recording/ }).waitFor();
    expect(await page.textContent('#recording')).toContain('while an inspector page is open');
    const other = await page.context().newPage();
    await other.goto(`${demo.url}/user/grace`);
    expect(await other.textContent('body')).toContain('grace');
    await other.close();
    // No reload: the page redraws itself when the server says the log changed.
    const entry = page.locator('details.entry', { hasText: 'GET /user/grace HTTP/1.1' }).first();
    await entry.waitFor();
    expect(await entry.locator('.route').textContent()).toContain('/user/:name');
    expect(await entry.locator('pre.wire-in').textContent()).toContain('GET /user/grace HTTP/1.1');
    expect(await entry.locator('.tag').first().textContent()).toMatch(/^head GET \/user\/grace/);
    await entry.evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
      d.scrollIntoView();
    });
    await page.screenshot({ path: join(outputDir(), 'inspect.png') });
    await page.goto(`${demo.url}/`);
    await page.screenshot({ path: join(outputDir(), 'index.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('/upload sends a chosen file with fetch; the server digest equals the one computed in the page', async () => {
    const file = randomBytes(300 * 1024 + 7);
    const digest = createHash('sha256').update(file).digest('hex');
    await page.goto(`${demo.url}/upload`);
    await page.setInputFiles('#file', {
      name: 'random.bin',
      mimeType: 'application/octet-stream',
      buffer: file,
    });
    await page.click('#send');
    await page.locator('#status', { hasText: 'the server received exactly this file' }).waitFor();
    const result = (await page.textContent('#result')) ?? '';
    expect(result).toMatch(/^200 OK\n/);
    expect(JSON.parse(result.slice(result.indexOf('\n') + 1))).toEqual({
      bytes: file.length,
      sha256: digest,
    });
    await page.screenshot({ path: join(outputDir(), 'upload.png'), fullPage: true });
    expect(external).toEqual([]);
  });

  it('/upload: a real <form enctype="multipart/form-data"> with several files and non-ASCII names', async () => {
    const files = [
      { name: 'résumé.pdf', mimeType: 'application/pdf', buffer: randomBytes(150_000) },
      { name: '日本語 "notes".txt', mimeType: 'text/plain', buffer: Buffer.from('line 1\r\n--line 2\r\n') },
      { name: 'empty.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) },
    ];
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    await page.goto(`${demo.url}/upload`);
    await page.fill('input[name="who"]', 'Zoë Ødegård');
    await page.setInputFiles('#files', files);
    // The browser's own form submission: it encodes the body and navigates to the answer.
    await Promise.all([page.waitForURL(`${demo.url}/upload`), page.click('#submit')]);
    await page.locator('#parts').waitFor();
    const rows = await page.$$eval('#parts tr', (trs) =>
      trs.slice(1).map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(rows).toEqual([
      [
        'who',
        '(field)',
        'text/plain',
        String(Buffer.byteLength('Zoë Ødegård')),
        digest(Buffer.from('Zoë Ødegård')),
        'Zoë Ødegård',
      ],
      // Chromium escapes '"' in a file name as %22 (the HTML standard's multipart/form-data
      // encoding); the server reports the name as sent.
      ...files.map((f) => [
        'files',
        f.name.replaceAll('"', '%22'),
        f.mimeType,
        String(f.buffer.length),
        digest(f.buffer),
        '',
      ]),
    ]);
    await page.screenshot({ path: join(outputDir(), 'upload-form.png'), fullPage: true });
    await page.click('text=Back to the upload page');
    await page.locator('#form').waitFor();
    expect(external).toEqual([]);
  });
});
