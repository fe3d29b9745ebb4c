import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoServer } from '../conformance/echo-server';

// Interop with Chromium's own WebSocket implementation (Debian chromium driven by playwright-core).
let server: Awaited<ReturnType<typeof startEchoServer>>;
let browser: Awaited<ReturnType<typeof chromium.launch>>;

beforeAll(async () => {
  server = await startEchoServer({ perMessageDeflate: { threshold: 16 } });
  server.wss.on('connection', (ws) => {
    ws.on('message', (d) => {
      if (d === 'close-me') ws.close(4000, 'server says bye');
    });
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Chromium interop', () => {
  it('echoes text and binary (with permessage-deflate), and both close directions', async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(async (port: number) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      ws.binaryType = 'arraybuffer';
      const next = () => new Promise<MessageEvent>((r) => ws.addEventListener('message', r, { once: true }));
      await new Promise((r, j) => {
        ws.onopen = r;
        ws.onerror = j;
      });
      const out: unknown[] = [ws.extensions];
      ws.send('héllo wörld ✓');
      out.push((await next()).data);
      const big = 'x'.repeat(200_000);
      ws.send(big);
      out.push(((await next()).data as string) === big);
      const bin = new Uint8Array(70_000).map((_, i) => i & 0xff);
      ws.send(bin);
      const back = new Uint8Array((await next()).data as ArrayBuffer);
      out.push(back.length === bin.length && back.every((b, i) => b === bin[i]));
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((r) => {
        ws.onclose = r as never;
      });
      ws.send('close-me');
      const ev = await closed;
      out.push(ev.code, ev.reason, ev.wasClean);
      const ws2 = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((r) => {
        ws2.onopen = r;
      });
      const closed2 = new Promise<{ code: number; reason: string; wasClean: boolean }>((r) => {
        ws2.onclose = r as never;
      });
      ws2.close(3001, 'client bye');
      const ev2 = await closed2;
      out.push(ev2.code, ev2.wasClean);
      return out;
    }, server.port);
    expect(String(result[0])).toMatch(/^permessage-deflate/);
    expect(result.slice(1)).toEqual(['héllo wörld ✓', true, true, 4000, 'server says bye', true, 3001, true]);
    await page.close();
  }, 60_000);
});
